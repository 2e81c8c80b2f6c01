//===- Pipelines.h - qopt's quantization pipelines --------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The pipelines `qopt --smoothquant`, `--fp8`, `--w8a16`, `--w4a16` and
// `--kv-cache` run, each a sequence of the passes in Passes.td. Embedders
// build them into their own pass managers with the build*Pipeline functions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_PIPELINES_H
#define QOPT_DIALECT_QOPT_TRANSFORMS_PIPELINES_H

#include "qopt/Dialect/Qopt/Transforms/PassOptions.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
namespace qopt {

/// The options every weight pipeline has.
template <typename Derived>
struct WeightPipelineOptions : public PassPipelineOptions<Derived> {
  ::mlir::detail::PassOptions::Option<Target> target{
      *this, "target",
      llvm::cl::desc("GPU target to legalize for: sm_80, sm_89, sm_90a"),
      llvm::cl::init(Target::SM90a), optionValues(targetSpellings())};
  ::mlir::detail::PassOptions::Option<std::string> weightsOut{
      *this, "weights-out",
      llvm::cl::desc("Directory of the side stores (default: beside -o)"),
      llvm::cl::init("")};
  ::mlir::detail::PassOptions::Option<bool> atLoad{
      *this, "at-load",
      llvm::cl::desc("Quantize the weights when the bundle loads (from the "
                     "checkpoint, round to nearest) instead of now"),
      llvm::cl::init(false)};
};

struct SmoothQuantPipelineOptions
    : public WeightPipelineOptions<SmoothQuantPipelineOptions> {
  Option<double> alpha{*this, "alpha",
                       llvm::cl::desc("Migration strength in [0, 1]"),
                       llvm::cl::init(0.5)};
  Option<SmoothQuantActivations> act{
      *this, "act",
      llvm::cl::desc("Activations: dynamic (per-token), static-sym or "
                     "static-asym (per-tensor, calibrated)"),
      llvm::cl::init(SmoothQuantActivations::Dynamic),
      optionValues(smoothQuantActivationsSpellings())};
};

struct FP8PipelineOptions : public WeightPipelineOptions<FP8PipelineOptions> {
  Option<::qnum::GranularityKind> weights{
      *this, "weights",
      llvm::cl::desc("Weight scales: channel, tensor or block"),
      llvm::cl::init(::qnum::GranularityKind::PerChannel),
      optionValues(granularitySpellings(), {::qnum::GranularityKind::PerChannel,
                                            ::qnum::GranularityKind::PerTensor,
                                            ::qnum::GranularityKind::Block})};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("Tile size with weights=block"),
                            llvm::cl::init(128)};
  Option<FP8Activations> act{
      *this, "act",
      llvm::cl::desc("Activation scales: token (dynamic), tensor-dynamic or "
                     "tensor-static"),
      llvm::cl::init(FP8Activations::Token),
      optionValues(fp8ActivationsSpellings())};
};

struct W8A16PipelineOptions
    : public WeightPipelineOptions<W8A16PipelineOptions> {
  Option<int64_t> group{
      *this, "group",
      llvm::cl::desc("Input channels per scale (0: one scale per output "
                     "channel)"),
      llvm::cl::init(0)};
};

struct W4A16PipelineOptions
    : public WeightPipelineOptions<W4A16PipelineOptions> {
  Option<W4A16Method> method{
      *this, "method", llvm::cl::desc("rtn, awq or gptq"),
      llvm::cl::init(W4A16Method::RTN), optionValues(w4a16MethodSpellings())};
  Option<int64_t> group{*this, "group",
                        llvm::cl::desc("Input channels per scale"),
                        llvm::cl::init(128)};
  Option<bool> sym{*this, "sym",
                   llvm::cl::desc("Symmetric (true) or asymmetric weights"),
                   llvm::cl::init(true)};
};

struct KVCachePipelineOptions
    : public PassPipelineOptions<KVCachePipelineOptions> {
  Option<::qnum::StorageKind> dtype{
      *this, "dtype", llvm::cl::desc("i8 or f8E4M3FN"),
      llvm::cl::init(::qnum::StorageKind::Int8),
      optionValues(dtypeSpellings(), {::qnum::StorageKind::Int8,
                                      ::qnum::StorageKind::Float8E4M3FN})};
  Option<::qnum::GranularityKind> granularity{
      *this, "granularity", llvm::cl::desc("tensor, head or token"),
      llvm::cl::init(::qnum::GranularityKind::PerToken),
      optionValues(granularitySpellings(),
                   {::qnum::GranularityKind::PerToken,
                    ::qnum::GranularityKind::PerHead,
                    ::qnum::GranularityKind::PerTensor})};
  Option<std::string> scales{*this, "scales",
                             llvm::cl::desc("vLLM kv_cache_scales.json"),
                             llvm::cl::init("")};
};

/// Each adds its passes to `pm`, or fails with a message naming a bad option
/// value.
LogicalResult
buildSmoothQuantPipeline(OpPassManager &pm,
                         const SmoothQuantPipelineOptions &options,
                         std::string &error);
LogicalResult buildFP8Pipeline(OpPassManager &pm,
                               const FP8PipelineOptions &options,
                               std::string &error);
LogicalResult buildW8A16Pipeline(OpPassManager &pm,
                                 const W8A16PipelineOptions &options,
                                 std::string &error);
LogicalResult buildW4A16Pipeline(OpPassManager &pm,
                                 const W4A16PipelineOptions &options,
                                 std::string &error);
LogicalResult buildKVCachePipeline(OpPassManager &pm,
                                   const KVCachePipelineOptions &options,
                                   std::string &error);

/// Registers the pipelines (as `qopt` flags).
void registerQoptPipelines();

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_PIPELINES_H
