//===- FuseRopeKVAppend.cpp - RoPE + KV-cache append as one kernel --------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt::kernel {
#define GEN_PASS_DEF_QKFUSEROPEKVAPPEND
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
struct FuseRopeAppendPattern : OpRewritePattern<KVAppendOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(KVAppendOp op,
                                PatternRewriter &rewriter) const override {
    auto kRope = op.getKey().getDefiningOp<RopeOp>();
    if (!kRope || !kRope.getResult().hasOneUse() ||
        kRope.getPositions() != op.getPositions())
      return rewriter.notifyMatchFailure(op, "keys are not rotated here");
    // The query rotation: a rope, with the same positions and table, whose
    // only user is the attention over this cache.
    RopeOp qRope;
    for (Operation *user : op.getPositions().getUsers()) {
      auto attention = dyn_cast<AttentionOp>(user);
      if (!attention || attention.getCacheAttr() != op.getCacheAttr())
        continue;
      auto rope = attention.getQuery().getDefiningOp<RopeOp>();
      if (rope && rope.getResult().hasOneUse() &&
          rope.getPositions() == op.getPositions() &&
          rope.getTable() == kRope.getTable())
        qRope = rope;
    }
    if (!qRope)
      return rewriter.notifyMatchFailure(op, "no query rotation to fuse");
    // Everything the fused op reads must exist where the append is.
    for (Value v :
         {qRope.getInput(), kRope.getInput(), op.getValue(), kRope.getTable()})
      if (Operation *def = v.getDefiningOp())
        if (def->getBlock() == op->getBlock() && !def->isBeforeInBlock(op))
          return rewriter.notifyMatchFailure(op, "an operand comes later");
    rewriter.setInsertionPoint(op);
    auto fused = RopeKVAppendOp::create(
        rewriter, op.getLoc(), qRope.getResult().getType(), qRope.getInput(),
        kRope.getInput(), op.getValue(), op.getPositions(), kRope.getTable(),
        op.getKeyScale(), op.getValueScale(), op.getCacheAttr(),
        qRope.getNumHeadsAttr());
    rewriter.replaceOp(qRope, fused.getResult());
    rewriter.eraseOp(op);
    rewriter.eraseOp(kRope);
    return success();
  }
};

struct QKFuseRopeKVAppendPass
    : mlir::qopt::kernel::impl::QKFuseRopeKVAppendBase<QKFuseRopeKVAppendPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRopeAppendPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
