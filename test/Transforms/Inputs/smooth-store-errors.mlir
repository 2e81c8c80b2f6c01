// Inputs of qopt-smooth-errors.mlir: weights qopt-smooth cannot read.

qopt.weight_store @ckpt "w.safetensors"
func.func @missing_tensor(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %g = qopt.weight @ckpt["norm"] : tensor<4xbf16>
  %n = qopt.rms_norm %x, %g {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
  %o = qopt.observe %n {label = "q.input", stats = #qopt.stats<absmax = dense<[8.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, num_tokens = 16>} : tensor<?x4xf32>
  %w = qopt.weight @ckpt["no.such.weight"] : tensor<4x4xbf16>
  // expected-error @+1 {{qopt-smooth: weight store @ckpt has no tensor 'no.such.weight'}}
  %y = qopt.linear %o, %w {label = "q"} : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

qopt.weight_store @ckpt "w.safetensors"
func.func @wrong_dtype(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %g = qopt.weight @ckpt["norm"] : tensor<4xbf16>
  %n = qopt.rms_norm %x, %g {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
  %o = qopt.observe %n {label = "q.input", stats = #qopt.stats<absmax = dense<[8.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, num_tokens = 16>} : tensor<?x4xf32>
  %w = qopt.weight @ckpt["l0.q_proj.weight"] : tensor<4x4xf32>
  // expected-error @+1 {{qopt-smooth: tensor 'l0.q_proj.weight' is BF16 in the store but f32 in the IR}}
  %y = qopt.linear %o, %w {label = "q"} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

qopt.weight_store @ckpt "w.safetensors"
func.func @wrong_shape(%x: tensor<?x4xf32>) -> tensor<?x8xf32> {
  %g = qopt.weight @ckpt["norm"] : tensor<4xbf16>
  %n = qopt.rms_norm %x, %g {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
  %o = qopt.observe %n {label = "q.input", stats = #qopt.stats<absmax = dense<[8.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, num_tokens = 16>} : tensor<?x4xf32>
  %w = qopt.weight @ckpt["l0.q_proj.weight"] : tensor<8x4xbf16>
  // expected-error @+1 {{qopt-smooth: tensor 'l0.q_proj.weight' has shape [4, 4] in the store but [8, 4] in the IR}}
  %y = qopt.linear %o, %w {label = "q"} : (tensor<?x4xf32>, tensor<8x4xbf16>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// expected-error @+1 {{qopt-smooth: weight store @ckpt: }}
module {
  qopt.weight_store @ckpt "no-such-file.safetensors"
  func.func @missing_store(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
    %g = qopt.weight @ckpt["norm"] : tensor<4xbf16>
    %n = qopt.rms_norm %x, %g {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
    %o = qopt.observe %n {label = "q.input", stats = #qopt.stats<absmax = dense<[8.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, num_tokens = 16>} : tensor<?x4xf32>
    %w = qopt.weight @ckpt["l0.q_proj.weight"] : tensor<4x4xbf16>
    %y = qopt.linear %o, %w {label = "q"} : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
}
