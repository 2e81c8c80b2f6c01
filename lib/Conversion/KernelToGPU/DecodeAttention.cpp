//===- DecodeAttention.cpp - flash-decoding attention kernel --------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The attention kernel of one-row launches (decode), for caches whose head
// row splits into 16-byte chunks over a power of two of lanes:
//
//   grid (m, numHeads, S), S = `splits` blocks of a (row, head) forming one
//   thread-block cluster along z; block z takes the z-th of S slices of
//   the row's keys (the same key range as the general kernel).
//   Lanes: a key's head row (d elements of E bytes) is L = d * E / 16 lanes
//   of one 16-byte chunk (C = 16 / E elements) each, so a warp reads
//   K = 32 / L keys at a time, two rounds a step (U = 2: 2 K keys a warp).
//   Each lane keeps its C elements of q (times the softmax scale), takes
//   partial dot products of its chunks, sums them over its L lanes (log2 L
//   butterfly steps), scales by the row's key scale (per token, head or
//   tensor: dot(q, s k) = s dot(q, k)) and runs an online softmax per lane
//   group: one rescale of the accumulator per step, the values scaled
//   through p (p s_v v). The K lane groups of a warp merge by butterfly
//   shuffles, the warps through workgroup memory, the S blocks of the
//   cluster through distributed shared memory (block 0, between two
//   cluster barriers; a slice without keys is the state (-inf, 0, 0)).
//   Blocks have min(warps, L / 2) warps; each step's loads are issued one
//   step ahead (software pipelining).
//
//===----------------------------------------------------------------------===//

#include "AttentionInternal.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <array>
#include <limits>

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::simt;

/// Lanes a key's head row spans in 16-byte chunks, or 0 when the row does
/// not split so (or the two caches differ in element size).
static int64_t lanesPerKey(const AttentionSpec &s) {
  int64_t e = byteSize(s.keys.storage);
  if (e != byteSize(s.values.storage) || 16 % e)
    return 0;
  int64_t chunk = 16 / e;
  if (s.headDim % chunk)
    return 0;
  int64_t lanes = s.headDim / chunk;
  return lanes <= 32 && 32 % lanes == 0 ? lanes : 0;
}

bool mlir::qopt::codegen::decodeAttentionFits(const AttentionSpec &s) {
  return lanesPerKey(s) > 0;
}

std::array<Value, 3> mlir::qopt::codegen::mergeSoftmaxStates(
    Emitter &e, int64_t parts, function_ref<Value(int64_t)> maxOf,
    function_ref<Value(int64_t)> sumOf, function_ref<Value(int64_t)> accOf) {
  const double inf = std::numeric_limits<double>::infinity();
  SmallVector<Value> maxes;
  Value mAll = e.f32(-inf);
  for (int64_t w = 0; w < parts; ++w) {
    maxes.push_back(maxOf(w));
    mAll = e.max(mAll, maxes.back());
  }
  // Rescaled to 0 while every max is -inf, so that exp(-inf - base) is 0.
  Value base = e.select(e.gt(mAll, e.f32(-inf)), mAll, e.f32(0.0));
  Value total = e.f32(0.0), o = e.f32(0.0);
  for (int64_t w = 0; w < parts; ++w) {
    Value f = e.exp(e.sub(maxes[w], base));
    total = e.add(total, e.mul(f, sumOf(w)));
    o = e.add(o, e.mul(f, accOf(w)));
  }
  return {mAll, total, o};
}

FailureOr<LaunchConfig> mlir::qopt::codegen::buildDecodeAttentionKernel(
    gpu::GPUModuleOp module, const AttentionSpec &spec, Chip chip, Location loc,
    TypeRange params, const AttentionArgs &args) {
  MLIRContext *ctx = module.getContext();
  Type f32 = Float32Type::get(ctx);
  const int64_t d = spec.headDim, heads = spec.numHeads;
  const int64_t group = heads / spec.numKvHeads, splits = spec.splits;
  const int64_t lanes = lanesPerKey(spec), chunk = d / lanes;
  const int64_t slots = 32 / lanes, rounds = 2;
  // Warps: L / 2 at most (4 for 8-bit caches, 8 for bf16, 16 for f32 at
  // d = 128), so that a step covers 32 keys a block ((L / 2) warps, 32 / L
  // keys each, two rounds) whatever the element size, and an 8-bit cache's
  // blocks (about 100 registers a thread) stay at 128 threads, which let all
  // 32 clusters of 8 of Llama-3-8B (256 blocks) be resident on an H200
  // where 256-thread blocks left them in two waves (at most 30 clusters
  // resident).
  const int64_t numWarps =
      std::min<int64_t>(spec.warps, std::max<int64_t>(1, lanes / 2));
  const int64_t threads = 32 * numWarps;
  const KVCacheSpec &kc = spec.keys, &vc = spec.values;
  const double scale =
      spec.scale > 0.0 ? spec.scale : 1.0 / std::sqrt(double(d));
  const double inf = std::numeric_limits<double>::infinity();

  KernelShell shell(module, spec.name, params,
                    attentionWorkgroup(ctx, numWarps, d, splits), threads, loc);
  if (splits > 1)
    shell.setClusterZ(splits);
  Emitter e(shell.builder(), chip);
  Value row = e.blockId(0), head = e.blockId(1);
  Value m = e.toIndex(shell.param(args.m));
  auto vecC = VectorType::get({chunk}, f32);

  e.ifThen(e.lt(row, m), [&] {
    KeyRange keys = attentionKeyRange(e, spec, shell.param(1), row, m);
    Value first = keys.first, last = keys.last;
    Value kvHead = e.div(head, e.idx(group));
    Value lane = e.laneId(), warp = e.warpId();
    Value slot = e.div(lane, e.idx(lanes));
    Value col = e.add(e.mul(kvHead, e.idx(d)),
                      e.mul(e.rem(lane, e.idx(lanes)), e.idx(chunk)));
    Value qCol = e.add(e.mul(head, e.idx(d)),
                       e.mul(e.rem(lane, e.idx(lanes)), e.idx(chunk)));
    Value qv = e.mul(e.loadF32(shell.param(0), {row, qCol}, chunk),
                     e.splat(e.f32(static_cast<float>(scale)), chunk));
    auto rowScale = [&](const KVCacheSpec &c, int arg, Value j) {
      return attentionRowScale(e, shell, c, arg, kvHead, j);
    };
    // The max a state is rescaled to: 0 while it is -inf (no key yet), so
    // that exp(-inf - max) is 0, not NaN.
    auto safeMax = [&](Value mx) {
      return e.select(e.gt(mx, e.f32(-inf)), mx, e.f32(0.0));
    };

    // Every lane of a warp runs the same steps (the shuffles need them
    // all); keys past `last` score -inf.
    Value step = e.idx(numWarps * slots * rounds);
    Value start = e.add(first, e.mul(warp, e.idx(slots * rounds)));
    // One step's loads (keys clamped into the slice, so always readable):
    // per round the raw key and value chunks, then the rows' scales. The
    // loop issues the next step's loads before this step's arithmetic
    // (software pipelining: their latency hides behind it).
    bool kPerToken = kc.scales == KVScaleKind::PerToken;
    bool vPerToken = vc.scales == KVScaleKind::PerToken;
    auto keyOf = [&](Value j0, int64_t r) {
      Value j = e.add(j0, e.add(slot, e.idx(r * slots)));
      return e.max(e.min(j, last), e.idx(0));
    };
    auto loadStep = [&](Value j0) {
      SmallVector<Value> raw;
      for (int64_t r = 0; r < rounds; ++r) {
        Value key = keyOf(j0, r);
        raw.push_back(e.loadVec(shell.param(2), {key, col}, chunk));
        raw.push_back(e.loadVec(shell.param(3), {key, col}, chunk));
        if (kPerToken)
          raw.push_back(e.load(shell.param(args.kScales), {key}));
        if (vPerToken)
          raw.push_back(e.load(shell.param(args.vScales), {key}));
      }
      return raw;
    };
    const int64_t perRound = 2 + int64_t(kPerToken) + int64_t(vPerToken);
    auto toFloat = [&](Value raw) {
      Type elem = cast<VectorType>(raw.getType()).getElementType();
      if (isa<Float8E4M3FNType>(elem))
        return e.decodeE4M3(arith::BitcastOp::create(
            e.b, VectorType::get({chunk}, e.b.getI8Type()), raw));
      return e.toF32(raw);
    };
    // Static (per-tensor, per-head) scales, loaded once.
    Value kStatic = kPerToken ? Value() : rowScale(kc, args.kScales, Value());
    Value vStatic = vPerToken ? Value() : rowScale(vc, args.vScales, Value());

    SmallVector<Value> init{e.f32(-inf), e.f32(0.0), e.constant(vecC, 0.0)};
    llvm::append_range(init, loadStep(start));
    SmallVector<Value> state = e.forLoop(
        start, e.add(last, e.idx(1)), step, init,
        [&](Value j0, ValueRange acc) -> SmallVector<Value> {
          SmallVector<Value> next = loadStep(e.add(j0, step));
          SmallVector<Value> values, valid, dots, kScale, vScale;
          for (int64_t r = 0; r < rounds; ++r) {
            ValueRange raw = acc.slice(3 + r * perRound, perRound);
            Value j = e.add(j0, e.add(slot, e.idx(r * slots)));
            valid.push_back(e.le(j, last));
            Value kv = toFloat(raw[0]);
            values.push_back(toFloat(raw[1]));
            kScale.push_back(kPerToken ? raw[2] : kStatic);
            vScale.push_back(vPerToken ? raw[2 + int64_t(kPerToken)] : vStatic);
            dots.push_back(e.vectorReduce(e.mul(qv, kv), ReduceKind::Sum));
          }
          for (int64_t offset = lanes / 2; offset > 0; offset /= 2)
            for (Value &dot : dots)
              dot = e.add(dot, e.shuffleXor(dot, static_cast<int32_t>(offset)));
          Value mNew = acc[0];
          SmallVector<Value> scores;
          for (int64_t r = 0; r < rounds; ++r) {
            Value s = dots[r];
            if (kScale[r])
              s = e.mul(s, kScale[r]);
            s = e.select(valid[r], s, e.f32(-inf));
            scores.push_back(s);
            mNew = e.max(mNew, s);
          }
          Value base = safeMax(mNew);
          Value corr = e.exp(e.sub(acc[0], base));
          Value sum = e.mul(acc[1], corr);
          Value out = e.mul(acc[2], e.splat(corr, chunk));
          for (int64_t r = 0; r < rounds; ++r) {
            Value p = e.exp(e.sub(scores[r], base));
            sum = e.add(sum, p);
            if (vScale[r])
              p = e.mul(p, vScale[r]);
            out = e.add(out, e.mul(e.splat(p, chunk), values[r]));
          }
          SmallVector<Value> result{mNew, sum, out};
          llvm::append_range(result, next);
          return result;
        });
    state.resize(3);

    // Merge two states (max, sum, accumulator).
    auto merge = [&](ArrayRef<Value> a, ArrayRef<Value> b) {
      Value mx = e.max(a[0], b[0]);
      Value base = safeMax(mx);
      Value fa = e.exp(e.sub(a[0], base)), fb = e.exp(e.sub(b[0], base));
      Value sum = e.add(e.mul(a[1], fa), e.mul(b[1], fb));
      Value acc = e.add(e.mul(a[2], e.splat(fa, chunk)),
                        e.mul(b[2], e.splat(fb, chunk)));
      return SmallVector<Value>{mx, sum, acc};
    };
    // The warp's slots, by butterfly shuffles across lane groups.
    for (int64_t offset = lanes; offset < 32; offset *= 2) {
      SmallVector<Value> other{
          e.shuffleXor(state[0], static_cast<int32_t>(offset)),
          e.shuffleXor(state[1], static_cast<int32_t>(offset)),
          e.constant(vecC, 0.0)};
      for (int64_t i = 0; i < chunk; ++i)
        other[2] = e.insert(
            e.shuffleXor(e.extract(state[2], i), static_cast<int32_t>(offset)),
            other[2], i);
      state = merge(state, other);
    }
    Value sMax = shell.workgroup(0), sSum = shell.workgroup(1);
    Value sAcc = shell.workgroup(2);
    e.ifThen(e.eq(slot, e.idx(0)), [&] {
      e.ifThen(e.eq(lane, e.idx(0)), [&] {
        e.store(state[0], sMax, {warp});
        e.store(state[1], sSum, {warp});
      });
      Value within = e.sub(col, e.mul(kvHead, e.idx(d)));
      // Element by element: workgroup buffers promise no 16-byte alignment.
      Value at = e.add(e.mul(warp, e.idx(d)), within);
      for (int64_t i = 0; i < chunk; ++i)
        e.store(e.extract(state[2], i), sAcc, {e.add(at, e.idx(i))});
    });
    e.barrier();
    finishAttentionRow(e, shell, spec, numWarps, row, head, keys.split,
                       args.out);
  });
  shell.finish();

  LaunchConfig config;
  config.block = {threads, 1, 1};
  config.gridTokenTile = 1;
  config.gridY = heads;
  config.gridZ = splits;
  return config;
}
