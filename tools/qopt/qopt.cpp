//===- qopt.cpp - The qopt compiler driver --------------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Parses, verifies, transforms and prints qopt IR (mlir-opt's driver). The
// dialects, passes and pipelines are the ones embedders get from
// registerAllDialects() and registerAllPasses(). What qopt adds: passes that
// write weights put them beside the output file (`-o out/model.mlir` gives
// `out/model.weights/`), and when the output goes to another directory than
// the input, relative weight-store paths are rebased so they still resolve.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt/InitAllDialects.h"
#include "qopt/InitAllPasses.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

using namespace mlir;

namespace mlir::qopt::test {
/// qopt's test-only passes (test/lib), under the qopt-test- prefix.
void registerTestPasses();
} // namespace mlir::qopt::test

static std::string absoluteDirectory(llvm::StringRef file) {
  llvm::SmallString<256> path(file);
  llvm::sys::fs::make_absolute(path);
  llvm::sys::path::remove_filename(path);
  llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
  return std::string(path);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  qopt::registerAllPasses();
  qopt::test::registerTestPasses();
  auto [inputFile, outputFile] = registerAndParseCLIOptions(
      argc, argv, "qopt: quantization compiler for transformer LLMs\n",
      registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();

  bool toFile =
      outputFile != "-" && !llvm::StringRef(outputFile).starts_with("/dev/");
  if (toFile) {
    llvm::SmallString<256> stem(outputFile);
    llvm::sys::path::replace_extension(stem, "");
    std::string irDir = llvm::sys::path::filename(stem).str() + ".weights";
    llvm::SmallString<256> dir(stem);
    dir += ".weights";
    llvm::sys::fs::make_absolute(dir);
    qopt::setDefaultWeightsOutput(std::string(dir), irDir);

    std::string from = inputFile == "-" ? absoluteDirectory("x")
                                        : absoluteDirectory(inputFile);
    std::string to = absoluteDirectory(outputFile);
    if (from != to) {
      MlirOptMainConfig inner = config;
      config.setPassPipelineSetupFn([inner, from, to](PassManager &pm) {
        if (failed(inner.setupPassPipeline(pm)))
          return failure();
        qopt::QoptRebaseWeightStoresOptions options;
        options.from = from;
        options.to = to;
        pm.addPass(qopt::createQoptRebaseWeightStores(options));
        return success();
      });
    }
  }

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(inputFile, &error);
  if (!file) {
    llvm::errs() << error << "\n";
    return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &error);
  if (!output) {
    llvm::errs() << error << "\n";
    return 1;
  }
  if (failed(MlirOptMain(output->os(), std::move(file), registry, config))) {
    // No half-written output: the side stores of passes that ran go too.
    qopt::removeWrittenStores();
    return 1;
  }
  output->keep();
  return 0;
}
