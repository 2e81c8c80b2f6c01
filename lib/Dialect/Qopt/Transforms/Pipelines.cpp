//===- Pipelines.cpp - qopt's quantization pipelines ----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/Pipelines.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/QuantizeLinear.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::qopt;

/// The passes every quantization pipeline ends with: legalization for the
/// target, observer removal, cleanup, and the contract check.
static void addEpilogue(OpPassManager &pm, const std::string &target) {
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

static LogicalResult checkTarget(const std::string &target,
                                 std::string &error) {
  if (target == "sm_80" || target == "sm_89" || target == "sm_90a")
    return success();
  error = "target must be sm_80, sm_89 or sm_90a, got '" + target + "'";
  return failure();
}

LogicalResult
mlir::qopt::buildSmoothQuantPipeline(OpPassManager &pm,
                                     const SmoothQuantPipelineOptions &options,
                                     std::string &error) {
  if (failed(checkTarget(options.target, error)))
    return failure();
  if (!(options.alpha >= 0.0 && options.alpha <= 1.0)) {
    error = "alpha must be in [0, 1], got " + formatDouble(options.alpha);
    return failure();
  }
  QoptQuantizeActivationsOptions act;
  act.weightsOut = options.weightsOut;
  if (options.act == "dynamic") {
    act.mode = "dynamic";
    act.granularity = "token";
  } else if (options.act == "static-sym" || options.act == "static-asym") {
    act.mode = "static";
    act.granularity = "tensor";
    act.symmetric = options.act == "static-sym";
  } else {
    error = "act must be dynamic, static-sym or static-asym, got '" +
            options.act + "'";
    return failure();
  }
  QoptSmoothOptions smooth;
  smooth.alpha = options.alpha;
  smooth.weightsOut = options.weightsOut;
  pm.addPass(createQoptSmooth(smooth));
  QoptQuantizeWeightsOptions weights;
  weights.dtype = "i8";
  weights.granularity = "channel";
  weights.weightsOut = options.weightsOut;
  pm.addPass(createQoptQuantizeWeights(weights));
  pm.addPass(createQoptQuantizeActivations(act));
  addEpilogue(pm, options.target);
  return success();
}

LogicalResult mlir::qopt::buildFP8Pipeline(OpPassManager &pm,
                                           const FP8PipelineOptions &options,
                                           std::string &error) {
  if (failed(checkTarget(options.target, error)))
    return failure();
  if (options.weights != "channel" && options.weights != "tensor" &&
      options.weights != "block") {
    error = "weights must be channel, tensor or block, got '" +
            options.weights + "'";
    return failure();
  }
  QoptQuantizeActivationsOptions act;
  act.dtype = "f8E4M3FN";
  act.weightsOut = options.weightsOut;
  if (options.act == "token") {
    act.mode = "dynamic";
    act.granularity = "token";
  } else if (options.act == "tensor-dynamic" ||
             options.act == "tensor-static") {
    act.mode = options.act == "tensor-static" ? "static" : "dynamic";
    act.granularity = "tensor";
  } else {
    error = "act must be token, tensor-dynamic or tensor-static, got '" +
            options.act + "'";
    return failure();
  }
  QoptQuantizeWeightsOptions weights;
  weights.dtype = "f8E4M3FN";
  weights.granularity = options.weights;
  weights.blockSize = options.blockSize;
  weights.weightsOut = options.weightsOut;
  pm.addPass(createQoptQuantizeWeights(weights));
  pm.addPass(createQoptQuantizeActivations(act));
  addEpilogue(pm, options.target);
  return success();
}

LogicalResult
mlir::qopt::buildW8A16Pipeline(OpPassManager &pm,
                               const W8A16PipelineOptions &options,
                               std::string &error) {
  if (failed(checkTarget(options.target, error)))
    return failure();
  QoptQuantizeWeightsOptions weights;
  weights.dtype = "i8";
  weights.granularity = "channel";
  weights.weightsOut = options.weightsOut;
  pm.addPass(createQoptQuantizeWeights(weights));
  addEpilogue(pm, options.target);
  return success();
}

LogicalResult
mlir::qopt::buildW4A16Pipeline(OpPassManager &pm,
                               const W4A16PipelineOptions &options,
                               std::string &error) {
  if (failed(checkTarget(options.target, error)))
    return failure();
  if (options.group <= 0) {
    error = "group must be positive, got " + std::to_string(options.group);
    return failure();
  }
  if (options.method == "rtn") {
    QoptQuantizeWeightsOptions weights;
    weights.dtype = "i4";
    weights.granularity = "group";
    weights.groupSize = options.group;
    weights.symmetric = options.sym;
    weights.weightsOut = options.weightsOut;
    pm.addPass(createQoptQuantizeWeights(weights));
  } else if (options.method == "awq") {
    QoptAWQOptions awq;
    awq.groupSize = options.group;
    awq.symmetric = options.sym;
    awq.weightsOut = options.weightsOut;
    pm.addPass(createQoptAWQ(awq));
  } else if (options.method == "gptq") {
    QoptGPTQOptions gptq;
    gptq.groupSize = options.group;
    gptq.symmetric = options.sym;
    gptq.weightsOut = options.weightsOut;
    pm.addPass(createQoptGPTQ(gptq));
  } else {
    error = "method must be rtn, awq or gptq, got '" + options.method + "'";
    return failure();
  }
  addEpilogue(pm, options.target);
  return success();
}

LogicalResult
mlir::qopt::buildKVCachePipeline(OpPassManager &pm,
                                 const KVCachePipelineOptions &options,
                                 std::string &error) {
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
        if (failed(options.parseFromString(optionsStr)))
          return failure();
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
      "w8a16", "Weight-only int8 (per-channel), 16-bit activations",
      buildW8A16Pipeline);
  registerPipeline<W4A16PipelineOptions>(
      "w4a16",
      "Weight-only int4 in groups (method=rtn|awq|gptq, group=128, sym)",
      buildW4A16Pipeline);
  registerPipeline<KVCachePipelineOptions>(
      "kv-cache", "KV-cache quantization (dtype, granularity, scales)",
      buildKVCachePipeline);
}
