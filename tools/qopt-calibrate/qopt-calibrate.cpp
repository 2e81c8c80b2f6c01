//===- qopt-calibrate.cpp - Attach activation statistics ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qopt-calibrate MODEL.mlir --tokens FILE.safetensors:TENSOR -o OUT.mlir
//
// Runs the model on the calibration tokens with the CPU executor and attaches
// the per-channel statistics (absmax, min, max, token count) every
// `qopt.observe` saw as its `stats`. Without observers in the input, places
// them first with the qopt-insert-observers pass (linear inputs, K and V).
//
//===----------------------------------------------------------------------===//

#include "qopt-frontend/Safetensors.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Executor/CpuExecutor.h"
#include "qopt/InitAllDialects.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

static int fail(const std::string &msg) {
  llvm::errs() << "qopt-calibrate: error: " << msg << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::OptionCategory category("qopt-calibrate options");
  llvm::cl::opt<std::string> input(llvm::cl::Positional, llvm::cl::Required,
                                   llvm::cl::desc("<model.mlir>"),
                                   llvm::cl::cat(category));
  llvm::cl::opt<std::string> tokensSpec(
      "tokens", llvm::cl::Required,
      llvm::cl::desc("Calibration tokens FILE.safetensors:TENSOR ([S, T] or "
                     "[T])"),
      llvm::cl::cat(category));
  llvm::cl::opt<int64_t> maxSequences(
      "max-sequences",
      llvm::cl::desc("Use at most this many sequences (0 = all)"),
      llvm::cl::init(0), llvm::cl::cat(category));
  llvm::cl::opt<bool> kv("kv",
                         llvm::cl::desc("Observe attention keys and values "
                                        "(when placing observers)"),
                         llvm::cl::init(true), llvm::cl::cat(category));
  llvm::cl::opt<std::string> output("o", llvm::cl::desc("Output .mlir file"),
                                    llvm::cl::Required,
                                    llvm::cl::cat(category));
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(
      argc, argv, "qopt-calibrate: attach activation statistics\n");
  if (maxSequences < 0)
    return fail("--max-sequences must be non-negative");

  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);
  std::string error;
  OwningOpRef<ModuleOp> module = qopt::parseModelFile(input, context, error);
  if (!module) // a parse error was already reported with its location
    return error.empty() ? 1 : fail(error);

  bool hasObservers = false;
  module->walk([&](qopt::ObserveOp) { hasObservers = true; });
  if (!hasObservers) {
    PassManager pm(&context);
    qopt::QoptInsertObserversOptions opts;
    opts.kv = kv;
    pm.addNestedPass<func::FuncOp>(qopt::createQoptInsertObservers(opts));
    if (failed(pm.run(*module)))
      return fail("placing observers failed");
  }

  std::vector<int32_t> tokens;
  std::vector<int64_t> shape;
  if (!qfe::readTokenTensor(tokensSpec, tokens, shape, error))
    return fail(error);
  if (shape.size() != 1 && shape.size() != 2)
    return fail("--tokens tensor must be [T] or [S, T]");
  int64_t seqs = shape.size() == 2 ? shape[0] : 1, len = shape.back();
  if (maxSequences > 0)
    seqs = std::min<int64_t>(seqs, maxSequences);
  if (len == 0 || seqs == 0)
    return fail("--tokens tensor is empty");

  qopt::CpuExecutorOptions options;
  options.baseDir = qopt::modelDirectory(input);
  options.collectStats = true;
  std::unique_ptr<qopt::CpuExecutor> exec =
      qopt::CpuExecutor::create(*module, options, error);
  if (!exec)
    return fail(input + ": " + error);
  std::vector<float> logits;
  for (int64_t s = 0; s < seqs; ++s) {
    exec->resetCache();
    std::vector<int32_t> seq(tokens.begin() + s * len,
                             tokens.begin() + (s + 1) * len);
    if (!exec->forward(seq, 0, logits, error))
      return fail(error);
    // A progress bar on stderr.
    int done = static_cast<int>(40 * (s + 1) / seqs);
    llvm::errs() << "\rcalibrating [" << std::string(done, '#')
                 << std::string(40 - done, ' ') << "] " << (s + 1) << "/"
                 << seqs;
  }
  llvm::errs() << "\n";

  OpBuilder b(&context);
  auto vector = [&](const std::vector<float> &v) -> ElementsAttr {
    auto type =
        RankedTensorType::get({static_cast<int64_t>(v.size())}, b.getF32Type());
    return DenseElementsAttr::get(type, llvm::ArrayRef<float>(v));
  };
  int64_t attached = 0;
  for (const auto &[op, st] : exec->observedStats()) {
    auto observer = cast<qopt::ObserveOp>(op);
    observer.setStatsAttr(
        qopt::ActStatsAttr::get(&context, vector(st.absmax), vector(st.min),
                                vector(st.max), st.numTokens, StringAttr()));
    ++attached;
  }
  std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(output, &error);
  if (!out)
    return fail(error);
  module->print(out->os());
  out->os() << "\n";
  out->keep();
  llvm::outs() << "calibrated " << attached << " observers on " << seqs * len
               << " tokens (" << seqs << " sequences of " << len << ")\n";
  return 0;
}
