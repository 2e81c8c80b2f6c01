// Bad pass options are rejected by the option parser with a message naming
// the option, and the tool exits non-zero.
// RUN: not qopt %s --qopt-insert-observers=kv=maybe 2>&1 | FileCheck %s --check-prefix=KV
// RUN: not qopt %s --qopt-strip-observers=keep-stats=2 2>&1 | FileCheck %s --check-prefix=KEEP
// RUN: not qopt %s --qopt-insert-observers=nonsense=1 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// KV: for the --kv option: '{{.*}}maybe' is invalid value for boolean argument! Try 0 or 1
// KEEP: for the --keep-stats option: '{{.*}}2' is invalid value for boolean argument! Try 0 or 1
// UNKNOWN: no such option nonsense
func.func @f() {
  return
}
