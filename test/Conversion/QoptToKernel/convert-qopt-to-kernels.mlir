// The graph-to-kernel conversion: one kernel op per op, scales as operands,
// a KV cache per attention layer, and the greedy next token as a result.
// RUN: qopt %s --convert-qopt-to-kernels | FileCheck %s
// RUN: qopt %s --convert-qopt-to-kernels=kv-cache-type=bf16 | FileCheck %s --check-prefix=BF16
// RUN: qopt %s --convert-qopt-to-kernels=max-positions=64 | FileCheck %s --check-prefix=POS

module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "w.safetensors", vocab_size = 32, max_position_embeddings = 128>} {
  qopt.weight_store @w "w.safetensors"
  // CHECK: qk.kv_cache @kv0 {head_dim = 4 : i64, key_type = f32, layer = 0 : i64, num_kv_heads = 1 : i64, value_type = f32}
  // CHECK: qk.kv_cache @kv1 {head_dim = 4 : i64, key_scheme = #qopt.scheme<i8, #qopt.per_head<axis = 1, heads = 1>, sym, static>, key_type = i8, layer = 1 : i64, num_kv_heads = 1 : i64, value_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, value_type = i8}
  // BF16: qk.kv_cache @kv0 {{.*}}key_type = bf16{{.*}}value_type = bf16
  // CHECK-LABEL: func.func @forward
  // CHECK-SAME: -> (tensor<?x32xf32>, tensor<1xi32>)
  func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
    %table = qopt.weight @w["embed"] : tensor<32x8xbf16>
    // CHECK: %[[H:.*]] = qk.embedding
    %h = qopt.embedding %table[%ids] : (tensor<32x8xbf16>, tensor<?xi32>) -> tensor<?x8xf32>
    %nw = qopt.weight @w["norm"] : tensor<8xbf16>
    // CHECK: %[[N:.*]] = qk.rms_norm %[[H]], %{{.*}} {epsilon = 1.000000e-05 : f64} : (tensor<?x8xf32>, tensor<8xbf16>) -> tensor<?x8xf32>
    %n = qopt.rms_norm %h, %nw {epsilon = 1.0e-05} : (tensor<?x8xf32>, tensor<8xbf16>) -> tensor<?x8xf32>
    // A float linear is a bf16 GEMM behind a bf16 conversion.
    // CHECK: %[[NB:.*]] = qk.quantize %[[N]] : tensor<?x8xf32> -> tensor<?x8xbf16>
    // CHECK: qk.gemm %[[NB]], %{{.*}} {label = "q"} : (tensor<?x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
    %wq = qopt.weight @w["q"] : tensor<8x8xbf16>
    %q = qopt.linear %n, %wq {label = "q"} : (tensor<?x8xf32>, tensor<8x8xbf16>) -> tensor<?x8xf32>
    // Static asymmetric activations: inline scale and zero point become constants.
    // CHECK-DAG: %[[S:.*]] = arith.constant dense<5.000000e-02> : tensor<1xf32>
    // CHECK-DAG: %[[Z:.*]] = arith.constant dense<3> : tensor<1xi32>
    // CHECK: %[[XQ:.*]] = qk.quantize %[[N]] scale(%[[S]] : tensor<1xf32>) zero_point(%[[Z]] : tensor<1xi32>) {scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static>} : tensor<?x8xf32> -> tensor<?x8xi8>
    %xq = qopt.quantize %n {scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<0.05> : tensor<f32>, zero_points = dense<3> : tensor<i32>>} : tensor<?x8xf32> -> tensor<?x8xi8>
    %wk = qopt.weight @w["k"] : tensor<4x8xi8>
    %wks = qopt.weight @w["k.scales"] : tensor<4xf32>
    %ib = qopt.weight @w["k.int_bias"] : tensor<4xi32>
    // CHECK: %[[AS:.*]] = arith.constant dense<5.000000e-02> : tensor<1xf32>
    // CHECK: qk.gemm %[[XQ]], %{{.*}} a_scales(%[[AS]] : tensor<1xf32>) b_scales(%{{.*}} : tensor<4xf32>) int_bias(%{{.*}} : tensor<4xi32>) {a_scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static>, b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>}
    %k = qopt.quantized_linear %xq, %wk int_bias(%ib : tensor<4xi32>) weight_scales(%wks : tensor<4xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<0.05> : tensor<f32>, zero_points = dense<3> : tensor<i32>>, weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xi8>, tensor<4x8xi8> -> tensor<?x4xf32>
    // Weight-only int4 with group zero points reads bf16 activations.
    %wv = qopt.weight @w["v"] {packing = #qopt<packing int4x2>} : tensor<4x8xi4>
    %wvs = qopt.weight @w["v.scales"] : tensor<4x1xf32>
    %wvz = qopt.weight @w["v.zp"] : tensor<4x1xi32>
    // CHECK: %[[VB:.*]] = qk.quantize %[[N]] : tensor<?x8xf32> -> tensor<?x8xbf16>
    // CHECK: qk.gemm %[[VB]], %{{.*}} b_scales(%{{.*}} : tensor<4x1xf32>) b_zero_points(%{{.*}} : tensor<4x1xi32>) {b_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 8>, asym, static, packing = int4x2>}
    %v = qopt.quantized_linear %n, %wv weight_scales(%wvs : tensor<4x1xf32>) weight_zero_points(%wvz : tensor<4x1xi32>) {weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 8>, asym, static, packing = int4x2>} : tensor<?x8xf32>, tensor<4x8xi4> -> tensor<?x4xf32>
    // An act-order input permutation is a kernel of its own before the
    // conversion.
    %perm = qopt.weight @w["v.perm"] : tensor<8xi32>
    // CHECK: %[[NP:.*]] = qk.permute_columns %[[N]], %{{.*}} : (tensor<?x8xf32>, tensor<8xi32>) -> tensor<?x8xf32>
    // CHECK: %[[NPB:.*]] = qk.quantize %[[NP]] : tensor<?x8xf32> -> tensor<?x8xbf16>
    // CHECK: qk.gemm %[[NPB]]
    %np = qopt.permute_channels %n, %perm : (tensor<?x8xf32>, tensor<8xi32>) -> tensor<?x8xf32>
    %vp = qopt.quantized_linear %np, %wv weight_scales(%wvs : tensor<4x1xf32>) weight_zero_points(%wvz : tensor<4x1xi32>) {weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 8>, asym, static, packing = int4x2>} : tensor<?x8xf32>, tensor<4x8xi4> -> tensor<?x4xf32>
    // RoPE reads a table as long as the model's positions.
    // CHECK: %[[T:.*]] = qk.rope_table {head_dim = 4 : i64, theta = 1.000000e+04 : f64} : tensor<128x4xf32>
    // POS: qk.rope_table {{.*}} : tensor<64x4xf32>
    // CHECK: qk.rope %{{.*}}, %arg1, %[[T]] {head_dim = 4 : i64, num_heads = 2 : i64}
    %qr = qopt.rope %q, %pos {num_heads = 2, head_dim = 4, theta = 1.0e+04} : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    %kr = qopt.rope %k, %pos {num_heads = 1, head_dim = 4, theta = 1.0e+04} : (tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x4xf32>
    // CHECK: qk.kv_append %{{.*}}, %{{.*}}, %arg1 {cache = @kv0}
    // CHECK: %[[A:.*]] = qk.attention %{{.*}}, %arg1 {cache = @kv0, num_heads = 2 : i64, scale = 5.000000e-01 : f64, sliding_window = 16 : i64}
    %a = qopt.attention %qr, %kr, %v {layer = 0, num_heads = 2, num_kv_heads = 1, head_dim = 4, sliding_window = 16} : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
    // Static per-head keys pass their scales to both cache ops.
    // CHECK: %[[KS:.*]] = arith.constant dense<2.500000e-01> : tensor<1xf32>
    // CHECK: qk.kv_append %{{.*}}, %{{.*}}, %arg1 key_scale(%[[KS]] : tensor<1xf32>) {cache = @kv1}
    // CHECK: qk.attention %{{.*}}, %arg1 key_scales(%[[KS]] : tensor<1xf32>) {cache = @kv1, num_heads = 2 : i64, scale = 5.000000e-01 : f64}
    %a1 = qopt.attention %qr, %kr, %v {layer = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, key_scheme = #qopt.scheme<i8, #qopt.per_head<axis = 1, heads = 1>, sym, static, scales = dense<0.25> : tensor<1xf32>>, value_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
    // CHECK: qk.add %[[H]], %[[A]]
    %r = qopt.add %h, %a : tensor<?x8xf32>
    // silu(g) * u, in either order, is one kernel; a plain mul stays a mul.
    // CHECK: qk.silu_mul %[[H]], %{{.*}} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
    // CHECK: qk.silu_mul %[[H]], %{{.*}} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
    // CHECK: qk.mul
    %g = qopt.silu %h : tensor<?x8xf32>
    %m = qopt.mul %g, %r : tensor<?x8xf32>
    %m2 = qopt.mul %r, %g : tensor<?x8xf32>
    %m3 = qopt.mul %m, %m2 : tensor<?x8xf32>
    %o = qopt.observe %m3 {label = "lm_head.input"} : tensor<?x8xf32>
    %wl = qopt.weight @w["lm_head"] : tensor<32x8xbf16>
    %logits = qopt.linear %o, %wl : (tensor<?x8xf32>, tensor<32x8xbf16>) -> tensor<?x32xf32>
    // CHECK: %[[L:.*]] = qk.gemm
    // CHECK: %[[NEXT:.*]] = qk.argmax %[[L]] : (tensor<?x32xf32>) -> tensor<1xi32>
    // CHECK: return %[[L]], %[[NEXT]]
    // CHECK-NOT: qopt.observe
    return %logits : tensor<?x32xf32>
  }
}
