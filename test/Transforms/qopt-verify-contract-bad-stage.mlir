// RUN: not qopt %s --qopt-verify-contract=stage=kernel 2>&1 | FileCheck %s

// An unknown stage is rejected by the option parser, before any IR is read.
// CHECK: for the --stage option: 'kernel' is not a valid value (valid values: graph, quantized)
func.func @f() {
  return
}
