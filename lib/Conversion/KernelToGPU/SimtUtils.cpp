//===- SimtUtils.cpp - Helpers of the CUDA-core kernel builders -----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "SimtUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/bit.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::simt;

Type simt::toMlirType(MLIRContext *ctx, ElemType t) {
  Builder b(ctx);
  switch (t) {
  case ElemType::F32:
    return b.getF32Type();
  case ElemType::BF16:
    return b.getBF16Type();
  case ElemType::F16:
    return b.getF16Type();
  case ElemType::I8:
  case ElemType::I4x2:
    return b.getI8Type();
  case ElemType::F8E4M3:
    return b.getType<Float8E4M3FNType>();
  case ElemType::I32:
    return b.getI32Type();
  }
  return {};
}

int64_t simt::byteSize(ElemType t) {
  switch (t) {
  case ElemType::F32:
  case ElemType::I32:
    return 4;
  case ElemType::BF16:
  case ElemType::F16:
    return 2;
  case ElemType::I8:
  case ElemType::F8E4M3:
  case ElemType::I4x2:
    return 1;
  }
  return 1;
}

const char *simt::elemTypeName(ElemType t) {
  switch (t) {
  case ElemType::F32:
    return "f32";
  case ElemType::BF16:
    return "bf16";
  case ElemType::F16:
    return "f16";
  case ElemType::I8:
    return "i8";
  case ElemType::F8E4M3:
    return "e4m3";
  case ElemType::I4x2:
    return "i4x2";
  case ElemType::I32:
    return "i32";
  }
  return "?";
}

MemRefType simt::globalMemRef(ArrayRef<int64_t> shape, Type elem) {
  MLIRContext *ctx = elem.getContext();
  return MemRefType::get(
      shape, elem, MemRefLayoutAttrInterface{},
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Global));
}

MemRefType simt::workgroupMemRef(ArrayRef<int64_t> shape, Type elem) {
  MLIRContext *ctx = elem.getContext();
  return MemRefType::get(
      shape, elem, MemRefLayoutAttrInterface{},
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup));
}

int64_t simt::vectorWidth(int64_t n, int64_t elemBytes, int64_t maxBytes) {
  for (int64_t w : {8, 4, 2})
    if (n % w == 0 && w * elemBytes <= maxBytes)
      return w;
  return 1;
}

LogicalResult simt::checkKernelName(gpu::GPUModuleOp module, StringRef name,
                                    Location loc) {
  if (name.empty())
    return emitError(loc) << "kernel spec has no name";
  if (SymbolTable::lookupSymbolIn(module, name))
    return emitError(loc) << "kernel '" << name
                          << "': the GPU module already has a symbol of "
                             "that name";
  return success();
}

//===----------------------------------------------------------------------===//
// KernelShell
//===----------------------------------------------------------------------===//

KernelShell::KernelShell(gpu::GPUModuleOp module, StringRef name,
                         TypeRange params, TypeRange workgroup,
                         int64_t blockThreads, Location loc)
    : b(loc, module.getContext()), numParams(params.size()) {
  Block *body = module.getBody();
  if (!body->empty() && body->back().hasTrait<OpTrait::IsTerminator>())
    b.setInsertionPoint(&body->back());
  else
    b.setInsertionPointToEnd(body);
  auto fn = gpu::GPUFuncOp::create(
      b, name, FunctionType::get(module.getContext(), params, {}), workgroup);
  fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  fn.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(blockThreads), 1, 1}));
  func = fn;
  b.setInsertionPointToStart(&fn.getBody().front());
}

Value KernelShell::param(unsigned i) const {
  return cast<gpu::GPUFuncOp>(func).getArgument(i);
}

Value KernelShell::workgroup(unsigned i) const {
  return cast<gpu::GPUFuncOp>(func).getWorkgroupAttributions()[i];
}

void KernelShell::finish() { gpu::ReturnOp::create(b); }

void KernelShell::setClusterZ(int64_t z) {
  cast<gpu::GPUFuncOp>(func).setKnownClusterSizeAttr(
      b.getDenseI32ArrayAttr({1, 1, static_cast<int32_t>(z)}));
}

//===----------------------------------------------------------------------===//
// Constants and arithmetic
//===----------------------------------------------------------------------===//

/// The LLVM name suffix of a float scalar or vector type ("f32", "v4f32").
static std::string typeSuffix(Type t) {
  std::string elem =
      "f" + std::to_string(getElementTypeOrSelf(t).getIntOrFloatBitWidth());
  if (auto vt = dyn_cast<VectorType>(t))
    return "v" + std::to_string(vt.getNumElements()) + elem;
  return elem;
}

/// Calls the LLVM / NVVM intrinsic `name` returning the type of `args[0]`.
static Value intrinsic(ImplicitLocOpBuilder &b, StringRef name,
                       ValueRange args) {
  return LLVM::CallIntrinsicOp::create(b, args[0].getType(),
                                       b.getStringAttr(name), args)
      .getResult(0);
}

static bool isFloatLike(Value v) {
  return isa<FloatType>(getElementTypeOrSelf(v.getType()));
}

/// `elem` in the shape of `like` (a vector type or a scalar).
static Type sameShape(Type like, Type elem) {
  if (auto vt = dyn_cast<VectorType>(like))
    return VectorType::get(vt.getShape(), elem);
  return elem;
}

Value Emitter::idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
Value Emitter::i32(int64_t v) {
  return arith::ConstantOp::create(b, b.getI32IntegerAttr(v));
}
Value Emitter::f32(double v) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
}
Value Emitter::f64(double v) {
  return arith::ConstantOp::create(b, b.getF64FloatAttr(v));
}

Value Emitter::constant(Type type, double v) {
  Type elem = getElementTypeOrSelf(type);
  TypedAttr attr;
  if (auto ft = dyn_cast<FloatType>(elem))
    attr = b.getFloatAttr(ft, v);
  else
    attr = b.getIntegerAttr(elem, static_cast<int64_t>(v));
  if (auto vt = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, DenseElementsAttr::get(vt, attr));
  return arith::ConstantOp::create(b, attr);
}

Value Emitter::splat(Value v, int64_t n) {
  return vector::BroadcastOp::create(b, VectorType::get({n}, v.getType()), v);
}

Value Emitter::extract(Value vec, int64_t i) {
  return vector::ExtractOp::create(b, vec, i);
}

Value Emitter::insert(Value scalar, Value vec, int64_t i) {
  return vector::InsertOp::create(b, scalar, vec, i);
}

Value Emitter::add(Value x, Value y) {
  if (isFloatLike(x))
    return arith::AddFOp::create(b, x, y);
  return arith::AddIOp::create(b, x, y);
}
Value Emitter::sub(Value x, Value y) {
  if (isFloatLike(x))
    return arith::SubFOp::create(b, x, y);
  return arith::SubIOp::create(b, x, y);
}
Value Emitter::mul(Value x, Value y) {
  if (isFloatLike(x))
    return arith::MulFOp::create(b, x, y);
  return arith::MulIOp::create(b, x, y);
}
Value Emitter::div(Value x, Value y) {
  if (isFloatLike(x))
    return arith::DivFOp::create(b, x, y);
  return arith::DivUIOp::create(b, x, y);
}
Value Emitter::rem(Value x, Value y) { return arith::RemUIOp::create(b, x, y); }
// Float min / max are intrinsics: the GPU lowering turns arith.minnumf and
// arith.maxnumf into libdevice calls.
Value Emitter::min(Value x, Value y) {
  if (isFloatLike(x))
    return intrinsic(b, "llvm.minnum." + typeSuffix(x.getType()), {x, y});
  return arith::MinSIOp::create(b, x, y);
}
Value Emitter::max(Value x, Value y) {
  if (isFloatLike(x))
    return intrinsic(b, "llvm.maxnum." + typeSuffix(x.getType()), {x, y});
  return arith::MaxSIOp::create(b, x, y);
}
Value Emitter::minimum(Value x, Value y) {
  return intrinsic(b, "llvm.minimum." + typeSuffix(x.getType()), {x, y});
}
Value Emitter::maximum(Value x, Value y) {
  return intrinsic(b, "llvm.maximum." + typeSuffix(x.getType()), {x, y});
}
Value Emitter::abs(Value x) {
  // The sign bit cleared (math.absf would become a libdevice call).
  Type i32 = b.getI32Type();
  Type bits = sameShape(x.getType(), i32);
  Value mask = constant(bits, double(0x7FFFFFFF));
  return arith::BitcastOp::create(
      b, x.getType(), andi(arith::BitcastOp::create(b, bits, x), mask));
}
Value Emitter::neg(Value x) { return arith::NegFOp::create(b, x); }
Value Emitter::select(Value c, Value x, Value y) {
  return arith::SelectOp::create(b, c, x, y);
}
Value Emitter::andi(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
Value Emitter::ori(Value x, Value y) { return arith::OrIOp::create(b, x, y); }

static Value compare(ImplicitLocOpBuilder &b, Value x, Value y,
                     arith::CmpFPredicate fp, arith::CmpIPredicate ip) {
  if (isFloatLike(x))
    return arith::CmpFOp::create(b, fp, x, y);
  return arith::CmpIOp::create(b, ip, x, y);
}
Value Emitter::lt(Value x, Value y) {
  return compare(b, x, y, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt);
}
Value Emitter::le(Value x, Value y) {
  return compare(b, x, y, arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle);
}
Value Emitter::gt(Value x, Value y) {
  return compare(b, x, y, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt);
}
Value Emitter::ge(Value x, Value y) {
  return compare(b, x, y, arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge);
}
Value Emitter::eq(Value x, Value y) {
  return compare(b, x, y, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq);
}
Value Emitter::isNaN(Value x) {
  return arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, x, x);
}

Value Emitter::toIndex(Value v) {
  return arith::IndexCastOp::create(b, b.getIndexType(), v);
}
Value Emitter::toI32(Value v) {
  return arith::IndexCastOp::create(b, b.getI32Type(), v);
}

static Value toFloat(ImplicitLocOpBuilder &b, Value v, FloatType to) {
  Type elem = getElementTypeOrSelf(v.getType());
  if (elem == to)
    return v;
  Type type = sameShape(v.getType(), to);
  if (auto ft = dyn_cast<FloatType>(elem)) {
    if (ft.getWidth() < to.getWidth())
      return arith::ExtFOp::create(b, type, v);
    return arith::TruncFOp::create(b, type, v);
  }
  return arith::SIToFPOp::create(b, type, v);
}
Value Emitter::toF32(Value v) { return toFloat(b, v, b.getF32Type()); }
Value Emitter::toF64(Value v) { return toFloat(b, v, b.getF64Type()); }
Value Emitter::truncF32(Value v) { return toFloat(b, v, b.getF32Type()); }

static Value f32Bits(Emitter &e, uint32_t bits) {
  return e.f32(static_cast<double>(llvm::bit_cast<float>(bits)));
}

/// The float32 exp of libdevice's __nv_expf, instruction for instruction:
/// a * log2(e) = k + f with k from a saturated fma (rounding down), then
/// ex2.approx.ftz(f) * 2^k (at most 2 ulp from exp).
static Value expScalar(Emitter &e, Value a) {
  ImplicitLocOpBuilder &b = e.b;
  Value t =
      intrinsic(b, "llvm.fma.f32", {a, f32Bits(e, 0x3BBB989D), e.f32(0.5)});
  t = intrinsic(b, "llvm.nvvm.saturate.f", {t});
  Value j = intrinsic(b, "llvm.nvvm.fma.rm.f",
                      {t, f32Bits(e, 0x437C0000), f32Bits(e, 0x4B400001)});
  Value k = e.add(j, f32Bits(e, 0xCB40007F));
  Value f = intrinsic(b, "llvm.fma.f32", {a, f32Bits(e, 0x3FB8AA3B), e.neg(k)});
  f = intrinsic(b, "llvm.fma.f32", {a, f32Bits(e, 0x32A57060), f});
  Value p = intrinsic(b, "llvm.nvvm.ex2.approx.ftz.f", {f});
  Value jBits = arith::BitcastOp::create(b, b.getI32Type(), j);
  Value scale = arith::BitcastOp::create(
      b, b.getF32Type(), arith::ShLIOp::create(b, jBits, e.i32(23)));
  return e.mul(p, scale);
}

Value Emitter::exp(Value v) {
  auto vt = dyn_cast<VectorType>(v.getType());
  if (!vt)
    return expScalar(*this, v);
  Value result = v;
  for (int64_t i = 0; i < vt.getNumElements(); ++i)
    result = insert(expScalar(*this, extract(v, i)), result, i);
  return result;
}

Value Emitter::sqrtRn(Value v) {
  // math.sqrt becomes libdevice's __nv_sqrtf, which is sqrt.approx unless
  // the module asks for IEEE square roots; the intrinsic is sqrt.rn.f32.
  return intrinsic(b, "llvm.nvvm.sqrt.rn.f", {v});
}

Value Emitter::roundEven(Value v) {
  return intrinsic(b, "llvm.roundeven." + typeSuffix(v.getType()), {v});
}

Value Emitter::threadId() {
  return gpu::ThreadIdOp::create(b, gpu::Dimension::x);
}
Value Emitter::blockId(int dim) {
  gpu::Dimension d = dim == 0   ? gpu::Dimension::x
                     : dim == 1 ? gpu::Dimension::y
                                : gpu::Dimension::z;
  return gpu::BlockIdOp::create(b, d);
}
Value Emitter::laneId() { return rem(threadId(), idx(32)); }
Value Emitter::warpId() { return div(threadId(), idx(32)); }
void Emitter::barrier() { gpu::BarrierOp::create(b); }

void Emitter::clusterBarrier() {
  NVVM::ClusterArriveOp::create(b, UnitAttr());
  NVVM::ClusterWaitOp::create(b, UnitAttr());
}

Value Emitter::loadClusterF32(Value buf, Value index, Value rank) {
  MLIRContext *ctx = b.getContext();
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, buf);
  Value addr = add(base, mul(index, idx(4)));
  Value addr64 = arith::IndexCastOp::create(b, b.getI64Type(), addr);
  Value local =
      LLVM::IntToPtrOp::create(b, LLVM::LLVMPointerType::get(ctx, 3), addr64);
  if (rank.getType().isIndex())
    rank = toI32(rank);
  Value remote =
      NVVM::MapaOp::create(b, LLVM::LLVMPointerType::get(ctx, 7), local, rank);
  return LLVM::LoadOp::create(b, b.getF32Type(), remote);
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

void Emitter::forLoop(Value lb, Value ub, Value step,
                      function_ref<void(Value)> body) {
  forLoop(lb, ub, step, {}, [&](Value iv, ValueRange) {
    body(iv);
    return SmallVector<Value>{};
  });
}

SmallVector<Value>
Emitter::forLoop(Value lb, Value ub, Value step, ValueRange init,
                 function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto loop = scf::ForOp::create(
      b, lb, ub, step, init,
      [&](OpBuilder &nested, Location, Value iv, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> results = body(iv, args);
        scf::YieldOp::create(b, results);
      });
  return SmallVector<Value>(loop.getResults());
}

/// Positions `b` for appending to `block`: before its terminator if it has
/// one. Returns whether it had one.
static bool positionInBlock(ImplicitLocOpBuilder &b, Block *block) {
  if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>()) {
    b.setInsertionPoint(&block->back());
    return true;
  }
  b.setInsertionPointToEnd(block);
  return false;
}

void Emitter::ifThen(Value cond, function_ref<void()> then) {
  auto op = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  if (!positionInBlock(b, op.thenBlock())) {
    then();
    scf::YieldOp::create(b);
    return;
  }
  then();
}

SmallVector<Value>
Emitter::ifThenElse(Value cond, TypeRange types,
                    function_ref<SmallVector<Value>()> then,
                    function_ref<SmallVector<Value>()> otherwise) {
  auto op = scf::IfOp::create(b, types, cond, /*withElseRegion=*/true);
  for (auto [block, fn] : {std::pair{op.thenBlock(), then},
                           std::pair{op.elseBlock(), otherwise}}) {
    OpBuilder::InsertionGuard guard(b);
    if (positionInBlock(b, block))
      block->back().erase();
    b.setInsertionPointToEnd(block);
    SmallVector<Value> results = fn();
    scf::YieldOp::create(b, results);
  }
  return SmallVector<Value>(op.getResults());
}

SmallVector<Value> Emitter::forEachChunk(
    Value tid, int64_t threads, int64_t chunks, ValueRange init,
    function_ref<SmallVector<Value>(Value, Value, ValueRange)> body,
    int64_t maxUnroll) {
  int64_t iters = (chunks + threads - 1) / threads;
  if (iters > maxUnroll)
    return forLoop(
        tid, idx(chunks), idx(threads), init,
        [&](Value c, ValueRange args) { return body(c, Value(), args); });
  SmallVector<Value> values(init);
  for (int64_t i = 0; i < iters; ++i) {
    Value c = i == 0 ? tid : add(tid, idx(i * threads));
    Value valid;
    if ((i + 1) * threads > chunks) {
      valid = lt(c, idx(chunks));
      c = min(c, idx(chunks - 1));
    }
    values = body(c, valid, values);
  }
  return values;
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

Value Emitter::load(Value memref, ValueRange indices) {
  return memref::LoadOp::create(b, memref, indices);
}
void Emitter::store(Value v, Value memref, ValueRange indices) {
  memref::StoreOp::create(b, v, memref, indices);
}

static unsigned elementBytes(Type t) {
  return std::max(1u, getElementTypeOrSelf(t).getIntOrFloatBitWidth() / 8);
}

Value Emitter::loadVec(Value memref, ValueRange indices, int64_t n) {
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  auto vt = VectorType::get({n}, elem);
  int64_t align = std::min<int64_t>(16, n * elementBytes(elem));
  return vector::LoadOp::create(b, vt, memref, indices, /*nontemporal=*/false,
                                llvm::MaybeAlign(align));
}

void Emitter::storeVec(Value v, Value memref, ValueRange indices) {
  auto vt = cast<VectorType>(v.getType());
  int64_t align = std::min<int64_t>(16, vt.getNumElements() * elementBytes(vt));
  vector::StoreOp::create(b, v, memref, indices, /*nontemporal=*/false,
                          llvm::MaybeAlign(align));
}

Value Emitter::loadF32(Value memref, ValueRange indices, int64_t n) {
  return toF32(loadVec(memref, indices, n));
}

void Emitter::storeF32(Value v, Value memref, ValueRange indices) {
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  storeVec(toFloat(b, v, cast<FloatType>(elem)), memref, indices);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

Value Emitter::vectorReduce(Value v, ReduceKind kind) {
  return vector::ReductionOp::create(b,
                                     kind == ReduceKind::Sum
                                         ? vector::CombiningKind::ADD
                                         : vector::CombiningKind::MAXNUMF,
                                     v);
}

Value Emitter::shuffleXor(Value v, int32_t offset) {
  return gpu::ShuffleOp::create(b, v, offset, 32, gpu::ShuffleMode::XOR)
      .getShuffleResult();
}

Value Emitter::warpReduce(Value v, ReduceKind kind) {
  for (int32_t offset = 16; offset > 0; offset /= 2) {
    Value other = shuffleXor(v, offset);
    v = kind == ReduceKind::Sum ? add(v, other) : max(v, other);
  }
  return v;
}

Value Emitter::blockReduce(Value v, ReduceKind kind, Value scratch,
                           int64_t numWarps) {
  v = warpReduce(v, kind);
  if (numWarps == 1)
    return v;
  Value lane = laneId(), warp = warpId();
  ifThen(eq(lane, idx(0)), [&] { store(v, scratch, {warp}); });
  barrier();
  Value r = load(scratch, {min(lane, idx(numWarps - 1))});
  if (numWarps < 32) {
    double identity = kind == ReduceKind::Sum
                          ? 0.0
                          : -std::numeric_limits<double>::infinity();
    r = select(lt(lane, idx(numWarps)), r, constant(v.getType(), identity));
  }
  return warpReduce(r, kind);
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

Value Emitter::dynamicScale(Value absmax, double qmax) {
  Value finite = andi(gt(absmax, f32(0.0)),
                      lt(absmax, f32(std::numeric_limits<double>::infinity())));
  return select(finite, div(absmax, f32(qmax)), f32(1.0));
}

static int64_t numElements(Value v) {
  return cast<VectorType>(v.getType()).getNumElements();
}

Value Emitter::quantizeInt8(Value x, Value scale, Value zp, int64_t qmin,
                            int64_t qmax) {
  int64_t n = numElements(x);
  Value s = div(x, splat(scale, n));
  // NaN gives the zero point, as in the reference.
  Type ft = s.getType();
  s = select(isNaN(s), constant(ft, 0.0), s);
  // Round half to even without a conversion instruction: for |s| <= 2^22,
  // s + 1.5 * 2^23 has an ulp of 1, so its one rounding (to nearest even) is
  // rne(s), and its low mantissa bits hold rne(s) in two's complement
  // (1.5 * 2^23 is even and its low byte zero). Clamping to the integer
  // bounds before rounding equals clamping after.
  auto i32v = VectorType::get({n}, b.getI32Type());
  auto i8v = VectorType::get({n}, b.getI8Type());
  constexpr double kMagic = 12582912.0; // 1.5 * 2^23, bits 0x4B400000
  if (!zp) {
    s = min(max(s, constant(ft, double(qmin))), constant(ft, double(qmax)));
    Value bits =
        arith::BitcastOp::create(b, i32v, add(s, constant(ft, kMagic)));
    return arith::TruncIOp::create(b, i8v, bits);
  }
  double wide = 4194304.0; // 2^22
  s = min(max(s, constant(ft, -wide)), constant(ft, wide));
  Value bits = arith::BitcastOp::create(b, i32v, add(s, constant(ft, kMagic)));
  Value q = sub(bits, constant(i32v, double(0x4B400000)));
  Value zpi = arith::FPToSIOp::create(b, b.getI32Type(), zp);
  q = add(q, splat(zpi, n));
  q = min(max(q, constant(i32v, double(qmin))), constant(i32v, double(qmax)));
  return arith::TruncIOp::create(b, i8v, q);
}

Value Emitter::encodeE4M3Soft(Value c) {
  // c is in [-448, 448] or NaN. Round-to-nearest-even on the bits: the
  // normal range keeps 3 of float32's 23 mantissa bits; below 2^-6 the
  // value is a multiple of 2^-9.
  int64_t n = numElements(c);
  auto i32v = VectorType::get({n}, b.getI32Type());
  auto cst = [&](int64_t v) { return constant(i32v, double(v)); };
  Value u = arith::BitcastOp::create(b, i32v, c);
  Value sign = andi(arith::ShRUIOp::create(b, u, cst(24)), cst(0x80));
  Value a = andi(u, cst(0x7FFFFFFF));
  Value lsb = andi(arith::ShRUIOp::create(b, a, cst(20)), cst(1));
  Value rounded =
      arith::ShRUIOp::create(b, add(add(a, cst(0x7FFFF)), lsb), cst(20));
  Value normal = sub(rounded, cst(120 << 3));
  Value af = arith::BitcastOp::create(b, c.getType(), a);
  Value subnormal = arith::FPToSIOp::create(
      b, i32v, roundEven(mul(af, constant(c.getType(), 512.0))));
  Value bits =
      select(lt(af, constant(c.getType(), 0.015625)), subnormal, normal);
  bits = select(
      arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, a, cst(0x7F800000)),
      cst(0x7F), bits);
  return arith::TruncIOp::create(b, VectorType::get({n}, b.getI8Type()),
                                 ori(bits, sign));
}

Value Emitter::quantizeE4M3(Value x, Value scale) {
  int64_t n = numElements(x);
  Value s = div(x, splat(scale, n));
  Type ft = s.getType();
  // Clamp first (NaN stays NaN), then round to nearest even.
  Value c = minimum(maximum(s, constant(ft, -448.0)), constant(ft, 448.0));
  if (chip == Chip::SM80)
    return encodeE4M3Soft(c);
  // cvt.rn.satfinite.e4m3x2.f32 d, a, b puts a in the high byte: with
  // (a, b) = (x[i+1], x[i]) the two bytes are x[i], x[i+1] in memory order.
  auto i8v = VectorType::get({n}, b.getI8Type());
  auto pair = VectorType::get({2}, b.getI8Type());
  Value result = constant(i8v, 0.0);
  MLIRContext *ctx = b.getContext();
  auto rnd = NVVM::FPRoundingModeAttr::get(ctx, NVVM::FPRoundingMode::RN);
  auto sat =
      NVVM::SaturationModeAttr::get(ctx, NVVM::SaturationMode::SATFINITE);
  auto dst = TypeAttr::get(b.getType<Float8E4M3FNType>());
  for (int64_t i = 0; i < n; i += 2) {
    Value lo = vector::ExtractOp::create(b, c, i);
    Value hi =
        i + 1 < n ? Value(vector::ExtractOp::create(b, c, i + 1)) : f32(0.0);
    Value bytes = NVVM::ConvertF32x2ToF8x2Op::create(b, pair, hi, lo, rnd, sat,
                                                     b.getBoolAttr(false), dst);
    for (int64_t j = 0; j < 2 && i + j < n; ++j)
      result = vector::InsertOp::create(
          b, vector::ExtractOp::create(b, bytes, j), result, i + j);
  }
  return result;
}

Value Emitter::decodeE4M3Scaled(Value bits) {
  // Byte j of a little-endian word moved to the top (a shift left by
  // 24 - 8j) and shifted right arithmetically by 4 holds its sign in bits
  // 27-31 and its exponent and mantissa in bits 20-26; masked with
  // 0x87F00000 it is the float32 sign | em << 20: the value times 2^-120,
  // subnormals included. Two or three integer operations a value.
  int64_t n = numElements(bits);
  auto words = VectorType::get({n / 4}, b.getI32Type());
  Value w = vector::BitCastOp::create(b, words, bits);
  SmallVector<Value> out(n);
  for (int64_t i = 0; i < n / 4; ++i) {
    Value word = vector::ExtractOp::create(b, w, i);
    for (int64_t j = 0; j < 4; ++j) {
      Value t = j == 3 ? word : arith::ShLIOp::create(b, word, i32(24 - 8 * j));
      t = arith::ShRSIOp::create(b, t, i32(4));
      t = andi(t, i32(static_cast<int32_t>(0x87F00000u)));
      out[i * 4 + j] = arith::BitcastOp::create(b, b.getF32Type(), t);
    }
  }
  return vector::FromElementsOp::create(b, VectorType::get({n}, b.getF32Type()),
                                        out);
}

Value Emitter::decodeE4M3(Value bits) {
  // 0x7F / 0xFF are NaN; the others are decodeE4M3Scaled's values times
  // 2^120 (exact: a product with a power of two that lands in the normal
  // range). +-480, whose square 230400 no other e4m3 value has, is what the
  // NaN codes decode to.
  int64_t n = numElements(bits);
  auto f32v = VectorType::get({n}, b.getF32Type());
  Value f;
  if (n % 4 == 0) {
    f = mul(decodeE4M3Scaled(bits), constant(f32v, std::ldexp(1.0, 120)));
    Value nan = eq(mul(f, f), constant(f32v, 230400.0));
    return select(nan, constant(f32v, std::numeric_limits<double>::quiet_NaN()),
                  f);
  }
  auto i32v = VectorType::get({n}, b.getI32Type());
  auto cst = [&](int64_t v) { return constant(i32v, double(v)); };
  Value u = arith::ExtUIOp::create(b, i32v, bits);
  Value mag = andi(u, cst(0x7F));
  Value sign = arith::ShLIOp::create(b, andi(u, cst(0x80)), cst(24));
  f = arith::BitcastOp::create(
      b, f32v, ori(arith::ShLIOp::create(b, mag, cst(20)), sign));
  f = mul(f, constant(f32v, std::ldexp(1.0, 120)));
  return select(eq(mag, cst(0x7F)),
                constant(f32v, std::numeric_limits<double>::quiet_NaN()), f);
}

void Emitter::storeQuantized(Value y, Value memref, ValueRange indices,
                             Value scale, Value zp) {
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  if (isa<Float8E4M3FNType>(elem)) {
    Value bits = quantizeE4M3(y, scale);
    storeVec(arith::BitcastOp::create(
                 b, VectorType::get({numElements(y)}, elem), bits),
             memref, indices);
    return;
  }
  if (elem.isInteger(8)) {
    storeVec(quantizeInt8(y, scale, zp, zp ? -128 : -127, 127), memref,
             indices);
    return;
  }
  storeF32(y, memref, indices);
}

Value Emitter::loadDequantized(Value memref, ValueRange indices, int64_t n,
                               Value scale) {
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  Value v = loadVec(memref, indices, n);
  if (isa<Float8E4M3FNType>(elem))
    v = decodeE4M3(
        arith::BitcastOp::create(b, VectorType::get({n}, b.getI8Type()), v));
  else
    v = toF32(v);
  if (scale)
    v = mul(v, splat(scale, n));
  return v;
}
