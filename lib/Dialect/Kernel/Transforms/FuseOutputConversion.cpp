//===- FuseOutputConversion.cpp - producers store bf16 directly -----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt::kernel {
#define GEN_PASS_DEF_QKFUSEOUTPUTCONVERSION
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
struct FuseConversionPattern : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getSchemeAttr())
      return rewriter.notifyMatchFailure(op, "a quantization, not a cast");
    Operation *producer = op.getInput().getDefiningOp();
    if (!producer || producer->getNumResults() != 1 ||
        !op.getInput().hasOneUse())
      return rewriter.notifyMatchFailure(op, "input has other uses");
    auto gemm = dyn_cast<GemmOp>(producer);
    bool canStore =
        isa<AttentionOp, SiluMulOp, AddOp, MulOp, PermuteColumnsOp>(producer) ||
        (gemm && !gemm.getOutSchemeAttr());
    if (!canStore)
      return rewriter.notifyMatchFailure(op, "producer cannot store bf16");
    rewriter.modifyOpInPlace(producer, [&] {
      producer->getResult(0).setType(op.getResult().getType());
    });
    rewriter.replaceOp(op, producer->getResult(0));
    return success();
  }
};

struct QKFuseOutputConversionPass
    : mlir::qopt::kernel::impl::QKFuseOutputConversionBase<
          QKFuseOutputConversionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseConversionPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
