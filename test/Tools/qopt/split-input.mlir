// RUN: not qopt %s -split-input-file 2>&1 | FileCheck %s

// With -split-input-file, every chunk is verified and each error keeps its
// original line number.

// CHECK: split-input.mlir:[[@LINE+2]]:8: error: 'qopt.rms_norm' op epsilon must be positive
func.func @a(%x: tensor<?x4xf32>, %w: tensor<4xf32>) -> tensor<?x4xf32> {
  %y = qopt.rms_norm %x, %w {epsilon = -1.0} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// CHECK: split-input.mlir:[[@LINE+2]]:8: error: 'qopt.linear' op input feature size 4 does not match the weight's in-features 8
func.func @b(%x: tensor<?x4xf32>, %w: tensor<2x8xf32>) -> tensor<?x2xf32> {
  %y = qopt.linear %x, %w : (tensor<?x4xf32>, tensor<2x8xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
