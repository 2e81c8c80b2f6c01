//===- FuseNormQuantize.cpp - rms_norm + quantize as one kernel -----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt::kernel {
#define GEN_PASS_DEF_QKFUSENORMQUANTIZE
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

namespace {
struct FuseNormQuantizePattern : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto norm = op.getInput().getDefiningOp<RmsNormOp>();
    if (!norm || norm.getOutSchemeAttr() ||
        !norm.getResult().getType().getElementType().isF32() ||
        !norm.getResult().hasOneUse())
      return rewriter.notifyMatchFailure(op, "input is not a plain rms_norm");
    Type scalesType = op.getScales() ? op.getScales().getType() : Type();
    auto fused = RmsNormOp::create(
        rewriter, norm.getLoc(), op.getResult().getType(), scalesType,
        norm.getInput(), norm.getWeight(), op.getScale(), op.getZeroPoint(),
        norm.getEpsilonAttr(), op.getSchemeAttr());
    rewriter.replaceOp(op, fused->getResults());
    rewriter.eraseOp(norm);
    return success();
  }
};

struct QKFuseNormQuantizePass
    : mlir::qopt::kernel::impl::QKFuseNormQuantizeBase<QKFuseNormQuantizePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseNormQuantizePattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
