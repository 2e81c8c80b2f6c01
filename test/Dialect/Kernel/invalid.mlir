// Verifier errors of the qk ops.
// RUN: qopt %s -split-input-file -verify-diagnostics

func.func @norm_dynamic_without_scales(%x: tensor<?x8xf32>, %w: tensor<8xf32>) -> tensor<?x8xi8> {
  // expected-error @+1 {{with a dynamic scheme yields per-row scales and takes no scale operands}}
  %q = qk.rms_norm %x, %w {epsilon = 1.0e-05, out_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xi8>
  return %q : tensor<?x8xi8>
}

// -----

func.func @inline_scales(%x: tensor<?x8xf32>) -> tensor<?x8xi8> {
  // expected-error @+1 {{scheme must not carry inline scales at kernel level (they are operands)}}
  %q = qk.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<?x8xf32> -> tensor<?x8xi8>
  return %q : tensor<?x8xi8>
}

// -----

func.func @static_tokens(%x: tensor<8x8xf32>, %w: tensor<8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{input must be [tokens, features] with a dynamic token dimension and static features}}
  %y = qk.rms_norm %x, %w {epsilon = 1.0e-05} : (tensor<8x8xf32>, tensor<8xf32>) -> tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

func.func @gemm_k(%a: tensor<?x8xbf16>, %w: tensor<4x16xbf16>) -> tensor<?x4xf32> {
  // expected-error @+1 {{B must be [N, K] with K = 8}}
  %y = qk.gemm %a, %w : (tensor<?x8xbf16>, tensor<4x16xbf16>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @gemm_missing_scales(%a: tensor<?x8xi8>, %s: tensor<?xf32>, %w: tensor<4x8xi8>) -> tensor<?x4xf32> {
  // expected-error @+1 {{B needs its scales as an operand}}
  %y = qk.gemm %a, %w a_scales(%s : tensor<?xf32>) {a_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x8xi8>, tensor<4x8xi8>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @gemm_scale_shape(%a: tensor<?x8xi8>, %s: tensor<?xf32>, %w: tensor<4x8xi8>, %ws: tensor<8xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{B scales have shape 'tensor<8xf32>', the scheme needs [4]}}
  %y = qk.gemm %a, %w a_scales(%s : tensor<?xf32>) b_scales(%ws : tensor<8xf32>) {a_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x8xi8>, tensor<4x8xi8>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @gemm_asym_without_bias(%a: tensor<?x8xi8>, %s: tensor<1xf32>, %w: tensor<4x8xi8>, %ws: tensor<4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{an asymmetric A needs its zero point folded into int_bias}}
  %y = qk.gemm %a, %w a_scales(%s : tensor<1xf32>) b_scales(%ws : tensor<4xf32>) {a_scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static>, b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x8xi8>, tensor<4x8xi8>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @gemm_mixed_storage(%a: tensor<?x8xf8E4M3FN>, %s: tensor<?xf32>, %w: tensor<4x8xi8>, %ws: tensor<4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{A and B of a quantized GEMM share a storage type}}
  %y = qk.gemm %a, %w a_scales(%s : tensor<?xf32>) b_scales(%ws : tensor<4xf32>) {a_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x8xf8E4M3FN>, tensor<4x8xi8>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// expected-error @+1 {{has a key scheme exactly when its storage is quantized}}
qk.kv_cache @kv0 {layer = 0, num_kv_heads = 1, head_dim = 4, key_type = i8, value_type = bf16}

// -----

qk.kv_cache @kv0 {layer = 0, num_kv_heads = 1, head_dim = 4, key_type = i8, value_type = i8, key_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static>, value_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>}
func.func @missing_static_scale(%q: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{takes a key scale exactly when the cache's key scheme is static}}
  %o = qk.attention %q, %p {cache = @kv0, num_heads = 2, scale = 0.5} : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}

// -----

qk.kv_cache @kv0 {layer = 0, num_kv_heads = 2, head_dim = 4, key_type = bf16, value_type = bf16}
func.func @heads(%q: tensor<?x12xf32>, %p: tensor<?xi32>) -> tensor<?x12xf32> {
  // expected-error @+1 {{query must be num_heads * head_dim wide with num_heads a multiple of the cache's kv heads}}
  %o = qk.attention %q, %p {cache = @kv0, num_heads = 3, scale = 0.5} : (tensor<?x12xf32>, tensor<?xi32>) -> tensor<?x12xf32>
  return %o : tensor<?x12xf32>
}

// -----

func.func @no_cache(%q: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{names @kv9, which is not a qk.kv_cache}}
  %o = qk.attention %q, %p {cache = @kv9, num_heads = 2, scale = 0.5} : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}

// -----

qk.kv_cache @kv0 {layer = 0, num_kv_heads = 1, head_dim = 4, key_type = bf16, value_type = bf16}
func.func @window(%q: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{sliding_window must be positive and causal}}
  %o = qk.attention %q, %p {cache = @kv0, num_heads = 2, scale = 0.5, causal = false, sliding_window = 4} : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}

// -----

func.func @permute_width(%x: tensor<?x8xf32>, %p: tensor<4xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{permutation must be [8]}}
  %y = qk.permute_columns %x, %p : (tensor<?x8xf32>, tensor<4xi32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @permute_type(%x: tensor<?x8xi8>, %p: tensor<8xi32>) -> tensor<?x8xi8> {
  // expected-error @+1 {{input and result are f32 or bf16}}
  %y = qk.permute_columns %x, %p : (tensor<?x8xi8>, tensor<8xi32>) -> tensor<?x8xi8>
  return %y : tensor<?x8xi8>
}

// -----

func.func @gemv_rows_order(%a: tensor<?x128xbf16>, %w: tensor<256x128xbf16>) -> tensor<?x256xf32> {
  // expected-error @+1 {{gemv rows must increase, got 16 then 1}}
  %y = qk.gemm %a, %w {gemv = #qk.gemv<rows = [16, 1], warps = 8, k_split = 1>} : (tensor<?x128xbf16>, tensor<256x128xbf16>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}

// -----

func.func @gemv_rows_range(%a: tensor<?x128xbf16>, %w: tensor<256x128xbf16>) -> tensor<?x256xf32> {
  // expected-error @+1 {{gemv rows must be 1 to 32, got 33}}
  %y = qk.gemm %a, %w {gemv = #qk.gemv<rows = [1, 33], warps = 8, k_split = 1>} : (tensor<?x128xbf16>, tensor<256x128xbf16>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}

// -----

func.func @gemv_warps(%a: tensor<?x128xbf16>, %w: tensor<256x128xbf16>) -> tensor<?x256xf32> {
  // expected-error @+1 {{gemv warps must be 1 to 32, got 64}}
  %y = qk.gemm %a, %w {gemv = #qk.gemv<rows = [1], warps = 64, k_split = 1>} : (tensor<?x128xbf16>, tensor<256x128xbf16>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}

// -----

func.func @gemv_k_split(%a: tensor<?x128xbf16>, %w: tensor<256x128xbf16>) -> tensor<?x256xf32> {
  // expected-error @+1 {{gemv k_split (3) must be positive and divide warps (8)}}
  %y = qk.gemm %a, %w {gemv = #qk.gemv<rows = [1], warps = 8, k_split = 3>} : (tensor<?x128xbf16>, tensor<256x128xbf16>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}
