//===- qopt-import.cpp - Import a Hugging Face checkpoint as qopt IR ------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qopt-import CHECKPOINT_DIR -o model.mlir
//
// Reads config.json and the safetensors headers (never the weight data) and
// writes the model's qopt graph IR; a pre-quantized checkpoint (config.json's
// quantization_config) becomes quantized IR over its stored tensors. Paths to
// the checkpoint and tokenizer are recorded relative to the output file.
//
//===----------------------------------------------------------------------===//

#include "qopt-frontend/Importer.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt/InitAllDialects.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::OptionCategory category("qopt-import options");
  llvm::cl::opt<std::string> checkpoint(
      llvm::cl::Positional, llvm::cl::Required,
      llvm::cl::desc("<checkpoint directory>"), llvm::cl::cat(category));
  llvm::cl::opt<std::string> output(
      "o", llvm::cl::desc("Output .mlir file"), llvm::cl::value_desc("file"),
      llvm::cl::init("-"), llvm::cl::cat(category));
  llvm::cl::opt<qopt::ImportActivations> activations(
      "activations",
      llvm::cl::desc("Activations of a pre-quantized checkpoint whose "
                     "activation scheme qopt cannot express (transformers "
                     "fp8: groups of 128 along K)"),
      llvm::cl::values(
          clEnumValN(qopt::ImportActivations::Dequantized, "dequantized",
                     "float activations, weights dequantized (as the "
                     "checkpoint computes on CPU; the default)"),
          clEnumValN(qopt::ImportActivations::PerToken, "per-token",
                     "dynamic per-token FP8 activations (FP8 tensor cores)")),
      llvm::cl::init(qopt::ImportActivations::Dequantized),
      llvm::cl::cat(category));
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "qopt-import: import a Hugging Face checkpoint (llama, mistral, qwen2) "
      "as qopt graph IR\n");

  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);

  qopt::ImportOptions options;
  options.activations = activations;
  if (output != "-") {
    llvm::SmallString<256> dir(output.getValue());
    llvm::sys::path::remove_filename(dir);
    options.outputDir = dir.empty() ? "." : std::string(dir);
    // AutoAWQ / GPTQ tensors, re-laid out: OUT.mlir -> OUT.relaid.safetensors.
    llvm::SmallString<256> side(output.getValue());
    llvm::sys::path::replace_extension(side, "relaid.safetensors");
    options.sideStorePath = std::string(side);
  }
  std::string error;
  OwningOpRef<ModuleOp> module =
      qopt::importHuggingFaceCheckpoint(&context, checkpoint, options, error);
  if (!module) {
    llvm::errs() << "qopt-import: error: " << error << "\n";
    return 1;
  }
  if (failed(verify(*module))) {
    llvm::errs() << "qopt-import: error: the imported module does not verify\n";
    return 1;
  }
  // Atomic: a failed or killed import leaves a previous output as it was.
  if (failed(qopt::writeOutputFile(
          output,
          [&](llvm::raw_ostream &os) {
            module->print(os);
            os << "\n";
            return success();
          },
          error))) {
    llvm::errs() << "qopt-import: error: " << error << "\n";
    return 1;
  }
  return 0;
}
