// RUN: qopt %s | FileCheck %s
// RUN: qopt %s | qopt | FileCheck %s

// Upstream's `quant` dialect and qopt's dialect load into one context: an
// embedding compiler can mix both in one module.

// CHECK-LABEL: func.func @mixed
func.func @mixed(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // CHECK: quant.qcast %{{.*}} : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 5.000000e-01>>
  %u = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5>>
  // CHECK: quant.dcast
  %ud = quant.dcast %u : tensor<4x!quant.uniform<i8:f32, 0.5>> to tensor<4xf32>
  // CHECK: qopt.quantize %{{.*}} {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<5.000000e-01> : tensor<f32>>}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>
  // CHECK: qopt.dequantize
  %qd = qopt.dequantize %q {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>} : tensor<4xi8> -> tensor<4xf32>
  return %ud, %qd : tensor<4xf32>, tensor<4xf32>
}
