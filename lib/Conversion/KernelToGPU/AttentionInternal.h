//===- AttentionInternal.h - attention kernel builders' shared parts -*- C++
//-*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CONVERSION_KERNELTOGPU_ATTENTIONINTERNAL_H
#define QOPT_LIB_CONVERSION_KERNELTOGPU_ATTENTIONINTERNAL_H

#include "SimtUtils.h"

#include <array>

namespace mlir::qopt::codegen {

/// Where the optional parameters of an attention kernel are (-1: absent);
/// parameters 0 to 3 are q, positions, the key and the value cache.
struct AttentionArgs {
  int kScales = -1, vScales = -1, out = -1, m = -1;
};

/// Whether the decode kernel takes the spec's caches: a head row of each
/// splits into 16-byte chunks over a power of two of at most 32 lanes, and
/// both caches have one element size.
bool decodeAttentionFits(const AttentionSpec &spec);

/// Merges `parts` online-softmax states (max, sum, accumulator element)
/// into one, each rescaled to the largest max; a state without keys is
/// (-inf, 0, 0), and so is the merge of such states (not NaN).
std::array<Value, 3> mergeSoftmaxStates(simt::Emitter &e, int64_t parts,
                                        function_ref<Value(int64_t)> maxOf,
                                        function_ref<Value(int64_t)> sumOf,
                                        function_ref<Value(int64_t)> accOf);

/// The workgroup buffers of an attention kernel of `numWarps` warps: each
/// warp's max, sum and accumulator [numWarps * d]; with splits > 1 also the
/// block's merged state (max, sum) and accumulator [d].
SmallVector<Type> attentionWorkgroup(MLIRContext *ctx, int64_t numWarps,
                                     int64_t d, int64_t splits);

/// The keys [first, last] of query row `row` (causal: up to its position,
/// within the sliding window; else up to positions[m - 1]; clamped to the
/// caches), narrowed with splits > 1 to block z's slice of ceil(n / S) keys.
struct KeyRange {
  Value first, last;
  /// blockIdx.z with splits > 1, else null.
  Value split;
};
KeyRange attentionKeyRange(simt::Emitter &e, const AttentionSpec &spec,
                           Value positions, Value row, Value m);

/// The scale of cache row `j` (null for a float cache): a per-tensor,
/// per-head (of `kvHead`) or per-token scale from parameter `arg`.
Value attentionRowScale(simt::Emitter &e, simt::KernelShell &shell,
                        const KVCacheSpec &c, int arg, Value kvHead, Value j);

/// The end of an attention kernel, after each warp stored its state in
/// workgroup buffers 0-2 and a barrier: merges the warps' states and writes
/// the row of query head `head` to parameter `outArg` (zeros without keys),
/// or with splits > 1 stores the block's state, and block 0 of the cluster
/// merges the blocks' through distributed shared memory between two cluster
/// barriers.
void finishAttentionRow(simt::Emitter &e, simt::KernelShell &shell,
                        const AttentionSpec &spec, int64_t numWarps, Value row,
                        Value head, Value split, int outArg);

/// The flash-decoding kernel (DecodeAttention.cpp) of a checked spec with
/// `splits` > 1, on the parameters `params` that buildAttentionKernel made.
FailureOr<LaunchConfig> buildDecodeAttentionKernel(gpu::GPUModuleOp module,
                                                   const AttentionSpec &spec,
                                                   Chip chip, Location loc,
                                                   TypeRange params,
                                                   const AttentionArgs &args);

} // namespace mlir::qopt::codegen

#endif // QOPT_LIB_CONVERSION_KERNELTOGPU_ATTENTIONINTERNAL_H
