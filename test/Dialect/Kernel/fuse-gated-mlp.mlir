// gate and up GEMMs that share A, with silu(gate) * up, are one GEMM.
// RUN: qopt %s --qk-fuse-gated-mlp | FileCheck %s

// CHECK-LABEL: func.func @w8a8
func.func @w8a8(%a: tensor<?x8xi8>, %s: tensor<?xf32>, %wg: tensor<16x8xi8>, %sg: tensor<16xf32>, %wu: tensor<16x8xi8>, %su: tensor<16xf32>) -> tensor<?x16xf32> {
  // CHECK: %[[G:.*]] = qk.gemm %arg0, %arg2 a_scales(%arg1 : tensor<?xf32>) b_scales(%arg3 : tensor<16xf32>) up(%arg4 : tensor<16x8xi8>) up_scales(%arg5 : tensor<16xf32>)
  // CHECK-NOT: qk.silu_mul
  // CHECK: return %[[G]]
  %g = qk.gemm %a, %wg a_scales(%s : tensor<?xf32>) b_scales(%sg : tensor<16xf32>) {a_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x8xi8>, tensor<16x8xi8>) -> tensor<?x16xf32>
  %u = qk.gemm %a, %wu a_scales(%s : tensor<?xf32>) b_scales(%su : tensor<16xf32>) {a_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x8xi8>, tensor<16x8xi8>) -> tensor<?x16xf32>
  %y = qk.silu_mul %g, %u : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// GEMMs on different inputs are not fused.
// CHECK-LABEL: func.func @different_inputs
func.func @different_inputs(%a: tensor<?x8xbf16>, %b: tensor<?x8xbf16>, %wg: tensor<16x8xbf16>, %wu: tensor<16x8xbf16>) -> tensor<?x16xf32> {
  // CHECK-COUNT-2: qk.gemm
  // CHECK: qk.silu_mul
  %g = qk.gemm %a, %wg : (tensor<?x8xbf16>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  %u = qk.gemm %b, %wu : (tensor<?x8xbf16>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  %y = qk.silu_mul %g, %u : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
