// Producers store bf16 when the next GEMM reads bf16.
// RUN: qopt %s --qk-fuse-output-conversion | FileCheck %s

module {
  qk.kv_cache @kv0 {layer = 0, num_kv_heads = 1, head_dim = 4, key_type = bf16, value_type = bf16}
  // CHECK-LABEL: func.func @attention
  func.func @attention(%q: tensor<?x8xf32>, %p: tensor<?xi32>, %g: tensor<?x8xf32>) -> (tensor<?x8xbf16>, tensor<?x8xbf16>) {
    // CHECK: qk.attention {{.*}} -> tensor<?x8xbf16>
    // CHECK: qk.silu_mul {{.*}} -> tensor<?x8xbf16>
    // CHECK-NOT: qk.quantize
    %o = qk.attention %q, %p {cache = @kv0, num_heads = 2, scale = 0.5} : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    %ob = qk.quantize %o : tensor<?x8xf32> -> tensor<?x8xbf16>
    %m = qk.silu_mul %g, %g : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
    %mb = qk.quantize %m : tensor<?x8xf32> -> tensor<?x8xbf16>
    return %ob, %mb : tensor<?x8xbf16>, tensor<?x8xbf16>
  }
  // The act-order column permutation writes the GEMM's bf16.
  // CHECK-LABEL: func.func @permute
  func.func @permute(%x: tensor<?x8xf32>, %perm: tensor<8xi32>) -> tensor<?x8xbf16> {
    // CHECK: qk.permute_columns {{.*}} -> tensor<?x8xbf16>
    // CHECK-NOT: qk.quantize
    %p = qk.permute_columns %x, %perm : (tensor<?x8xf32>, tensor<8xi32>) -> tensor<?x8xf32>
    %pb = qk.quantize %p : tensor<?x8xf32> -> tensor<?x8xbf16>
    return %pb : tensor<?x8xbf16>
  }
  // A quantization is not a conversion, and a shared result stays f32.
  // CHECK-LABEL: func.func @kept
  func.func @kept(%g: tensor<?x8xf32>) -> (tensor<?x8xi8>, tensor<?xf32>, tensor<?x8xbf16>, tensor<?x8xf32>) {
    // CHECK-COUNT-2: qk.quantize
    %m = qk.silu_mul %g, %g : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
    %q, %s = qk.quantize %m {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<?xf32>
    %n = qk.add %g, %g : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
    %nb = qk.quantize %n : tensor<?x8xf32> -> tensor<?x8xbf16>
    return %q, %s, %nb, %n : tensor<?x8xi8>, tensor<?xf32>, tensor<?x8xbf16>, tensor<?x8xf32>
  }
}
