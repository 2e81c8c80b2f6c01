// RUN: qopt %s -split-input-file -verify-diagnostics

func.func @linear_in_features(%x: tensor<?x16xf32>, %w: tensor<8x32xf32>) {
  // expected-error @+1 {{'qopt.linear' op input feature size 16 does not match the weight's in-features 32}}
  %y = qopt.linear %x, %w : (tensor<?x16xf32>, tensor<8x32xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<?x16xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{'qopt.linear' op result shape [?, 16] does not match the expected shape [?, 8]}}
  %y = qopt.linear %x, %w : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @linear_bias_shape(%x: tensor<?x16xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'qopt.linear' op bias shape [16] does not match the out-features 8}}
  %y = qopt.linear %x, %w, %b : (tensor<?x16xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<?x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{'qopt.linear' op weight must have rank 2 ([out, in]), got rank 1}}
  %y = qopt.linear %x, %w : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @attention_kv_heads(%q: tensor<?x384xf32>, %k: tensor<?x256xf32>) {
  // expected-error @+1 {{'qopt.attention' op num_heads (6) must be a multiple of num_kv_heads (4)}}
  %o = qopt.attention %q, %k, %k {layer = 0, num_heads = 6, num_kv_heads = 4, head_dim = 64} : (tensor<?x384xf32>, tensor<?x256xf32>, tensor<?x256xf32>) -> tensor<?x384xf32>
  return
}

// -----

func.func @attention_heads_divide_hidden(%q: tensor<?x384xf32>, %k: tensor<?x384xf32>) {
  // expected-error @+1 {{'qopt.attention' op query feature size 384 is not divisible by num_heads 5}}
  %o = qopt.attention %q, %k, %k {layer = 0, num_heads = 5, num_kv_heads = 5, head_dim = 64} : (tensor<?x384xf32>, tensor<?x384xf32>, tensor<?x384xf32>) -> tensor<?x384xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<?x384xf32>, %k: tensor<?x128xf32>) {
  // expected-error @+1 {{'qopt.attention' op query feature size 384 is not num_heads (6) x head_dim (32)}}
  %o = qopt.attention %q, %k, %k {layer = 0, num_heads = 6, num_kv_heads = 2, head_dim = 32} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
  return
}

// -----

func.func @attention_kv_i4(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) {
  // expected-error @+1 {{'qopt.attention' op key cache scheme storage must be i8 or float8, got i4}}
  %o = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4, key_scheme = #qopt.scheme<i4, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>, packing = int4x2>, value_scheme = #qopt.scheme<i4, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>, packing = int4x2>} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @attention_kv_granularity(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) {
  // expected-error @+1 {{'qopt.attention' op key cache scheme must be per-tensor, per-head or per-token, got #qopt.per_channel<axis = 1>}}
  %o = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4, key_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 1>, sym, static, scales = dense<0.1> : tensor<8xf32>>, value_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 1>, sym, static, scales = dense<0.1> : tensor<8xf32>>} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @attention_kv_per_head_count(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) {
  // expected-error @+1 {{'qopt.attention' op per-head key cache scheme must split the innermost axis into num_kv_heads (2) heads}}
  %o = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4, key_scheme = #qopt.scheme<i8, #qopt.per_head<axis = 1, heads = 4>, sym, static, scales = dense<0.1> : tensor<4xf32>>, value_scheme = #qopt.scheme<i8, #qopt.per_head<axis = 1, heads = 4>, sym, static, scales = dense<0.1> : tensor<4xf32>>} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @rope_head_dim_odd(%x: tensor<?x15xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'qopt.rope' op head_dim must be even for rotary embedding, got 5}}
  %y = qopt.rope %x, %p {num_heads = 3, head_dim = 5, theta = 1.0e+04} : (tensor<?x15xf32>, tensor<?xi32>) -> tensor<?x15xf32>
  return
}

// -----

func.func @rope_positions(%x: tensor<4x16xf32>, %p: tensor<3xi32>) {
  // expected-error @+1 {{'qopt.rope' op positions shape [3] does not match the input's token dimensions [4]}}
  %y = qopt.rope %x, %p {num_heads = 2, head_dim = 8, theta = 1.0e+04} : (tensor<4x16xf32>, tensor<3xi32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @rope_scaling_llama3(%x: tensor<?x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{llama3 RoPE scaling needs low_freq_factor, high_freq_factor and original_max_position}}
  %y = qopt.rope %x, %p {num_heads = 2, head_dim = 8, theta = 1.0e+04, scaling = #qopt.rope_scaling<kind = llama3, factor = 8.0>} : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @rms_norm_weight(%x: tensor<?x16xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'qopt.rms_norm' op weight shape [8] does not match the feature size 16}}
  %y = qopt.rms_norm %x, %w {epsilon = 1.0e-05} : (tensor<?x16xf32>, tensor<8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @rms_norm_epsilon(%x: tensor<?x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{'qopt.rms_norm' op epsilon must be positive, got 0}}
  %y = qopt.rms_norm %x, %w {epsilon = 0.0} : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @embedding_shape(%t: tensor<100x16xf32>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{'qopt.embedding' op result shape [?, 8] does not match the expected shape [?, 16]}}
  %h = qopt.embedding %t[%ids] : (tensor<100x16xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return
}

// -----

// expected-note @+1 {{prior use here}}
func.func @elementwise_types(%a: tensor<?x16xf32>, %b: tensor<?x16xbf16>) {
  // expected-error @+1 {{use of value '%b' expects different type than prior uses: 'tensor<?x16xf32>' vs 'tensor<?x16xbf16>'}}
  %y = qopt.add %a, %b : tensor<?x16xf32>
  return
}

// -----

func.func @observe_percentile(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{'qopt.observe' op percentile observer needs a 'percentile' value}}
  %y = qopt.observe %x {label = "x", observer = #qopt<observer percentile>} : tensor<?x16xf32>
  return
}

// -----

func.func @observe_percentile_range(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{'qopt.observe' op percentile must be in (0, 100], got 1.010000e+02}}
  %y = qopt.observe %x {label = "x", observer = #qopt<observer percentile>, percentile = 101.0} : tensor<?x16xf32>
  return
}

// -----

func.func @observe_stats_channels(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'qopt.observe' op statistics have 2 channels but the input has 4}}
  %y = qopt.observe %x {label = "x", stats = #qopt.stats<absmax = dense<[1.0, 2.0]> : tensor<2xf32>, num_tokens = 3>} : tensor<?x4xf32>
  return
}

// -----

func.func @stats_min_size(%x: tensor<?x2xf32>) {
  // expected-error @+1 {{statistics 'min' has 3 channels but 'absmax' has 2}}
  %y = qopt.observe %x {label = "x", stats = #qopt.stats<absmax = dense<[1.0, 2.0]> : tensor<2xf32>, min = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>, num_tokens = 3>} : tensor<?x2xf32>
  return
}

// -----

func.func @attention_key_scheme_alone(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) {
  // expected-error @+1 {{'qopt.attention' op key_scheme and value_scheme must be given together}}
  %o = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4, key_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @scale_channels_axis(%w: tensor<8x4xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.scale_channels' op axis 2 is out of range for rank 2}}
  %0 = qopt.scale_channels %w, %s {axis = 2 : i64} : (tensor<8x4xf32>, tensor<4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @scale_channels_size(%w: tensor<8x4xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.scale_channels' op scales have 4 elements but axis 0 has size 8}}
  %0 = qopt.scale_channels %w, %s {axis = 0 : i64} : (tensor<8x4xf32>, tensor<4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @qlinear_asym_needs_int_bias(%x: tensor<?x4xi8>, %w: tensor<8x4xi8>) {
  // expected-error @+1 {{'qopt.quantized_linear' op an asymmetric integer input needs its zero point folded into an int_bias operand}}
  %y = qopt.quantized_linear %x, %w {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<0.1> : tensor<f32>, zero_points = dense<3> : tensor<i32>>, weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<0.1> : tensor<8xf32>>} : tensor<?x4xi8>, tensor<8x4xi8> -> tensor<?x8xf32>
  return
}

// -----

func.func @qlinear_int_bias_fp8(%x: tensor<?x4xf8E4M3FN>, %w: tensor<8x4xf8E4M3FN>, %b: tensor<8xi32>) {
  // expected-error @+1 {{'qopt.quantized_linear' op int_bias needs integer input and weight schemes}}
  %y = qopt.quantized_linear %x, %w int_bias(%b : tensor<8xi32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>, weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static, scales = dense<0.1> : tensor<8xf32>>} : tensor<?x4xf8E4M3FN>, tensor<8x4xf8E4M3FN> -> tensor<?x8xf32>
  return
}

// -----

func.func @qlinear_mixed_storage(%x: tensor<?x4xi8>, %w: tensor<8x4xf8E4M3FN>) {
  // expected-error @+1 {{'qopt.quantized_linear' op input and weight storage must both be integer or both float8}}
  %y = qopt.quantized_linear %x, %w {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>, weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static, scales = dense<0.1> : tensor<8xf32>>} : tensor<?x4xi8>, tensor<8x4xf8E4M3FN> -> tensor<?x8xf32>
  return
}

// -----

func.func @attention_kv_dynamic_per_tensor(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) {
  // expected-error @+1 {{'qopt.attention' op dynamic key cache scheme must be per-token (a per-tensor or per-head scale computed at run time would depend on how tokens are batched)}}
  %o = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4, key_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, dynamic>, value_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, dynamic>} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @permute_channels_size(%x: tensor<?x8xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{'qopt.permute_channels' op permutation has 4 elements but the input has 8 channels}}
  %0 = qopt.permute_channels %x, %p : (tensor<?x8xf32>, tensor<4xi32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @permute_channels_rank(%x: tensor<?x8xf32>, %p: tensor<2x4xi32>) {
  // expected-error @+1 {{'qopt.permute_channels' op permutation must have rank 1, got rank 2}}
  %0 = qopt.permute_channels %x, %p : (tensor<?x8xf32>, tensor<2x4xi32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @permute_channels_dynamic(%x: tensor<4x?xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{'qopt.permute_channels' op the channel (innermost) dimension must be static}}
  %0 = qopt.permute_channels %x, %p : (tensor<4x?xf32>, tensor<4xi32>) -> tensor<4x?xf32>
  return
}

// -----

func.func @permute_channels_type(%x: tensor<?x4xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{'qopt.permute_channels' op result type must be the input type}}
  %0 = qopt.permute_channels %x, %p : (tensor<?x4xf32>, tensor<4xi32>) -> tensor<?x4xbf16>
  return
}
