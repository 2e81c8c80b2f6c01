// RUN: qopt %s -cse -canonicalize -split-input-file | FileCheck %s

// Appending to the KV cache is a side effect: two identical attention ops
// are two appends (CSE keeps both), and one whose result is unused still
// appends (canonicalize does not erase it). A sliding window round-trips.

// CHECK-LABEL: func.func @not_merged
// CHECK-COUNT-2: qopt.attention
// CHECK: qopt.add
func.func @not_merged(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %a = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  %b = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  %s = qopt.add %a, %b : tensor<?x16xf32>
  return %s : tensor<?x16xf32>
}

// -----

// CHECK-LABEL: func.func @unused_kept
// CHECK: qopt.attention {{.*}}sliding_window = 2 : i64
// CHECK-NEXT: return %arg0
func.func @unused_kept(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %a = qopt.attention %q, %k, %k {layer = 1, num_heads = 4, num_kv_heads = 2, head_dim = 4, sliding_window = 2} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return %q : tensor<?x16xf32>
}
