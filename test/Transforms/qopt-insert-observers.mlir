// RUN: qopt %s --qopt-insert-observers | FileCheck %s
// RUN: qopt %s --qopt-insert-observers --qopt-insert-observers | FileCheck %s
// RUN: qopt %s --qopt-insert-observers=kv=false | FileCheck %s --check-prefix=NOKV
// RUN: qopt %s --qopt-insert-observers --qopt-insert-observers | grep -c qopt.observe | FileCheck %s --check-prefix=COUNT
// RUN: qopt %s --qopt-insert-observers=kv=false | grep -c qopt.observe | FileCheck %s --check-prefix=COUNTNOKV
// COUNT: {{^}}4{{$}}
// COUNTNOKV: {{^}}2{{$}}

// q/k/v share their input: one observer named after the first linear user.
// CHECK-LABEL: func.func @layer
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>
// CHECK: %[[XO:.*]] = qopt.observe %[[X]] {label = "l0.q_proj.input"} : tensor<?x8xf32>
// CHECK-NOT: qopt.observe %[[X]]
// CHECK: %[[Q:.*]] = qopt.linear %[[XO]], %{{.*}} {label = "l0.q_proj"}
// CHECK: %[[K:.*]] = qopt.linear %[[XO]], %{{.*}} {label = "l0.k_proj"}
// CHECK: %[[KO:.*]] = qopt.observe %[[K]] {label = "layers.3.k"}
// CHECK: %[[V:.*]] = qopt.linear %[[XO]], %{{.*}} {label = "l0.v_proj"}
// CHECK: %[[VO:.*]] = qopt.observe %[[V]] {label = "layers.3.v"}
// CHECK: %[[A:.*]] = qopt.attention %[[Q]], %[[KO]], %[[VO]]
// CHECK: %[[AO:.*]] = qopt.observe %[[A]] {label = "linear0.input"}
// CHECK: qopt.linear %[[AO]], %{{.*}} :
// The residual add still reads the unobserved value.
// CHECK: qopt.add %[[A]], %[[X]]

// NOKV-LABEL: func.func @layer
// NOKV-NOT: layers.3.k
// NOKV-NOT: layers.3.v
func.func @layer(%x: tensor<?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<4x8xf32>, %wv: tensor<4x8xf32>, %wo: tensor<8x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %q = qopt.linear %x, %wq {label = "l0.q_proj"} : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %k = qopt.linear %x, %wk {label = "l0.k_proj"} : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  %v = qopt.linear %x, %wv {label = "l0.v_proj"} : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  %a = qopt.attention %q, %k, %v {layer = 3, num_heads = 2, num_kv_heads = 1, head_dim = 4} : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %o = qopt.linear %a, %wo : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %r = qopt.add %a, %x : tensor<?x8xf32>
  return %o, %r : tensor<?x8xf32>, tensor<?x8xf32>
}
