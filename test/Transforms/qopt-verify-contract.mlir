// RUN: qopt %s --qopt-verify-contract | FileCheck %s
// RUN: qopt %s --qopt-verify-contract=stage=graph | FileCheck %s

// A graph-level module passes the graph contract unchanged.

// CHECK: qopt.weight_store @ckpt
qopt.weight_store @ckpt "model.safetensors"

// CHECK-LABEL: func.func @forward
// CHECK: qopt.linear
// CHECK: qopt.observe
// CHECK: return
func.func @forward(%x: tensor<?x16xf32>) -> tensor<?x8xf32> {
  %w = qopt.weight @ckpt["w"] : tensor<8x16xbf16>
  %c = arith.constant dense<1.0> : tensor<2x16xf32>
  %y = qopt.linear %x, %w : (tensor<?x16xf32>, tensor<8x16xbf16>) -> tensor<?x8xf32>
  %o = qopt.observe %y {label = "out"} : tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}
