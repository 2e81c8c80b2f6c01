// RUN: qopt %s | qopt | FileCheck %s
// RUN: qopt %s --mlir-print-op-generic | qopt | FileCheck %s
// RUN: qopt %s --emit-bytecode | qopt | FileCheck %s

qopt.weight_store @ckpt "model.safetensors"

// CHECK-LABEL: func.func @graph_ops
func.func @graph_ops(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x16xf32> {
  // CHECK: %[[T:.*]] = qopt.weight @ckpt["embed"] : tensor<100x16xbf16>
  %table = qopt.weight @ckpt["embed"] : tensor<100x16xbf16>
  // CHECK: %[[H:.*]] = qopt.embedding %[[T]][%{{.*}}] : (tensor<100x16xbf16>, tensor<?xi32>) -> tensor<?x16xf32>
  %h = qopt.embedding %table[%ids] : (tensor<100x16xbf16>, tensor<?xi32>) -> tensor<?x16xf32>
  %nw = qopt.weight @ckpt["norm"] : tensor<16xbf16>
  // CHECK: qopt.rms_norm %[[H]], %{{.*}} {epsilon = 1.000000e-05 : f64} : (tensor<?x16xf32>, tensor<16xbf16>) -> tensor<?x16xf32>
  %n = qopt.rms_norm %h, %nw {epsilon = 1.0e-05} : (tensor<?x16xf32>, tensor<16xbf16>) -> tensor<?x16xf32>
  // CHECK: qopt.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64}
  %ln = qopt.layer_norm %h, %nw, %nw {epsilon = 1.0e-05} : (tensor<?x16xf32>, tensor<16xbf16>, tensor<16xbf16>) -> tensor<?x16xf32>
  %wq = qopt.weight @ckpt["q"] : tensor<16x16xbf16>
  %wk = qopt.weight @ckpt["k"] : tensor<8x16xbf16>
  %bk = qopt.weight @ckpt["k.bias"] : tensor<8xbf16>
  // CHECK: qopt.linear %{{.*}}, %{{.*}} {label = "layers.0.q_proj", role = #qopt<role q_proj>} : (tensor<?x16xf32>, tensor<16x16xbf16>) -> tensor<?x16xf32>
  %q = qopt.linear %n, %wq {role = #qopt<role q_proj>, label = "layers.0.q_proj"} : (tensor<?x16xf32>, tensor<16x16xbf16>) -> tensor<?x16xf32>
  // CHECK: qopt.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x16xf32>, tensor<8x16xbf16>, tensor<8xbf16>) -> tensor<?x8xf32>
  %k = qopt.linear %ln, %wk, %bk : (tensor<?x16xf32>, tensor<8x16xbf16>, tensor<8xbf16>) -> tensor<?x8xf32>
  // CHECK: qopt.rope %{{.*}}, %{{.*}} {head_dim = 4 : i64, num_heads = 4 : i64, scaling = #qopt.rope_scaling<kind = llama3, factor = 8.000000e+00 : f64, low_freq_factor = 1.000000e+00 : f64, high_freq_factor = 4.000000e+00 : f64, original_max_position = 8192>, theta = 5.000000e+05 : f64}
  %qr = qopt.rope %q, %pos {num_heads = 4, head_dim = 4, theta = 5.0e+05, scaling = #qopt.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 8192>} : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %kr = qopt.rope %k, %pos {num_heads = 2, head_dim = 4, theta = 1.0e+04} : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  // CHECK: qopt.attention %{{.*}}, %{{.*}}, %{{.*}} {causal = false, head_dim = 4 : i64, layer = 3 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f64} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  %a = qopt.attention %qr, %kr, %kr {layer = 3, num_heads = 4, num_kv_heads = 2, head_dim = 4, causal = false, scale = 0.125} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  // CHECK: qopt.silu %{{.*}} : tensor<?x16xf32>
  %s = qopt.silu %a : tensor<?x16xf32>
  // CHECK: qopt.gelu %{{.*}} {approximate = true} : tensor<?x16xf32>
  %g = qopt.gelu %s {approximate = true} : tensor<?x16xf32>
  // CHECK: qopt.mul %{{.*}}, %{{.*}} : tensor<?x16xf32>
  %m = qopt.mul %g, %s : tensor<?x16xf32>
  // CHECK: qopt.add %{{.*}}, %{{.*}} : tensor<?x16xf32>
  %r = qopt.add %m, %h : tensor<?x16xf32>
  // CHECK: qopt.observe %{{.*}} {label = "final", observer = #qopt<observer mse>} : tensor<?x16xf32>
  %o = qopt.observe %r {label = "final", observer = #qopt<observer mse>} : tensor<?x16xf32>
  return %o : tensor<?x16xf32>
}

// CHECK-LABEL: func.func @quant_ops
func.func @quant_ops(%x: tensor<?x16xf32>, %c: tensor<8x16xf32>) -> (tensor<?x16xf32>, tensor<8x16xi8>, tensor<8x16xf32>) {
  // CHECK: %[[Q:.*]], %[[S:.*]] = qopt.quantize %{{.*}} {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?xf32>
  %q, %s = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?xf32>
  // CHECK: qopt.quantize %{{.*}} {scheme = #qopt.scheme<i8, #qopt.per_token, asym, dynamic>} : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?xf32>, tensor<?xi32>
  %qa, %sa, %za = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, asym, dynamic>} : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?xf32>, tensor<?xi32>
  // CHECK: qopt.dequantize %{{.*}} scales(%{{.*}} : tensor<?xf32>) zero_points(%{{.*}} : tensor<?xi32>) {scheme = #qopt.scheme<i8, #qopt.per_token, asym, dynamic>}
  %xa = qopt.dequantize %qa scales(%sa : tensor<?xf32>) zero_points(%za : tensor<?xi32>) {scheme = #qopt.scheme<i8, #qopt.per_token, asym, dynamic>} : tensor<?x16xi8> -> tensor<?x16xf32>
  // CHECK: qopt.quantize %{{.*}} {scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<{{.*}}> : tensor<8xf32>>} : tensor<8x16xf32> -> tensor<8x16xi8>
  %wq = qopt.quantize %c {scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]> : tensor<8xf32>>} : tensor<8x16xf32> -> tensor<8x16xi8>
  // CHECK: qopt.requantize %{{.*}} {in_scheme = {{.*}}, out_scheme = {{.*}}} : tensor<8x16xi8> -> tensor<8x16xf8E4M3FN>
  %rq = qopt.requantize %wq {in_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]> : tensor<8xf32>>, out_scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 4, cols = 8>, sym, static, scales = dense<0.01> : tensor<2x2xf32>>} : tensor<8x16xi8> -> tensor<8x16xf8E4M3FN>
  // CHECK: qopt.dequantize %{{.*}} {scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 4, cols = 8>, sym, static, scales = dense<{{.*}}> : tensor<2x2xf32>>} : tensor<8x16xf8E4M3FN> -> tensor<8x16xf32>
  %d = qopt.dequantize %rq {scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 4, cols = 8>, sym, static, scales = dense<0.01> : tensor<2x2xf32>>} : tensor<8x16xf8E4M3FN> -> tensor<8x16xf32>
  // CHECK: qopt.quantized_linear %[[Q]], %{{.*}} input_scales(%[[S]] : tensor<?xf32>) residual(%{{.*}} : tensor<?x8xf32>) {activation = #qopt<activation silu>, input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<{{.*}}> : tensor<8xf32>>} : tensor<?x16xi8>, tensor<8x16xi8> -> tensor<?x8xf32>
  %res = qopt.linear %x, %d : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %y = qopt.quantized_linear %q, %wq input_scales(%s : tensor<?xf32>) residual(%res : tensor<?x8xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]> : tensor<8xf32>>, activation = #qopt<activation silu>} : tensor<?x16xi8>, tensor<8x16xi8> -> tensor<?x8xf32>
  return %xa, %wq, %d : tensor<?x16xf32>, tensor<8x16xi8>, tensor<8x16xf32>
}

// CHECK-LABEL: func.func @weight_only
func.func @weight_only(%x: tensor<?x256xbf16>) -> tensor<?x64xf32> {
  // CHECK: qopt.weight @ckpt["w4.qweight"] {packing = #qopt<packing int4x8_offset>} : tensor<64x256xi4>
  %w = qopt.weight @ckpt["w4.qweight"] {packing = #qopt<packing int4x8_offset>} : tensor<64x256xi4>
  %ws = qopt.weight @ckpt["w4.scales"] : tensor<64x2xf32>
  %wz = qopt.weight @ckpt["w4.zeros"] : tensor<64x2xi32>
  %b = qopt.weight @ckpt["bias"] : tensor<64xf32>
  // CHECK: qopt.quantized_linear %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<64xf32>) weight_scales(%{{.*}} : tensor<64x2xf32>) weight_zero_points(%{{.*}} : tensor<64x2xi32>) {weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, asym, static, packing = int4x8_offset>} : tensor<?x256xbf16>, tensor<64x256xi4> -> tensor<?x64xf32>
  %y = qopt.quantized_linear %x, %w bias(%b : tensor<64xf32>) weight_scales(%ws : tensor<64x2xf32>) weight_zero_points(%wz : tensor<64x2xi32>) {weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, asym, static, packing = int4x8_offset>} : tensor<?x256xbf16>, tensor<64x256xi4> -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// CHECK-LABEL: func.func @kv_cache_schemes
func.func @kv_cache_schemes(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>) {
  // CHECK: key_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<5.000000e-02> : tensor<f32>>
  %a = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4, key_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.05> : tensor<f32>>, value_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.05> : tensor<f32>>} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  // CHECK: key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[1.000000e-01, 2.000000e-01]> : tensor<2xf32>>
  %b = qopt.attention %q, %k, %k {layer = 1, num_heads = 4, num_kv_heads = 2, head_dim = 4, key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[0.1, 0.2]> : tensor<2xf32>>, value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[0.1, 0.2]> : tensor<2xf32>>} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  // CHECK: key_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>
  %c = qopt.attention %q, %k, %k {layer = 2, num_heads = 4, num_kv_heads = 2, head_dim = 4, key_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, value_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return %a, %b, %c : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>
}

// CHECK-LABEL: func.func @scale_channels
func.func @scale_channels(%w: tensor<8x4xbf16>, %s: tensor<4xf32>) -> tensor<8x4xf32> {
  // CHECK: qopt.scale_channels %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<8x4xbf16>, tensor<4xf32>) -> tensor<8x4xf32>
  %0 = qopt.scale_channels %w, %s {axis = 1 : i64} : (tensor<8x4xbf16>, tensor<4xf32>) -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// CHECK-LABEL: func.func @permute_channels
func.func @permute_channels(%x: tensor<?x4xf32>, %p: tensor<4xi32>) -> tensor<?x4xf32> {
  // CHECK: qopt.permute_channels %{{.*}}, %{{.*}} : (tensor<?x4xf32>, tensor<4xi32>) -> tensor<?x4xf32>
  %0 = qopt.permute_channels %x, %p : (tensor<?x4xf32>, tensor<4xi32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// CHECK-LABEL: func.func @static_asym_w8a8
func.func @static_asym_w8a8(%x: tensor<?x4xi8>, %w: tensor<8x4xi8>, %b: tensor<8xi32>) -> tensor<?x8xf32> {
  // CHECK: qopt.quantized_linear %{{.*}}, %{{.*}} int_bias(%{{.*}} : tensor<8xi32>) {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static
  %y = qopt.quantized_linear %x, %w int_bias(%b : tensor<8xi32>) {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<0.1> : tensor<f32>, zero_points = dense<3> : tensor<i32>>, weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<0.1> : tensor<8xf32>>} : tensor<?x4xi8>, tensor<8x4xi8> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
