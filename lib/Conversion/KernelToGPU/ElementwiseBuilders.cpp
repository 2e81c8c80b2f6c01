//===- ElementwiseBuilders.cpp - embedding, elementwise, argmax kernels ---===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// embedding:   grid.x = m, one block per token copying its table row in
//              16-byte chunks; an id outside [0, vocab) gives a zero row (the
//              runtime checks ids before launching).
// elementwise: grid (m, ceil(features / (vec * 256))), 256 threads, one
//              vector of `vec` features per thread.
//              add: lhs + rhs; mul: lhs * rhs; silu_mul: silu(lhs) * rhs with
//              silu(x) = x / (1 + exp(-x)) (lhs is the gate).
// permute_columns: grid (m, ceil(features / 256)), 256 threads, one output
//              column per thread: out[r, j] = in[r, perm[j]] (an index out
//              of range reads column 0).
// argmax:      one block of 1024 threads over row m - 1; the lowest index
//              among equal maxima, NaN counted as -inf.
//
//===----------------------------------------------------------------------===//

#include "SimtUtils.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <limits>

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::simt;

static bool isFloatStorage(ElemType t) {
  return t == ElemType::F32 || t == ElemType::BF16 || t == ElemType::F16;
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

FailureOr<LaunchConfig>
mlir::qopt::codegen::buildEmbeddingKernel(gpu::GPUModuleOp module,
                                          const EmbeddingSpec &spec, Chip chip,
                                          Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "embedding kernel '" << spec.name << "': ";
  };
  if (failed(checkKernelName(module, spec.name, loc)))
    return failure();
  if (spec.maxTokens <= 0 || spec.vocab <= 0 || spec.hidden <= 0)
    return fail() << "maxTokens, vocab and hidden must be positive";
  if (!isFloatStorage(spec.tableType))
    return fail() << "unsupported table type " << elemTypeName(spec.tableType);

  MLIRContext *ctx = module.getContext();
  Builder types(ctx);
  Type f32 = types.getF32Type(), i32 = types.getI32Type();
  int64_t hidden = spec.hidden;
  // 16-byte loads of the table; the float32 stores follow.
  int64_t vec = vectorWidth(hidden, byteSize(spec.tableType));
  int64_t chunks = hidden / vec;
  int64_t threads = std::min<int64_t>(256, (chunks + 31) / 32 * 32);

  // Parameters: table, ids, out, m.
  SmallVector<Type> params{
      globalMemRef({spec.vocab, hidden}, toMlirType(ctx, spec.tableType)),
      globalMemRef({spec.maxTokens}, i32),
      globalMemRef({spec.maxTokens, hidden}, f32), i32};
  KernelShell shell(module, spec.name, params, {}, threads, loc);
  Emitter e(shell.builder(), chip);
  Value row = e.blockId(0);
  Value m = e.toIndex(shell.param(3));
  e.ifThen(e.lt(row, m), [&] {
    Value id = e.toIndex(e.load(shell.param(1), {row}));
    Value inRange = e.andi(e.ge(id, e.idx(0)), e.lt(id, e.idx(spec.vocab)));
    Value safeId = e.select(inRange, id, e.idx(0));
    Value zero = e.constant(VectorType::get({vec}, f32), 0.0);
    e.forEachChunk(e.threadId(), threads, chunks, {},
                   [&](Value c, Value valid, ValueRange) -> SmallVector<Value> {
                     auto copy = [&] {
                       Value col = e.mul(c, e.idx(vec));
                       Value v = e.loadF32(shell.param(0), {safeId, col}, vec);
                       e.storeF32(e.select(inRange, v, zero), shell.param(2),
                                  {row, col});
                     };
                     if (valid)
                       e.ifThen(valid, copy);
                     else
                       copy();
                     return {};
                   });
  });
  shell.finish();

  LaunchConfig config;
  config.block = {threads, 1, 1};
  config.gridTokenTile = 1;
  return config;
}

//===----------------------------------------------------------------------===//
// Row kernels: grid (m, ceil(items / threads)), one item per thread
//===----------------------------------------------------------------------===//

/// Calls `body(row, item)` for the thread's item of its block's row when
/// both are in range (row < m, the launch's i32 parameter `mArg`).
static void forEachRowItem(Emitter &e, KernelShell &shell, int mArg,
                           int64_t items, int64_t threads,
                           function_ref<void(Value, Value)> body) {
  Value row = e.blockId(0);
  Value item = e.add(e.mul(e.blockId(1), e.idx(threads)), e.threadId());
  Value active = e.lt(row, e.toIndex(shell.param(mArg)));
  if (items % threads)
    active = e.andi(active, e.lt(item, e.idx(items)));
  e.ifThen(active, [&] { body(row, item); });
}

/// The launch of a forEachRowItem kernel.
static LaunchConfig rowItemLaunch(int64_t items, int64_t threads) {
  LaunchConfig config;
  config.block = {threads, 1, 1};
  config.gridTokenTile = 1;
  config.gridY = (items + threads - 1) / threads;
  return config;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

FailureOr<LaunchConfig>
mlir::qopt::codegen::buildElementwiseKernel(gpu::GPUModuleOp module,
                                            const ElementwiseSpec &spec,
                                            Chip chip, Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "elementwise kernel '" << spec.name << "': ";
  };
  if (failed(checkKernelName(module, spec.name, loc)))
    return failure();
  if (spec.maxTokens <= 0 || spec.features <= 0)
    return fail() << "maxTokens and features must be positive";
  if (spec.outType != ElemType::F32 && spec.outType != ElemType::BF16 &&
      spec.outType != ElemType::F16)
    return fail() << "unsupported output type " << elemTypeName(spec.outType);

  MLIRContext *ctx = module.getContext();
  Builder types(ctx);
  Type f32 = types.getF32Type(), i32 = types.getI32Type();
  int64_t rows = spec.maxTokens, features = spec.features;
  int64_t vec = vectorWidth(features, 4);
  int64_t chunks = features / vec;
  const int64_t threads = 256;

  // Parameters: lhs, rhs, out, m.
  SmallVector<Type> params{
      globalMemRef({rows, features}, f32), globalMemRef({rows, features}, f32),
      globalMemRef({rows, features}, toMlirType(ctx, spec.outType)), i32};
  KernelShell shell(module, spec.name, params, {}, threads, loc);
  Emitter e(shell.builder(), chip);
  forEachRowItem(e, shell, 3, chunks, threads, [&](Value row, Value chunk) {
    Value col = e.mul(chunk, e.idx(vec));
    Value a = e.loadF32(shell.param(0), {row, col}, vec);
    Value b = e.loadF32(shell.param(1), {row, col}, vec);
    Value y;
    switch (spec.kind) {
    case ElementwiseKind::Add:
      y = e.add(a, b);
      break;
    case ElementwiseKind::Mul:
      y = e.mul(a, b);
      break;
    case ElementwiseKind::SiluMul: {
      Type t = a.getType();
      Value silu = e.div(a, e.add(e.constant(t, 1.0), e.exp(e.neg(a))));
      y = e.mul(silu, b);
      break;
    }
    }
    e.storeF32(y, shell.param(2), {row, col});
  });
  shell.finish();
  return rowItemLaunch(chunks, threads);
}

//===----------------------------------------------------------------------===//
// Column permutation
//===----------------------------------------------------------------------===//

FailureOr<LaunchConfig>
mlir::qopt::codegen::buildPermuteColumnsKernel(gpu::GPUModuleOp module,
                                               const PermuteColumnsSpec &spec,
                                               Chip chip, Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "permute_columns kernel '" << spec.name << "': ";
  };
  if (failed(checkKernelName(module, spec.name, loc)))
    return failure();
  if (spec.maxTokens <= 0 || spec.features <= 0 ||
      spec.features > std::numeric_limits<int32_t>::max())
    return fail() << "maxTokens and features must be positive";
  if (!isFloatStorage(spec.inType) || !isFloatStorage(spec.outType))
    return fail() << "unsupported types " << elemTypeName(spec.inType) << " -> "
                  << elemTypeName(spec.outType);

  MLIRContext *ctx = module.getContext();
  Builder types(ctx);
  Type i32 = types.getI32Type();
  int64_t rows = spec.maxTokens, features = spec.features;
  const int64_t threads = 256;

  // Parameters: in, perm, out, m.
  SmallVector<Type> params{
      globalMemRef({rows, features}, toMlirType(ctx, spec.inType)),
      globalMemRef({features}, i32),
      globalMemRef({rows, features}, toMlirType(ctx, spec.outType)), i32};
  KernelShell shell(module, spec.name, params, {}, threads, loc);
  Emitter e(shell.builder(), chip);
  forEachRowItem(e, shell, 3, features, threads, [&](Value row, Value col) {
    Value src = e.toIndex(e.load(shell.param(1), {col}));
    Value inRange = e.andi(e.ge(src, e.idx(0)), e.lt(src, e.idx(features)));
    Value safe = e.select(inRange, src, e.idx(0));
    Value v = e.loadF32(shell.param(0), {row, safe}, 1);
    e.storeF32(v, shell.param(2), {row, col});
  });
  shell.finish();
  return rowItemLaunch(features, threads);
}

//===----------------------------------------------------------------------===//
// Argmax
//===----------------------------------------------------------------------===//

namespace {
/// A candidate (value, index) of the argmax.
struct Best {
  Value value, index;
};
} // namespace

/// The better of two candidates: the larger value, the lower index on ties.
static Best better(Emitter &e, Best a, Best b) {
  Value takeB = e.ori(e.gt(b.value, a.value),
                      e.andi(e.eq(b.value, a.value), e.lt(b.index, a.index)));
  return {e.select(takeB, b.value, a.value), e.select(takeB, b.index, a.index)};
}

static Best warpBest(Emitter &e, Best v) {
  for (int32_t offset = 16; offset > 0; offset /= 2)
    v = better(e, v,
               {e.shuffleXor(v.value, offset), e.shuffleXor(v.index, offset)});
  return v;
}

FailureOr<LaunchConfig> mlir::qopt::codegen::buildArgmaxKernel(
    gpu::GPUModuleOp module, const ArgmaxSpec &spec, Chip chip, Location loc) {
  if (failed(checkKernelName(module, spec.name, loc)))
    return failure();
  if (spec.maxTokens <= 0 || spec.vocab <= 0 ||
      spec.vocab > std::numeric_limits<int32_t>::max())
    return emitError(loc) << "argmax kernel '" << spec.name
                          << "': maxTokens and vocab must be positive (vocab "
                             "below 2^31)";

  MLIRContext *ctx = module.getContext();
  Builder types(ctx);
  Type f32 = types.getF32Type(), i32 = types.getI32Type();
  int64_t vocab = spec.vocab;
  int64_t vec = vectorWidth(vocab, 4);
  int64_t chunks = vocab / vec;
  const int64_t threads = 1024, numWarps = threads / 32;
  double inf = std::numeric_limits<double>::infinity();

  // Parameters: logits, out, m. Workgroup: the warps' values and indices.
  SmallVector<Type> params{globalMemRef({spec.maxTokens, vocab}, f32),
                           globalMemRef({1}, i32), i32};
  SmallVector<Type> workgroup{workgroupMemRef({numWarps}, f32),
                              workgroupMemRef({numWarps}, i32)};
  KernelShell shell(module, spec.name, params, workgroup, threads, loc);
  Emitter e(shell.builder(), chip);
  Value m = e.toIndex(shell.param(2));
  e.ifThen(e.gt(m, e.idx(0)), [&] {
    Value row = e.sub(m, e.idx(1));
    Value tid = e.threadId();
    SmallVector<Value> best =
        e.forLoop(tid, e.idx(chunks), e.idx(threads),
                  {e.f32(-inf), e.i32(std::numeric_limits<int32_t>::max())},
                  [&](Value c, ValueRange acc) -> SmallVector<Value> {
                    Value col = e.mul(c, e.idx(vec));
                    Value v = e.loadVec(shell.param(0), {row, col}, vec);
                    Best cur{acc[0], acc[1]};
                    Value base = e.toI32(col);
                    for (int64_t i = 0; i < vec; ++i) {
                      Value x = e.extract(v, i);
                      x = e.select(e.isNaN(x), e.f32(-inf), x);
                      Value index = i ? e.add(base, e.i32(i)) : base;
                      cur = better(e, cur, {x, index});
                    }
                    return {cur.value, cur.index};
                  });
    Best w = warpBest(e, {best[0], best[1]});
    Value lane = e.laneId(), warp = e.warpId();
    e.ifThen(e.eq(lane, e.idx(0)), [&] {
      e.store(w.value, shell.workgroup(0), {warp});
      e.store(w.index, shell.workgroup(1), {warp});
    });
    e.barrier();
    e.ifThen(e.eq(warp, e.idx(0)), [&] {
      Best all = warpBest(e, {e.load(shell.workgroup(0), {lane}),
                              e.load(shell.workgroup(1), {lane})});
      e.ifThen(e.eq(lane, e.idx(0)),
               [&] { e.store(all.index, shell.param(1), {e.idx(0)}); });
    });
  });
  shell.finish();

  LaunchConfig config;
  config.block = {threads, 1, 1};
  config.gridTokenTile = 0;
  config.gridPerTile = 1;
  return config;
}
