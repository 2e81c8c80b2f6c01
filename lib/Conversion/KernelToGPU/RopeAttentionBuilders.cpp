//===- RopeAttentionBuilders.cpp - RoPE + cache append, attention ---------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// rope_append: grid.x = m, one block per token row r at position
//   p = positions[r]. Threads stride over "units" of `vec` rotation pairs
//   (elements i..i+vec of a head and the same of its second half): q is
//   rotated into qOut; k is rotated and v copied into row p of the caches.
//   With rotate_half: y[i] = x[i] c - x[i + d/2] s, y[i + d/2] = x[i + d/2] c
//   + x[i] s, c = table[p, i], s = table[p, d/2 + i] (the table row is the
//   d/2 cosines then the d/2 sines). A per-token cache scale is the max|x| of
//   the whole row (every kv head) by a block reduction, written to
//   cacheScales[p] by thread 0. A position outside [0, min(maxPositions,
//   maxSeq)) leaves the block without writing anything (the runtime checks
//   positions).
//
// attention: grid (m, numHeads), `warps` warps per block (W, default 4).
//   Query row r (position p) and head h read kv head h / (numHeads /
//   numKvHeads). Each warp takes 4 keys at a time (key j0 + 4 * (warp + W i)
//   ...), the lanes splitting the
//   head dimension (ceil(d / 32) elements each): partial dot products, a
//   butterfly sum, then an online softmax (running max, rescaled sum and
//   accumulator) in float32. The warps' states are merged through workgroup
//   memory; out = acc * (1 / sum). Keys: causal 0..p (p-W+1..p with a
//   sliding window W), non-causal 0..positions[m-1], clamped to the cache;
//   a row without keys gets zeros. Scores are scale * dot(q, k); scale 0 in
//   the spec means 1 / sqrt(d). i8 / e4m3 caches are dequantized element by
//   element (q * scale, like the reference) before the products.
//
//   With S = `splits` > 1 (flash-decoding; sm_90a): grid (m, numHeads, S),
//   the S blocks of a (row, head) one thread-block cluster. Block z takes
//   the z-th of S equal slices of the row's keys and merges its warps into
//   one state (max, sum, unnormalized accumulator; a slice without keys is
//   (-inf, 0, 0)) in its workgroup memory. After a cluster barrier, block 0
//   reads the S states through distributed shared memory (mapa +
//   ld.shared::cluster), merges them the same way and writes the row; a
//   second cluster barrier keeps the others' workgroup memory alive until
//   it has read them. Decode (one row, a long cache) then runs numHeads * S
//   blocks instead of numHeads.
//
//===----------------------------------------------------------------------===//

#include "AttentionInternal.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <array>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::simt;

/// Checks one cache against the kernel's heads; `fail` starts a diagnostic.
template <typename Fail>
static LogicalResult checkCache(const KVCacheSpec &c, const char *which,
                                int64_t numKvHeads, int64_t headDim,
                                Fail fail) {
  if (c.maxSeq <= 0)
    return fail() << which << " cache: maxSeq must be positive";
  if (c.numKvHeads != numKvHeads || c.headDim != headDim)
    return fail() << which << " cache: " << c.numKvHeads << " heads of "
                  << c.headDim << " do not match the kernel's " << numKvHeads
                  << " of " << headDim;
  switch (c.storage) {
  case ElemType::F32:
  case ElemType::BF16:
  case ElemType::F16:
    if (c.scales != KVScaleKind::None)
      return fail() << which << " cache: a float cache has no scales";
    return success();
  case ElemType::I8:
  case ElemType::F8E4M3:
    if (c.scales == KVScaleKind::None)
      return fail() << which << " cache: " << elemTypeName(c.storage)
                    << " storage needs scales";
    return success();
  default:
    return fail() << which << " cache: unsupported storage "
                  << elemTypeName(c.storage);
  }
}

template <typename Fail>
static LogicalResult checkHeads(int64_t maxTokens, int64_t numHeads,
                                int64_t numKvHeads, int64_t headDim,
                                Fail fail) {
  if (maxTokens <= 0 || numHeads <= 0 || numKvHeads <= 0 || headDim <= 0)
    return fail() << "maxTokens, numHeads, numKvHeads and headDim must be "
                     "positive";
  if (numHeads % numKvHeads)
    return fail() << numHeads << " heads do not split into " << numKvHeads
                  << " kv heads";
  return success();
}

static MemRefType cacheType(MLIRContext *ctx, const KVCacheSpec &c) {
  return globalMemRef({c.maxSeq, c.numKvHeads * c.headDim},
                      toMlirType(ctx, c.storage));
}

/// The f32 scale buffer of a static cache scale (per tensor or head).
static MemRefType staticScaleType(MLIRContext *ctx, const KVCacheSpec &c) {
  int64_t n = c.scales == KVScaleKind::PerHead ? c.numKvHeads : 1;
  return globalMemRef({n}, Float32Type::get(ctx));
}

static bool isStatic(const KVCacheSpec &c) {
  return c.scales == KVScaleKind::PerTensor || c.scales == KVScaleKind::PerHead;
}

//===----------------------------------------------------------------------===//
// RoPE + append
//===----------------------------------------------------------------------===//

FailureOr<LaunchConfig>
mlir::qopt::codegen::buildRopeAppendKernel(gpu::GPUModuleOp module,
                                           const RopeAppendSpec &spec,
                                           Chip chip, Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "rope_append kernel '" << spec.name << "': ";
  };
  if (failed(checkKernelName(module, spec.name, loc)) ||
      failed(checkHeads(spec.maxTokens, spec.numHeads, spec.numKvHeads,
                        spec.headDim, fail)) ||
      failed(
          checkCache(spec.keys, "key", spec.numKvHeads, spec.headDim, fail)) ||
      failed(checkCache(spec.values, "value", spec.numKvHeads, spec.headDim,
                        fail)))
    return failure();
  if (spec.headDim % 2)
    return fail() << "headDim must be even, got " << spec.headDim;
  if (spec.maxPositions <= 0)
    return fail() << "maxPositions must be positive";

  MLIRContext *ctx = module.getContext();
  Builder types(ctx);
  Type f32 = types.getF32Type(), i32 = types.getI32Type();
  int64_t rows = spec.maxTokens, d = spec.headDim, half = d / 2;
  int64_t heads = spec.numHeads, kvHeads = spec.numKvHeads;
  const KVCacheSpec &kc = spec.keys, &vc = spec.values;
  int64_t vec = vectorWidth(half, 4);
  int64_t unitsPerHead = half / vec;
  int64_t units = (heads + 2 * kvHeads) * unitsPerHead;
  int64_t threads = std::min<int64_t>(256, (units + 31) / 32 * 32);
  int64_t numWarps = threads / 32;

  // Parameters: q, k, v, positions, ropeTable, [kScale], [vScale], qOut,
  // kCache, vCache, [kCacheScales], [vCacheScales], m.
  SmallVector<Type> params{globalMemRef({rows, heads * d}, f32),
                           globalMemRef({rows, kvHeads * d}, f32),
                           globalMemRef({rows, kvHeads * d}, f32),
                           globalMemRef({rows}, i32),
                           globalMemRef({spec.maxPositions, d}, f32)};
  int kScaleArg = -1, vScaleArg = -1;
  if (isStatic(kc)) {
    kScaleArg = params.size();
    params.push_back(staticScaleType(ctx, kc));
  }
  if (isStatic(vc)) {
    vScaleArg = params.size();
    params.push_back(staticScaleType(ctx, vc));
  }
  int qOutArg = params.size();
  params.push_back(globalMemRef({rows, heads * d}, f32));
  int kCacheArg = params.size();
  params.push_back(cacheType(ctx, kc));
  params.push_back(cacheType(ctx, vc));
  int kRowScalesArg = -1, vRowScalesArg = -1;
  if (kc.scales == KVScaleKind::PerToken) {
    kRowScalesArg = params.size();
    params.push_back(globalMemRef({kc.maxSeq}, f32));
  }
  if (vc.scales == KVScaleKind::PerToken) {
    vRowScalesArg = params.size();
    params.push_back(globalMemRef({vc.maxSeq}, f32));
  }
  int mArg = params.size();
  params.push_back(i32);
  SmallVector<Type> workgroup{workgroupMemRef({32}, f32),
                              workgroupMemRef({32}, f32)};

  KernelShell shell(module, spec.name, params, workgroup, threads, loc);
  Emitter e(shell.builder(), chip);
  Value q = shell.param(0), k = shell.param(1), v = shell.param(2);
  Value table = shell.param(4);
  Value row = e.blockId(0);
  Value m = e.toIndex(shell.param(mArg));
  int64_t limit = std::min({spec.maxPositions, kc.maxSeq, vc.maxSeq});

  e.ifThen(e.lt(row, m), [&] {
    Value pos = e.toIndex(e.load(shell.param(3), {row}));
    Value posOk = e.andi(e.ge(pos, e.idx(0)), e.lt(pos, e.idx(limit)));
    e.ifThen(posOk, [&] {
      Value tid = e.threadId();
      struct Pair {
        Value head, col1, col2, y1, y2;
      };
      // Unit u of a tensor of heads: its columns; rotated when `rotate`.
      auto unit = [&](Value src, Value u, bool rotate) {
        Pair p;
        p.head = e.div(u, e.idx(unitsPerHead));
        Value i = e.mul(e.rem(u, e.idx(unitsPerHead)), e.idx(vec));
        p.col1 = e.add(e.mul(p.head, e.idx(d)), i);
        p.col2 = e.add(p.col1, e.idx(half));
        Value x1 = e.loadF32(src, {row, p.col1}, vec);
        Value x2 = e.loadF32(src, {row, p.col2}, vec);
        if (!rotate) {
          p.y1 = x1;
          p.y2 = x2;
          return p;
        }
        Value c = e.loadF32(table, {pos, i}, vec);
        Value s = e.loadF32(table, {pos, e.add(i, e.idx(half))}, vec);
        p.y1 = e.sub(e.mul(x1, c), e.mul(x2, s));
        p.y2 = e.add(e.mul(x2, c), e.mul(x1, s));
        return p;
      };

      e.forLoop(tid, e.idx(heads * unitsPerHead), e.idx(threads), [&](Value u) {
        Pair p = unit(q, u, /*rotate=*/true);
        e.storeF32(p.y1, shell.param(qOutArg), {row, p.col1});
        e.storeF32(p.y2, shell.param(qOutArg), {row, p.col2});
      });

      // Keys (rotated), then values, into row `pos` of their caches.
      for (int which = 0; which < 2; ++which) {
        const KVCacheSpec &c = which == 0 ? kc : vc;
        Value src = which == 0 ? k : v;
        Value cache = shell.param(kCacheArg + which);
        bool rotate = which == 0;
        int scaleArg = which == 0 ? kScaleArg : vScaleArg;
        int rowScalesArg = which == 0 ? kRowScalesArg : vRowScalesArg;
        Value rowScale;
        if (c.scales == KVScaleKind::PerToken) {
          SmallVector<Value> amax = e.forLoop(
              tid, e.idx(kvHeads * unitsPerHead), e.idx(threads), {e.f32(0.0)},
              [&](Value u, ValueRange acc) -> SmallVector<Value> {
                Pair p = unit(src, u, rotate);
                Value a = e.max(e.vectorReduce(e.abs(p.y1), ReduceKind::Max),
                                e.vectorReduce(e.abs(p.y2), ReduceKind::Max));
                return {e.max(acc[0], a)};
              });
          Value absmax = e.blockReduce(amax[0], ReduceKind::Max,
                                       shell.workgroup(which), numWarps);
          rowScale =
              e.dynamicScale(absmax, c.storage == ElemType::I8 ? 127.0 : 448.0);
          e.ifThen(e.eq(tid, e.idx(0)), [&] {
            e.store(rowScale, shell.param(rowScalesArg), {pos});
          });
        } else if (c.scales == KVScaleKind::PerTensor) {
          rowScale = e.load(shell.param(scaleArg), {e.idx(0)});
        }
        e.forLoop(tid, e.idx(kvHeads * unitsPerHead), e.idx(threads),
                  [&](Value u) {
                    Pair p = unit(src, u, rotate);
                    Value s = rowScale;
                    if (c.scales == KVScaleKind::PerHead)
                      s = e.load(shell.param(scaleArg), {p.head});
                    e.storeQuantized(p.y1, cache, {pos, p.col1}, s, Value());
                    e.storeQuantized(p.y2, cache, {pos, p.col2}, s, Value());
                  });
      }
    });
  });
  shell.finish();

  LaunchConfig config;
  config.block = {threads, 1, 1};
  config.gridTokenTile = 1;
  return config;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

FailureOr<LaunchConfig>
mlir::qopt::codegen::buildAttentionKernel(gpu::GPUModuleOp module,
                                          const AttentionSpec &spec, Chip chip,
                                          Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "attention kernel '" << spec.name << "': ";
  };
  if (failed(checkKernelName(module, spec.name, loc)) ||
      failed(checkHeads(spec.maxTokens, spec.numHeads, spec.numKvHeads,
                        spec.headDim, fail)) ||
      failed(
          checkCache(spec.keys, "key", spec.numKvHeads, spec.headDim, fail)) ||
      failed(checkCache(spec.values, "value", spec.numKvHeads, spec.headDim,
                        fail)))
    return failure();
  if (spec.outType != ElemType::F32 && spec.outType != ElemType::BF16)
    return fail() << "unsupported output type " << elemTypeName(spec.outType);
  if (spec.slidingWindow < 0 || !(spec.scale >= 0.0))
    return fail() << "slidingWindow and scale must not be negative";
  if (spec.warps < 1 || spec.warps > 32)
    return fail() << "warps must be 1 to 32, got " << spec.warps;
  if (spec.splits < 1 || spec.splits > 8)
    return fail() << "splits must be 1 to 8 (a portable cluster), got "
                  << spec.splits;
  if (spec.splits > 1 && chip != Chip::SM90a)
    return fail() << "splits > 1 merge through thread-block clusters, which "
                     "need sm_90a";

  MLIRContext *ctx = module.getContext();
  Builder types(ctx);
  Type f32 = types.getF32Type(), i32 = types.getI32Type();
  int64_t rows = spec.maxTokens, d = spec.headDim;
  int64_t heads = spec.numHeads, kvHeads = spec.numKvHeads;
  int64_t group = heads / kvHeads;
  const KVCacheSpec &kc = spec.keys, &vc = spec.values;
  const int64_t numWarps = spec.warps, threads = 32 * numWarps, keysPerStep = 4;
  // Elements of the head dimension per lane: lane l has l * per .. + per.
  int64_t per = (d + 31) / 32;
  bool exact = d % 32 == 0 && (per == 1 || per == 2 || per == 4 || per == 8);
  double scale = spec.scale > 0.0 ? spec.scale : 1.0 / std::sqrt(double(d));
  double inf = std::numeric_limits<double>::infinity();

  // Parameters: q, positions, kCache, vCache, [kScales], [vScales], out, m.
  SmallVector<Type> params{globalMemRef({rows, heads * d}, f32),
                           globalMemRef({rows}, i32), cacheType(ctx, kc),
                           cacheType(ctx, vc)};
  auto scalesType = [&](const KVCacheSpec &c) {
    return c.scales == KVScaleKind::PerToken ? globalMemRef({c.maxSeq}, f32)
                                             : staticScaleType(ctx, c);
  };
  int kScalesArg = -1, vScalesArg = -1;
  if (kc.scales != KVScaleKind::None) {
    kScalesArg = params.size();
    params.push_back(scalesType(kc));
  }
  if (vc.scales != KVScaleKind::None) {
    vScalesArg = params.size();
    params.push_back(scalesType(vc));
  }
  int outArg = params.size();
  params.push_back(
      globalMemRef({rows, heads * d}, toMlirType(ctx, spec.outType)));
  int mArg = params.size();
  params.push_back(i32);
  // One-row launches of caches with 16-byte rows: DecodeAttention.cpp.
  if (spec.splits > 1 && decodeAttentionFits(spec))
    return buildDecodeAttentionKernel(module, spec, chip, loc, params,
                                      {kScalesArg, vScalesArg, outArg, mArg});
  const int64_t splits = spec.splits;
  KernelShell shell(module, spec.name, params,
                    attentionWorkgroup(ctx, numWarps, d, splits), threads, loc);
  if (splits > 1)
    shell.setClusterZ(splits);
  Emitter e(shell.builder(), chip);
  Value row = e.blockId(0), head = e.blockId(1);
  Value m = e.toIndex(shell.param(mArg));

  e.ifThen(e.lt(row, m), [&] {
    KeyRange keys = attentionKeyRange(e, spec, shell.param(1), row, m);
    Value first = keys.first, last = keys.last;
    Value kvHead = e.div(head, e.idx(group));
    Value lane = e.laneId(), warp = e.warpId();
    Value laneCol = e.mul(lane, e.idx(per));
    auto vecF32 = VectorType::get({per}, f32);

    // The lane's `per` elements of row `r` of `buf` starting at column
    // `base` (out-of-range elements of a ragged head read its last one).
    auto laneLoad = [&](Value buf, Value r, Value base, Value scl) -> Value {
      if (exact)
        return e.loadDequantized(buf, {r, e.add(base, laneCol)}, per, scl);
      Value result = e.constant(vecF32, 0.0);
      for (int64_t i = 0; i < per; ++i) {
        Value col = e.min(e.add(laneCol, e.idx(i)), e.idx(d - 1));
        Value x = e.loadDequantized(buf, {r, e.add(base, col)}, 1, scl);
        result = e.insert(e.extract(x, 0), result, i);
      }
      return result;
    };
    // The scale of a cache row.
    auto rowScale = [&](const KVCacheSpec &c, int arg, Value j) {
      return attentionRowScale(e, shell, c, arg, kvHead, j);
    };

    Value qv = laneLoad(shell.param(0), row, e.mul(head, e.idx(d)), Value());
    if (!exact) {
      // Ragged head: the lane's elements beyond d contribute nothing.
      for (int64_t i = 0; i < per; ++i) {
        Value ok = e.lt(e.add(laneCol, e.idx(i)), e.idx(d));
        Value x = e.select(ok, e.extract(qv, i), e.f32(0.0));
        qv = e.insert(x, qv, i);
      }
    }
    Value kvBase = e.mul(kvHead, e.idx(d));
    Value scoreScale = e.f32(static_cast<float>(scale));

    SmallVector<Value> state = e.forLoop(
        e.add(first, e.mul(warp, e.idx(keysPerStep))), e.add(last, e.idx(1)),
        e.idx(numWarps * keysPerStep),
        {e.f32(-inf), e.f32(0.0), e.constant(vecF32, 0.0)},
        [&](Value j0, ValueRange acc) -> SmallVector<Value> {
          // All loads first (the values' latency hides behind the sums).
          SmallVector<Value> valid, dots, values;
          for (int64_t u = 0; u < keysPerStep; ++u) {
            Value j = u ? e.add(j0, e.idx(u)) : j0;
            valid.push_back(u ? e.le(j, last) : Value());
            Value key = u ? e.min(j, last) : j;
            Value kv = laneLoad(shell.param(2), key, kvBase,
                                rowScale(kc, kScalesArg, key));
            values.push_back(laneLoad(shell.param(3), key, kvBase,
                                      rowScale(vc, vScalesArg, key)));
            dots.push_back(e.vectorReduce(e.mul(qv, kv), ReduceKind::Sum));
          }
          for (int32_t offset = 16; offset > 0; offset /= 2)
            for (Value &dot : dots)
              dot = e.add(dot, e.shuffleXor(dot, offset));
          Value mNew = acc[0];
          SmallVector<Value> scores;
          for (int64_t u = 0; u < keysPerStep; ++u) {
            Value s = e.mul(scoreScale, dots[u]);
            if (valid[u])
              s = e.select(valid[u], s, e.f32(-inf));
            scores.push_back(s);
            mNew = e.max(mNew, s);
          }
          Value corr = e.exp(e.sub(acc[0], mNew));
          Value sum = e.mul(acc[1], corr);
          Value out = e.mul(acc[2], e.splat(corr, per));
          for (int64_t u = 0; u < keysPerStep; ++u) {
            Value p = e.exp(e.sub(scores[u], mNew));
            sum = e.add(sum, p);
            out = e.add(out, e.mul(e.splat(p, per), values[u]));
          }
          return {mNew, sum, out};
        });

    // Merge the warps.
    Value sMax = shell.workgroup(0), sSum = shell.workgroup(1);
    Value sAcc = shell.workgroup(2);
    e.ifThen(e.eq(lane, e.idx(0)), [&] {
      e.store(state[0], sMax, {warp});
      e.store(state[1], sSum, {warp});
    });
    for (int64_t i = 0; i < per; ++i) {
      Value col = e.add(laneCol, e.idx(i));
      auto storeAcc = [&] {
        e.store(e.extract(state[2], i), sAcc,
                {e.add(e.mul(warp, e.idx(d)), col)});
      };
      if (exact)
        storeAcc();
      else
        e.ifThen(e.lt(col, e.idx(d)), storeAcc);
    }
    e.barrier();
    finishAttentionRow(e, shell, spec, numWarps, row, head, keys.split, outArg);
  });
  shell.finish();

  LaunchConfig config;
  config.block = {threads, 1, 1};
  config.gridTokenTile = 1;
  config.gridY = heads;
  config.gridZ = splits;
  return config;
}

//===----------------------------------------------------------------------===//
// What the attention kernels share (AttentionInternal.h)
//===----------------------------------------------------------------------===//

SmallVector<Type> mlir::qopt::codegen::attentionWorkgroup(MLIRContext *ctx,
                                                          int64_t numWarps,
                                                          int64_t d,
                                                          int64_t splits) {
  Type f32 = Float32Type::get(ctx);
  SmallVector<Type> workgroup{workgroupMemRef({numWarps}, f32),
                              workgroupMemRef({numWarps}, f32),
                              workgroupMemRef({numWarps * d}, f32)};
  if (splits > 1) {
    workgroup.push_back(workgroupMemRef({2}, f32));
    workgroup.push_back(workgroupMemRef({d}, f32));
  }
  return workgroup;
}

KeyRange mlir::qopt::codegen::attentionKeyRange(Emitter &e,
                                                const AttentionSpec &spec,
                                                Value positions, Value row,
                                                Value m) {
  KeyRange r;
  r.first = e.idx(0);
  if (spec.causal) {
    r.last = e.toIndex(e.load(positions, {row}));
    if (spec.slidingWindow > 0)
      r.first = e.max(r.first, e.sub(r.last, e.idx(spec.slidingWindow - 1)));
  } else {
    r.last = e.toIndex(e.load(positions, {e.sub(m, e.idx(1))}));
  }
  int64_t maxSeq = std::min(spec.keys.maxSeq, spec.values.maxSeq);
  r.last = e.min(r.last, e.idx(maxSeq - 1));
  if (spec.splits > 1) {
    r.split = e.blockId(2);
    Value n = e.max(e.sub(e.add(r.last, e.idx(1)), r.first), e.idx(0));
    Value size = e.div(e.add(n, e.idx(spec.splits - 1)), e.idx(spec.splits));
    r.first = e.add(r.first, e.mul(r.split, size));
    r.last = e.min(r.last, e.sub(e.add(r.first, size), e.idx(1)));
  }
  return r;
}

Value mlir::qopt::codegen::attentionRowScale(Emitter &e, KernelShell &shell,
                                             const KVCacheSpec &c, int arg,
                                             Value kvHead, Value j) {
  switch (c.scales) {
  case KVScaleKind::None:
    return Value();
  case KVScaleKind::PerTensor:
    return e.load(shell.param(arg), {e.idx(0)});
  case KVScaleKind::PerHead:
    return e.load(shell.param(arg), {kvHead});
  case KVScaleKind::PerToken:
    return e.load(shell.param(arg), {j});
  }
  return Value();
}

void mlir::qopt::codegen::finishAttentionRow(Emitter &e, KernelShell &shell,
                                             const AttentionSpec &spec,
                                             int64_t numWarps, Value row,
                                             Value head, Value split,
                                             int outArg) {
  const int64_t d = spec.headDim, splits = spec.splits;
  const int64_t threads = 32 * numWarps;
  Value sMax = shell.workgroup(0), sSum = shell.workgroup(1);
  Value sAcc = shell.workgroup(2);
  // The row's output element c; no keys (a total of 0): zeros.
  auto storeRow = [&](Value c, Value total, Value o) {
    Value y = e.select(e.gt(total, e.f32(0.0)),
                       e.mul(o, e.div(e.f32(1.0), total)), e.f32(0.0));
    e.storeF32(e.splat(y, 1), shell.param(outArg),
               {row, e.add(e.mul(head, e.idx(d)), c)});
  };
  e.forLoop(e.threadId(), e.idx(d), e.idx(threads), [&](Value c) {
    std::array<Value, 3> st = mergeSoftmaxStates(
        e, numWarps, [&](int64_t w) { return e.load(sMax, {e.idx(w)}); },
        [&](int64_t w) { return e.load(sSum, {e.idx(w)}); },
        [&](int64_t w) { return e.load(sAcc, {e.add(e.idx(w * d), c)}); });
    if (splits == 1) {
      storeRow(c, st[1], st[2]);
      return;
    }
    // mergeSoftmaxStates leaves a block without keys at (-inf, 0, 0).
    e.store(st[2], shell.workgroup(4), {c});
    e.ifThen(e.eq(c, e.idx(0)), [&] {
      e.store(st[0], shell.workgroup(3), {e.idx(0)});
      e.store(st[1], shell.workgroup(3), {e.idx(1)});
    });
  });
  if (splits == 1)
    return;
  e.clusterBarrier();
  e.ifThen(e.eq(split, e.idx(0)), [&] {
    Value state = shell.workgroup(3), acc = shell.workgroup(4);
    e.forLoop(e.threadId(), e.idx(d), e.idx(threads), [&](Value c) {
      std::array<Value, 3> st = mergeSoftmaxStates(
          e, splits,
          [&](int64_t z) {
            return e.loadClusterF32(state, e.idx(0), e.i32(z));
          },
          [&](int64_t z) {
            return e.loadClusterF32(state, e.idx(1), e.i32(z));
          },
          [&](int64_t z) { return e.loadClusterF32(acc, c, e.i32(z)); });
      storeRow(c, st[1], st[2]);
    });
  });
  e.clusterBarrier();
}
