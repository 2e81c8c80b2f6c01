// RUN: not qopt %s 2>&1 | FileCheck %s

// A syntax error is reported with its file, line and column, and qopt exits
// with a non-zero status without printing any IR.
// CHECK: malformed.mlir:[[@LINE+3]]:20: error: expected ':'
// CHECK-NOT: module
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = qopt.silu %x tensor<4xf32>
  return %y : tensor<4xf32>
}
