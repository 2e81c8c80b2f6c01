//===- SelectTiles.cpp - thread-block tiles of the GEMMs ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

namespace mlir::qopt::kernel {
#define GEN_PASS_DEF_QKSELECTTILES
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
struct QKSelectTilesPass
    : mlir::qopt::kernel::impl::QKSelectTilesBase<QKSelectTilesPass> {
  using Base::Base;

  void runOnOperation() override {
    bool failed = false;
    getOperation()->walk([&](GemmOp gemm) {
      auto error = [&]() {
        failed = true;
        return gemm.emitOpError() << "tile ";
      };
      int64_t n = gemm.getN(), k = gemm.getK();
      int64_t bm = tileM, bn = tileN, bk = tileK;
      int64_t wm = warpsM, wn = warpsN;
      // Shrink bn to a divisor of N that still gives each warp whole
      // 8-column mma tiles.
      while (bn > 8 * wn && n % bn)
        bn /= 2;
      if (bm <= 0 || bn <= 0 || bk <= 0 || wm <= 0 || wn <= 0 || stages <= 0)
        return (void)(error() << "sizes must be positive");
      if (wm * wn > 8)
        return (void)(error() << "uses " << wm * wn << " warps; at most 8");
      if (bm % (16 * wm) || bn % (8 * wn))
        return (void)(error() << "bm " << bm << " / bn " << bn
                              << " are not multiples of 16 x warps-m / 8 x "
                                 "warps-n");
      if (bk % 32 || k % bk)
        return (void)(error() << "bk " << bk << " must be a multiple of 32 "
                              << "dividing K = " << k);
      if (n % bn)
        return (void)(error() << "no bn divides N = " << n);
      if (QuantSchemeAttr b = gemm.getBSchemeAttr())
        if (auto group = dyn_cast<PerGroupAttr>(b.getGranularity()))
          if (group.getSize() % bk)
            return (void)(error() << "bk " << bk << " does not divide the "
                                  << "weight group of " << group.getSize());
      if (QuantSchemeAttr b = gemm.getBSchemeAttr())
        if (auto block = dyn_cast<BlockAttr>(b.getGranularity()))
          if (block.getCols() % bk)
            return (void)(error() << "bk " << bk << " does not divide the "
                                  << "weight block of " << block.getCols());
      gemm.setTileAttr(
          TileAttr::get(gemm.getContext(), bm, bn, bk, wm, wn, stages));
    });
    if (failed)
      signalPassFailure();
  }
};
} // namespace
