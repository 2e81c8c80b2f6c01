// RUN: not qopt %s 2>&1 | FileCheck %s

// Ops of the qopt namespace that do not exist are rejected, not passed through.
// CHECK: unknown-op.mlir:[[@LINE+2]]:8: error: custom op 'qopt.frobnicate' is unknown
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = qopt.frobnicate %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
