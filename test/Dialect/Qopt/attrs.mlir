// RUN: qopt %s | qopt | FileCheck %s

// Round trip of every qopt attribute, attached to a function.

// CHECK-LABEL: func.func @granularities
// CHECK-SAME: a = #qopt.per_tensor
// CHECK-SAME: b = #qopt.per_channel<axis = 1>
// CHECK-SAME: c = #qopt.per_token
// CHECK-SAME: d = #qopt.per_group<axis = 1, size = 128>
// CHECK-SAME: e = #qopt.per_head<axis = 1, heads = 8>
// CHECK-SAME: f = #qopt.block<rows = 128, cols = 64>
func.func @granularities() attributes {
  a = #qopt.per_tensor, b = #qopt.per_channel<axis = 1>, c = #qopt.per_token,
  d = #qopt.per_group<axis = 1, size = 128>, e = #qopt.per_head<axis = 1, heads = 8>,
  f = #qopt.block<rows = 128, cols = 64>} {
  return
}

// CHECK-LABEL: func.func @schemes
// CHECK-SAME: e5 = #qopt.scheme<f8E5M2, #qopt.per_tensor, sym, dynamic>
// CHECK-SAME: i4 = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 32>, asym, static, packing = int4x8_offset>
// CHECK-SAME: i8 = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, asym, static, scales = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>, zero_points = dense<[0, -4]> : tensor<2xi32>>
// CHECK-SAME: order = #qopt.scheme<i4, #qopt.per_tensor, sym, static, scales = dense<2.500000e-01> : tensor<f32>, packing = int4x2>
func.func @schemes() attributes {
  i8 = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, asym, static, scales = dense<[1.0, 2.0]> : tensor<2xf32>, zero_points = dense<[0, -4]> : tensor<2xi32>>,
  i4 = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 32>, asym, static, packing = int4x8_offset>,
  e5 = #qopt.scheme<f8E5M2, #qopt.per_tensor, sym, dynamic>,
  order = #qopt.scheme<i4, #qopt.per_tensor, sym, static, packing = int4x2, scales = dense<0.25> : tensor<f32>>} {
  return
}

// Scales may live in a resource blob instead of the attribute text.
// CHECK-LABEL: func.func @resource_scales
// CHECK-SAME: s = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense_resource<ch_scales> : tensor<2xf32>>
func.func @resource_scales() attributes {
  s = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense_resource<ch_scales> : tensor<2xf32>>} {
  return
}

// CHECK-LABEL: func.func @metadata
// CHECK-SAME: rope = #qopt.rope_scaling<kind = linear, factor = 2.000000e+00 : f64>
// CHECK-SAME: stats = #qopt.stats<absmax = dense<[1.500000e+00, 2.500000e-01]> : tensor<2xf32>, min = dense<[-1.000000e+00, -2.500000e-01]> : tensor<2xf32>, max = dense<[1.500000e+00, 0.000000e+00]> : tensor<2xf32>, num_tokens = 4096, hessian = "layers.0.q_proj">
func.func @metadata() attributes {
  stats = #qopt.stats<absmax = dense<[1.5, 0.25]> : tensor<2xf32>, min = dense<[-1.0, -0.25]> : tensor<2xf32>, max = dense<[1.5, 0.0]> : tensor<2xf32>, num_tokens = 4096, hessian = "layers.0.q_proj">,
  rope = #qopt.rope_scaling<kind = linear, factor = 2.0 : f64>} {
  return
}

// CHECK: dialect_resources
// CHECK: ch_scales: "0x04000000CDCCCC3DCDCC4C3E"
{-#
  dialect_resources: {
    builtin: {
      ch_scales: "0x04000000CDCCCC3DCDCC4C3E"
    }
  }
#-}
