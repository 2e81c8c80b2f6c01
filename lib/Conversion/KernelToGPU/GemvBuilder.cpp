//===- GemvBuilder.cpp - Weight-streaming GEMM kernels for few tokens -----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// buildGemvKernel: the kernel a GEMM launch of at most `rows` tokens runs
// (decode). Such a launch reads every weight byte once and does little
// arithmetic per byte, so the kernel is built to stream the weights at
// memory bandwidth rather than to feed tensor cores:
//   - a block of `warps` warps covers `warps / kSplit` adjacent pairs of
//     output columns; the `kSplit` warps of a pair share its K;
//   - each lane reads one 16-byte vector of both weight rows of its pair
//     per step (8 bf16, 16 int8 / e4m3, or 32 int4 values) straight from
//     global memory, several steps' loads issued before their arithmetic;
//   - 8-bit and 4-bit weights are converted in registers with bit tricks:
//     a byte or nibble (sign bit flipped), masked in place and ORed into
//     the mantissa of 2^23, is the float 2^23 + (v + bias) * 2^p, from
//     which one fma (that also takes the zero point) gives the exact
//     integer: two logic ops and an fma a weight; s8 x s8 uses dp4a;
//   - group and block scales apply once per vector (a vector never
//     straddles a group), per-channel and per-token scales in the epilogue;
//   - lanes, then the warps of a pair (through shared memory), add their
//     sums; one thread per (pair, row) runs the tiled kernel's epilogue
//     (GemmEpilogue.cpp), so the output is the same function of the sums.
// Parameters are the tiled kernel's (KernelSpecs.h). Launch: block =
// {32 * warps, 1, 1}, gridTokenTile = rows, gridY = ceil(N / 2 / pairs).
//
//===----------------------------------------------------------------------===//

#include "GemmInternal.h"
#include "SimtUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::gemm;

/// x * y + z in f32, fused.
static Value fmaF32(ImplicitLocOpBuilder &b, Value x, Value y, Value z) {
  return b
      .create<LLVM::CallIntrinsicOp>(
          b.getF32Type(), b.getStringAttr("llvm.fma.f32"), ValueRange{x, y, z})
      .getResult(0);
}

/// e4m3 weights are decoded times 2^-120 (Emitter::decodeE4M3Scaled), two or
/// three integer operations a weight instead of the exact decode's six or
/// more; their sums are multiplied by 2^120 once: with the group scale, or
/// before the lanes' reduction. A product of an e4m3 activation (at least
/// 2^-9 in magnitude) and a scaled weight may be subnormal; f32 arithmetic
/// here keeps subnormals (no .ftz), and rounds such a product by at most
/// 2^-150: 2^-30 of the 2^-120 that an e4m3 unit of the sum is scaled to.
static constexpr double kFp8Unscale = 1.329227995784916e36; // 2^120

/// Steps of K (32 * kSplit vectors of each weight row) that a block asks
/// the L2 for before its grid dependencies complete, shared by the B
/// operands: 32 KiB a block of 8 warps, some 35 MB for the blocks of one
/// wave on 132 SMs, a little more than a kernel launch's gap of a few
/// microseconds streams, and well inside the 60 MB L2.
static constexpr int64_t kPrefetchSteps = 4;

namespace {
class Gemv {
public:
  Gemv(ImplicitLocOpBuilder &b, const GemmPlan &plan, const GemvShape &shape,
       const GemmArgs &args, Chip chip)
      : b(b), e(b, chip), plan(plan), spec(*plan.spec), shape(shape),
        args(args) {
    s8 = spec.kind == GemmKind::S8;
    fp8 = spec.kind == GemmKind::E4M3;
    bf16B = spec.kind == GemmKind::BF16;
    elems = bf16B ? 8 : plan.int4 ? 32 : 16;
    chunk = plan.bf16Mma ? 8 : 16;
    nVec = spec.k / elems;
    pairs = shape.warps / shape.kSplit;
    stride = 32 * shape.kSplit;
    steps = llvm::divideCeil(nVec, stride);
    accType = plan.intAcc ? Type(b.getI32Type()) : Type(b.getF32Type());
  }

  /// Emits the body; `scratch` is the workgroup buffer of the reduction.
  /// With `gridDependency`, the block prefetches its first weights, then
  /// waits for the kernels before it (prefetchThenWait).
  void emit(Value scratch, bool gridDependency);

  /// Values per lane: per B operand, per column of the pair, per row.
  int64_t numAcc() const { return plan.numB * 2 * shape.rows; }
  int64_t accIndex(int64_t which, int64_t c, int64_t r) const {
    return (which * 2 + c) * shape.rows + r;
  }
  Type accType;

private:
  Value idx(int64_t v) { return e.idx(v); }
  Value addI(Value x, Value y) { return b.createOrFold<arith::AddIOp>(x, y); }
  Value mulI(Value x, int64_t c) {
    return c == 1 ? x : b.createOrFold<arith::MulIOp>(x, idx(c));
  }
  Value minI(Value x, Value y) { return b.createOrFold<arith::MinUIOp>(x, y); }
  Value fma(Value x, Value y, Value z) { return fmaF32(b, x, y, z); }
  /// The raw 16-byte weight vector `vc` of column `col` of B operand `which`.
  Value loadWeight(int64_t which, Value col, Value vc);
  /// Elements [q * chunk, (q + 1) * chunk) of a raw weight vector: f32
  /// scalars minus `offset` (fp8), or the integer fields decoded with
  /// `fieldOffsets` (intFieldOffsets of the bias and zero point), or, for
  /// s8, the i32 words.
  SmallVector<Value> weightChunk(Value raw, int64_t q, Value offset,
                                 ArrayRef<Value> fieldOffsets);
  /// The same elements of row `row` of A: f32 scalars, or i32 words for s8.
  SmallVector<Value> activationChunk(Value row, Value vc, int64_t q);
  /// The group (or block) scale and zero point of the vector `vc`.
  void groupOperands(int64_t which, Value col, Value vc, Value &scale,
                     Value &offset);
  /// Threads t < 2 * pairs ask the L2 for the first kPrefetchSteps steps
  /// of weight row blockPair * 2 + t of each B operand (one contiguous run
  /// of each row, cp.async.bulk.prefetch.L2); then every thread waits for
  /// its grid dependencies and lets the next kernel launch.
  void prefetchThenWait(Value blockPair);
  /// One step: the contributions of vector `vc` (`raw` loaded) to `acc`.
  void accumulate(Value vc, ArrayRef<Value> raw, Value valid,
                  SmallVectorImpl<Value> &acc);

  ImplicitLocOpBuilder &b;
  simt::Emitter e;
  const GemmPlan &plan;
  const GemmSpec &spec;
  GemvShape shape;
  const GemmArgs &args;
  bool s8 = false, fp8 = false, bf16B = false;
  int64_t elems = 0, chunk = 0, nVec = 0, pairs = 0, stride = 0, steps = 0;
  Value rows[32];   ///< A row of each of the block's rows (clamped to m - 1)
  Value colLoad[2]; ///< the pair's weight rows (clamped to N - 2, N - 1)
};
} // namespace

Value Gemv::loadWeight(int64_t which, Value col, Value vc) {
  Value bm = args.bs[which].b;
  // B is [N, K] bf16 or i8, or [N, K / 2] i8 for int4: 16 bytes a vector.
  int64_t perVector = bf16B ? 8 : 16;
  return e.loadVec(bm, ValueRange{col, mulI(vc, perVector)}, perVector);
}

SmallVector<Value> Gemv::weightChunk(Value raw, int64_t q, Value offset,
                                     ArrayRef<Value> fieldOffsets) {
  SmallVector<Value> out;
  if (bf16B) {
    Value w = e.toF32(raw);
    for (int64_t i = 0; i < chunk; ++i)
      out.push_back(e.extract(w, i));
    return out;
  }
  auto words4 = VectorType::get({4}, b.getI32Type());
  Value words = b.create<vector::BitCastOp>(words4, raw);
  if (s8) {
    for (int64_t i = 0; i < 4; ++i)
      out.push_back(e.extract(words, i));
    return out;
  }
  if (fp8) {
    // Weights times 2^-120 (kFp8Unscale applies the 2^120 to the sums).
    Value f = e.decodeE4M3Scaled(raw);
    for (int64_t i = 0; i < chunk; ++i)
      out.push_back(e.extract(f, i));
    if (offset)
      for (Value &v : out)
        v = e.sub(v, e.mul(offset, e.f32(1.0 / kFp8Unscale)));
    return out;
  }
  // Integer weights (see decodeIntFields). Chunk q holds words
  // [q * chunk / perWord, ...): element i of the chunk is field
  // (i % perWord) of its word.
  int64_t bits = plan.int4 ? 4 : 8, perWord = 32 / bits;
  for (int64_t wi = 0; wi < chunk / perWord; ++wi)
    llvm::append_range(
        out, decodeIntFields(b, e, e.extract(words, q * chunk / perWord + wi),
                             bits, fieldOffsets));
  return out;
}

// The sign bit of every field flipped turns v into the unsigned u = v +
// 2^(bits - 1). A field left in place at bit p (p + bits <= 23), masked and
// ORed into the mantissa of 2^23, is the float 2^23 + u * 2^p, so that no
// shift is needed: one fma with 2^-p and -(2^(23 - p) + 2^(bits - 1) + zero
// point) gives the exact v - zero point. The fields above bit 20 (int4) or
// 16 (int8) are shifted down once per word.
static int64_t lowFields(int64_t bits) { return bits == 4 ? 5 : 2; }

SmallVector<Value> gemm::intFieldOffsets(ImplicitLocOpBuilder &b,
                                         simt::Emitter &e, int64_t bits,
                                         Value offset) {
  Value base = e.sub(offset, e.f32(8388608.0));
  SmallVector<Value> negOffsets;
  for (int64_t p = 0; p < lowFields(bits); ++p)
    negOffsets.push_back(
        e.sub(e.f32(0.0), e.add(base, e.f32(std::ldexp(1.0, 23 - bits * p)))));
  return negOffsets;
}

SmallVector<Value> gemm::decodeIntFields(ImplicitLocOpBuilder &b,
                                         simt::Emitter &e, Value word,
                                         int64_t bits,
                                         ArrayRef<Value> offsets) {
  int64_t perWord = 32 / bits, low = lowFields(bits);
  uint32_t signs = bits == 4 ? 0x88888888u : 0x80808080u;
  uint32_t mask = (1u << bits) - 1;
  word = b.create<arith::XOrIOp>(word, e.i32(static_cast<int32_t>(signs)));
  Value high = b.create<arith::ShRUIOp>(word, e.i32(bits * low));
  SmallVector<Value> out;
  for (int64_t j = 0; j < perWord; ++j) {
    int64_t p = j < low ? j : j - low;
    Value field = b.create<arith::AndIOp>(
        j < low ? word : high, e.i32(static_cast<int32_t>(mask << (bits * p))));
    field = b.create<arith::OrIOp>(field, e.i32(0x4B000000));
    Value f = b.create<arith::BitcastOp>(b.getF32Type(), field);
    out.push_back(
        p == 0 ? e.add(f, offsets[0])
               : fmaF32(b, f, e.f32(std::ldexp(1.0, -bits * p)), offsets[p]));
  }
  return out;
}

SmallVector<Value> Gemv::activationChunk(Value row, Value vc, int64_t q) {
  SmallVector<Value> out;
  Value k = addI(mulI(vc, elems), idx(q * chunk));
  if (plan.bf16Mma) {
    Value a = e.loadF32(args.a, ValueRange{row, k}, chunk);
    for (int64_t i = 0; i < chunk; ++i)
      out.push_back(e.extract(a, i));
    return out;
  }
  Value raw = e.loadVec(args.a, ValueRange{row, k}, 16);
  if (s8) {
    Value words =
        b.create<vector::BitCastOp>(VectorType::get({4}, b.getI32Type()), raw);
    for (int64_t i = 0; i < 4; ++i)
      out.push_back(e.extract(words, i));
    return out;
  }
  Value f = e.decodeE4M3(raw);
  for (int64_t i = 0; i < 16; ++i)
    out.push_back(e.extract(f, i));
  return out;
}

void Gemv::groupOperands(int64_t which, Value col, Value vc, Value &scale,
                         Value &offset) {
  const BOperand &op = args.bs[which];
  Value k = mulI(vc, elems);
  if (plan.groupK) {
    Value g = b.createOrFold<arith::DivUIOp>(k, idx(plan.groupK));
    Value r = col;
    if (spec.bScale == ScaleKind::Block)
      r = b.createOrFold<arith::DivUIOp>(col, idx(spec.blockN));
    scale = e.load(op.scale, ValueRange{r, g});
    if (op.zeroPoint)
      offset = e.add(offset, e.toF32(e.load(op.zeroPoint, ValueRange{col, g})));
  }
}

void Gemv::accumulate(Value vc, ArrayRef<Value> raw, Value valid,
                      SmallVectorImpl<Value> &acc) {
  int64_t R = shape.rows;
  int64_t numB = plan.numB;
  // Per column: its scale and the offset of its integer fields.
  Value scale[2][2], offset[2][2];
  double bias = plan.int4 ? 8388608.0 + 8 : 8388608.0 + 128;
  for (int64_t which = 0; which < numB; ++which)
    for (int64_t c = 0; c < 2; ++c) {
      scale[which][c] = nullptr;
      offset[which][c] = plan.weightOnly ? e.f32(bias) : nullptr;
      groupOperands(which, colLoad[c], vc, scale[which][c], offset[which][c]);
    }
  // Sums of this vector: straight into the accumulators, or, with group
  // scales, partial sums scaled at the end of the vector.
  bool partial = plan.groupK != 0;
  Type sumType = s8 ? Type(b.getI32Type()) : Type(b.getF32Type());
  SmallVector<Value> sums(numAcc());
  for (int64_t i = 0; i < numAcc(); ++i)
    sums[i] = partial ? e.constant(sumType, 0) : acc[i];
  // The integer fields' constants, once per column of the vector.
  SmallVector<Value> fieldOffsets[2][2];
  bool intFields = plan.weightOnly && !bf16B && !fp8;
  for (int64_t which = 0; which < numB; ++which)
    for (int64_t c = 0; c < 2 && intFields; ++c)
      fieldOffsets[which][c] =
          intFieldOffsets(b, e, plan.int4 ? 4 : 8, offset[which][c]);
  for (int64_t q = 0; q < elems / chunk; ++q) {
    SmallVector<Value> w[2][2];
    for (int64_t which = 0; which < numB; ++which)
      for (int64_t c = 0; c < 2; ++c)
        w[which][c] = weightChunk(raw[which * 2 + c], q, offset[which][c],
                                  fieldOffsets[which][c]);
    for (int64_t r = 0; r < R; ++r) {
      SmallVector<Value> a = activationChunk(rows[r], vc, q);
      for (int64_t which = 0; which < numB; ++which)
        for (int64_t c = 0; c < 2; ++c) {
          Value &s = sums[accIndex(which, c, r)];
          for (size_t i = 0; i < a.size(); ++i) {
            if (s8)
              s = b.create<LLVM::CallIntrinsicOp>(
                       b.getI32Type(), b.getStringAttr("llvm.nvvm.idp4a.s.s"),
                       ValueRange{a[i], w[which][c][i], s})
                      .getResult(0);
            else
              s = fma(a[i], w[which][c][i], s);
          }
        }
    }
  }
  for (int64_t which = 0; which < numB; ++which)
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t r = 0; r < R; ++r) {
        int64_t i = accIndex(which, c, r);
        Value next = sums[i];
        if (partial)
          next = e.add(acc[i],
                       e.mul(e.toF32(next),
                             fp8 ? e.mul(scale[which][c], e.f32(kFp8Unscale))
                                 : scale[which][c]));
        acc[i] = valid ? e.select(valid, next, acc[i]) : next;
      }
}

void Gemv::prefetchThenWait(Value blockPair) {
  int64_t perRow =
      std::min(nVec, std::max<int64_t>(1, kPrefetchSteps / plan.numB) * stride);
  Value tid = e.threadId();
  e.ifThen(
      b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, tid, idx(2 * pairs)),
      [&] {
        Value row = minI(addI(mulI(blockPair, 2), tid), idx(spec.n - 1));
        for (int64_t which = 0; which < plan.numB; ++which) {
          Value bm = args.bs[which].b;
          auto type = cast<MemRefType>(bm.getType());
          if (!type.getLayout().isIdentity() || type.getMemorySpace())
            continue;
          // Row `row` starts nVec 16-byte vectors a row into B.
          Value base = b.create<memref::ExtractAlignedPointerAsIndexOp>(bm);
          Value at = b.create<arith::IndexCastOp>(
              b.getI64Type(), addI(base, mulI(row, nVec * 16)));
          Value generic = b.create<LLVM::IntToPtrOp>(
              LLVM::LLVMPointerType::get(b.getContext()), at);
          Value global = b.create<LLVM::AddrSpaceCastOp>(
              LLVM::LLVMPointerType::get(b.getContext(), 1), generic);
          b.create<NVVM::CpAsyncBulkPrefetchOp>(global, e.i32(perRow * 16),
                                                Value());
        }
      });
  b.create<NVVM::GriddepcontrolOp>(NVVM::GridDepActionKind::wait);
  b.create<NVVM::GriddepcontrolOp>(NVVM::GridDepActionKind::launch_dependents);
}

void Gemv::emit(Value scratch, bool gridDependency) {
  Value tid = e.threadId();
  Value lane = e.laneId(), warp = e.warpId();
  Value pair = b.createOrFold<arith::RemUIOp>(warp, idx(pairs));
  Value slice = b.createOrFold<arith::DivUIOp>(warp, idx(pairs));
  Value blockPair = mulI(e.blockId(1), pairs);
  if (gridDependency)
    prefetchThenWait(blockPair);
  Value col = mulI(addI(blockPair, pair), 2);
  Value last = idx(spec.n - 2);
  colLoad[0] = minI(col, last);
  colLoad[1] = addI(colLoad[0], idx(1));
  Value m = b.create<arith::IndexCastOp>(b.getIndexType(), args.m);
  Value rowBase = mulI(e.blockId(0), shape.rows);
  Value lastRow = b.createOrFold<arith::SubIOp>(m, idx(1));
  for (int64_t r = 0; r < shape.rows; ++r)
    rows[r] = minI(addI(rowBase, idx(r)), lastRow);

  SmallVector<Value> acc(numAcc(), e.constant(accType, 0));
  bool guard = nVec % stride != 0;
  Value first = addI(mulI(slice, 32), lane);
  // Step s reads vector s * stride + slice * 32 + lane.
  auto step = [&](ArrayRef<Value> group, SmallVectorImpl<Value> &acc) {
    SmallVector<Value> vcs, valids;
    SmallVector<SmallVector<Value, 4>> raws;
    for (Value s : group) {
      Value v = addI(b.createOrFold<arith::MulIOp>(s, idx(stride)), first);
      Value valid;
      if (guard) {
        valid =
            b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, v, idx(nVec));
        v = minI(v, idx(nVec - 1));
      }
      vcs.push_back(v);
      valids.push_back(valid);
      SmallVector<Value, 4> raw;
      for (int64_t which = 0; which < plan.numB; ++which)
        for (int64_t c = 0; c < 2; ++c)
          raw.push_back(loadWeight(which, colLoad[c], v));
      raws.push_back(raw);
    }
    for (size_t u = 0; u < group.size(); ++u)
      accumulate(vcs[u], raws[u], valids[u], acc);
  };
  // Up to 4 steps' loads in flight; a short K is unrolled completely.
  int64_t unroll = steps % 4 == 0 ? 4 : steps % 2 == 0 ? 2 : 1;
  if (steps <= 8) {
    SmallVector<Value> all;
    for (int64_t s = 0; s < steps; ++s)
      all.push_back(idx(s));
    for (int64_t s = 0; s < steps; s += unroll)
      step(ArrayRef<Value>(all).slice(s, std::min(unroll, steps - s)), acc);
  } else {
    acc = e.forLoop(idx(0), idx(steps), idx(unroll), acc,
                    [&](Value s0, ValueRange iter) {
                      SmallVector<Value> a(iter.begin(), iter.end());
                      SmallVector<Value> ss;
                      for (int64_t u = 0; u < unroll; ++u)
                        ss.push_back(addI(s0, idx(u)));
                      step(ss, a);
                      return a;
                    });
  }

  // Lanes, then the warps of a pair: scratch[slice][pair][i].
  for (Value &v : acc) {
    if (fp8 && !plan.groupK)
      v = e.mul(v, e.f32(kFp8Unscale));
    v = e.warpReduce(v, simt::ReduceKind::Sum);
  }
  Value isLane0 =
      b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, lane, idx(0));
  e.ifThen(isLane0, [&] {
    for (int64_t i = 0; i < numAcc(); ++i)
      e.store(acc[i], scratch, ValueRange{slice, pair, idx(i)});
  });
  e.barrier();

  // Thread t < pairs * rows finishes row t % rows of pair t / rows.
  Value items = idx(pairs * shape.rows);
  e.ifThen(b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, tid, items), [&] {
    Value p = b.createOrFold<arith::DivUIOp>(tid, idx(shape.rows));
    Value r = b.createOrFold<arith::RemUIOp>(tid, idx(shape.rows));
    Value row = addI(rowBase, r);
    Value outCol = mulI(addI(blockPair, p), 2);
    Value inRange = b.create<arith::AndIOp>(
        b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, row, m),
        b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, outCol,
                                idx(spec.n)));
    e.ifThen(inRange, [&] {
      SmallVector<Value, 2> accPairs;
      for (int64_t which = 0; which < plan.numB; ++which) {
        Value sum[2];
        for (int64_t c = 0; c < 2; ++c) {
          // Element accIndex(which, c, r) = (which * 2 + c) * rows
          // + r of each slice.
          Value i = addI(idx((which * 2 + c) * shape.rows), r);
          sum[c] = e.load(scratch, ValueRange{idx(0), p, i});
          for (int64_t sl = 1; sl < shape.kSplit; ++sl)
            sum[c] = e.add(sum[c], e.load(scratch, ValueRange{idx(sl), p, i}));
        }
        accPairs.push_back(b.create<vector::FromElementsOp>(
            VectorType::get({2}, accType), ValueRange{sum[0], sum[1]}));
      }
      emitEpiloguePair(b, plan, args, row, outCol, accPairs);
    });
  });
}

FailureOr<LaunchConfig> mlir::qopt::codegen::buildGemvKernel(
    gpu::GPUModuleOp module, const GemmSpec &original, const GemvShape &shape,
    StringRef name, Chip chip, Location loc, bool gridDependency) {
  GemmSpec spec = original;
  spec.name = name.str();
  GemmPlan plan;
  if (failed(makeGemmPlan(spec, chip, loc, plan, /*untiled=*/true)))
    return failure();
  auto fail = [&]() {
    return emitError(loc) << "cannot generate weight-streaming GEMM kernel '"
                          << name << "' (N=" << spec.n << ", K=" << spec.k
                          << "): ";
  };
  if (shape.rows < 1 || shape.rows > 32)
    return fail() << "rows must be 1 to 32, got " << shape.rows;
  if (shape.warps < 1 || shape.warps > 32 || shape.kSplit < 1 ||
      shape.warps % shape.kSplit)
    return fail() << "warps (" << shape.warps << ") must be 1 to 32 and a "
                  << "multiple of k_split (" << shape.kSplit << ")";
  int64_t elems = spec.kind == GemmKind::BF16    ? 8
                  : spec.kind == GemmKind::W4A16 ? 32
                                                 : 16;
  if (spec.k % elems)
    return fail() << "K is not a multiple of the " << elems
                  << " weights of a 16-byte vector";
  if (plan.groupK && plan.groupK % elems)
    return fail() << "the weight group (" << plan.groupK
                  << ") is not a multiple of the " << elems
                  << " weights of a 16-byte vector";
  int64_t pairs = shape.warps / shape.kSplit;
  int64_t gridY = llvm::divideCeil(spec.n / 2, pairs);
  if (gridY > 65535)
    return fail() << gridY << " blocks of columns; at most 65535";

  OpBuilder ob(module.getContext());
  GemmArgs args;
  int64_t threads = 32 * shape.warps;
  if (failed(
          createGemmFunction(module, ob, plan, spec.name, threads, loc, args)))
    return failure();
  ImplicitLocOpBuilder b(loc, ob);
  Gemv gemv(b, plan, shape, args, chip);
  auto func = cast<gpu::GPUFuncOp>(b.getBlock()->getParentOp());
  Value scratch = func.addWorkgroupAttribution(
      simt::workgroupMemRef({shape.kSplit, pairs, gemv.numAcc()}, gemv.accType),
      loc);
  gemv.emit(scratch, gridDependency && chip == Chip::SM90a);
  b.create<gpu::ReturnOp>();

  LaunchConfig config;
  config.block = {threads, 1, 1};
  config.gridTokenTile = shape.rows;
  config.gridPerTile = 1;
  config.gridY = gridY;
  return config;
}
