// RoPE of q and k and the KV-cache append are one kernel.
// RUN: qopt %s --qk-fuse-rope-kv-append | FileCheck %s

module {
  qk.kv_cache @kv0 {layer = 0, num_kv_heads = 1, head_dim = 4, key_type = i8, value_type = i8, key_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static>, value_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static>}
  // CHECK-LABEL: func.func @layer
  func.func @layer(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x4xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
    %t = qk.rope_table {head_dim = 4, theta = 1.0e+04} : tensor<16x4xf32>
    %ks = arith.constant dense<0.5> : tensor<1xf32>
    %vs = arith.constant dense<0.25> : tensor<1xf32>
    // CHECK: %[[Q:.*]] = qk.rope_kv_append %arg0, %arg1, %arg2, %arg3, %{{.*}} key_scale(%{{.*}} : tensor<1xf32>) value_scale(%{{.*}} : tensor<1xf32>) {cache = @kv0, num_heads = 2 : i64}
    // CHECK-NOT: qk.rope
    // CHECK-NOT: qk.kv_append
    // CHECK: qk.attention %[[Q]], %arg3
    %qr = qk.rope %q, %p, %t {num_heads = 2, head_dim = 4} : (tensor<?x8xf32>, tensor<?xi32>, tensor<16x4xf32>) -> tensor<?x8xf32>
    %kr = qk.rope %k, %p, %t {num_heads = 1, head_dim = 4} : (tensor<?x4xf32>, tensor<?xi32>, tensor<16x4xf32>) -> tensor<?x4xf32>
    qk.kv_append %kr, %v, %p key_scale(%ks : tensor<1xf32>) value_scale(%vs : tensor<1xf32>) {cache = @kv0} : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>
    %o = qk.attention %qr, %p key_scales(%ks : tensor<1xf32>) value_scales(%vs : tensor<1xf32>) {cache = @kv0, num_heads = 2, scale = 0.5} : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    return %o : tensor<?x8xf32>
  }
}
