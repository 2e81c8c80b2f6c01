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

#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt/InitAllDialects.h"
#include "qopt/InitAllPasses.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <string>

/// Passes that write weights (smoothing, quantization) put them beside the
/// output file: `-o out/model.mlir` gives `out/model.weights/`, referenced
/// from the IR as `model.weights/...`.
static void setWeightsOutputFromArgs(int argc, char **argv) {
  std::string output;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg(argv[i]);
    if ((arg == "-o" || arg == "--o") && i + 1 < argc)
      output = argv[i + 1];
    else if (arg.consume_front("-o=") || arg.consume_front("--o="))
      output = arg.str();
  }
  if (output.empty() || output == "-")
    return;
  llvm::SmallString<256> stem(output);
  llvm::sys::path::replace_extension(stem, "");
  std::string irDir = llvm::sys::path::filename(stem).str() + ".weights";
  llvm::SmallString<256> dir(stem);
  dir += ".weights";
  llvm::sys::fs::make_absolute(dir);
  mlir::qopt::setDefaultWeightsOutput(std::string(dir), irDir);
}

int main(int argc, char **argv) {
  setWeightsOutputFromArgs(argc, argv);
  mlir::DialectRegistry registry;
  mlir::qopt::registerAllDialects(registry);
  mlir::qopt::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "qopt: quantization compiler for transformer LLMs\n",
      registry));
}
