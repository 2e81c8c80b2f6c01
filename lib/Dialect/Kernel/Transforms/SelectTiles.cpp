//===- SelectTiles.cpp - thread-block tiles of the GEMMs ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>

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

/// Elements of B in one 16-byte vector, or 0 for an unknown type.
static int64_t vectorElements(Type b) {
  if (b.isInteger(4))
    return 32;
  if (b.getIntOrFloatBitWidth() == 8)
    return 16;
  if (b.getIntOrFloatBitWidth() == 16)
    return 8;
  return 0;
}

/// The weight-streaming kernels of `gemm`, or null when its shape does not
/// split into whole vectors (it then has the tiled kernel only).
static GemvAttr selectGemv(GemmOp gemm, ArrayRef<int64_t> rows, int64_t warps) {
  int64_t n = gemm.getN(), k = gemm.getK();
  Type b = cast<ShapedType>(gemm.getB().getType()).getElementType();
  int64_t e = vectorElements(b);
  if (!e || k % e || n % 2)
    return nullptr;
  if (QuantSchemeAttr s = gemm.getBSchemeAttr()) {
    if (auto group = dyn_cast<PerGroupAttr>(s.getGranularity()))
      if (group.getSize() % e)
        return nullptr;
    if (auto block = dyn_cast<BlockAttr>(s.getGranularity()))
      if (block.getCols() % e)
        return nullptr;
  }
  // Enough blocks to keep 132 SMs busy four times over, splitting K among
  // the warps of a block while each still gets a whole step of 32 vectors.
  constexpr int64_t kMinBlocks = 4 * 132;
  int64_t steps = k / e / 32, kSplit = 1;
  while (kSplit * 2 <= warps && warps % (kSplit * 2) == 0 &&
         kSplit * 2 <= steps &&
         llvm::divideCeil(n / 2, warps / kSplit) < kMinBlocks)
    kSplit *= 2;
  return GemvAttr::get(gemm.getContext(), rows, warps, kSplit);
}

/// The warpgroup-MMA kernel of `gemm`, or null when its operands or shape
/// do not suit one. Stages 0: as many as fit in 227 KiB (at most 8).
static WgmmaAttr selectWgmma(GemmOp gemm, int64_t bm, int64_t bn,
                             int64_t stages, int64_t minRows, int64_t smallRows,
                             bool fastAccum) {
  Type a = cast<ShapedType>(gemm.getA().getType()).getElementType();
  Type b = cast<ShapedType>(gemm.getB().getType()).getElementType();
  bool bf16 = a.isBF16() && b.isBF16();
  bool s8 = a.isSignlessInteger(8) && b.isSignlessInteger(8);
  bool e4m3 = isa<Float8E4M3FNType>(a) && isa<Float8E4M3FNType>(b);
  if (!bf16 && !s8 && !e4m3)
    return nullptr;
  int64_t bk = bf16 ? 64 : 128, n = gemm.getN(), k = gemm.getK();
  if (k % bk || n % 2)
    return nullptr;
  if (QuantSchemeAttr s = gemm.getBSchemeAttr()) {
    if (auto group = dyn_cast<PerGroupAttr>(s.getGranularity()))
      if (group.getSize() % bk)
        return nullptr;
    if (auto block = dyn_cast<BlockAttr>(s.getGranularity()))
      if (block.getCols() % bk)
        return nullptr;
  }
  int64_t numB = gemm.getUp() ? 2 : 1;
  if (numB == 2)
    bn = std::min<int64_t>(bn, 128);
  // The most 128-byte buffers of A and B that fit in 227 KiB (at most 8).
  auto fit = [&](int64_t rows) {
    constexpr int64_t kShared = 227 * 1024 - 1024 - 16;
    return std::min<int64_t>(8, kShared / (128 * (rows + numB * bn)));
  };
  if (stages == 0)
    stages = fit(bm);
  int64_t smallStages = smallRows ? fit(64) : 0;
  if (stages < 3 || (smallRows && smallStages < 3))
    return nullptr;
  return WgmmaAttr::get(gemm.getContext(), bm, bn, stages, minRows, smallRows,
                        smallStages, e4m3 && fastAccum);
}

namespace {
struct QKSelectTilesPass
    : mlir::qopt::kernel::impl::QKSelectTilesBase<QKSelectTilesPass> {
  using Base::Base;

  void runOnOperation() override {
    bool failed = false;
    SmallVector<int64_t> rows(gemvRows.begin(), gemvRows.end());
    if (rows.empty())
      rows = {1};
    if (rows.size() == 1 && rows[0] == 0)
      rows.clear();
    if (!rows.empty()) {
      auto diag = [&]() { return getOperation()->emitError(); };
      if (GemvAttr::verifyInvariants(diag, rows, gemvWarps, 1).failed())
        return signalPassFailure();
    }
    if (wgmmaRows < 0) {
      getOperation()->emitError()
          << "wgmma-rows must be 0 (none) or a token count, got "
          << static_cast<int64_t>(wgmmaRows);
      return signalPassFailure();
    }
    if (wgmmaRows > 0) {
      auto diag = [&]() { return getOperation()->emitError(); };
      if (WgmmaAttr::verifyInvariants(diag, wgmmaTileM, wgmmaTileN,
                                      wgmmaStages ? wgmmaStages : 3, wgmmaRows,
                                      wgmmaSmallRows, 3, false)
              .failed())
        return signalPassFailure();
    }
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
          if (group.getSize() % bk && bk % group.getSize())
            return (void)(error() << "bk " << bk << " and the weight group "
                                  << "of " << group.getSize()
                                  << " must divide one another");
      if (QuantSchemeAttr b = gemm.getBSchemeAttr())
        if (auto block = dyn_cast<BlockAttr>(b.getGranularity()))
          if (block.getCols() % bk)
            return (void)(error() << "bk " << bk << " does not divide the "
                                  << "weight block of " << block.getCols());
      gemm.setTileAttr(
          TileAttr::get(gemm.getContext(), bm, bn, bk, wm, wn, stages));
      if (!rows.empty())
        if (GemvAttr gemv = selectGemv(gemm, rows, gemvWarps))
          gemm.setGemvAttr(gemv);
      if (wgmmaRows > 0)
        if (WgmmaAttr wgmma =
                selectWgmma(gemm, wgmmaTileM, wgmmaTileN, wgmmaStages,
                            wgmmaRows, wgmmaSmallRows, wgmmaFp8FastAccum))
          gemm.setWgmmaAttr(wgmma);
    });
    if (failed)
      signalPassFailure();
  }
};
} // namespace
