//===- WgmmaMainloop.cpp - sm_90a warpgroup-MMA k-loop --------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The k-loop of the sm_90a GEMM kernels (GemmTile::wgmma). The block has
// bm / 64 warpgroups; warpgroup g computes rows [64 g, 64 g + 64) of the
// bm x bn tile with wgmma.mma_async (m64 x bn x k16 bf16, k32 s8 / e4m3),
// both operands read from shared memory through matrix descriptors.
//
// Shared memory. The stages are the cp.async tiles of GemmMainloop.cpp
// (loadStage), rows of 128 bytes with chunk c of row r stored at chunk
// c ^ (r % 8): with the tiles starting at a 1024-byte boundary (the
// dynamic area is rounded up at run time), that is exactly wgmma's
// 128-byte swizzle of a K-major operand, which the hardware derives from
// address bits [7, 10). A descriptor (PTX ISA, "Matrix Descriptor Format")
// holds the start address >> 4 (bits 0-13), the leading-dimension offset
// >> 4 (bits 16-29; unused for swizzled K-major operands, 1), the stride
// between 8-row groups >> 4 (bits 32-45: 1024 bytes) and the swizzle mode
// (bits 62-63: 1, 128 bytes). The k-steps of one 128-byte row advance the
// start address by 32 bytes (the hardware applies the swizzle to the
// address it forms).
//
// Pipeline. The prologue copies tiles 0 .. D - 1 (D = stages - 2), one
// cp.async group each. Iteration kt waits for tile kt (cp.async.wait_group
// D - 1), makes the copies visible to the async proxy that wgmma reads
// through (fence.proxy.async.shared::cta), synchronizes the block, starts
// the copy of tile kt + D into the buffer tile kt - 2 used, and issues
// tile kt's wgmmas as one group; wgmma.wait_group 1 then leaves only that
// group in flight, so tile kt - 1's reads are complete before any thread
// passes the next barrier, and the buffer of kt - 2 is free at kt.
//
// Accumulators. wgmma's D fragment for m64nN gives warp w of the warpgroup
// rows 16 w .. 16 w + 15, and lane (g, t) registers 4 j .. 4 j + 3 for
// columns 8 j + 2 t, 8 j + 2 t + 1 of rows g and g + 8: the m16n8
// accumulator layout of mma.sync (GemmLayout.h), n8 tile j. So the result
// is handed to the same epilogue, warp w owning an m16 x bn warp tile.
//
// Grouped B scales (a group a multiple of bk): each group's products are
// accumulated in a second set of registers, the first k-step of the group
// overwriting them (scale-d 0); at the group's end all wgmmas are waited
// for and the partial sums are scaled per column and added to float sums
// (a vector of bn / 2, register i holding what D's register i holds).
// e4m3 GEMMs without grouped scales do the same every 128 of K with no
// scale (tile.promoteK): Hopper's e4m3 wgmma accumulates with fewer bits
// than float32, and the error grows with K.
//
//===----------------------------------------------------------------------===//

#include "GemmInternal.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::gemm;

namespace {
class WgmmaMainloop {
public:
  WgmmaMainloop(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                const GemmArgs &args, const ThreadInfo &ti)
      : b(b), plan(plan), spec(*plan.spec), t(spec.tile), args(args), ti(ti) {}

  Accumulators emit();

private:
  Idx cst(int64_t c) { return constIdx(b, c); }
  /// The K extent whose partial sums move into float32 sums: the group of
  /// grouped scales, else plan.promoteK (0: none).
  int64_t period() const { return plan.groupK ? plan.groupK : plan.promoteK; }
  Value i64(int64_t c) {
    return b.create<arith::ConstantIntOp>(b.getI64Type(), c);
  }
  Type accElem() {
    return spec.kind == GemmKind::S8 ? Type(b.getI32Type())
                                     : Type(b.getF32Type());
  }
  /// bn / 2 accumulator registers: the wgmma's D.
  Type accStruct() {
    return LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(t.bn / 2, accElem()));
  }
  /// The grouped kernel's float sums, as the D registers.
  VectorType mainVector() {
    return VectorType::get({t.bn / 2}, b.getF32Type());
  }

  Value descriptor(Value address);
  Value wgmma(Value acc, Value descA, Value descB, bool overwrite);
  SmallVector<Value> tile(Idx kt, ValueRange acc, bool groupStart);
  SmallVector<Value> flush(ValueRange main, ValueRange part, Idx g);
  SmallVector<Value> iteration(Idx kt, ValueRange carried);

  ImplicitLocOpBuilder &b;
  const GemmPlan &plan;
  const GemmSpec &spec;
  const GemmTile &t;
  const GemmArgs &args;
  const ThreadInfo &ti;
  SharedTiles smem;
  Value aBase, bBase[2]; ///< shared-window addresses of stage 0 (i64)
  Value warpgroup;       ///< index
};
} // namespace

/// The descriptor of a K-major, 128-byte-swizzled operand at `address`
/// (i64, shared window).
Value WgmmaMainloop::descriptor(Value address) {
  constexpr int64_t kStride = 1024, kLeading = 16;
  int64_t fixed = (kLeading >> 4) << 16 | (kStride >> 4) << 32 | 1ll << 62;
  Value start = b.create<arith::AndIOp>(
      b.create<arith::ShRUIOp>(address, i64(4)), i64(0x3FFF));
  return b.create<arith::OrIOp>(start, i64(fixed));
}

Value WgmmaMainloop::wgmma(Value acc, Value descA, Value descB,
                           bool overwrite) {
  MLIRContext *ctx = b.getContext();
  NVVM::WGMMATypes in = spec.kind == GemmKind::BF16 ? NVVM::WGMMATypes::bf16
                        : spec.kind == GemmKind::S8 ? NVVM::WGMMATypes::s8
                                                    : NVVM::WGMMATypes::e4m3;
  NVVM::WGMMATypes out =
      spec.kind == GemmKind::S8 ? NVVM::WGMMATypes::s32 : NVVM::WGMMATypes::f32;
  NVVM::MMAIntOverflowAttr sat;
  if (spec.kind == GemmKind::S8)
    sat = NVVM::MMAIntOverflowAttr::get(ctx, NVVM::MMAIntOverflow::satfinite);
  return b.create<NVVM::WgmmaMmaAsyncOp>(
      acc.getType(), acc, descA, descB,
      NVVM::MMAShapeAttr::get(ctx, 64, t.bn, plan.kStepElems), in, in, out,
      overwrite ? NVVM::WGMMAScaleOut::zero : NVVM::WGMMAScaleOut::one,
      NVVM::WGMMAScaleIn::one, NVVM::WGMMAScaleIn::one, NVVM::MMALayout::row,
      NVVM::MMALayout::col, sat);
}

/// The wgmmas of k-tile `kt` (its buffer has landed), one commit group.
SmallVector<Value> WgmmaMainloop::tile(Idx kt, ValueRange acc,
                                       bool groupStart) {
  Idx stage = kt % t.stages;
  Value stageV = b.create<arith::IndexCastOp>(b.getI64Type(), stage.v);
  auto at = [&](Value base, int64_t stageBytes, int64_t extra) {
    Value off = b.create<arith::MulIOp>(stageV, i64(stageBytes));
    return b.create<arith::AddIOp>(b.create<arith::AddIOp>(base, off),
                                   i64(extra));
  };
  Value wgRows = b.create<arith::MulIOp>(
      b.create<arith::IndexCastOp>(b.getI64Type(), warpgroup), i64(64 * 128));
  Value descA = descriptor(
      b.create<arith::AddIOp>(at(aBase, plan.aStageBytes, 0), wgRows));
  SmallVector<Value> descB;
  for (int64_t which = 0; which < plan.numB; ++which)
    descB.push_back(descriptor(at(bBase[which], plan.bStageBytes, 0)));
  b.create<NVVM::WgmmaFenceAlignedOp>();
  SmallVector<Value> out(acc.begin(), acc.end());
  int64_t stepBytes = plan.kStepElems * (plan.bf16Mma ? 2 : 1);
  for (int64_t ks = 0; ks < plan.kSteps; ++ks) {
    // The start address field advances by the k-step's bytes >> 4.
    Value dA = b.create<arith::AddIOp>(descA, i64(ks * stepBytes >> 4));
    for (int64_t which = 0; which < plan.numB; ++which) {
      Value dB =
          b.create<arith::AddIOp>(descB[which], i64(ks * stepBytes >> 4));
      out[which] = wgmma(out[which], dA, dB, groupStart && ks == 0);
    }
  }
  b.create<NVVM::WgmmaGroupSyncAlignedOp>();
  return out;
}

/// main += float(part) * scale[column, g] (grouped scales) or main += part
/// (promotion only), per register.
SmallVector<Value> WgmmaMainloop::flush(ValueRange main, ValueRange part,
                                        Idx g) {
  SmallVector<Value> result;
  Idx lane{&b, ti.lane};
  for (int64_t which = 0; which < plan.numB; ++which) {
    Value m = main[which];
    for (int64_t j = 0; j < t.bn / 8; ++j) {
      for (int64_t p = 0; p < 2; ++p) {
        Idx col = Idx{&b, ti.colBase} + j * 8 + (lane % 4) * 2 + p;
        Value colV = col.v, scale;
        if (plan.nGuard)
          colV = b.create<arith::MinUIOp>(colV, cst(spec.n - 1).v);
        if (plan.groupK)
          scale = loadGroupScale(b, plan, args.bs[which], colV, g.v);
        for (int64_t half = 0; half < 2; ++half) {
          int64_t i = 4 * j + 2 * half + p;
          Value x = b.create<LLVM::ExtractValueOp>(part[which], i);
          if (!isa<FloatType>(x.getType()))
            x = b.create<arith::SIToFPOp>(b.getF32Type(), x);
          Value acc = b.create<vector::ExtractOp>(m, ArrayRef<int64_t>{i});
          if (scale)
            x = b.create<arith::MulFOp>(x, scale);
          Value sum = b.create<arith::AddFOp>(acc, x);
          m = b.create<vector::InsertOp>(sum, m, ArrayRef<int64_t>{i});
        }
      }
    }
    result.push_back(m);
  }
  return result;
}

/// One k-tile: wait for it, prefetch tile kt + D, issue its wgmmas.
/// `carried`: the accumulators (numB), then with grouping the partial sums.
SmallVector<Value> WgmmaMainloop::iteration(Idx kt, ValueRange carried) {
  int64_t ahead = t.stages - 2;
  b.create<NVVM::CpAsyncWaitGroupOp>(ahead - 1);
  b.create<NVVM::FenceProxyOp>(
      NVVM::ProxyKindAttr::get(b.getContext(), NVVM::ProxyKind::async_shared),
      NVVM::SharedSpaceAttr::get(b.getContext(),
                                 NVVM::SharedSpace::shared_cta));
  b.create<gpu::BarrierOp>();
  prefetchStage(b, plan, args, ti, smem, kt + ahead);
  if (!period()) {
    SmallVector<Value> acc = tile(kt, carried, /*groupStart=*/false);
    b.create<NVVM::WgmmaWaitGroupSyncOp>(1);
    return acc;
  }
  // Grouped: carried = main (numB), part (numB).
  int64_t perGroup = period() / t.bk;
  ValueRange main = carried.take_front(plan.numB);
  ValueRange part = carried.drop_front(plan.numB);
  Idx within = kt % perGroup;
  Value start =
      b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, within.v, cst(0).v);
  // The first tile of a group overwrites the partial sums.
  auto issue = b.create<scf::IfOp>(TypeRange(part), start,
                                   /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(issue.thenBlock());
    b.create<scf::YieldOp>(tile(kt, part, /*groupStart=*/true));
    b.setInsertionPointToStart(issue.elseBlock());
    b.create<scf::YieldOp>(tile(kt, part, /*groupStart=*/false));
  }
  SmallVector<Value> newPart(issue.getResults());
  Value end = b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, within.v,
                                      cst(perGroup - 1).v);
  auto done = b.create<scf::IfOp>(TypeRange(main), end,
                                  /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(done.thenBlock());
    b.create<NVVM::WgmmaWaitGroupSyncOp>(0);
    b.create<scf::YieldOp>(flush(main, newPart, kt / perGroup));
    b.setInsertionPointToStart(done.elseBlock());
    b.create<NVVM::WgmmaWaitGroupSyncOp>(1);
    b.create<scf::YieldOp>(main);
  }
  SmallVector<Value> result(done.getResults());
  result.append(newPart);
  return result;
}

Accumulators WgmmaMainloop::emit() {
  // The tiles start at the first 1024-byte boundary of the dynamic area.
  smem = allocateSharedTiles(b, plan, kWgmmaSharedAlign);
  aBase = smem.start;
  for (int64_t which = 0; which < plan.numB; ++which)
    bBase[which] = b.create<arith::AddIOp>(
        aBase, i64(t.stages * (plan.aStageBytes + which * plan.bStageBytes)));
  warpgroup = (Idx{&b, ti.tid} / 128).v;

  int64_t ahead = t.stages - 2;
  for (int64_t s = 0; s < ahead; ++s) {
    if (s < plan.numK)
      loadStage(b, plan, args, ti, smem, cst(s), cst(s));
    b.create<NVVM::CpAsyncCommitGroupOp>();
  }
  SmallVector<Value> init;
  for (int64_t which = 0; which < plan.numB; ++which)
    init.push_back(period() ? Value(b.create<arith::ConstantOp>(
                                  mainVector(), b.getZeroAttr(mainVector())))
                            : Value(b.create<LLVM::ZeroOp>(accStruct())));
  if (period())
    for (int64_t which = 0; which < plan.numB; ++which)
      init.push_back(b.create<LLVM::ZeroOp>(accStruct()));
  auto loop = b.create<scf::ForOp>(cst(0).v, cst(plan.numK).v, cst(1).v, init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    b.create<scf::YieldOp>(
        iteration(Idx{&b, loop.getInductionVar()}, loop.getRegionIterArgs()));
  }
  b.create<NVVM::WgmmaWaitGroupSyncOp>(0);
  b.create<NVVM::CpAsyncWaitGroupOp>(0);

  // The D registers as the epilogue's m16 x n8 tiles.
  Accumulators acc(plan.numB);
  for (int64_t which = 0; which < plan.numB; ++which) {
    Value d = loop.getResult(which);
    Type elem = period() ? Type(b.getF32Type()) : accElem();
    for (int64_t j = 0; j < t.bn / 8; ++j) {
      SmallVector<Value> regs;
      for (int64_t r = 0; r < 4; ++r)
        regs.push_back(
            period() ? Value(b.create<vector::ExtractOp>(
                           d, ArrayRef<int64_t>{4 * j + r}))
                     : Value(b.create<LLVM::ExtractValueOp>(d, 4 * j + r)));
      acc[which].push_back(
          b.create<vector::FromElementsOp>(VectorType::get({4}, elem), regs));
    }
  }
  return acc;
}

Accumulators gemm::emitWgmmaMainloop(ImplicitLocOpBuilder &b,
                                     const GemmPlan &plan, const GemmArgs &args,
                                     const ThreadInfo &ti) {
  return WgmmaMainloop(b, plan, args, ti).emit();
}
