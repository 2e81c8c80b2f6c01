//===- FuseGemmEpilogue.cpp - residual adds and output quantization -------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt::kernel {
#define GEN_PASS_DEF_QKFUSEGEMMEPILOGUE
#include "qopt/Dialect/Kernel/Transforms/Passes.h.inc"
} // namespace mlir::qopt::kernel

using namespace mlir;
using mlir::qopt::BlockAttr;
using mlir::qopt::PerGroupAttr;
using mlir::qopt::PerTensorAttr;
using mlir::qopt::PerTokenAttr;
using mlir::qopt::QuantSchemeAttr;
using mlir::qopt::WeightOp;
using namespace mlir::qopt::kernel;

/// A GEMM whose epilogue can still take a residual or output quantization.
static bool isOpenGemm(GemmOp gemm) {
  return gemm && !gemm.getResidual() && !gemm.getOutSchemeAttr() &&
         gemm.getResult().getType().getElementType().isF32() &&
         gemm.getResult().hasOneUse();
}

/// Rebuilds `gemm` with `residual`, `outScheme` and their operands, typed
/// `resultType`.
static GemmOp rebuild(PatternRewriter &rewriter, GemmOp gemm, Type resultType,
                      Value residual, QuantSchemeAttr outScheme, Value outScale,
                      Value outZeroPoint) {
  return GemmOp::create(
      rewriter, gemm.getLoc(), resultType, gemm.getA(), gemm.getB(),
      gemm.getAScales(), gemm.getBScales(), gemm.getBZeroPoints(),
      gemm.getIntBias(), gemm.getBias(), gemm.getUp(), gemm.getUpScales(),
      gemm.getUpZeroPoints(), gemm.getUpIntBias(), gemm.getUpBias(),
      residual ? residual : gemm.getResidual(), outScale, outZeroPoint,
      gemm.getASchemeAttr(), gemm.getBSchemeAttr(),
      outScheme ? outScheme : gemm.getOutSchemeAttr(), gemm.getTileAttr(),
      gemm.getGemvAttr(), gemm.getWgmmaAttr(), gemm.getLabelAttr());
}

namespace {
struct FuseResidual : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getResult().getType().getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "the sum is not f32");
    DominanceInfo dom(op->getParentOp());
    for (auto [gemmValue, other] : {std::pair{op.getRhs(), op.getLhs()},
                                    std::pair{op.getLhs(), op.getRhs()}}) {
      auto gemm = gemmValue.getDefiningOp<GemmOp>();
      if (!isOpenGemm(gemm) || !dom.properlyDominates(other, gemm))
        continue;
      rewriter.setInsertionPoint(gemm);
      GemmOp fused = rebuild(rewriter, gemm, op.getType(), other,
                             QuantSchemeAttr(), Value(), Value());
      rewriter.replaceOp(op, fused.getResult());
      rewriter.eraseOp(gemm);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no GEMM operand to absorb it");
  }
};

struct FuseOutputQuantize : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    QuantSchemeAttr scheme = op.getSchemeAttr();
    if (!scheme || !scheme.isStatic())
      return rewriter.notifyMatchFailure(
          op, "only static quantization fits in a GEMM tile");
    auto gemm = op.getInput().getDefiningOp<GemmOp>();
    if (!isOpenGemm(gemm))
      return rewriter.notifyMatchFailure(op, "input is not an open GEMM");
    rewriter.setInsertionPoint(op);
    GemmOp fused = rebuild(rewriter, gemm, op.getResult().getType(), Value(),
                           scheme, op.getScale(), op.getZeroPoint());
    rewriter.replaceOp(op, fused.getResult());
    rewriter.eraseOp(gemm);
    return success();
  }
};

struct QKFuseGemmEpiloguePass
    : mlir::qopt::kernel::impl::QKFuseGemmEpilogueBase<QKFuseGemmEpiloguePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseResidual, FuseOutputQuantize>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
