// Every qk op and attribute parses and prints back.
// RUN: qopt %s | qopt | FileCheck %s

// CHECK: qk.kv_cache @kv0
qk.kv_cache @kv0 {layer = 0, num_kv_heads = 2, head_dim = 4, key_type = f8E4M3FN, value_type = f8E4M3FN, key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>}
// CHECK-LABEL: func.func @ops
func.func @ops(%ids: tensor<?xi32>, %p: tensor<?xi32>, %t: tensor<16x8xbf16>, %w: tensor<8xf32>, %wb: tensor<8x8xbf16>, %wq: tensor<8x8xf8E4M3FN>, %ws: tensor<1x1xf32>) -> (tensor<?x8xf32>, tensor<1xi32>) {
  // CHECK: qk.embedding
  %h = qk.embedding %t[%ids] : (tensor<16x8xbf16>, tensor<?xi32>) -> tensor<?x8xf32>
  // CHECK: qk.rms_norm
  %q, %s = qk.rms_norm %h, %w {epsilon = 1.0e-05, out_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf8E4M3FN>, tensor<?xf32>
  // CHECK: qk.gemm {{.*}} {a_scheme = {{.*}}, b_scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 128, cols = 128>, sym, static>, qk.launch = #qk.launch<block = [128, 1, 1], token_tile = 64, per_tile = 1, grid_y = 1, grid_z = 1, shared_bytes = 0>, tile = #qk.tile<bm = 64, bn = 64, bk = 64, warps_m = 2, warps_n = 2, stages = 2>}
  %y = qk.gemm %q, %wq a_scales(%s : tensor<?xf32>) b_scales(%ws : tensor<1x1xf32>) {a_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 128, cols = 128>, sym, static>, tile = #qk.tile<bm = 64, bn = 64, bk = 64, warps_m = 2, warps_n = 2, stages = 2>, qk.launch = #qk.launch<block = [128, 1, 1], token_tile = 64, per_tile = 1, grid_y = 1, grid_z = 1, shared_bytes = 0>} : (tensor<?x8xf8E4M3FN>, tensor<8x8xf8E4M3FN>) -> tensor<?x8xf32>
  %table = qk.rope_table {head_dim = 4, theta = 5.0e+05} : tensor<32x4xf32>
  // CHECK: qk.rope_kv_append
  %qr = qk.rope_kv_append %y, %h, %h, %p, %table {cache = @kv0, num_heads = 2} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?xi32>, tensor<32x4xf32>) -> tensor<?x8xf32>
  // CHECK: qk.attention
  %o = qk.attention %qr, %p {cache = @kv0, num_heads = 2, scale = 0.5} : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xbf16>
  %g = qk.gemm %o, %wb : (tensor<?x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  // CHECK: qk.argmax
  %n = qk.argmax %g : (tensor<?x8xf32>) -> tensor<1xi32>
  %perm = arith.constant dense<[7, 6, 5, 4, 3, 2, 1, 0]> : tensor<8xi32>
  // CHECK: qk.permute_columns %{{.*}}, %{{.*}} : (tensor<?x8xf32>, tensor<8xi32>) -> tensor<?x8xbf16>
  %gp = qk.permute_columns %g, %perm : (tensor<?x8xf32>, tensor<8xi32>) -> tensor<?x8xbf16>
  return %g, %n : tensor<?x8xf32>, tensor<1xi32>
}
