//===- VerifyContract.cpp - a complete kernel-level program ---------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::qopt::kernel {
#define GEN_PASS_DEF_QKVERIFYCONTRACT
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
struct QKVerifyContractPass
    : mlir::qopt::kernel::impl::QKVerifyContractBase<QKVerifyContractPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool bad = false;
    int64_t functions = 0;
    for (auto func : module.getOps<func::FuncOp>()) {
      ++functions;
      if (!func->hasAttr("qk.arena_bytes")) {
        func.emitError("qk-verify-contract: buffers are not planned "
                       "(run --qk-plan-buffers)");
        bad = true;
      }
      func.walk([&](Operation *op) {
        if (op == func || isa<func::ReturnOp, WeightOp, RopeTableOp,
                              arith::ConstantOp, arith::ExtFOp>(op))
          return;
        auto kernel = dyn_cast<KernelOpInterface>(op);
        if (!kernel) {
          op->emitError() << "qk-verify-contract: '" << op->getName()
                          << "' is not a kernel";
          bad = true;
          return;
        }
        if (op->getNumResults() && !op->hasAttr(kBuffersAttrName)) {
          op->emitError("qk-verify-contract: kernel result has no buffer");
          bad = true;
        }
        if (!requireKernels)
          return;
        if (!kernel.getKernelSymbol() || !kernel.getLaunch()) {
          op->emitError("qk-verify-contract: no generated kernel (qk.kernel "
                        "and qk.launch)");
          bad = true;
          return;
        }
        // The kernel lives in a gpu.binary or gpu.module named by the
        // symbol's root.
        StringAttr root = kernel.getKernelSymbol().getRootReference();
        if (!SymbolTable::lookupSymbolIn(module, root)) {
          op->emitError() << "qk-verify-contract: kernel container " << root
                          << " does not exist";
          bad = true;
        }
        // Small-M kernels: a symbol, a launch and an ascending row count
        // each. A GEMM with `gemv` has one weight-streaming kernel per row
        // count (those up to the function's max_tokens), and one with
        // `wgmma` its mma.sync and one-warpgroup kernels too.
        auto kernels = op->getAttrOfType<ArrayAttr>("qk.small_m_kernels");
        auto launches = op->getAttrOfType<ArrayAttr>("qk.small_m_launches");
        auto rows = op->getAttrOfType<DenseI64ArrayAttr>("qk.small_m_rows");
        auto gemm = dyn_cast<GemmOp>(op);
        bool gemv = gemm && gemm.getGemvAttr() && !gemm.getWgmmaAttr();
        if ((kernels || launches || rows || gemv) &&
            (!kernels || !launches || !rows ||
             kernels.size() != launches.size() ||
             static_cast<int64_t>(kernels.size()) != rows.size() ||
             (gemv && kernels.size() > gemm.getGemvAttr().getRows().size()) ||
             (gemm && gemm.getWgmmaAttr() &&
              kernels.size() > (gemm.getGemvAttr()
                                    ? gemm.getGemvAttr().getRows().size()
                                    : 0) +
                                   2) ||
             !llvm::all_of(kernels, llvm::IsaPred<SymbolRefAttr>) ||
             !llvm::all_of(launches, llvm::IsaPred<LaunchAttr>) ||
             !llvm::is_sorted(rows.asArrayRef(), std::less_equal<>()) ||
             llvm::any_of(rows.asArrayRef(),
                          [](int64_t r) { return r < 1; }))) {
          op->emitError("qk-verify-contract: small-M kernels need one symbol, "
                        "launch and ascending row count each "
                        "(qk.small_m_kernels, qk.small_m_launches, "
                        "qk.small_m_rows)");
          bad = true;
        }
      });
    }
    if (functions != 1) {
      module.emitError() << "qk-verify-contract: expected one model function, "
                         << "found " << functions;
      bad = true;
    }
    if (bad)
      signalPassFailure();
  }
};
} // namespace
