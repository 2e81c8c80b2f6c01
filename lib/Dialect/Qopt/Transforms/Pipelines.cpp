//===- Pipelines.cpp - qopt's quantization pipelines ----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/Pipelines.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/QuantizeLinear.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTCHECKPIPELINEINPUT
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

static std::string flagOf(QuantPipeline pipeline) {
  return "--" + optionName(quantPipelineSpellings(), pipeline).str();
}

namespace {
struct QoptCheckPipelineInputPass
    : public mlir::qopt::impl::QoptCheckPipelineInputBase<
          QoptCheckPipelineInputPass> {
  using Base::Base;

  QuantPipeline getPipeline() const { return pipeline; }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string flag = flagOf(pipeline);
    if (module.getOps<func::FuncOp>().empty()) {
      emitPassError(module) << flag << ": the module has no model function";
      return signalPassFailure();
    }
    if (pipeline == QuantPipeline::KVCache)
      return;
    Operation *quantized = nullptr, *smoothed = nullptr;
    module.walk([&](Operation *op) {
      if (isa<QuantizedLinearOp>(op) && !quantized)
        quantized = op;
      if (isa<ScaleChannelsOp>(op) && !smoothed)
        smoothed = op;
    });
    if (quantized) {
      emitPassError(quantized)
          << flag
          << ": the model is already quantized (it has qopt.quantized_linear "
             "layers); weight pipelines take the float model from "
             "qopt-calibrate";
      return signalPassFailure();
    }
    if (smoothed) {
      emitPassError(smoothed)
          << flag
          << ": the model is already smoothed (qopt.scale_channels of a "
             "previous smoothing); weight pipelines take the float model "
             "from qopt-calibrate";
      return signalPassFailure();
    }
  }
};
} // namespace

/// The weight pipeline already in `pm`, if any.
static std::optional<QuantPipeline> weightPipelineIn(OpPassManager &pm) {
  for (Pass &pass : pm.getPasses()) {
    if (pass.getTypeID() != TypeID::get<QoptCheckPipelineInputPass>())
      continue;
    QuantPipeline p =
        static_cast<QoptCheckPipelineInputPass &>(pass).getPipeline();
    if (p != QuantPipeline::KVCache)
      return p;
  }
  return std::nullopt;
}

/// The passes every pipeline starts with: the input check, after checking
/// that `pm` holds no other weight pipeline.
static LogicalResult addPrologue(OpPassManager &pm, QuantPipeline pipeline,
                                 std::string &error) {
  if (pipeline != QuantPipeline::KVCache)
    if (std::optional<QuantPipeline> prev = weightPipelineIn(pm)) {
      error = flagOf(*prev) + " already quantizes the weights in this run; " +
              "give one weight pipeline (--smoothquant, --fp8, --w8a16 or " +
              "--w4a16) per run";
      return failure();
    }
  QoptCheckPipelineInputOptions check;
  check.pipeline = pipeline;
  pm.addPass(createQoptCheckPipelineInput(check));
  return success();
}

/// The passes every quantization pipeline ends with: legalization for the
/// target, observer removal, cleanup, and the contract check.
static void addEpilogue(OpPassManager &pm, Target target) {
  QoptLegalizeForTargetOptions legal;
  legal.target = target;
  pm.addPass(createQoptLegalizeForTarget(legal));
  pm.addPass(createQoptStripObservers());
  pm.addPass(createCSEPass());
  QoptVerifyContractOptions contract;
  contract.stage = ContractStage::Quantized;
  contract.requireQuantizedLinears = true;
  pm.addPass(createQoptVerifyContract(contract));
}

LogicalResult
mlir::qopt::buildSmoothQuantPipeline(OpPassManager &pm,
                                     const SmoothQuantPipelineOptions &options,
                                     std::string &error) {
  if (!(options.alpha >= 0.0 && options.alpha <= 1.0)) {
    error = "alpha must be in [0, 1], got " + formatDouble(options.alpha);
    return failure();
  }
  if (failed(addPrologue(pm, QuantPipeline::SmoothQuant, error)))
    return failure();
  QoptQuantizeActivationsOptions act;
  act.weightsOut = options.weightsOut;
  if (options.act == SmoothQuantActivations::Dynamic) {
    act.mode = ScaleMode::Dynamic;
    act.granularity = ::qnum::GranularityKind::PerToken;
  } else {
    act.mode = ScaleMode::Static;
    act.granularity = ::qnum::GranularityKind::PerTensor;
    act.symmetric = options.act == SmoothQuantActivations::StaticSym;
  }
  QoptSmoothOptions smooth;
  smooth.alpha = options.alpha;
  smooth.weightsOut = options.weightsOut;
  pm.addPass(createQoptSmooth(smooth));
  QoptQuantizeWeightsOptions weights;
  weights.dtype = ::qnum::StorageKind::Int8;
  weights.granularity = ::qnum::GranularityKind::PerChannel;
  weights.weightsOut = options.weightsOut;
  weights.atLoad = options.atLoad;
  pm.addPass(createQoptQuantizeWeights(weights));
  pm.addPass(createQoptQuantizeActivations(act));
  addEpilogue(pm, options.target);
  return success();
}

LogicalResult mlir::qopt::buildFP8Pipeline(OpPassManager &pm,
                                           const FP8PipelineOptions &options,
                                           std::string &error) {
  if (options.weights == ::qnum::GranularityKind::Block &&
      options.blockSize <= 0) {
    error =
        "block-size must be positive, got " + std::to_string(options.blockSize);
    return failure();
  }
  if (failed(addPrologue(pm, QuantPipeline::FP8, error)))
    return failure();
  QoptQuantizeActivationsOptions act;
  act.dtype = ::qnum::StorageKind::Float8E4M3FN;
  act.weightsOut = options.weightsOut;
  act.mode = options.act == FP8Activations::TensorStatic ? ScaleMode::Static
                                                         : ScaleMode::Dynamic;
  act.granularity = options.act == FP8Activations::Token
                        ? ::qnum::GranularityKind::PerToken
                        : ::qnum::GranularityKind::PerTensor;
  QoptQuantizeWeightsOptions weights;
  weights.dtype = ::qnum::StorageKind::Float8E4M3FN;
  weights.granularity = options.weights;
  weights.blockSize = options.blockSize;
  weights.weightsOut = options.weightsOut;
  weights.atLoad = options.atLoad;
  pm.addPass(createQoptQuantizeWeights(weights));
  pm.addPass(createQoptQuantizeActivations(act));
  addEpilogue(pm, options.target);
  return success();
}

LogicalResult
mlir::qopt::buildW8A16Pipeline(OpPassManager &pm,
                               const W8A16PipelineOptions &options,
                               std::string &error) {
  if (options.group < 0) {
    error = "group must be positive (or 0 for per-channel scales), got " +
            std::to_string(options.group);
    return failure();
  }
  if (failed(addPrologue(pm, QuantPipeline::W8A16, error)))
    return failure();
  QoptQuantizeWeightsOptions weights;
  weights.dtype = ::qnum::StorageKind::Int8;
  weights.granularity = options.group ? ::qnum::GranularityKind::PerGroup
                                      : ::qnum::GranularityKind::PerChannel;
  weights.groupSize = options.group ? options.group.getValue() : 128;
  weights.weightsOut = options.weightsOut;
  weights.atLoad = options.atLoad;
  pm.addPass(createQoptQuantizeWeights(weights));
  addEpilogue(pm, options.target);
  return success();
}

LogicalResult
mlir::qopt::buildW4A16Pipeline(OpPassManager &pm,
                               const W4A16PipelineOptions &options,
                               std::string &error) {
  if (options.group <= 0) {
    error = "group must be positive, got " + std::to_string(options.group);
    return failure();
  }
  if (options.atLoad && options.method != W4A16Method::RTN) {
    error = "at-load quantizes by round to nearest (method=rtn); method=" +
            optionName(w4a16MethodSpellings(), options.method).str() +
            " searches with calibration data when compiling";
    return failure();
  }
  if (failed(addPrologue(pm, QuantPipeline::W4A16, error)))
    return failure();
  switch (options.method.getValue()) {
  case W4A16Method::RTN: {
    QoptQuantizeWeightsOptions weights;
    weights.dtype = ::qnum::StorageKind::Int4;
    weights.granularity = ::qnum::GranularityKind::PerGroup;
    weights.groupSize = options.group;
    weights.symmetric = options.sym;
    weights.weightsOut = options.weightsOut;
    weights.atLoad = options.atLoad;
    pm.addPass(createQoptQuantizeWeights(weights));
    break;
  }
  case W4A16Method::AWQ: {
    QoptAWQOptions awq;
    awq.groupSize = options.group;
    awq.symmetric = options.sym;
    awq.weightsOut = options.weightsOut;
    pm.addPass(createQoptAWQ(awq));
    break;
  }
  case W4A16Method::GPTQ: {
    QoptGPTQOptions gptq;
    gptq.groupSize = options.group;
    gptq.symmetric = options.sym;
    gptq.weightsOut = options.weightsOut;
    pm.addPass(createQoptGPTQ(gptq));
    break;
  }
  }
  addEpilogue(pm, options.target);
  return success();
}

LogicalResult
mlir::qopt::buildKVCachePipeline(OpPassManager &pm,
                                 const KVCachePipelineOptions &options,
                                 std::string &error) {
  if (failed(addPrologue(pm, QuantPipeline::KVCache, error)))
    return failure();
  QoptQuantizeKVCacheOptions kv;
  kv.dtype = options.dtype;
  kv.granularity = options.granularity;
  kv.scales = options.scales;
  pm.addPass(createQoptQuantizeKVCache(kv));
  return success();
}

template <typename Options>
static void registerPipeline(StringRef arg, StringRef description,
                             LogicalResult (*build)(OpPassManager &,
                                                    const Options &,
                                                    std::string &)) {
  registerPassPipeline(
      arg, description,
      [build, arg](OpPassManager &pm, StringRef optionsStr,
                   function_ref<LogicalResult(const Twine &)> errorHandler) {
        Options options;
        // The option parser has printed what is wrong with which option.
        if (failed(options.parseFromString(optionsStr)))
          return errorHandler("--" + arg + ": bad options '" + optionsStr +
                              "'");
        std::string error;
        if (failed(build(pm, options, error)))
          return errorHandler("--" + arg + ": " + error);
        return success();
      },
      [](function_ref<void(const ::mlir::detail::PassOptions &)> optHandler) {
        optHandler(Options());
      });
}

void mlir::qopt::registerQoptPipelines() {
  registerPipeline<SmoothQuantPipelineOptions>(
      "smoothquant",
      "W8A8 INT8 with SmoothQuant: smoothing, per-channel int8 weights, "
      "int8 activations (dynamic per-token by default)",
      buildSmoothQuantPipeline);
  registerPipeline<FP8PipelineOptions>(
      "fp8",
      "FP8 E4M3 weights and activations (per-channel weights and dynamic "
      "per-token activations by default, as vLLM's FP8_DYNAMIC)",
      buildFP8Pipeline);
  registerPipeline<W8A16PipelineOptions>(
      "w8a16",
      "Weight-only int8 (per-channel, or in groups with group=N), 16-bit "
      "activations",
      buildW8A16Pipeline);
  registerPipeline<W4A16PipelineOptions>(
      "w4a16",
      "Weight-only int4 in groups (method=rtn|awq|gptq, group=128, sym)",
      buildW4A16Pipeline);
  registerPipeline<KVCachePipelineOptions>(
      "kv-cache", "KV-cache quantization (dtype, granularity, scales)",
      buildKVCachePipeline);
}
