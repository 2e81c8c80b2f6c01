// Residual adds and static output quantization move into the GEMM epilogue.
// RUN: qopt %s --qk-fuse-gemm-epilogue | FileCheck %s

// CHECK-LABEL: func.func @residual
func.func @residual(%h: tensor<?x8xf32>, %a: tensor<?x8xbf16>, %w: tensor<8x8xbf16>) -> tensor<?x8xf32> {
  // CHECK: %[[Y:.*]] = qk.gemm %arg1, %arg2 residual(%arg0 : tensor<?x8xf32>)
  // CHECK-NOT: qk.add
  // CHECK: return %[[Y]]
  %y = qk.gemm %a, %w : (tensor<?x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  %r = qk.add %y, %h : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

// CHECK-LABEL: func.func @static_out
func.func @static_out(%a: tensor<?x8xbf16>, %w: tensor<8x8xbf16>) -> tensor<?x8xi8> {
  %s = arith.constant dense<0.1> : tensor<1xf32>
  %z = arith.constant dense<-2> : tensor<1xi32>
  // CHECK: qk.gemm %arg0, %arg1 out_scale(%{{.*}} : tensor<1xf32>) out_zero_point(%{{.*}} : tensor<1xi32>) {out_scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static>} : (tensor<?x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xi8>
  %y = qk.gemm %a, %w : (tensor<?x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  %q = qk.quantize %y scale(%s : tensor<1xf32>) zero_point(%z : tensor<1xi32>) {scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static>} : tensor<?x8xf32> -> tensor<?x8xi8>
  return %q : tensor<?x8xi8>
}

// Dynamic per-token quantization needs whole rows: it stays a kernel.
// CHECK-LABEL: func.func @dynamic_out
func.func @dynamic_out(%a: tensor<?x8xbf16>, %w: tensor<8x8xbf16>) -> (tensor<?x8xi8>, tensor<?xf32>) {
  // CHECK: qk.gemm {{.*}} -> tensor<?x8xf32>
  // CHECK: qk.quantize
  %y = qk.gemm %a, %w : (tensor<?x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  %q, %s = qk.quantize %y {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<?xf32>
  return %q, %s : tensor<?x8xi8>, tensor<?xf32>
}

// A residual defined after the GEMM cannot be read by it.
// CHECK-LABEL: func.func @late_residual
func.func @late_residual(%x: tensor<?x8xf32>, %a: tensor<?x8xbf16>, %w: tensor<8x8xbf16>) -> tensor<?x8xf32> {
  // CHECK: qk.gemm
  // CHECK: qk.add
  %y = qk.gemm %a, %w : (tensor<?x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  %late = qk.add %x, %x : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %r = qk.add %y, %late : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}
