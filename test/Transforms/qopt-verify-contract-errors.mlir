// RUN: qopt %s --qopt-verify-contract=stage=graph -split-input-file -verify-diagnostics

func.func @quantize_in_graph(%x: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error @+1 {{violates the 'graph' contract: quantization schemes are not allowed before the quantization passes}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @kv_scheme_in_graph(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{violates the 'graph' contract: quantization schemes are not allowed before the quantization passes}}
  %a = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4, key_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, value_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return %a : tensor<?x16xf32>
}

// -----

func.func @foreign_op(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{violates the 'graph' contract: op 'arith.addf' is outside the qopt, func and arith.constant set}}
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// expected-error @+1 {{violates the 'graph' contract: function signature type 'i32' is not a ranked tensor}}
func.func @scalar_arg(%x: i32) {
  return
}

// -----

qopt.weight_store @a "model.safetensors"
// expected-error @+1 {{violates the 'graph' contract: weight store path 'model.safetensors' is declared twice (also by a)}}
qopt.weight_store @b "model.safetensors"
