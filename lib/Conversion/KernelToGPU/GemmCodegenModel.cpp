//===- GemmCodegenModel.cpp - qk.gemm writes its kernels ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The GEMM's external model of KernelCodegenOpInterface: its spec, its
// parameters, the tiled kernel and its small-M (weight-streaming) and
// sm_90a warpgroup-MMA variants.
//
//===----------------------------------------------------------------------===//

#include "CodegenModelUtils.h"
#include "qopt/Conversion/KernelToGPU/KernelBuilders.h"
#include "qopt/Conversion/KernelToGPU/KernelCodegenInterface.h"

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::models;
using mlir::qopt::BlockAttr;
using mlir::qopt::PerChannelAttr;
using mlir::qopt::PerGroupAttr;
using mlir::qopt::PerTensorAttr;
using mlir::qopt::PerTokenAttr;
using mlir::qopt::QuantSchemeAttr;

namespace {
struct GemmModel
    : KernelCodegenOpInterface::ExternalModel<GemmModel, qk::GemmOp> {
  LogicalResult generateKernel(Operation *raw, Operation *gpuModule,
                               StringRef name,
                               const CodegenOptions &options) const {
    auto op = cast<qk::GemmOp>(raw);
    GemmSpec s;
    s.name = name.str();
    s.maxTokens = options.maxTokens;
    s.n = op.getN();
    s.k = op.getK();
    Type a = elementOf(op.getA()), b = elementOf(op.getB());
    if (a.isBF16() && b.isBF16())
      s.kind = GemmKind::BF16;
    else if (a.isSignlessInteger(8) && b.isSignlessInteger(8))
      s.kind = GemmKind::S8;
    else if (isa<Float8E4M3FNType>(a) && isa<Float8E4M3FNType>(b))
      s.kind = GemmKind::E4M3;
    else if (a.isBF16() && b.isSignlessInteger(8))
      s.kind = GemmKind::W8A16;
    else if (a.isBF16() && b.isInteger(4))
      s.kind = GemmKind::W4A16;
    else
      return op.emitOpError() << "no GEMM kernel for " << a << " x " << b;
    if (QuantSchemeAttr as = op.getASchemeAttr())
      s.aScale = isa<PerTokenAttr>(as.getGranularity()) ? ScaleKind::PerToken
                                                        : ScaleKind::PerTensor;
    if (QuantSchemeAttr bs = op.getBSchemeAttr()) {
      Attribute g = bs.getGranularity();
      if (isa<PerTensorAttr>(g)) {
        s.bScale = ScaleKind::PerTensor;
      } else if (isa<PerChannelAttr>(g)) {
        s.bScale = ScaleKind::PerChannel;
      } else if (auto group = dyn_cast<PerGroupAttr>(g)) {
        s.bScale = ScaleKind::PerGroup;
        s.groupSize = group.getSize();
      } else if (auto block = dyn_cast<BlockAttr>(g)) {
        s.bScale = ScaleKind::Block;
        s.blockN = block.getRows();
        s.blockK = block.getCols();
      } else {
        return op.emitOpError("no GEMM kernel for this weight granularity");
      }
    }
    s.bZeroPoints = static_cast<bool>(op.getBZeroPoints());
    s.intBias = static_cast<bool>(op.getIntBias());
    s.bias = static_cast<bool>(op.getBias());
    s.gated = static_cast<bool>(op.getUp());
    s.residual = static_cast<bool>(op.getResidual());
    FailureOr<ElemType> out = elemType(op, elementOf(op.getResult()));
    if (failed(out))
      return failure();
    s.outType = *out;
    if (QuantSchemeAttr os = op.getOutSchemeAttr())
      s.outAsymmetric = !os.isSymmetric();
    qk::TileAttr tile = op.getTileAttr();
    if (!tile)
      return op.emitOpError("has no tile (run --qk-select-tiles)");
    s.tile = {tile.getBm(),     tile.getBn(),     tile.getBk(),
              tile.getWarpsM(), tile.getWarpsN(), tile.getStages()};

    MLIRContext *ctx = op.getContext();
    DictionaryAttr tileDict = SpecDict(ctx)
                                  .add("bm", s.tile.bm)
                                  .add("bn", s.tile.bn)
                                  .add("bk", s.tile.bk)
                                  .add("warps_m", s.tile.warpsM)
                                  .add("warps_n", s.tile.warpsN)
                                  .add("stages", s.tile.stages)
                                  .get();
    DictionaryAttr spec = SpecDict(ctx)
                              .add("kind", gemmKindName(s.kind))
                              .add("max_tokens", s.maxTokens)
                              .add("n", s.n)
                              .add("k", s.k)
                              .add("a_scale", scaleName(s.aScale))
                              .add("b_scale", scaleName(s.bScale))
                              .add("group_size", s.groupSize)
                              .add("block_n", s.blockN)
                              .add("block_k", s.blockK)
                              .add("b_zero_points", s.bZeroPoints)
                              .add("int_bias", s.intBias)
                              .add("bias", s.bias)
                              .add("gated", s.gated)
                              .add("residual", s.residual)
                              .add("out_type", elemName(s.outType))
                              .add("out_asymmetric", s.outAsymmetric)
                              .add("tile", tileDict)
                              .get();
    Params p(op);
    p.operand(op.getA());
    p.optional(op.getAScales());
    p.operand(op.getB());
    p.optional(op.getBScales());
    p.optional(op.getBZeroPoints());
    p.optional(op.getIntBias());
    p.optional(op.getBias());
    if (op.getUp()) {
      p.operand(op.getUp());
      p.optional(op.getUpScales());
      p.optional(op.getUpZeroPoints());
      p.optional(op.getUpIntBias());
      p.optional(op.getUpBias());
    }
    p.optional(op.getResidual());
    p.optional(op.getOutScale());
    p.optional(op.getOutZeroPoint());
    p.result(0);
    auto module = cast<gpu::GPUModuleOp>(gpuModule);
    // With a warpgroup-MMA tile that a launch can reach, that kernel is the
    // main one and the mma.sync kernel serves launches below its min_rows.
    qk::WgmmaAttr wgmma = op.getWgmmaAttr();
    bool hasWgmma = wgmma && wgmma.getMinRows() <= s.maxTokens;
    GemmSpec mainSpec = s;
    if (hasWgmma) {
      int64_t elemBytes = s.kind == GemmKind::BF16 ? 2 : 1;
      mainSpec.tile = {wgmma.getBm(),
                       wgmma.getBn(),
                       128 / elemBytes,
                       wgmma.getBm() / 16,
                       1,
                       wgmma.getStages(),
                       /*wgmma=*/true};
      // Hopper's e4m3 wgmma accumulates with fewer bits than float32: move
      // the sums into float32 every 128 of K unless asked not to.
      bool grouped =
          s.bScale == ScaleKind::PerGroup || s.bScale == ScaleKind::Block;
      if (s.kind == GemmKind::E4M3 && !grouped && !wgmma.getFastAccum())
        mainSpec.tile.promoteK = 128;
    }
    if (failed(finish(
            op, gpuModule, name, spec, p,
            buildGemmKernel(module, mainSpec, options.chip, op.getLoc()))))
      return failure();
    SmallVector<SmallMKernel> variants;
    int64_t below = hasWgmma ? wgmma.getMinRows() : s.maxTokens + 1;
    // One weight-streaming kernel per row count, recorded in order.
    if (qk::GemvAttr gemv = op.getGemvAttr()) {
      for (int64_t rows : gemv.getRows()) {
        if (rows > s.maxTokens || rows >= below)
          break;
        std::string gemvName = name.str() + "_gemv" + std::to_string(rows);
        FailureOr<LaunchConfig> launch = buildGemvKernel(
            module, s, GemvShape{rows, gemv.getWarps(), gemv.getKSplit()},
            gemvName, options.chip, op.getLoc(), options.gridDependency);
        if (failed(launch))
          return failure();
        variants.push_back({rows, gemvName, *launch});
      }
    }
    if (hasWgmma && (variants.empty() || variants.back().maxM < below - 1)) {
      std::string tiledName = name.str() + "_mma";
      s.name = tiledName;
      FailureOr<LaunchConfig> launch =
          buildGemmKernel(module, s, options.chip, op.getLoc());
      if (failed(launch))
        return failure();
      variants.push_back({below - 1, tiledName, *launch});
    }
    // Launches of min_rows to small_rows tokens: one warpgroup (64 rows),
    // twice the blocks and deeper copies for the weight-bound few-token
    // shapes.
    if (hasWgmma && wgmma.getSmallRows() >= below &&
        wgmma.getSmallRows() < s.maxTokens) {
      GemmSpec small = mainSpec;
      small.name = name.str() + "_wg64";
      small.tile.bm = 64;
      small.tile.warpsM = 4;
      small.tile.stages = wgmma.getSmallStages();
      FailureOr<LaunchConfig> launch =
          buildGemmKernel(module, small, options.chip, op.getLoc());
      if (failed(launch))
        return failure();
      variants.push_back({wgmma.getSmallRows(), small.name, *launch});
    }
    if (op.getGemvAttr() || hasWgmma)
      setSmallMKernels(op, module, variants);
    return success();
  }
};

} // namespace

void mlir::qopt::codegen::attachGemmCodegenModel(MLIRContext *ctx) {
  qk::GemmOp::attachInterface<GemmModel>(*ctx);
}
