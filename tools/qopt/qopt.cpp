//===- qopt.cpp - The qopt compiler driver --------------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Parses, verifies, transforms and prints qopt IR. Registration only: the
// dialects and passes are the same ones embedders get from
// registerAllDialects() and registerAllPasses().
//
//===----------------------------------------------------------------------===//

#include "qopt/InitAllDialects.h"
#include "qopt/InitAllPasses.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::qopt::registerAllDialects(registry);
  mlir::qopt::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "qopt: quantization compiler for transformer LLMs\n",
      registry));
}
