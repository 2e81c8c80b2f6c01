//===- GemmBuilder.cpp - Tensor-core GEMM kernels as gpu.func -------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// buildGemmKernel: the spec checks, the kernel signature and the launch
// configuration. The kernel is one thread block per bm x bn output tile:
// block (x, y) computes rows [x * bm, x * bm + bm) (rows >= m are computed
// from zero-filled A rows and not stored) and columns [y * bn, y * bn + bn).
// LaunchConfig: block = {32 * warpsM * warpsN, 1, 1}, gridTokenTile = bm,
// gridPerTile = 1, gridY = ceil(N / bn), sharedBytes = the dynamic shared
// memory of `stages` A and B tiles (above 48 KiB the launcher must raise
// the function's dynamic shared memory limit).
//
//===----------------------------------------------------------------------===//

#include "GemmInternal.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::gemm;

//===----------------------------------------------------------------------===//
// Index arithmetic
//===----------------------------------------------------------------------===//

Idx gemm::constIdx(ImplicitLocOpBuilder &b, int64_t c) {
  return {&b, b.create<arith::ConstantIndexOp>(c)};
}
Idx gemm::operator+(Idx x, Idx y) {
  return {x.b, x.b->createOrFold<arith::AddIOp>(x.v, y.v)};
}
Idx gemm::operator+(Idx x, int64_t c) {
  return c == 0 ? x : x + constIdx(*x.b, c);
}
Idx gemm::operator*(Idx x, int64_t c) {
  return c == 1
             ? x
             : Idx{x.b,
                   x.b->createOrFold<arith::MulIOp>(x.v, constIdx(*x.b, c).v)};
}
Idx gemm::operator/(Idx x, int64_t c) {
  return c == 1
             ? x
             : Idx{x.b,
                   x.b->createOrFold<arith::DivUIOp>(x.v, constIdx(*x.b, c).v)};
}
Idx gemm::operator%(Idx x, int64_t c) {
  return {x.b, x.b->createOrFold<arith::RemUIOp>(x.v, constIdx(*x.b, c).v)};
}
Idx gemm::operator&(Idx x, int64_t c) {
  return {x.b, x.b->createOrFold<arith::AndIOp>(x.v, constIdx(*x.b, c).v)};
}
Idx gemm::operator^(Idx x, Idx y) {
  return {x.b, x.b->createOrFold<arith::XOrIOp>(x.v, y.v)};
}

//===----------------------------------------------------------------------===//
// Spec checks
//===----------------------------------------------------------------------===//

static StringRef kindName(GemmKind kind) {
  switch (kind) {
  case GemmKind::BF16:
    return "bf16";
  case GemmKind::S8:
    return "s8";
  case GemmKind::E4M3:
    return "e4m3";
  case GemmKind::W8A16:
    return "w8a16";
  case GemmKind::W4A16:
    return "w4a16";
  }
  return "?";
}

/// The largest dynamic shared memory of one block.
static int64_t maxSharedBytes(Chip chip) {
  switch (chip) {
  case Chip::SM80:
    return 163 * 1024;
  case Chip::SM89:
    return 99 * 1024;
  case Chip::SM90a:
    return 227 * 1024;
  }
  return 48 * 1024;
}

LogicalResult gemm::makeGemmPlan(const GemmSpec &spec, Chip chip, Location loc,
                                 GemmPlan &plan, bool untiled) {
  auto fail = [&]() {
    return emitError(loc) << "cannot generate GEMM kernel '" << spec.name
                          << "' (" << kindName(spec.kind) << ", N=" << spec.n
                          << ", K=" << spec.k << "): ";
  };
  const GemmTile &t = spec.tile;
  plan.spec = &spec;
  plan.chip = chip;
  if (spec.name.empty())
    return emitError(loc) << "cannot generate a GEMM kernel without a name";
  if (spec.maxTokens <= 0 || spec.n <= 0 || spec.k <= 0)
    return fail() << "maxTokens, N and K must be positive (maxTokens="
                  << spec.maxTokens << ")";
  bool fp8 = spec.kind == GemmKind::E4M3;
  if (fp8 && chip == Chip::SM80)
    return fail() << "e4m3 tensor cores need sm_89 or sm_90a, not sm_80";
  if (spec.outType == ElemType::F8E4M3 && chip == Chip::SM80)
    return fail() << "an e4m3 output needs sm_89 or sm_90a, not sm_80";
  plan.bf16Mma = spec.kind == GemmKind::BF16 || spec.kind == GemmKind::W8A16 ||
                 spec.kind == GemmKind::W4A16;
  plan.weightOnly =
      spec.kind == GemmKind::W8A16 || spec.kind == GemmKind::W4A16;
  plan.int4 = spec.kind == GemmKind::W4A16;
  plan.kStepElems = plan.bf16Mma ? 16 : 32;
  plan.numB = spec.gated ? 2 : 1;

  // Tile.
  if (spec.n % 2 != 0)
    return fail() << "N must be even (pairs of columns are stored together)";
  if (!untiled) {
    if (t.bm <= 0 || t.bn <= 0 || t.bk <= 0 || t.warpsM <= 0 || t.warpsN <= 0)
      return fail() << "tile sizes and warp counts must be positive";
    if (t.stages < 2)
      return fail() << "the tile needs stages >= 2 (got " << t.stages << ")";
    plan.threads = 32 * t.warpsM * t.warpsN;
    if (plan.threads > 1024)
      return fail() << "warpsM * warpsN = " << t.warpsM * t.warpsN
                    << " warps exceed 1024 threads";
    if (t.bm % (16 * t.warpsM) != 0)
      return fail() << "bm (" << t.bm << ") must be a multiple of 16 * warpsM ("
                    << 16 * t.warpsM << ")";
    if (t.bn % (16 * t.warpsN) != 0)
      return fail() << "bn (" << t.bn << ") must be a multiple of 16 * warpsN ("
                    << 16 * t.warpsN << ")";
    int64_t minBk = plan.int4 ? 32 : plan.kStepElems;
    if (!llvm::isPowerOf2_64(t.bk) || t.bk < minBk)
      return fail() << "bk (" << t.bk
                    << ") must be a power of two >= " << minBk;
    if (spec.k % t.bk != 0)
      return fail() << "K is not a multiple of the tile's bk (" << t.bk << ")";
    plan.warpM = t.bm / t.warpsM;
    plan.warpN = t.bn / t.warpsN;
    plan.mTiles = plan.warpM / 16;
    plan.nTiles = plan.warpN / 8;
    plan.kSteps = t.bk / plan.kStepElems;
    plan.numK = spec.k / t.bk;
    plan.nGuard = spec.n % t.bn != 0;
    int64_t aBytes = plan.bf16Mma ? 2 : 1;
    plan.aRowBytes = t.bk * aBytes;
    plan.bRowBytes =
        plan.int4 ? t.bk / 2 : (plan.weightOnly ? t.bk : t.bk * aBytes);
    plan.aStageBytes = t.bm * plan.aRowBytes;
    plan.bStageBytes = t.bn * plan.bRowBytes;
    plan.stageBytes = plan.aStageBytes + plan.numB * plan.bStageBytes;
    if (t.wgmma) {
      if (chip != Chip::SM90a)
        return fail() << "wgmma tiles need sm_90a";
      if (plan.weightOnly)
        return fail() << "wgmma tiles take bf16, s8 or e4m3 operands, not "
                         "weights converted in registers";
      if (t.bm != 64 && t.bm != 128)
        return fail() << "a wgmma tile has bm 64 or 128 (one or two "
                         "warpgroups), not "
                      << t.bm;
      if (t.warpsM != t.bm / 16 || t.warpsN != 1)
        return fail() << "a wgmma tile has bm / 16 warps along M and one "
                         "along N";
      if (plan.aRowBytes != 128)
        return fail() << "a wgmma tile's K step is 128 bytes (bk = "
                      << 128 / aBytes << "), not " << t.bk;
      if (t.bn % 16 != 0 || t.bn > 256)
        return fail() << "a wgmma tile's bn (" << t.bn
                      << ") is a multiple of 16 up to 256";
      if (plan.numB * t.bn > 256)
        return fail() << "a gated wgmma tile has bn <= 128 (the "
                         "accumulators of both B operands stay in registers)";
      if (t.stages < 3)
        return fail() << "a wgmma tile needs stages >= 3 (got " << t.stages
                      << ")";
      plan.wgmma = true;
    }
    int64_t shared =
        t.stages * plan.stageBytes + (plan.wgmma ? kWgmmaSharedAlign : 0);
    // The lowering of gpu.dynamic_shared_memory also declares a 1-byte static
    // shared variable (16-byte aligned) that the dynamic area follows.
    if (shared + 16 > maxSharedBytes(chip))
      return fail() << "the tile needs " << shared
                    << " bytes of shared memory, more than the "
                    << maxSharedBytes(chip) << " a block can have";
  }

  // Scales.
  if (spec.aScale != ScaleKind::None && spec.aScale != ScaleKind::PerTensor &&
      spec.aScale != ScaleKind::PerToken)
    return fail() << "A scales are per-tensor or per-token";
  if (spec.bScale == ScaleKind::PerToken)
    return fail() << "B scales cannot be per-token";
  auto checkGroup = [&](int64_t groupK, StringRef what) -> LogicalResult {
    if (groupK <= 0 || spec.k % groupK != 0)
      return fail() << what << " (" << groupK
                    << ") must be positive and divide K";
    if (groupK % plan.kStepElems != 0)
      return fail() << what << " (" << groupK << ") must be a multiple of "
                    << plan.kStepElems << " (the mma's K)";
    if (!untiled && groupK % t.bk != 0 && t.bk % groupK != 0)
      return fail() << what << " (" << groupK << ") and bk (" << t.bk
                    << ") must divide one another";
    if (plan.wgmma && groupK % t.bk != 0)
      return fail() << what << " (" << groupK
                    << ") must be a multiple of the wgmma tile's bk (" << t.bk
                    << ")";
    plan.groupK = groupK;
    return success();
  };
  if (spec.bScale == ScaleKind::PerGroup &&
      failed(checkGroup(spec.groupSize, "groupSize")))
    return failure();
  if (spec.bScale == ScaleKind::Block) {
    if (spec.blockN <= 0)
      return fail() << "blockN must be positive";
    if (failed(checkGroup(spec.blockK, "blockK")))
      return failure();
  }
  if (!untiled && t.promoteK) {
    if (!plan.wgmma || spec.kind != GemmKind::E4M3 || plan.groupK ||
        t.promoteK % t.bk != 0 || spec.k % t.promoteK != 0)
      return fail() << "promoting partial sums (every " << t.promoteK
                    << " of K) is for e4m3 wgmma tiles without grouped "
                       "scales, a multiple of bk dividing K";
    plan.promoteK = t.promoteK;
  }
  plan.intAcc = spec.kind == GemmKind::S8 && plan.groupK == 0;
  if (spec.bZeroPoints &&
      (spec.kind != GemmKind::W4A16 || spec.bScale != ScaleKind::PerGroup))
    return fail() << "zero points are for W4A16 with per-group scales";
  if (spec.intBias && !plan.intAcc)
    return fail() << "int_bias is for S8 without per-group or block scales";
  if (plan.int4 && spec.k % 2 != 0)
    return fail() << "int4 weights need an even K";

  // Output.
  switch (spec.outType) {
  case ElemType::F32:
  case ElemType::BF16:
  case ElemType::I8:
  case ElemType::F8E4M3:
    break;
  default:
    return fail() << "the output is f32, bf16, i8 or e4m3";
  }
  if (spec.outAsymmetric && spec.outType != ElemType::I8)
    return fail() << "an asymmetric output is i8";
  return success();
}

//===----------------------------------------------------------------------===//
// Signature
//===----------------------------------------------------------------------===//

static Type storageType(OpBuilder &b, ElemType type) {
  switch (type) {
  case ElemType::F32:
    return b.getF32Type();
  case ElemType::BF16:
    return b.getBF16Type();
  case ElemType::F16:
    return b.getF16Type();
  case ElemType::I32:
    return b.getI32Type();
  case ElemType::I8:
  case ElemType::F8E4M3: // e4m3 bytes
  case ElemType::I4x2:   // two nibbles a byte
    return b.getI8Type();
  }
  return b.getI8Type();
}

/// The parameter types in the order of the spec (see KernelSpecs.h), and
/// the role of each.
static void
buildSignature(OpBuilder &b, const GemmPlan &plan, SmallVectorImpl<Type> &types,
               SmallVectorImpl<Value GemmArgs::*> &topRoles,
               SmallVectorImpl<std::pair<int, Value BOperand::*>> &bRoles) {
  const GemmSpec &s = *plan.spec;
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  Type aElem = plan.bf16Mma ? Type(b.getBF16Type()) : Type(b.getI8Type());
  auto mem = [&](ArrayRef<int64_t> shape, Type elem) {
    return MemRefType::get(shape, elem);
  };
  // Roles: index into types; -1 marks a B-operand role.
  auto top = [&](Type type, Value GemmArgs::*role) {
    types.push_back(type);
    topRoles.push_back(role);
    bRoles.push_back({-1, nullptr});
  };
  auto bop = [&](Type type, int which, Value BOperand::*role) {
    types.push_back(type);
    topRoles.push_back(nullptr);
    bRoles.push_back({which, role});
  };
  top(mem({s.maxTokens, s.k}, aElem), &GemmArgs::a);
  if (s.aScale == ScaleKind::PerTensor)
    top(mem({1}, f32), &GemmArgs::aScale);
  else if (s.aScale == ScaleKind::PerToken)
    top(mem({s.maxTokens}, f32), &GemmArgs::aScale);
  Type bType = plan.int4         ? mem({s.n, s.k / 2}, b.getI8Type())
               : plan.weightOnly ? mem({s.n, s.k}, b.getI8Type())
                                 : mem({s.n, s.k}, aElem);
  for (int which = 0; which < plan.numB; ++which) {
    bop(bType, which, &BOperand::b);
    switch (s.bScale) {
    case ScaleKind::PerTensor:
      bop(mem({1}, f32), which, &BOperand::scale);
      break;
    case ScaleKind::PerChannel:
      bop(mem({s.n}, f32), which, &BOperand::scale);
      break;
    case ScaleKind::PerGroup:
      bop(mem({s.n, s.k / s.groupSize}, f32), which, &BOperand::scale);
      break;
    case ScaleKind::Block:
      bop(mem({static_cast<int64_t>(llvm::divideCeil(s.n, s.blockN)),
               static_cast<int64_t>(llvm::divideCeil(s.k, s.blockK))},
              f32),
          which, &BOperand::scale);
      break;
    default:
      break;
    }
    if (s.bZeroPoints)
      bop(mem({s.n, s.k / s.groupSize}, i32), which, &BOperand::zeroPoint);
    if (s.intBias)
      bop(mem({s.n}, i32), which, &BOperand::intBias);
    if (s.bias)
      bop(mem({s.n}, f32), which, &BOperand::bias);
  }
  if (s.residual)
    top(mem({s.maxTokens, s.n}, f32), &GemmArgs::residual);
  if (s.outType == ElemType::I8 || s.outType == ElemType::F8E4M3) {
    top(mem({1}, f32), &GemmArgs::outScale);
    if (s.outAsymmetric)
      top(mem({1}, i32), &GemmArgs::outZeroPoint);
  }
  top(mem({s.maxTokens, s.n}, storageType(b, s.outType)), &GemmArgs::out);
  top(i32, &GemmArgs::m);
}

LogicalResult gemm::createGemmFunction(gpu::GPUModuleOp module, OpBuilder &ob,
                                       const GemmPlan &plan, StringRef name,
                                       int64_t threads, Location loc,
                                       GemmArgs &args) {
  if (SymbolTable::lookupSymbolIn(module, name))
    return emitError(loc) << "cannot generate GEMM kernel '" << name
                          << "': the gpu.module already has a symbol of "
                             "that name";
  ob.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> types;
  SmallVector<Value GemmArgs::*> topRoles;
  SmallVector<std::pair<int, Value BOperand::*>> bRoles;
  buildSignature(ob, plan, types, topRoles, bRoles);
  auto func =
      gpu::GPUFuncOp::create(ob, loc, name, ob.getFunctionType(types, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), ob.getUnitAttr());
  func.setKnownBlockSizeAttr(
      ob.getDenseI32ArrayAttr({static_cast<int32_t>(threads), 1, 1}));
  Block &entry = func.getBody().front();
  for (auto [i, arg] : llvm::enumerate(entry.getArguments())) {
    if (topRoles[i])
      args.*topRoles[i] = arg;
    else
      args.bs[bRoles[i].first].*bRoles[i].second = arg;
  }
  ob.setInsertionPointToStart(&entry);
  return success();
}

FailureOr<LaunchConfig> mlir::qopt::codegen::buildGemmKernel(
    gpu::GPUModuleOp module, const GemmSpec &spec, Chip chip, Location loc) {
  GemmPlan plan;
  if (failed(makeGemmPlan(spec, chip, loc, plan)))
    return failure();

  OpBuilder ob(module.getContext());
  GemmArgs args;
  if (failed(createGemmFunction(module, ob, plan, spec.name, plan.threads, loc,
                                args)))
    return failure();
  ImplicitLocOpBuilder b(loc, ob);
  const GemmTile &t = spec.tile;
  ThreadInfo ti;
  ti.tid = b.create<gpu::ThreadIdOp>(gpu::Dimension::x);
  Idx tid{&b, ti.tid};
  ti.lane = (tid % 32).v;
  Idx warp = tid / 32;
  ti.warpM = (warp % t.warpsM).v;
  ti.warpN = (warp / t.warpsM).v;
  ti.rowBase = (Idx{&b, b.create<gpu::BlockIdOp>(gpu::Dimension::x)} * t.bm).v;
  ti.colBase = (Idx{&b, b.create<gpu::BlockIdOp>(gpu::Dimension::y)} * t.bn).v;
  ti.m = b.create<arith::IndexCastOp>(b.getIndexType(), args.m);

  Accumulators acc = plan.wgmma ? emitWgmmaMainloop(b, plan, args, ti)
                                : emitMainloop(b, plan, args, ti);
  emitEpilogue(b, plan, args, ti, acc);
  b.create<gpu::ReturnOp>();

  LaunchConfig config;
  config.block = {plan.threads, 1, 1};
  config.gridTokenTile = t.bm;
  config.gridPerTile = 1;
  config.gridY = llvm::divideCeil(spec.n, t.bn);
  config.sharedBytes =
      t.stages * plan.stageBytes + (plan.wgmma ? kWgmmaSharedAlign : 0);
  return config;
}
