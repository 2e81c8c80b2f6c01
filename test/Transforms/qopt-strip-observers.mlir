// RUN: qopt %s --qopt-strip-observers | FileCheck %s
// RUN: qopt %s --qopt-strip-observers=keep-stats=true | FileCheck %s --check-prefix=KEEP

// CHECK-LABEL: func.func @strip
// CHECK-SAME: (%[[X:.*]]: tensor<?x2xf32>, %[[W:.*]]: tensor<4x2xf32>)
// CHECK-NOT: qopt.observe
// CHECK: %[[Y:.*]] = qopt.linear %[[X]], %[[W]] : (tensor<?x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32>
// CHECK-NOT: qopt.observe
// CHECK: return %[[Y]]

// KEEP-LABEL: func.func @strip
// KEEP-NOT: qopt.observe
// KEEP: qopt.linear %{{.*}}, %{{.*}} {qopt.input_stats = #qopt.stats<absmax = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>, num_tokens = 8>}
// KEEP-NOT: qopt.observe
// KEEP: return
func.func @strip(%x: tensor<?x2xf32>, %w: tensor<4x2xf32>) -> tensor<?x4xf32> {
  %x1 = qopt.observe %x {label = "l0.q.in", stats = #qopt.stats<absmax = dense<[1.0, 2.0]> : tensor<2xf32>, num_tokens = 8>} : tensor<?x2xf32>
  %y = qopt.linear %x1, %w : (tensor<?x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32>
  %y1 = qopt.observe %y {label = "l0.q.out"} : tensor<?x4xf32>
  return %y1 : tensor<?x4xf32>
}
