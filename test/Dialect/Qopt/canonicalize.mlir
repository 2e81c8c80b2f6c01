// RUN: qopt %s -canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @dequantize_quantize_same_scheme
// CHECK-SAME: (%[[Q:.*]]: tensor<?x8xi8>)
// CHECK-NEXT: return %[[Q]]
func.func @dequantize_quantize_same_scheme(%q: tensor<?x8xi8>) -> tensor<?x8xi8> {
  %x = qopt.dequantize %q {scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<0.02> : tensor<f32>, zero_points = dense<-3> : tensor<i32>>} : tensor<?x8xi8> -> tensor<?x8xf32>
  %r = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<0.02> : tensor<f32>, zero_points = dense<-3> : tensor<i32>>} : tensor<?x8xf32> -> tensor<?x8xi8>
  return %r : tensor<?x8xi8>
}

// -----

// CHECK-LABEL: func.func @dequantize_quantize_to_requantize
// CHECK-SAME: (%[[Q:.*]]: tensor<4x8xi8>)
// CHECK-NEXT: %[[R:.*]] = qopt.requantize %[[Q]] {in_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32>>, out_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<5.000000e-01> : tensor<f32>>} : tensor<4x8xi8> -> tensor<4x8xf8E4M3FN>
// CHECK-NEXT: return %[[R]]
func.func @dequantize_quantize_to_requantize(%q: tensor<4x8xi8>) -> tensor<4x8xf8E4M3FN> {
  %x = qopt.dequantize %q {scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>>} : tensor<4x8xi8> -> tensor<4x8xf32>
  %r = qopt.quantize %x {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>} : tensor<4x8xf32> -> tensor<4x8xf8E4M3FN>
  return %r : tensor<4x8xf8E4M3FN>
}

// -----

// A bf16 intermediate rounds, so the pair is not a requantize: left alone.
// CHECK-LABEL: func.func @bf16_intermediate_not_folded
// CHECK: qopt.dequantize
// CHECK: qopt.quantize
func.func @bf16_intermediate_not_folded(%q: tensor<8xi8>) -> tensor<8xi8> {
  %x = qopt.dequantize %q {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<8xi8> -> tensor<8xbf16>
  %r = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.3> : tensor<f32>>} : tensor<8xbf16> -> tensor<8xi8>
  return %r : tensor<8xi8>
}

// -----

// Dynamic scales are computed from the data: nothing to fold.
// CHECK-LABEL: func.func @dynamic_not_folded
// CHECK: qopt.quantize
// CHECK: qopt.dequantize
func.func @dynamic_not_folded(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %q, %s = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<?xf32>
  %d = qopt.dequantize %q scales(%s : tensor<?xf32>) {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x8xi8> -> tensor<?x8xf32>
  return %d : tensor<?x8xf32>
}

// -----

// Round half to even, then saturation to the symmetric range [-127, 127].
// CHECK-LABEL: func.func @quantize_constant
// CHECK-NEXT: %[[C:.*]] = arith.constant dense<[0, -2, 2, 127, -127]> : tensor<5xi8>
// CHECK-NEXT: return %[[C]]
func.func @quantize_constant() -> tensor<5xi8> {
  %c = arith.constant dense<[0.25, -0.75, 1.25, 100.0, -1000.0]> : tensor<5xf32>
  %q = qopt.quantize %c {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>} : tensor<5xf32> -> tensor<5xi8>
  return %q : tensor<5xi8>
}

// -----

// Per-channel scales along axis 1, and the asymmetric range [-128, 127].
// CHECK-LABEL: func.func @quantize_constant_per_channel_asym
// CHECK-NEXT: arith.constant dense<{{\[}}[2, 1], [-128, 127]]> : tensor<2x2xi8>
func.func @quantize_constant_per_channel_asym() -> tensor<2x2xi8> {
  %c = arith.constant dense<[[1.0, 1.0], [-1000.0, 1000.0]]> : tensor<2x2xf32>
  %q = qopt.quantize %c {scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 1>, asym, static, scales = dense<[1.0, 2.0]> : tensor<2xf32>, zero_points = dense<[1, 1]> : tensor<2xi32>>} : tensor<2x2xf32> -> tensor<2x2xi8>
  return %q : tensor<2x2xi8>
}

// -----

// FP8 E4M3FN: clamp to 448 first, then round to nearest even.
// CHECK-LABEL: func.func @quantize_constant_fp8
// CHECK-NEXT: arith.constant dense<[1.000000e+00, 4.480000e+02, -3.125000e-01]> : tensor<3xf8E4M3FN>
func.func @quantize_constant_fp8() -> tensor<3xf8E4M3FN> {
  %c = arith.constant dense<[1.0, 500.0, -0.3]> : tensor<3xf32>
  %q = qopt.quantize %c {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<1.0> : tensor<f32>>} : tensor<3xf32> -> tensor<3xf8E4M3FN>
  return %q : tensor<3xf8E4M3FN>
}

// -----

// i4 per-group: groups of 2 along axis 1 with their own scales.
// CHECK-LABEL: func.func @quantize_constant_int4_group
// CHECK-NEXT: arith.constant dense<{{\[}}[1, 2, 7, -7]]> : tensor<1x4xi4>
func.func @quantize_constant_int4_group() -> tensor<1x4xi4> {
  %c = arith.constant dense<[[1.0, 2.0, 30.0, -30.0]]> : tensor<1x4xf32>
  %q = qopt.quantize %c {scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 2>, sym, static, scales = dense<[[1.0, 4.0]]> : tensor<1x2xf32>, packing = int4x2>} : tensor<1x4xf32> -> tensor<1x4xi4>
  return %q : tensor<1x4xi4>
}

// -----

// CHECK-LABEL: func.func @dequantize_constant
// CHECK-NEXT: arith.constant dense<[1.000000e+00, -5.000000e-01, 6.400000e+01]> : tensor<3xf32>
func.func @dequantize_constant() -> tensor<3xf32> {
  %c = arith.constant dense<[1, -2, 127]> : tensor<3xi8>
  %x = qopt.dequantize %c {scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<0.5> : tensor<f32>, zero_points = dense<-1> : tensor<i32>>} : tensor<3xi8> -> tensor<3xf32>
  return %x : tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @requantize_identity
// CHECK-SAME: (%[[Q:.*]]: tensor<8xi8>)
// CHECK-NEXT: return %[[Q]]
func.func @requantize_identity(%q: tensor<8xi8>) -> tensor<8xi8> {
  %r = qopt.requantize %q {in_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>, out_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<8xi8> -> tensor<8xi8>
  return %r : tensor<8xi8>
}

// -----

// Halving the scale doubles the values; 100 -> 200 saturates at 127.
// CHECK-LABEL: func.func @requantize_constant
// CHECK-NEXT: arith.constant dense<[2, -6, 127]> : tensor<3xi8>
func.func @requantize_constant() -> tensor<3xi8> {
  %c = arith.constant dense<[1, -3, 100]> : tensor<3xi8>
  %r = qopt.requantize %c {in_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<1.0> : tensor<f32>>, out_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>} : tensor<3xi8> -> tensor<3xi8>
  return %r : tensor<3xi8>
}

// -----

// CHECK-LABEL: func.func @fake_quant_of_constant
// CHECK-NEXT: arith.constant dense<[0.000000e+00, 2.000000e+00, 2.540000e+02]> : tensor<3xf32>
func.func @fake_quant_of_constant() -> tensor<3xf32> {
  %c = arith.constant dense<[0.9, 1.2, 1000.0]> : tensor<3xf32>
  %q = qopt.quantize %c {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<2.0> : tensor<f32>>} : tensor<3xf32> -> tensor<3xi8>
  %d = qopt.dequantize %q {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<2.0> : tensor<f32>>} : tensor<3xi8> -> tensor<3xf32>
  return %d : tensor<3xf32>
}
