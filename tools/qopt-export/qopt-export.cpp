//===- qopt-export.cpp - Write a quantized model for other tools ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qopt-export MODEL.mlir --format=compressed-tensors|hf-fp8|gguf -o PATH
//
// Writes the quantized model as a Hugging Face checkpoint directory that
// vLLM / transformers load (config.json with its quantization_config,
// sharded safetensors with an index, the tokenizer files), or as one GGUF
// file that llama.cpp loads. A directory must not exist; the output appears
// only once complete.
//
//===----------------------------------------------------------------------===//

#include "qopt/Export/Export.h"
#include "qopt/InitAllDialects.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::OptionCategory category("qopt-export options");
  llvm::cl::opt<std::string> input(llvm::cl::Positional, llvm::cl::Required,
                                   llvm::cl::desc("<quantized model .mlir>"),
                                   llvm::cl::cat(category));
  llvm::cl::opt<std::string> output(
      "o", llvm::cl::Required,
      llvm::cl::desc("Output checkpoint directory (a file for gguf)"),
      llvm::cl::value_desc("path"), llvm::cl::cat(category));
  llvm::cl::opt<qopt::ExportFormat> format(
      "format", llvm::cl::Required, llvm::cl::desc("The checkpoint format"),
      llvm::cl::values(
          clEnumValN(qopt::ExportFormat::CompressedTensors,
                     "compressed-tensors", "vLLM / llm-compressor's format"),
          clEnumValN(qopt::ExportFormat::HfFp8, "hf-fp8",
                     "transformers' FP8 (block scales)"),
          clEnumValN(qopt::ExportFormat::AscendW8A8, "ascend-w8a8",
                     "Ascend msModelSlim's W8A8"),
          clEnumValN(qopt::ExportFormat::KVCacheScales, "kv-cache-scales",
                     "vLLM's kv_cache_scales.json (one file)"),
          clEnumValN(qopt::ExportFormat::GGUF, "gguf",
                     "llama.cpp's GGUF file (Q8_0, Q4_0, "
                     "F16 / BF16)")),
      llvm::cl::cat(category));
  llvm::cl::opt<qopt::ExportScaleType> scales(
      "scale-dtype", llvm::cl::desc("The dtype scales are written in"),
      llvm::cl::values(
          clEnumValN(qopt::ExportScaleType::Float32, "f32",
                     "float32, qopt's scales exactly (the default)"),
          clEnumValN(qopt::ExportScaleType::ModelDType, "model",
                     "the model's dtype; a layer whose scales are not exact "
                     "in it is an error")),
      llvm::cl::init(qopt::ExportScaleType::Float32), llvm::cl::cat(category));
  llvm::cl::opt<qopt::ExportFloatType> floats(
      "float-dtype",
      llvm::cl::desc("The dtype of float matrices in a GGUF file"),
      llvm::cl::values(
          clEnumValN(qopt::ExportFloatType::Model, "model",
                     "as stored (the model's dtype; float32 where a value "
                     "is not exact in it), the default"),
          clEnumValN(qopt::ExportFloatType::F16, "f16", "float16"),
          clEnumValN(qopt::ExportFloatType::BF16, "bf16", "bfloat16"),
          clEnumValN(qopt::ExportFloatType::F32, "f32", "float32")),
      llvm::cl::init(qopt::ExportFloatType::Model), llvm::cl::cat(category));
  llvm::cl::opt<uint64_t> maxShard(
      "max-shard-bytes", llvm::cl::desc("Largest safetensors shard"),
      llvm::cl::init(5000000000ull), llvm::cl::cat(category));
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "qopt-export: write a quantized qopt model as a checkpoint that other "
      "tools load\n");

  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(input, sourceMgr, &context);
  if (!module)
    return 1;
  if (maxShard == 0) {
    llvm::errs() << "qopt-export: error: --max-shard-bytes must be positive\n";
    return 1;
  }
  qopt::ExportOptions options;
  options.format = format;
  options.scales = scales;
  options.maxShardBytes = maxShard;
  options.floats = floats;
  if (floats != qopt::ExportFloatType::Model &&
      format != qopt::ExportFormat::GGUF) {
    llvm::errs() << "qopt-export: error: --float-dtype applies to "
                    "--format=gguf only\n";
    return 1;
  }
  std::string error;
  if (failed(qopt::exportCheckpoint(*module, options, output, error))) {
    llvm::errs() << "qopt-export: error: " << error << "\n";
    return 1;
  }
  return 0;
}
