// Input of qopt-quantize-activations-errors.mlir (static asymmetric inputs).
// The store exists, so the pass gets as far as each layer.

qopt.weight_store @ckpt "w.safetensors"
func.func @no_min_max(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %xo = qopt.observe %x {label = "n.input", stats = #qopt.stats<absmax = dense<1.0> : tensor<8xf32>, num_tokens = 4>} : tensor<?x8xf32>
  %w = qopt.weight @ckpt["n.qweight"] : tensor<2x8xi8>
  %s = qopt.weight @ckpt["n.scales"] : tensor<2xf32>
  // expected-error @+1 {{qopt-quantize-activations: layer 'n': the statistics have no min/max; run qopt-calibrate again}}
  %y = qopt.quantized_linear %xo, %w weight_scales(%s : tensor<2xf32>) {label = "n", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xi8> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

qopt.weight_store @ckpt "w.safetensors"
func.func @weight_not_stored(%x: tensor<?x8xf32>, %w: tensor<2x8xi8>, %s: tensor<2xf32>) -> tensor<?x2xf32> {
  %xo = qopt.observe %x {label = "p.input", stats = #qopt.stats<absmax = dense<1.0> : tensor<8xf32>, min = dense<-1.0> : tensor<8xf32>, max = dense<1.0> : tensor<8xf32>, num_tokens = 4>} : tensor<?x8xf32>
  // expected-error @+1 {{qopt-quantize-activations: layer 'p': weight is not a stored tensor}}
  %y = qopt.quantized_linear %xo, %w weight_scales(%s : tensor<2xf32>) {label = "p", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xi8> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

qopt.weight_store @ckpt "w.safetensors"
func.func @weight_missing(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %xo = qopt.observe %x {label = "m.input", stats = #qopt.stats<absmax = dense<1.0> : tensor<8xf32>, min = dense<-1.0> : tensor<8xf32>, max = dense<1.0> : tensor<8xf32>, num_tokens = 4>} : tensor<?x8xf32>
  %w = qopt.weight @ckpt["m.qweight"] : tensor<2x8xi8>
  %s = qopt.weight @ckpt["m.scales"] : tensor<2xf32>
  // expected-error @+1 {{qopt-quantize-activations: layer 'm': weight store @ckpt has no tensor 'm.qweight'}}
  %y = qopt.quantized_linear %xo, %w weight_scales(%s : tensor<2xf32>) {label = "m", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xi8> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// The store holds a.weight as BF16, not as int8 storage.
qopt.weight_store @ckpt "w.safetensors"
func.func @weight_not_int8(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %xo = qopt.observe %x {label = "a.input", stats = #qopt.stats<absmax = dense<1.0> : tensor<8xf32>, min = dense<-1.0> : tensor<8xf32>, max = dense<1.0> : tensor<8xf32>, num_tokens = 4>} : tensor<?x8xf32>
  %w = qopt.weight @ckpt["a.weight"] : tensor<2x8xi8>
  %s = qopt.weight @ckpt["a.scales"] : tensor<2xf32>
  // expected-error @+1 {{qopt-quantize-activations: layer 'a': tensor 'a.weight' is BF16 [2, 8] in the store but the IR needs I8 [2, 8]}}
  %y = qopt.quantized_linear %xo, %w weight_scales(%s : tensor<2xf32>) {label = "a", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xi8> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
