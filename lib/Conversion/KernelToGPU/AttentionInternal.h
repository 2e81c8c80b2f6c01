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

/// The flash-decoding kernel (DecodeAttention.cpp) of a checked spec with
/// `splits` > 1, on the parameters `params` that buildAttentionKernel made.
FailureOr<LaunchConfig> buildDecodeAttentionKernel(gpu::GPUModuleOp module,
                                                   const AttentionSpec &spec,
                                                   Chip chip, Location loc,
                                                   TypeRange params,
                                                   const AttentionArgs &args);

} // namespace mlir::qopt::codegen

#endif // QOPT_LIB_CONVERSION_KERNELTOGPU_ATTENTIONINTERNAL_H
