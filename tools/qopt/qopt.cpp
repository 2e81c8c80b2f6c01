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
// `out/model.weights/`, through qopt-set-weights-output), when the output
// goes to another directory than the input, relative weight-store paths are
// rebased so they still resolve, and outputs are atomic: the IR is renamed
// into place only when the run succeeded, and a failed run deletes the side
// store files it created (WeightOutputCleanup).
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
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

using namespace mlir;

namespace mlir::qopt::test {
/// qopt's test-only passes (test/lib), under the qopt-test- prefix.
void registerTestPasses();
/// The kernel builders' test passes (test/lib/Codegen).
void registerTestCodegenPasses();
/// The kernel-builder test passes (test/lib/Codegen).
void registerTestSimtPasses();
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
  qopt::test::registerTestCodegenPasses();
  qopt::test::registerTestSimtPasses();
  auto [inputFile, outputFile] = registerAndParseCLIOptions(
      argc, argv, "qopt: quantization compiler for transformer LLMs\n",
      registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();

  bool toFile =
      outputFile != "-" && !llvm::StringRef(outputFile).starts_with("/dev/");
  // The files of side stores this run created, deleted when it fails.
  auto created = std::make_shared<qopt::WeightOutputCleanup::Record>();
  if (toFile) {
    llvm::SmallString<256> dir(outputFile);
    llvm::sys::path::replace_extension(dir, "");
    dir += ".weights";
    std::string from = inputFile == "-" ? absoluteDirectory("x")
                                        : absoluteDirectory(inputFile);
    std::string to = absoluteDirectory(outputFile);
    MlirOptMainConfig inner = config;
    config.setPassPipelineSetupFn(
        [inner, from, to, created, dir = std::string(dir)](PassManager &pm) {
          pm.addInstrumentation(
              std::make_unique<qopt::WeightOutputCleanup>(created));
          // Side stores go to FILE.weights/, named in the IR relative to
          // the input's directory until the rebase below.
          qopt::QoptSetWeightsOutputOptions set;
          set.dir = dir;
          pm.addPass(qopt::createQoptSetWeightsOutput(set));
          if (failed(inner.setupPassPipeline(pm)))
            return failure();
          if (from != to) {
            qopt::QoptRebaseWeightStoresOptions options;
            options.from = from;
            options.to = to;
            pm.addPass(qopt::createQoptRebaseWeightStores(options));
          }
          pm.addPass(qopt::createQoptSetWeightsOutput());
          return success();
        });
  }

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(inputFile, &error);
  if (!file) {
    llvm::errs() << error << "\n";
    return 1;
  }
  // The IR goes to a temporary beside the output, renamed over it only when
  // the whole run succeeded: a failed or killed run leaves the previous
  // output (and, with content-named side stores, the files it references)
  // as they were.
  error.clear();
  if (failed(qopt::writeOutputFile(
          outputFile,
          [&](llvm::raw_ostream &os) {
            return MlirOptMain(os, std::move(file), registry, config);
          },
          error))) {
    if (!error.empty())
      llvm::errs() << error << "\n";
    created->removeFiles();
    return 1;
  }
  return 0;
}
