// qopt-set-weights-output{dir=DIR} names the default directory of side
// stores in the module (made absolute); without dir it removes that and the
// list of files the run created.
// RUN: cd %S && qopt %s --qopt-set-weights-output=dir=some/../dir | FileCheck %s --check-prefix=SET -DDIR=%S
// SET: qopt.weights_output = "[[DIR]]/dir"
// RUN: qopt %s --qopt-set-weights-output | FileCheck %s --check-prefix=CLEAR
// CLEAR: module {
// CLEAR-NOT: qopt.weights_output
// CLEAR-NOT: qopt.created_weight_files

module attributes {qopt.weights_output = "/old", qopt.created_weight_files = ["/old/a"]} {
  func.func @f() {
    return
  }
}
