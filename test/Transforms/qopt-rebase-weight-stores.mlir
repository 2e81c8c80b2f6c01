// RUN: qopt %s --qopt-rebase-weight-stores="from=/data/models/run to=/data/out" | FileCheck %s
// RUN: not qopt %s --qopt-rebase-weight-stores="from=/data" -o /dev/null 2>&1 | FileCheck %s --check-prefix=MISSING

// Relative paths are rewritten to name the same files from `to`; absolute
// paths and the model attribute's absolute entries stay.

// CHECK: module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "../models/run/ckpt/index.json", tokenizer = "/abs/tokenizer.json", vocab_size = 8>}
// CHECK: qopt.weight_store @ckpt "../models/run/ckpt/index.json"
// CHECK: qopt.weight_store @abs "/abs/w.safetensors"
// CHECK: qopt.weight_store @up "../models/other.safetensors"

// MISSING: error: qopt-rebase-weight-stores: needs both from= and to=
module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "ckpt/index.json", tokenizer = "/abs/tokenizer.json", vocab_size = 8>} {
  qopt.weight_store @ckpt "ckpt/index.json"
  qopt.weight_store @abs "/abs/w.safetensors"
  qopt.weight_store @up "../other.safetensors"
}
