//===- PlanBuffers.cpp - one activation arena for every kernel result -----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <map>

namespace mlir::qopt::kernel {
#define GEN_PASS_DEF_QKPLANBUFFERS
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

static constexpr int64_t kAlignment = 256;

/// Bytes of `type` with its dynamic (token) dimension at `maxTokens` rows.
static int64_t bufferBytes(RankedTensorType type, int64_t maxTokens) {
  int64_t elements = 1;
  for (int64_t d : type.getShape())
    elements *= ShapedType::isDynamic(d) ? maxTokens : d;
  Type elem = type.getElementType();
  int64_t bits = elem.isInteger(4) ? 4 : elem.getIntOrFloatBitWidth();
  return (elements * bits + 7) / 8;
}

namespace {
/// First-fit allocation of [offset, offset + size) ranges in one arena.
class Arena {
public:
  int64_t allocate(int64_t size) {
    size = (size + kAlignment - 1) / kAlignment * kAlignment;
    int64_t offset = 0;
    for (auto [start, end] : live) {
      if (start - offset >= size)
        break;
      offset = std::max(offset, end);
    }
    live.emplace(offset, offset + size);
    high = std::max(high, offset + size);
    return offset;
  }
  void release(int64_t offset) { live.erase(offset); }
  int64_t size() const { return high; }

private:
  std::map<int64_t, int64_t> live; // start -> end
  int64_t high = 0;
};

struct QKPlanBuffersPass
    : mlir::qopt::kernel::impl::QKPlanBuffersBase<QKPlanBuffersPass> {
  using Base::Base;

  void runOnOperation() override {
    if (maxTokens <= 0) {
      getOperation().emitError("qk-plan-buffers: max-tokens must be positive");
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(plan(func)))
        return signalPassFailure();
  }

  LogicalResult plan(func::FuncOp func) {
    if (func.isExternal())
      return success();
    Block &body = func.getBody().front();
    // The last op (by position) that uses each kernel result; results the
    // function returns live to the end.
    DenseMap<Value, Operation *> lastUse;
    for (Operation &op : body)
      for (Value operand : op.getOperands())
        lastUse[operand] = &op;
    DenseMap<Operation *, SmallVector<Value>> dyingAfter;
    for (auto [value, user] : lastUse)
      if (!isa<func::ReturnOp>(user))
        dyingAfter[user].push_back(value);

    Arena arena;
    DenseMap<Value, int64_t> offsets;
    for (Operation &op : body) {
      auto kernel = dyn_cast<KernelOpInterface>(&op);
      if (kernel && op.getNumResults()) {
        SmallVector<int64_t> slots;
        for (Value result : op.getResults()) {
          auto type = cast<RankedTensorType>(result.getType());
          int64_t offset = arena.allocate(bufferBytes(type, maxTokens));
          offsets[result] = offset;
          slots.push_back(offset);
        }
        op.setAttr(kBuffersAttrName,
                   DenseI64ArrayAttr::get(op.getContext(), slots));
      }
      // Operands die after their last use; a result nobody uses dies at
      // once (after its own kernel has written it).
      for (Value dead : dyingAfter.lookup(&op))
        if (offsets.count(dead))
          arena.release(offsets[dead]);
      if (kernel)
        for (Value result : op.getResults())
          if (result.use_empty())
            arena.release(offsets[result]);
    }
    Builder b(func.getContext());
    func->setAttr("qk.arena_bytes", b.getI64IntegerAttr(arena.size()));
    func->setAttr("qk.max_tokens", b.getI64IntegerAttr(maxTokens));
    return success();
  }
};
} // namespace
