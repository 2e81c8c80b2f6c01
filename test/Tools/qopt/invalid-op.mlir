// RUN: not qopt %s 2>&1 | FileCheck %s

// A verifier error names the op and its location; the exit status is non-zero.
// CHECK: invalid-op.mlir:[[@LINE+3]]:8: error: 'qopt.attention' op num_heads (6) must be a multiple of num_kv_heads (4)
// CHECK-NOT: func.func
func.func @f(%q: tensor<?x384xf32>, %k: tensor<?x256xf32>) -> tensor<?x384xf32> {
  %o = qopt.attention %q, %k, %k {layer = 0, num_heads = 6, num_kv_heads = 4, head_dim = 64} : (tensor<?x384xf32>, tensor<?x256xf32>, tensor<?x256xf32>) -> tensor<?x384xf32>
  return %o : tensor<?x384xf32>
}
