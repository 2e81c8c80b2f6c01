// rms_norm followed by its only consumer's quantization is one kernel.
// RUN: qopt %s --qk-fuse-norm-quantize | FileCheck %s

// CHECK-LABEL: func.func @dynamic
func.func @dynamic(%x: tensor<?x8xf32>, %w: tensor<8xf32>) -> (tensor<?x8xi8>, tensor<?xf32>) {
  // CHECK: %[[Q:.*]], %[[S:.*]] = qk.rms_norm %arg0, %arg1 {epsilon = 1.000000e-05 : f64, out_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xi8>, tensor<?xf32>
  // CHECK-NOT: qk.quantize
  // CHECK: return %[[Q]], %[[S]]
  %y = qk.rms_norm %x, %w {epsilon = 1.0e-05} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %q, %s = qk.quantize %y {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<?xf32>
  return %q, %s : tensor<?x8xi8>, tensor<?xf32>
}

// CHECK-LABEL: func.func @static_fp8
func.func @static_fp8(%x: tensor<?x8xf32>, %w: tensor<8xbf16>) -> tensor<?x8xf8E4M3FN> {
  %c = arith.constant dense<0.5> : tensor<1xf32>
  // CHECK: qk.rms_norm %arg0, %arg1 out_scale(%{{.*}} : tensor<1xf32>) {epsilon = 1.000000e-05 : f64, out_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static>} : (tensor<?x8xf32>, tensor<8xbf16>) -> tensor<?x8xf8E4M3FN>
  %y = qk.rms_norm %x, %w {epsilon = 1.0e-05} : (tensor<?x8xf32>, tensor<8xbf16>) -> tensor<?x8xf32>
  %q = qk.quantize %y scale(%c : tensor<1xf32>) {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static>} : tensor<?x8xf32> -> tensor<?x8xf8E4M3FN>
  return %q : tensor<?x8xf8E4M3FN>
}

// The bf16 input of a bf16 GEMM is stored by the norm itself.
// CHECK-LABEL: func.func @bf16
func.func @bf16(%x: tensor<?x8xf32>, %w: tensor<8xbf16>) -> tensor<?x8xbf16> {
  // CHECK: qk.rms_norm %arg0, %arg1 {epsilon = 1.000000e-05 : f64} : (tensor<?x8xf32>, tensor<8xbf16>) -> tensor<?x8xbf16>
  %y = qk.rms_norm %x, %w {epsilon = 1.0e-05} : (tensor<?x8xf32>, tensor<8xbf16>) -> tensor<?x8xf32>
  %b = qk.quantize %y : tensor<?x8xf32> -> tensor<?x8xbf16>
  return %b : tensor<?x8xbf16>
}

// A norm with another use stays unfused.
// CHECK-LABEL: func.func @two_uses
func.func @two_uses(%x: tensor<?x8xf32>, %w: tensor<8xf32>) -> (tensor<?x8xi8>, tensor<?xf32>, tensor<?x8xf32>) {
  // CHECK: qk.rms_norm {{.*}} -> tensor<?x8xf32>
  // CHECK: qk.quantize
  %y = qk.rms_norm %x, %w {epsilon = 1.0e-05} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %q, %s = qk.quantize %y {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<?xf32>
  return %q, %s, %y : tensor<?x8xi8>, tensor<?xf32>, tensor<?x8xf32>
}
