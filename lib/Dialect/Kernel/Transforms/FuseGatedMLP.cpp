//===- FuseGatedMLP.cpp - gate and up GEMMs with silu(gate) * up ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt::kernel {
#define GEN_PASS_DEF_QKFUSEGATEDMLP
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

/// A GEMM with nothing fused yet, whose only use is the silu_mul.
static bool isPlainGemm(GemmOp gemm) {
  return gemm && !gemm.getUp() && !gemm.getResidual() &&
         !gemm.getOutSchemeAttr() && gemm.getResult().hasOneUse() &&
         gemm.getResult().getType().getElementType().isF32();
}

namespace {
struct FuseGatedPattern : OpRewritePattern<SiluMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SiluMulOp op,
                                PatternRewriter &rewriter) const override {
    auto gate = op.getLhs().getDefiningOp<GemmOp>();
    auto up = op.getRhs().getDefiningOp<GemmOp>();
    if (!isPlainGemm(gate) || !isPlainGemm(up) || gate == up)
      return rewriter.notifyMatchFailure(op, "operands are not plain GEMMs");
    if (gate.getA() != up.getA() || gate.getAScales() != up.getAScales() ||
        gate.getASchemeAttr() != up.getASchemeAttr() ||
        gate.getBSchemeAttr() != up.getBSchemeAttr() ||
        gate.getB().getType() != up.getB().getType())
      return rewriter.notifyMatchFailure(op, "the GEMMs differ in A or B");
    // The fused GEMM sits where the later of the two was.
    GemmOp later = gate->isBeforeInBlock(up) ? up : gate;
    rewriter.setInsertionPoint(later);
    auto fused = GemmOp::create(
        rewriter, op.getLoc(), op.getResult().getType(), gate.getA(),
        gate.getB(), gate.getAScales(), gate.getBScales(),
        gate.getBZeroPoints(), gate.getIntBias(), gate.getBias(), up.getB(),
        up.getBScales(), up.getBZeroPoints(), up.getIntBias(), up.getBias(),
        Value(), Value(), Value(), gate.getASchemeAttr(), gate.getBSchemeAttr(),
        QuantSchemeAttr(), gate.getTileAttr(), gate.getGemvAttr(),
        gate.getWgmmaAttr(), gate.getLabelAttr());
    rewriter.replaceOp(op, fused.getResult());
    rewriter.eraseOp(gate);
    rewriter.eraseOp(up);
    return success();
  }
};

struct QKFuseGatedMLPPass
    : mlir::qopt::kernel::impl::QKFuseGatedMLPBase<QKFuseGatedMLPPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseGatedPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
