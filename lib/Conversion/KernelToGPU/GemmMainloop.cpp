//===- GemmMainloop.cpp - cp.async pipeline and tensor-core k-loop --------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The k-loop of the GEMM kernels. Shared memory (dynamic) holds `stages`
// copies of the A tile and of each B tile, filled with 16-byte cp.async
// copies (nvgpu.device_async_copy; A rows >= m and B rows >= N are zero
// filled, their addresses clamped into the buffer) in the swizzled layout
// of GemmLayout.h. Iteration kt waits for tile kt (cp.async.wait_group
// stages - 2), synchronizes the block, then starts the copy of tile
// kt + stages - 1 into the buffer that iteration kt - 1 read, and computes
// on tile kt: fragments through ldmatrix.x4 (nvgpu.ldmatrix) for A and for
// bf16 / 8-bit B, per-lane loads and in-register conversion to bf16 for
// weight-only B, and nvvm.mma.sync (bf16 m16n8k16, s8 m16n8k32) or the e4m3
// m16n8k32 intrinsic. Exactly one cp.async group is committed per prologue
// step and per iteration (possibly empty), so that wait_group counts tiles.
//
// With per-group or block B scales, the products of one group (groupK of
// K) are summed in separate accumulators, then multiplied by the group's
// scale per column and added to float accumulators: inside a tile when
// groupK divides bk, else by a k-loop nested in a loop over groups.
//
//===----------------------------------------------------------------------===//

#include "GemmInternal.h"
#include "qopt/Conversion/KernelToGPU/GemmLayout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <tuple>

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::gemm;

namespace {
/// Fragments of one k-step: A per m16 tile, B per operand per n8 tile; each
/// register an i32.
struct Fragments {
  SmallVector<std::array<Value, 4>> a;
  SmallVector<std::array<Value, 2>> b[2];
};

class Mainloop {
public:
  Mainloop(ImplicitLocOpBuilder &b, const GemmPlan &plan, const GemmArgs &args,
           const ThreadInfo &ti)
      : b(b), plan(plan), spec(*plan.spec), args(args), ti(ti) {}

  Accumulators emit();

private:
  Idx idx(Value v) { return {&b, v}; }
  Idx cst(int64_t c) { return constIdx(b, c); }
  Type accElemType() {
    return plan.intAcc ? Type(b.getI32Type()) : Type(b.getF32Type());
  }
  Type groupElemType() {
    return spec.kind == GemmKind::S8 ? Type(b.getI32Type())
                                     : Type(b.getF32Type());
  }
  Value zeroAcc(Type elem);
  Accumulators zeros(Type elem);
  SmallVector<Value> flatten(const Accumulators &acc);
  Accumulators unflatten(ValueRange values);

  Accumulators step(Idx kt, Accumulators acc);
  Accumulators compute(Idx stage, Idx kt, Accumulators acc);
  void loadFragments(Idx stage, Idx kt, int64_t ks, Fragments &frags,
                     SmallVector<Value> (&zeroPoints)[2]);
  Value packBf16(Value lo, Value hi);
  Value mma(ArrayRef<Value> a, ArrayRef<Value> bRegs, Value c);
  Accumulators flush(Accumulators main, const Accumulators &group, Idx g);

  ImplicitLocOpBuilder &b;
  const GemmPlan &plan;
  const GemmSpec &spec;
  const GemmArgs &args;
  const ThreadInfo &ti;
  SharedTiles smem;
};
} // namespace

Value Mainloop::zeroAcc(Type elem) {
  auto type = VectorType::get({4}, elem);
  return b.create<arith::ConstantOp>(type, b.getZeroAttr(type));
}

Accumulators Mainloop::zeros(Type elem) {
  Accumulators acc(plan.numB);
  Value zero = zeroAcc(elem);
  for (auto &tiles : acc)
    tiles.assign(plan.mTiles * plan.nTiles, zero);
  return acc;
}

SmallVector<Value> Mainloop::flatten(const Accumulators &acc) {
  SmallVector<Value> values;
  for (const auto &tiles : acc)
    values.append(tiles.begin(), tiles.end());
  return values;
}

Accumulators Mainloop::unflatten(ValueRange values) {
  Accumulators acc(plan.numB);
  int64_t per = plan.mTiles * plan.nTiles;
  for (int64_t which = 0; which < plan.numB; ++which)
    acc[which].assign(values.begin() + which * per,
                      values.begin() + (which + 1) * per);
  return acc;
}

SharedTiles gemm::allocateSharedTiles(ImplicitLocOpBuilder &b,
                                      const GemmPlan &plan, int64_t alignment) {
  const GemmTile &t = plan.spec->tile;
  auto wg =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  Value dyn = b.create<gpu::DynamicSharedMemoryOp>(
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), nullptr, wg));
  SharedTiles smem;
  Value base = constIdx(b, 0).v;
  if (alignment > 1) {
    // pad = -address mod alignment (a power of two).
    Type i64 = b.getI64Type();
    Value raw = b.create<arith::IndexCastOp>(
        i64, b.create<memref::ExtractAlignedPointerAsIndexOp>(dyn));
    Value pad = b.create<arith::AndIOp>(
        b.create<arith::SubIOp>(b.create<arith::ConstantIntOp>(i64, 0), raw),
        b.create<arith::ConstantIntOp>(i64, alignment - 1));
    base = b.create<arith::IndexCastOp>(b.getIndexType(), pad);
    smem.start = b.create<arith::AddIOp>(raw, pad);
  }
  auto view = [&](int64_t offset, int64_t rows, int64_t rowElems, Type elem) {
    auto type = MemRefType::get({t.stages, rows, rowElems}, elem, nullptr, wg);
    Value shift = (Idx{&b, base} + offset).v;
    return b.create<memref::ViewOp>(type, dyn, shift, ValueRange{}).getResult();
  };
  Type aElem = plan.bf16Mma ? Type(b.getBF16Type()) : Type(b.getI8Type());
  smem.a = view(0, t.bm, t.bk, aElem);
  Type bElem = plan.weightOnly ? b.getI8Type() : aElem;
  int64_t bRowElems = plan.weightOnly ? plan.bRowBytes : t.bk;
  for (int64_t which = 0; which < plan.numB; ++which)
    smem.b[which] =
        view(t.stages * (plan.aStageBytes + which * plan.bStageBytes), t.bn,
             bRowElems, bElem);
  return smem;
}

/// Copies rows [rowBase, rowBase + rows) of `src`, elements [colOffset,
/// colOffset + rowBytes / elemBytes), into buffer `stage` of `dst`. With a
/// `rowLimit`, rows at or past it are zero filled (their source address is
/// row rowLimit - 1).
static void copyTile(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                     const ThreadInfo &ti, Value src, Value dst, Idx stage,
                     Idx rowBase, Idx colOffset, int64_t rows, int64_t rowBytes,
                     int64_t elemBytes, Value rowLimit) {
  auto cst = [&](int64_t c) { return constIdx(b, c); };
  int64_t chunksPerRow = rowBytes / 16, chunkElems = 16 / elemBytes;
  int64_t total = rows * chunksPerRow;
  Idx tid{&b, ti.tid};
  for (int64_t first = 0; first < total; first += plan.threads) {
    Idx id = tid + first;
    auto body = [&]() {
      Coord<Idx> c = copyChunk(id, chunksPerRow);
      Idx row = rowBase + c.row;
      Value srcRow = row.v, count;
      if (rowLimit) {
        Value valid =
            b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, row.v, rowLimit);
        Value last = b.create<arith::SubIOp>(rowLimit, cst(1).v);
        srcRow = b.create<arith::SelectOp>(valid, row.v, last);
        count = b.create<arith::SelectOp>(valid, cst(chunkElems).v, cst(0).v);
      }
      Idx srcCol = colOffset + c.col * chunkElems;
      Idx dstCol = swizzleChunk(c.row, c.col, chunksPerRow) * chunkElems;
      b.create<nvgpu::DeviceAsyncCopyOp>(
          dst, ValueRange{stage.v, c.row.v, dstCol.v}, src,
          ValueRange{srcRow, srcCol.v}, b.getIndexAttr(chunkElems), count,
          b.getUnitAttr());
    };
    if (first + plan.threads <= total) {
      body();
      continue;
    }
    Value inRange =
        b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, id.v, cst(total).v);
    auto ifOp = b.create<scf::IfOp>(inRange, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    body();
  }
}

void gemm::loadStage(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                     const GemmArgs &args, const ThreadInfo &ti,
                     const SharedTiles &smem, Idx kt, Idx stage) {
  const GemmSpec &spec = *plan.spec;
  const GemmTile &t = spec.tile;
  auto idx = [&](Value v) { return Idx{&b, v}; };
  int64_t aBytes = plan.bf16Mma ? 2 : 1;
  copyTile(b, plan, ti, args.a, smem.a, stage, idx(ti.rowBase), kt * t.bk, t.bm,
           plan.aRowBytes, aBytes, ti.m);
  int64_t bBytes = plan.weightOnly ? 1 : aBytes;
  int64_t bRowElems = plan.bRowBytes / bBytes;
  Value nLimit = plan.nGuard ? constIdx(b, spec.n).v : Value();
  for (int64_t which = 0; which < plan.numB; ++which)
    copyTile(b, plan, ti, args.bs[which].b, smem.b[which], stage,
             idx(ti.colBase), kt * bRowElems, t.bn, plan.bRowBytes, bBytes,
             nLimit);
}

/// Two bf16 (f32 values, exactly representable) packed into an i32: `lo`
/// in the low half (the even k).
Value Mainloop::packBf16(Value lo, Value hi) {
  Value pair = b.create<vector::FromElementsOp>(
      VectorType::get({2}, b.getF32Type()), ValueRange{lo, hi});
  Value bf =
      b.create<arith::TruncFOp>(VectorType::get({2}, b.getBF16Type()), pair);
  Value word =
      b.create<vector::BitCastOp>(VectorType::get({1}, b.getI32Type()), bf);
  return b.create<vector::ExtractOp>(word, ArrayRef<int64_t>{0});
}

/// The four i32 registers of an ldmatrix.x4 at `mem`[stage, row, col].
static std::array<Value, 4> ldmatrix4(ImplicitLocOpBuilder &b, Value mem,
                                      ValueRange indices) {
  Type elem = cast<MemRefType>(mem.getType()).getElementType();
  int64_t perReg = 32 / elem.getIntOrFloatBitWidth();
  Value frag = b.create<nvgpu::LdMatrixOp>(VectorType::get({4, perReg}, elem),
                                           mem, indices, /*transpose=*/false,
                                           /*numTiles=*/4);
  std::array<Value, 4> regs;
  for (int64_t j = 0; j < 4; ++j) {
    Value row = b.create<vector::ExtractOp>(frag, ArrayRef<int64_t>{j});
    Value word =
        b.create<vector::BitCastOp>(VectorType::get({1}, b.getI32Type()), row);
    regs[j] = b.create<vector::ExtractOp>(word, ArrayRef<int64_t>{0});
  }
  return regs;
}

void Mainloop::loadFragments(Idx stage, Idx kt, int64_t ks, Fragments &frags,
                             SmallVector<Value> (&zeroPoints)[2]) {
  const GemmTile &t = spec.tile;
  Idx lane = idx(ti.lane);
  int64_t aChunks = plan.aRowBytes / 16, aChunkElems = plan.bf16Mma ? 8 : 16;
  frags.a.clear();
  for (int64_t mi = 0; mi < plan.mTiles; ++mi) {
    Coord<Idx> c = ldmatrixA(lane, ks);
    Idx row = idx(ti.warpM) * plan.warpM + mi * 16 + c.row;
    Idx col = swizzleChunk(row, c.col, aChunks) * aChunkElems;
    frags.a.push_back(ldmatrix4(b, smem.a, {stage.v, row.v, col.v}));
  }
  int64_t bChunks = plan.bRowBytes / 16;
  for (int64_t which = 0; which < plan.numB; ++which) {
    auto &bf = frags.b[which];
    bf.clear();
    if (!plan.weightOnly) {
      for (int64_t np = 0; np < plan.nTiles / 2; ++np) {
        Coord<Idx> c = ldmatrixB(lane, ks);
        Idx row = idx(ti.warpN) * plan.warpN + np * 16 + c.row;
        Idx col = swizzleChunk(row, c.col, bChunks) * aChunkElems;
        std::array<Value, 4> r =
            ldmatrix4(b, smem.b[which], {stage.v, row.v, col.v});
        bf.push_back({r[0], r[1]});
        bf.push_back({r[2], r[3]});
      }
      continue;
    }
    // Weight-only: the lane's two k of each register, from s8 or int4.
    Type f32 = b.getF32Type(), i32 = b.getI32Type();
    for (int64_t ni = 0; ni < plan.nTiles; ++ni) {
      std::array<Value, 2> regs;
      for (int64_t reg = 0; reg < 2; ++reg) {
        Coord<Idx> c = plan.int4 ? weightByteInt4(lane, ks, reg)
                                 : weightPairS8(lane, ks, reg);
        Idx row = idx(ti.warpN) * plan.warpN + ni * 8 + c.row;
        Idx chunk = swizzleChunk(row, c.col / 16, bChunks);
        Idx col = chunk * 16 + (c.col % 16);
        Value lo, hi;
        if (plan.int4) {
          Value byte = b.create<memref::LoadOp>(
              smem.b[which], ValueRange{stage.v, row.v, col.v});
          std::tie(lo, hi) = unpackInt4(b, byte);
          if (!zeroPoints[which].empty()) {
            lo = b.create<arith::SubIOp>(lo, zeroPoints[which][ni]);
            hi = b.create<arith::SubIOp>(hi, zeroPoints[which][ni]);
          }
        } else {
          Value pair = b.create<vector::LoadOp>(
              VectorType::get({2}, b.getI8Type()), smem.b[which],
              ValueRange{stage.v, row.v, col.v}, /*nontemporal=*/false,
              b.getI64IntegerAttr(2));
          Value wide =
              b.create<arith::ExtSIOp>(VectorType::get({2}, i32), pair);
          lo = b.create<vector::ExtractOp>(wide, ArrayRef<int64_t>{0});
          hi = b.create<vector::ExtractOp>(wide, ArrayRef<int64_t>{1});
        }
        regs[reg] = packBf16(b.create<arith::SIToFPOp>(f32, lo),
                             b.create<arith::SIToFPOp>(f32, hi));
      }
      bf.push_back(regs);
    }
  }
  (void)t;
  (void)kt;
}

/// acc + A * B for one m16 x n8 tile.
Value Mainloop::mma(ArrayRef<Value> a, ArrayRef<Value> bRegs, Value c) {
  Type elem = cast<VectorType>(c.getType()).getElementType();
  SmallVector<Value> cs;
  for (int64_t i = 0; i < 4; ++i)
    cs.push_back(b.create<vector::ExtractOp>(c, ArrayRef<int64_t>{i}));
  auto structType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(4, elem));
  Value d;
  if (spec.kind == GemmKind::E4M3) {
    SmallVector<Value> operands(a.begin(), a.end());
    operands.append(bRegs.begin(), bRegs.end());
    operands.append(cs.begin(), cs.end());
    d = b.create<LLVM::CallIntrinsicOp>(
             structType,
             b.getStringAttr(
                 "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e4m3.f32"),
             operands)
            .getResult(0);
  } else if (plan.bf16Mma) {
    d = b.create<NVVM::MmaOp>(
        structType, a, bRegs, cs, ArrayRef<int64_t>{16, 8, 16}, std::nullopt,
        std::nullopt,
        std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                      NVVM::MMATypes::bf16},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
  } else {
    d = b.create<NVVM::MmaOp>(
        structType, a, bRegs, cs, ArrayRef<int64_t>{16, 8, 32}, std::nullopt,
        NVVM::MMAIntOverflow::satfinite,
        std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::s8, NVVM::MMATypes::s8},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
  }
  SmallVector<Value> ds;
  for (int64_t i = 0; i < 4; ++i)
    ds.push_back(b.create<LLVM::ExtractValueOp>(d, ArrayRef<int64_t>{i}));
  return b.create<vector::FromElementsOp>(c.getType(), ds);
}

std::pair<Value, Value> gemm::unpackInt4(ImplicitLocOpBuilder &b, Value byte) {
  Type i32 = b.getI32Type();
  Value word = b.create<arith::ExtSIOp>(i32, byte);
  Value four = b.create<arith::ConstantIntOp>(i32, 4);
  Value low = b.create<arith::ConstantIntOp>(i32, 28);
  // The low nibble sign extended from its bit 3; the byte is sign extended
  // from bit 7, so an arithmetic shift by 4 gives the high one.
  Value lo = b.create<arith::ShRSIOp>(b.create<arith::ShLIOp>(word, low), low);
  Value hi = b.create<arith::ShRSIOp>(word, four);
  return {lo, hi};
}

Value gemm::loadGroupScale(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                           const BOperand &op, Value col, Value group) {
  const GemmSpec &spec = *plan.spec;
  Value row = col;
  if (spec.bScale == ScaleKind::Block)
    row = b.createOrFold<arith::DivUIOp>(
        col, b.create<arith::ConstantIndexOp>(spec.blockN));
  return b.create<memref::LoadOp>(op.scale, ValueRange{row, group});
}

/// main += float(group) * scale[column, g] for every tile.
Accumulators Mainloop::flush(Accumulators main, const Accumulators &group,
                             Idx g) {
  Idx lane = idx(ti.lane);
  Type f32v = VectorType::get({4}, b.getF32Type());
  for (int64_t which = 0; which < plan.numB; ++which) {
    for (int64_t ni = 0; ni < plan.nTiles; ++ni) {
      Value s[2];
      for (int64_t p = 0; p < 2; ++p) {
        Coord<Idx> c = accumulator(lane, p);
        Idx col = idx(ti.colBase) + idx(ti.warpN) * plan.warpN + ni * 8 + c.col;
        Value colV = col.v;
        if (plan.nGuard)
          colV = b.create<arith::MinUIOp>(colV, cst(spec.n - 1).v);
        s[p] = loadGroupScale(b, plan, args.bs[which], colV, g.v);
      }
      Value scale = b.create<vector::FromElementsOp>(
          f32v, ValueRange{s[0], s[1], s[0], s[1]});
      for (int64_t mi = 0; mi < plan.mTiles; ++mi) {
        int64_t i = mi * plan.nTiles + ni;
        Value part = group[which][i];
        if (!isa<FloatType>(getElementTypeOrSelf(part.getType())))
          part = b.create<arith::SIToFPOp>(f32v, part);
        Value scaled = b.create<arith::MulFOp>(part, scale);
        main[which][i] = b.create<arith::AddFOp>(main[which][i], scaled);
      }
    }
  }
  return main;
}

/// The mma of tile `kt` (in buffer `stage`) added to `acc`.
Accumulators Mainloop::compute(Idx stage, Idx kt, Accumulators acc) {
  const GemmTile &t = spec.tile;
  bool inTileGroups = plan.groupK && plan.groupK <= t.bk;
  Accumulators part = inTileGroups ? zeros(groupElemType()) : acc;
  SmallVector<Value> zeroPoints[2];
  Fragments frags;
  for (int64_t ks = 0; ks < plan.kSteps; ++ks) {
    int64_t k0 = ks * plan.kStepElems;
    // The zero points of the group this k-step starts.
    if (spec.bZeroPoints && (ks == 0 || k0 % spec.groupSize == 0)) {
      Idx g = (kt * t.bk + k0) / spec.groupSize;
      for (int64_t which = 0; which < plan.numB; ++which) {
        zeroPoints[which].clear();
        for (int64_t ni = 0; ni < plan.nTiles; ++ni) {
          Idx n = idx(ti.colBase) + idx(ti.warpN) * plan.warpN + ni * 8 +
                  idx(ti.lane) / 4;
          Value nV = n.v;
          if (plan.nGuard)
            nV = b.create<arith::MinUIOp>(nV, cst(spec.n - 1).v);
          zeroPoints[which].push_back(b.create<memref::LoadOp>(
              args.bs[which].zeroPoint, ValueRange{nV, g.v}));
        }
      }
    }
    loadFragments(stage, kt, ks, frags, zeroPoints);
    for (int64_t which = 0; which < plan.numB; ++which)
      for (int64_t mi = 0; mi < plan.mTiles; ++mi)
        for (int64_t ni = 0; ni < plan.nTiles; ++ni) {
          Value &c = part[which][mi * plan.nTiles + ni];
          c = mma(frags.a[mi], frags.b[which][ni], c);
        }
    if (inTileGroups && (k0 + plan.kStepElems) % plan.groupK == 0) {
      Idx g = kt * (t.bk / plan.groupK) + (k0 / plan.groupK);
      acc = flush(acc, part, g);
      part = zeros(groupElemType());
    }
  }
  return inTileGroups ? acc : part;
}

void gemm::prefetchStage(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                         const GemmArgs &args, const ThreadInfo &ti,
                         const SharedTiles &smem, Idx next) {
  Value pending = b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, next.v,
                                          constIdx(b, plan.numK).v);
  {
    auto ifOp = b.create<scf::IfOp>(pending, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    loadStage(b, plan, args, ti, smem, next, next % plan.spec->tile.stages);
  }
  b.create<NVVM::CpAsyncCommitGroupOp>();
}

/// One iteration of the k-loop: wait for tile kt, prefetch, compute.
Accumulators Mainloop::step(Idx kt, Accumulators acc) {
  const GemmTile &t = spec.tile;
  b.create<NVVM::CpAsyncWaitGroupOp>(t.stages - 2);
  b.create<gpu::BarrierOp>();
  prefetchStage(b, plan, args, ti, smem, kt + (t.stages - 1));
  return compute(kt % t.stages, kt, std::move(acc));
}

Accumulators Mainloop::emit() {
  const GemmTile &t = spec.tile;
  smem = allocateSharedTiles(b, plan);
  // Prologue: tiles 0 .. stages - 2, one group each.
  for (int64_t s = 0; s + 1 < t.stages; ++s) {
    if (s < plan.numK)
      loadStage(b, plan, args, ti, smem, cst(s), cst(s));
    b.create<NVVM::CpAsyncCommitGroupOp>();
  }
  bool outerGroups = plan.groupK > t.bk;
  Accumulators init = zeros(plan.groupK ? b.getF32Type() : accElemType());
  Accumulators result;
  if (!outerGroups) {
    auto loop = b.create<scf::ForOp>(cst(0).v, cst(plan.numK).v, cst(1).v,
                                     flatten(init));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Accumulators acc =
        step(idx(loop.getInductionVar()), unflatten(loop.getRegionIterArgs()));
    b.create<scf::YieldOp>(flatten(acc));
    b.setInsertionPointAfter(loop);
    result = unflatten(loop.getResults());
  } else {
    int64_t perGroup = plan.groupK / t.bk;
    auto outer = b.create<scf::ForOp>(cst(0).v, cst(plan.numK / perGroup).v,
                                      cst(1).v, flatten(init));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(outer.getBody());
    Idx g = idx(outer.getInductionVar());
    auto inner = b.create<scf::ForOp>(cst(0).v, cst(perGroup).v, cst(1).v,
                                      flatten(zeros(groupElemType())));
    {
      OpBuilder::InsertionGuard innerGuard(b);
      b.setInsertionPointToStart(inner.getBody());
      Idx kt = g * perGroup + idx(inner.getInductionVar());
      Accumulators part = step(kt, unflatten(inner.getRegionIterArgs()));
      b.create<scf::YieldOp>(flatten(part));
    }
    Accumulators acc = flush(unflatten(outer.getRegionIterArgs()),
                             unflatten(inner.getResults()), g);
    b.create<scf::YieldOp>(flatten(acc));
    b.setInsertionPointAfter(outer);
    result = unflatten(outer.getResults());
  }
  // No copy is in flight past the loop (the last groups are empty).
  b.create<NVVM::CpAsyncWaitGroupOp>(0);
  return result;
}

Accumulators gemm::emitMainloop(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                                const GemmArgs &args, const ThreadInfo &ti) {
  return Mainloop(b, plan, args, ti).emit();
}
