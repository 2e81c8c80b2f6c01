// RUN: qopt %s --qopt-verify-contract=stage=quantized -split-input-file -verify-diagnostics
// RUN: qopt %s "--qopt-verify-contract=stage=quantized require-quantized-linears=true" -split-input-file -verify-diagnostics

// A quantized module: schemes are allowed, observers are not.
func.func @ok(%q: tensor<?x16xi8>, %s: tensor<?xf32>, %w: tensor<8x16xi8>) -> tensor<?x8xf32> {
  %y = qopt.quantized_linear %q, %w input_scales(%s : tensor<?xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, weight_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<?x16xi8>, tensor<8x16xi8> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @observer_left(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{violates the 'quantized' contract: calibration observers must be consumed before this stage}}
  %o = qopt.observe %x {label = "x"} : tensor<?x16xf32>
  return %o : tensor<?x16xf32>
}

// -----

// The LM head may stay in float.
func.func @lm_head_float(%x: tensor<?x16xf32>, %w: tensor<32x16xf32>) -> tensor<?x32xf32> {
  %y = qopt.linear %x, %w {role = #qopt<role lm_head>} : (tensor<?x16xf32>, tensor<32x16xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
