//===- GemmEpilogue.cpp - Scales, bias, gating, residual, stores ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The GEMM epilogue, straight from the accumulator registers: lane (g, t)
// of the warp holds, per m16 x n8 tile, the column pair (2t, 2t + 1) of rows
// g and g + 8 (GemmLayout.h), so every value is computed and stored as a
// pair of adjacent columns. Per-column operands (scales, biases) are loaded
// once per n8 tile (column indices clamped to N - 2 when N is not a
// multiple of bn); the per-row operands, the arithmetic and the store of a
// pair run only for rows < m (and columns < N). The order of operations follows
// KernelSpecs.h:
//   S8:       float(acc + intBias[c]) * (aScale[r] * bScale[c])
//   others:   acc * (aScale[r] * bScale[c]) (absent factors dropped)
//   grouped:  (sum_g acc_g * bScale[c, g]) * aScale[r]
//   then + bias[c]; gated: silu(gate) * up, silu(x) = x / (1 + exp(-x))
//   with exp(-x) = ex2(-x * log2(e)) (ex2.approx); + residual[r, c];
//   stored as f32, bf16 (round to nearest even), i8 (sat(rne(y / s) + zp))
//   or e4m3 (cvt.rn.satfinite of y / s).
//
//===----------------------------------------------------------------------===//

#include "GemmInternal.h"
#include "qopt/Conversion/KernelToGPU/GemmLayout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::gemm;

namespace {
/// The per-column operands of one B operand for one n8 tile (pairs).
struct ColumnOperands {
  Value scale, intBias, bias; // vector<2xf32>, vector<2xi32>, vector<2xf32>
};

class Epilogue {
public:
  Epilogue(ImplicitLocOpBuilder &b, const GemmPlan &plan, const GemmArgs &args,
           const ThreadInfo &ti)
      : b(b), plan(plan), spec(*plan.spec), args(args), ti(ti) {}

  void emit(const Accumulators &acc);
  /// Loads the per-tensor operands (once, before any pair).
  void prepare();
  /// Rows < m, columns < N: the pair (row, col), (row, col + 1) from one
  /// accumulator pair per B operand, with per-column operands loaded here.
  void pair(Value row, Value col, ArrayRef<Value> accPairs);

private:
  Idx idx(Value v) { return {&b, v}; }
  Idx cst(int64_t c) { return constIdx(b, c); }
  VectorType pairType(Type elem) { return VectorType::get({2}, elem); }
  Value scalar(Value memref) {
    return b.create<memref::LoadOp>(memref, ValueRange{cst(0).v});
  }
  Value splat(Value x) {
    return b.create<vector::BroadcastOp>(pairType(x.getType()), x);
  }
  Value pairLoad(Value memref, Type elem, ValueRange indices) {
    // Pairs start at even columns of even-sized rows: aligned to the pair.
    return b.create<vector::LoadOp>(
        pairType(elem), memref, indices, /*nontemporal=*/false,
        b.getI64IntegerAttr(2 * elem.getIntOrFloatBitWidth() / 8));
  }
  Value f32Const(double v) {
    VectorType type = pairType(b.getF32Type());
    return b.create<arith::ConstantOp>(
        type, DenseElementsAttr::get(type, static_cast<float>(v)));
  }
  Value exp2Approx(Value x);
  Value value(int64_t which, Value accPair, Value rowScale,
              const ColumnOperands &cols);
  void store(Value y, Value row, Value col);
  /// The per-column operands of the pair at `colLoad` (clamped in range).
  void loadColumns(Value colLoad, ColumnOperands cols[2]);
  /// Row scale, values, gating, residual and the store of one pair.
  void finishPair(Value row, Value col, ArrayRef<Value> accPairs,
                  const ColumnOperands cols[2]);

  ImplicitLocOpBuilder &b;
  const GemmPlan &plan;
  const GemmSpec &spec;
  const GemmArgs &args;
  const ThreadInfo &ti;
  Value aScaleTensor, bScaleTensor[2];
  Value outScale, outZeroPoint;
};
} // namespace

/// 2^x per element of a pair (ex2.approx.ftz).
Value Epilogue::exp2Approx(Value x) {
  Type f32 = b.getF32Type();
  SmallVector<Value> out;
  for (int64_t i = 0; i < 2; ++i) {
    Value xi = b.create<vector::ExtractOp>(x, ArrayRef<int64_t>{i});
    out.push_back(
        b.create<LLVM::CallIntrinsicOp>(
             f32, b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"), ValueRange{xi})
            .getResult(0));
  }
  return b.create<vector::FromElementsOp>(pairType(f32), out);
}

/// y of B operand `which` before gating (and before the residual).
Value Epilogue::value(int64_t which, Value accPair, Value rowScale,
                      const ColumnOperands &cols) {
  Type f32 = b.getF32Type();
  Value y = accPair;
  if (plan.intAcc) {
    if (cols.intBias)
      y = b.create<arith::AddIOp>(y, cols.intBias);
    y = b.create<arith::SIToFPOp>(pairType(f32), y);
  }
  if (plan.groupK) {
    if (rowScale)
      y = b.create<arith::MulFOp>(y, rowScale);
  } else {
    Value colScale = cols.scale ? cols.scale : bScaleTensor[which];
    Value s = rowScale;
    if (s && colScale)
      s = b.create<arith::MulFOp>(s, colScale);
    else if (colScale)
      s = colScale;
    if (s)
      y = b.create<arith::MulFOp>(y, s);
  }
  if (cols.bias)
    y = b.create<arith::AddFOp>(y, cols.bias);
  return y;
}

/// Converts the pair to the output type and stores it at out[row, col].
void Epilogue::store(Value y, Value row, Value col) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  Value stored;
  switch (spec.outType) {
  case ElemType::BF16:
    stored = b.create<arith::TruncFOp>(pairType(b.getBF16Type()), y);
    break;
  case ElemType::I8: {
    Value v = b.create<arith::DivFOp>(y, splat(outScale));
    // Bounded first so that adding the zero point cannot overflow; the
    // bound is far outside [-128, 127] - zp.
    v = b.create<arith::MaximumFOp>(v, f32Const(-1024.0));
    v = b.create<arith::MinimumFOp>(v, f32Const(1024.0));
    SmallVector<Value> q;
    for (int64_t i = 0; i < 2; ++i) {
      Value vi = b.create<vector::ExtractOp>(v, ArrayRef<int64_t>{i});
      // cvt.rni.s32.f32: round to nearest even.
      Value r = b.create<LLVM::CallIntrinsicOp>(
                     i32, b.getStringAttr("llvm.nvvm.f2i.rn"), ValueRange{vi})
                    .getResult(0);
      if (outZeroPoint)
        r = b.create<arith::AddIOp>(r, outZeroPoint);
      int64_t lo = spec.outAsymmetric ? -128 : -127;
      r = b.create<arith::MaxSIOp>(r, b.create<arith::ConstantIntOp>(i32, lo));
      r = b.create<arith::MinSIOp>(r, b.create<arith::ConstantIntOp>(i32, 127));
      q.push_back(b.create<arith::TruncIOp>(b.getI8Type(), r));
    }
    stored = b.create<vector::FromElementsOp>(pairType(b.getI8Type()), q);
    break;
  }
  case ElemType::F8E4M3: {
    Value v = b.create<arith::DivFOp>(y, splat(outScale));
    Value v0 = b.create<vector::ExtractOp>(v, ArrayRef<int64_t>{0});
    Value v1 = b.create<vector::ExtractOp>(v, ArrayRef<int64_t>{1});
    // cvt.rn.satfinite.e4m3x2.f32 d, a, b puts a in the high byte: the
    // byte vector is {b, a}, so b is the even column.
    stored = b.create<NVVM::ConvertF32x2ToF8x2Op>(
        pairType(b.getI8Type()), v1, v0, NVVM::FPRoundingMode::RN,
        NVVM::SaturationMode::SATFINITE, /*relu=*/false,
        b.getType<Float8E4M3FNType>());
    break;
  }
  default:
    stored = y;
    (void)f32;
    break;
  }
  Type elem = getElementTypeOrSelf(stored.getType());
  b.create<vector::StoreOp>(
      stored, args.out, ValueRange{row, col}, /*nontemporal=*/false,
      b.getI64IntegerAttr(2 * elem.getIntOrFloatBitWidth() / 8));
}

void Epilogue::prepare() {
  if (spec.aScale == ScaleKind::PerTensor)
    aScaleTensor = splat(scalar(args.aScale));
  if (spec.bScale == ScaleKind::PerTensor)
    for (int64_t which = 0; which < plan.numB; ++which)
      bScaleTensor[which] = splat(scalar(args.bs[which].scale));
  if (args.outScale)
    outScale = scalar(args.outScale);
  if (args.outZeroPoint)
    outZeroPoint = scalar(args.outZeroPoint);
}

void Epilogue::emit(const Accumulators &acc) {
  const GemmTile &t = spec.tile;
  Idx lane = idx(ti.lane);
  prepare();
  for (int64_t ni = 0; ni < plan.nTiles; ++ni) {
    Coord<Idx> c0 = accumulator(lane, 0);
    Idx colI = idx(ti.colBase) + idx(ti.warpN) * plan.warpN + ni * 8 + c0.col;
    Value col = colI.v, colLoad = col;
    if (plan.nGuard)
      colLoad = b.create<arith::MinUIOp>(col, cst(spec.n - 2).v);
    ColumnOperands cols[2];
    loadColumns(colLoad, cols);
    for (int64_t mi = 0; mi < plan.mTiles; ++mi) {
      for (int64_t half = 0; half < 2; ++half) {
        Coord<Idx> c = accumulator(lane, 2 * half);
        Idx rowI =
            idx(ti.rowBase) + idx(ti.warpM) * plan.warpM + mi * 16 + c.row;
        Value row = rowI.v;
        Value inRange =
            b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, row, ti.m);
        if (plan.nGuard)
          inRange = b.create<arith::AndIOp>(
              inRange, b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, col,
                                               cst(spec.n).v));
        auto ifOp = b.create<scf::IfOp>(inRange, /*withElseRegion=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        SmallVector<Value, 2> pairs;
        for (int64_t which = 0; which < plan.numB; ++which) {
          Value tile = acc[which][mi * plan.nTiles + ni];
          pairs.push_back(b.create<vector::FromElementsOp>(
              pairType(getElementTypeOrSelf(tile.getType())),
              ValueRange{b.create<vector::ExtractOp>(
                             tile, ArrayRef<int64_t>{2 * half}),
                         b.create<vector::ExtractOp>(
                             tile, ArrayRef<int64_t>{2 * half + 1})}));
        }
        finishPair(row, col, pairs, cols);
      }
    }
  }
  (void)t;
}

void Epilogue::loadColumns(Value colLoad, ColumnOperands cols[2]) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  for (int64_t which = 0; which < plan.numB; ++which) {
    const BOperand &op = args.bs[which];
    if (spec.bScale == ScaleKind::PerChannel && !plan.groupK)
      cols[which].scale = pairLoad(op.scale, f32, {colLoad});
    if (op.intBias)
      cols[which].intBias = pairLoad(op.intBias, i32, {colLoad});
    if (op.bias)
      cols[which].bias = pairLoad(op.bias, f32, {colLoad});
  }
}

void Epilogue::finishPair(Value row, Value col, ArrayRef<Value> accPairs,
                          const ColumnOperands cols[2]) {
  Type f32 = b.getF32Type();
  Value rowScale = aScaleTensor;
  if (spec.aScale == ScaleKind::PerToken)
    rowScale = splat(b.create<memref::LoadOp>(args.aScale, ValueRange{row}));
  Value ys[2];
  for (int64_t which = 0; which < plan.numB; ++which)
    ys[which] = value(which, accPairs[which], rowScale, cols[which]);
  Value y = ys[0];
  if (spec.gated) {
    // silu(g) = g / (1 + 2^(-g * log2(e))).
    Value neg = b.create<arith::MulFOp>(ys[0], f32Const(-M_LOG2E));
    Value den = b.create<arith::AddFOp>(f32Const(1.0), exp2Approx(neg));
    Value silu = b.create<arith::DivFOp>(ys[0], den);
    y = b.create<arith::MulFOp>(silu, ys[1]);
  }
  if (args.residual)
    y = b.create<arith::AddFOp>(y, pairLoad(args.residual, f32, {row, col}));
  store(y, row, col);
}

void Epilogue::pair(Value row, Value col, ArrayRef<Value> accPairs) {
  ColumnOperands cols[2];
  loadColumns(col, cols);
  finishPair(row, col, accPairs, cols);
}

void gemm::emitEpiloguePair(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                            const GemmArgs &args, Value row, Value col,
                            ArrayRef<Value> accPairs) {
  ThreadInfo ti;
  Epilogue e(b, plan, args, ti);
  e.prepare();
  e.pair(row, col, accPairs);
}

void gemm::emitEpilogue(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                        const GemmArgs &args, const ThreadInfo &ti,
                        const Accumulators &acc) {
  Epilogue(b, plan, args, ti).emit(acc);
}
