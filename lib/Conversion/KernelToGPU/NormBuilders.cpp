//===- NormBuilders.cpp - rms_norm and quantize kernels -------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One thread block per token row (grid.x = m), `blockThreads` threads
// striding over the row in 16-byte chunks of float32 (scalar accesses when
// the row length is odd). When a thread has at most 8 chunks of the row
// (hidden <= 8 * vec * blockThreads), it loads them once into registers and the
// passes below reuse them, so the row is read from memory once and the
// kernel streams at memory speed; longer rows re-read x in each pass.
//
// rms_norm follows the reference (runtime/lib/Kernels/Elementwise.cpp): the
// sum of squares in float64 (exact products, a block reduction of doubles),
// var = float(ss / hidden), inv = 1 / sqrt(var + eps) with IEEE sqrt and
// division, y = w * (x * inv) in float32 without contraction. A dynamic
// quantization takes the row's max|y| by a second block reduction and
// writes the row's scale (thread 0), then quantizes a recomputed y.
//
//===----------------------------------------------------------------------===//

#include "SimtUtils.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::simt;

namespace {
/// What rms_norm and quantize share.
struct RowKernel {
  std::string name;
  int64_t maxTokens = 0, hidden = 0;
  bool norm = false;
  double epsilon = 0.0;
  ElemType weightType = ElemType::F32;
  ElemType outType = ElemType::F32;
  bool dynamicPerToken = false, staticScale = false, staticAsymmetric = false;
  int64_t blockThreads = 256;
};
} // namespace

/// Chunks a thread unrolls (and keeps in registers) at most.
static constexpr int64_t kMaxUnroll = 8;

static bool isQuantized(ElemType t) {
  return t == ElemType::I8 || t == ElemType::F8E4M3;
}

static LogicalResult checkRowKernel(gpu::GPUModuleOp module, const RowKernel &k,
                                    Location loc) {
  const char *what = k.norm ? "rms_norm" : "quantize";
  auto fail = [&]() {
    return emitError(loc) << what << " kernel '" << k.name << "': ";
  };
  if (failed(checkKernelName(module, k.name, loc)))
    return failure();
  if (k.maxTokens <= 0 || k.hidden <= 0)
    return fail() << "maxTokens and hidden must be positive";
  if (k.blockThreads < 32 || k.blockThreads > 1024 || k.blockThreads % 32)
    return fail() << "blockThreads must be a multiple of 32 in [32, 1024], got "
                  << k.blockThreads;
  if (k.norm && k.weightType != ElemType::F32 &&
      k.weightType != ElemType::BF16 && k.weightType != ElemType::F16)
    return fail() << "unsupported weight type " << elemTypeName(k.weightType);
  if (k.outType != ElemType::F32 && k.outType != ElemType::BF16 &&
      !isQuantized(k.outType))
    return fail() << "unsupported output type " << elemTypeName(k.outType);
  if (k.dynamicPerToken && k.staticScale)
    return fail() << "a dynamic and a static scale exclude each other";
  if (isQuantized(k.outType) && !k.dynamicPerToken && !k.staticScale)
    return fail() << elemTypeName(k.outType)
                  << " output needs a dynamic or a static scale";
  if (!isQuantized(k.outType) && (k.dynamicPerToken || k.staticScale))
    return fail() << "a scale needs an i8 or e4m3 output, not "
                  << elemTypeName(k.outType);
  if (k.staticAsymmetric && (!k.staticScale || k.outType != ElemType::I8))
    return fail() << "an asymmetric scale needs a static scale and i8 output";
  if (!(k.epsilon >= 0.0))
    return fail() << "epsilon must not be negative";
  return success();
}

static FailureOr<LaunchConfig> buildRowKernel(gpu::GPUModuleOp module,
                                              const RowKernel &k, Chip chip,
                                              Location loc) {
  if (failed(checkRowKernel(module, k, loc)))
    return failure();
  MLIRContext *ctx = module.getContext();
  Builder types(ctx);
  Type f32 = types.getF32Type(), f64 = types.getF64Type();
  int64_t rows = k.maxTokens, hidden = k.hidden, threads = k.blockThreads;
  bool dynamic = k.dynamicPerToken;

  // Parameters: x, [w], [scale, [zp]], out, [rowScales], m.
  SmallVector<Type> params{globalMemRef({rows, hidden}, f32)};
  if (k.norm)
    params.push_back(globalMemRef({hidden}, toMlirType(ctx, k.weightType)));
  int scaleArg = -1, zpArg = -1;
  if (k.staticScale) {
    scaleArg = params.size();
    params.push_back(globalMemRef({1}, f32));
    if (k.staticAsymmetric) {
      zpArg = params.size();
      params.push_back(globalMemRef({1}, types.getI32Type()));
    }
  }
  int outArg = params.size();
  params.push_back(globalMemRef({rows, hidden}, toMlirType(ctx, k.outType)));
  int rowScalesArg = -1;
  if (dynamic) {
    rowScalesArg = params.size();
    params.push_back(globalMemRef({rows}, f32));
  }
  int mArg = params.size();
  params.push_back(types.getI32Type());

  // Workgroup: [f64 x 32] for the sum of squares, [f32 x 32] for max|y|.
  SmallVector<Type> workgroup;
  int sumBuf = -1, maxBuf = -1;
  if (k.norm) {
    sumBuf = workgroup.size();
    workgroup.push_back(workgroupMemRef({32}, f64));
  }
  if (dynamic) {
    maxBuf = workgroup.size();
    workgroup.push_back(workgroupMemRef({32}, f32));
  }

  KernelShell shell(module, k.name, params, workgroup, threads, loc);
  Emitter e(shell.builder(), chip);
  int64_t numWarps = threads / 32;
  int64_t vec = vectorWidth(hidden, 4);
  int64_t chunks = hidden / vec;
  Value x = shell.param(0), out = shell.param(outArg);
  Value row = e.blockId(0);
  Value m = e.toIndex(shell.param(mArg));

  // Whether each thread's chunks are unrolled (Emitter::forEachChunk) and
  // so kept in registers from the first pass.
  bool cached = (chunks + threads - 1) / threads <= kMaxUnroll;
  SmallVector<Value> rowX, rowY;
  size_t nextX = 0, nextY = 0;
  auto loadX = [&](Value c) {
    if (!cached)
      return e.loadF32(x, {row, e.mul(c, e.idx(vec))}, vec);
    if (nextX == rowX.size())
      rowX.push_back(e.loadF32(x, {row, e.mul(c, e.idx(vec))}, vec));
    return rowX[nextX++];
  };

  e.ifThen(e.lt(row, m), [&] {
    Value tid = e.threadId();
    Value inv;
    if (cached) {
      // Issue every load of the row before any arithmetic.
      e.forEachChunk(
          tid, threads, chunks, {},
          [&](Value c, Value, ValueRange) -> SmallVector<Value> {
            loadX(c);
            return {};
          },
          kMaxUnroll);
      nextX = 0;
    }
    if (k.norm) {
      SmallVector<Value> ss = e.forEachChunk(
          tid, threads, chunks, {e.f64(0.0)},
          [&](Value c, Value valid, ValueRange acc) -> SmallVector<Value> {
            Value xv = e.toF64(loadX(c));
            Value part = e.vectorReduce(e.mul(xv, xv), ReduceKind::Sum);
            if (valid)
              part = e.select(valid, part, e.f64(0.0));
            return {e.add(acc[0], part)};
          },
          kMaxUnroll);
      nextX = 0;
      Value sum = e.blockReduce(ss[0], ReduceKind::Sum, shell.workgroup(sumBuf),
                                numWarps);
      Value var = e.truncF32(e.div(sum, e.f64(double(hidden))));
      Value eps = e.f32(static_cast<float>(k.epsilon));
      inv = e.div(e.f32(1.0), e.sqrtRn(e.add(var, eps)));
    }
    // y of the chunk at column c * vec (float32, like the reference). In
    // the unrolled case pass p visits the thread's chunks in the same order,
    // so the i-th call of a pass is the i-th chunk of the first one.
    auto computeY = [&](Value c) {
      Value col = e.mul(c, e.idx(vec));
      Value xv = loadX(c);
      if (!k.norm)
        return xv;
      Value wv = e.loadF32(shell.param(1), {col}, vec);
      return e.mul(wv, e.mul(xv, e.splat(inv, vec)));
    };

    Value scale, zp;
    if (dynamic) {
      SmallVector<Value> amax = e.forEachChunk(
          tid, threads, chunks, {e.f32(0.0)},
          [&](Value c, Value valid, ValueRange acc) -> SmallVector<Value> {
            Value y = computeY(c);
            if (cached)
              rowY.push_back(y);
            Value part = e.vectorReduce(e.abs(y), ReduceKind::Max);
            if (valid)
              part = e.select(valid, part, e.f32(0.0));
            return {e.max(acc[0], part)};
          },
          kMaxUnroll);
      Value absmax = e.blockReduce(amax[0], ReduceKind::Max,
                                   shell.workgroup(maxBuf), numWarps);
      scale = e.dynamicScale(absmax, k.outType == ElemType::I8 ? 127.0 : 448.0);
      e.ifThen(e.eq(tid, e.idx(0)),
               [&] { e.store(scale, shell.param(rowScalesArg), {row}); });
    } else if (k.staticScale) {
      scale = e.load(shell.param(scaleArg), {e.idx(0)});
      if (zpArg >= 0)
        zp = e.toF32(e.load(shell.param(zpArg), {e.idx(0)}));
    }

    e.forEachChunk(
        tid, threads, chunks, {},
        [&](Value c, Value valid, ValueRange) -> SmallVector<Value> {
          Value y = nextY < rowY.size() ? rowY[nextY++] : computeY(c);
          auto storeChunk = [&] {
            e.storeQuantized(y, out, {row, e.mul(c, e.idx(vec))}, scale, zp);
          };
          if (valid)
            e.ifThen(valid, storeChunk);
          else
            storeChunk();
          return {};
        },
        kMaxUnroll);
  });
  shell.finish();

  LaunchConfig config;
  config.block = {threads, 1, 1};
  config.gridTokenTile = 1;
  config.gridPerTile = 1;
  return config;
}

FailureOr<LaunchConfig> mlir::qopt::codegen::buildRmsNormKernel(
    gpu::GPUModuleOp module, const RmsNormSpec &spec, Chip chip, Location loc) {
  RowKernel k;
  k.name = spec.name;
  k.maxTokens = spec.maxTokens;
  k.hidden = spec.hidden;
  k.norm = true;
  k.epsilon = spec.epsilon;
  k.weightType = spec.weightType;
  k.outType = spec.outType;
  k.dynamicPerToken = spec.dynamicPerToken;
  k.staticScale = spec.staticScale;
  k.staticAsymmetric = spec.staticAsymmetric;
  k.blockThreads = spec.blockThreads;
  return buildRowKernel(module, k, chip, loc);
}

FailureOr<LaunchConfig>
mlir::qopt::codegen::buildQuantizeKernel(gpu::GPUModuleOp module,
                                         const QuantizeSpec &spec, Chip chip,
                                         Location loc) {
  RowKernel k;
  k.name = spec.name;
  k.maxTokens = spec.maxTokens;
  k.hidden = spec.hidden;
  k.outType = spec.outType;
  k.dynamicPerToken = spec.dynamicPerToken;
  // A quantized output without a dynamic scale has a static one.
  k.staticScale = isQuantized(spec.outType) && !spec.dynamicPerToken;
  k.staticAsymmetric = spec.staticAsymmetric;
  k.blockThreads = spec.blockThreads;
  return buildRowKernel(module, k, chip, loc);
}
