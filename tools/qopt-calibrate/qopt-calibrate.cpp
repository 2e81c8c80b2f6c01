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

#include "qopt-runtime/Safetensors.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt/Executor/CpuExecutor.h"
#include "qopt/InitAllDialects.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
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
  llvm::cl::opt<std::string> observer(
      "observer",
      llvm::cl::desc("How activation ranges are chosen: minmax (default), "
                     "percentile=P (the P-th percentile of |x| per channel, "
                     "e.g. 99.99), mse (the int8 clipping threshold with the "
                     "least squared error)"),
      llvm::cl::init("minmax"), llvm::cl::cat(category));
  llvm::cl::opt<bool> hessian(
      "hessian",
      llvm::cl::desc("Record X^T X of every linear input (for GPTQ and AWQ) "
                     "in OUT.hessians.safetensors beside the output"),
      llvm::cl::init(true), llvm::cl::cat(category));
  llvm::cl::opt<std::string> output("o", llvm::cl::desc("Output .mlir file"),
                                    llvm::cl::Required,
                                    llvm::cl::cat(category));
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(
      argc, argv, "qopt-calibrate: attach activation statistics\n");
  if (maxSequences < 0)
    return fail("--max-sequences must be non-negative");
  qopt::ObserverKind kind = qopt::ObserverKind::MinMax;
  double percentile = 0;
  llvm::StringRef obs(observer);
  if (obs == "mse")
    kind = qopt::ObserverKind::MSE;
  else if (obs.consume_front("percentile=")) {
    kind = qopt::ObserverKind::Percentile;
    if (obs.getAsDouble(percentile) || !(percentile > 0 && percentile <= 100))
      return fail("--observer=percentile=P needs P in (0, 100], got '" +
                  obs.str() + "'");
  } else if (obs != "minmax")
    return fail("--observer must be minmax, percentile=P or mse, got '" +
                observer + "'");
  if (output == "-" && hessian)
    return fail("-o - (stdout) cannot hold Hessians beside it; give a file "
                "or --hessian=false");

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

  module->walk([&](qopt::ObserveOp o) {
    o.setObserver(kind);
    if (kind == qopt::ObserverKind::Percentile)
      o.setPercentileAttr(
          FloatAttr::get(Float64Type::get(&context), percentile));
    else
      o.removePercentileAttr();
  });

  std::vector<int32_t> tokens;
  std::vector<int64_t> shape;
  if (!qrt::readTokenTensor(tokensSpec, tokens, shape, error))
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
  options.collectHessians = hessian;
  std::unique_ptr<qopt::CpuExecutor> exec =
      qopt::CpuExecutor::create(*module, options, error);
  if (!exec)
    return fail(input + ": " + error);
  // Every token used is an id of the vocabulary.
  for (int64_t i = 0; i < seqs * len; ++i)
    if (tokens[i] < 0 || tokens[i] >= exec->vocabSize())
      return fail(tokensSpec + ": token at index " +
                  (shape.size() == 2 ? "[" + std::to_string(i / len) + ", " +
                                           std::to_string(i % len) + "]"
                                     : std::to_string(i)) +
                  " is " + std::to_string(tokens[i]) +
                  ", outside the model's vocabulary [0, " +
                  std::to_string(exec->vocabSize()) + ")");
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
  std::vector<qrt::TensorData> hessians;
  llvm::SmallString<256> hessianPath(output.getValue());
  llvm::sys::path::replace_extension(hessianPath, "hessians.safetensors");
  std::string hessianRef = llvm::sys::path::filename(hessianPath).str();
  for (const auto &[op, st] : exec->observedStats()) {
    auto obsOp = cast<qopt::ObserveOp>(op);
    std::vector<float> absmax = st.absmax, lo = st.min, hi = st.max;
    if (kind != qopt::ObserverKind::MinMax) {
      absmax =
          qopt::clippedAbsmax(st, kind == qopt::ObserverKind::MSE, percentile);
      for (size_t c = 0; c < absmax.size(); ++c) {
        lo[c] = std::max(lo[c], -absmax[c]);
        hi[c] = std::min(hi[c], absmax[c]);
      }
    }
    StringAttr hessianKey;
    if (!st.hessian.empty()) {
      int64_t k = static_cast<int64_t>(st.absmax.size());
      std::vector<float> full(k * k);
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < k; ++j)
          full[i * k + j] = static_cast<float>(i <= j ? st.hessian[i * k + j]
                                                      : st.hessian[j * k + i]);
      std::string name = obsOp.getLabel().str() + ".hessian";
      hessians.push_back(qrt::TensorData::fromFloats(name, {k, k}, full));
      hessianKey = StringAttr::get(&context, name);
    }
    obsOp.setStatsAttr(qopt::ActStatsAttr::get(&context, vector(absmax),
                                               vector(lo), vector(hi),
                                               st.numTokens, hessianKey));
    ++attached;
  }
  // Relative store paths must still resolve from the output's directory.
  {
    llvm::SmallString<256> from(qopt::modelDirectory(input)),
        to(qopt::modelDirectory(output));
    llvm::sys::fs::make_absolute(from);
    llvm::sys::fs::make_absolute(to);
    llvm::sys::path::remove_dots(from, true);
    llvm::sys::path::remove_dots(to, true);
    if (output != "-" && from != to)
      qopt::rebaseWeightStorePaths(*module, std::string(from), std::string(to));
  }
  if (!hessians.empty()) {
    // The Hessians live in the store @calib.
    OpBuilder mb(&context);
    for (qopt::WeightStoreOp s :
         llvm::make_early_inc_range(module->getOps<qopt::WeightStoreOp>()))
      if (s.getSymName() == "calib")
        s.erase();
    mb.setInsertionPointToStart(module->getBody());
    qopt::WeightStoreOp::create(mb, module->getLoc(), "calib", hessianRef);
  }
  // Both outputs are written to temporaries and renamed when complete: the
  // IR is written first, then the Hessians are written and renamed, then the
  // IR is renamed, so a failed run leaves the previous outputs as they were.
  if (failed(qopt::writeOutputFile(
          output,
          [&](llvm::raw_ostream &os) {
            module->print(os);
            os << "\n";
            if (hessians.empty())
              return success();
            return success(qrt::writeSafetensors(
                std::string(hessianPath), hessians, {{"format", "pt"}}, error));
          },
          error)))
    return fail(error);
  llvm::outs() << "calibrated " << attached << " observers on " << seqs * len
               << " tokens (" << seqs << " sequences of " << len << ")\n";
  return 0;
}
