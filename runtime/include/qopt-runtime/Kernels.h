//===- Kernels.h - Reference kernels of a transformer LLM -------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The reference semantics of every operation a qopt model runs, on row-major
// float32 buffers: the CPU executor interprets qopt IR with them, and the
// runtime's CPU backend runs compiled plans with them, so they are the oracle
// of every GPU kernel. Quantized values (int8, int4, float8 storage) are held
// as floats (the integer, or the float8 value itself), which is exact.
//
// Matrices follow PyTorch: a Linear weight is [out, in], activations are
// [tokens, features]. Kernels that take `threads` split their work by rows,
// heads or output columns only, so results do not depend on it.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_KERNELS_H
#define QOPT_RUNTIME_KERNELS_H

#include "qopt-runtime/QuantMath.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qrt {
namespace kernels {

//===----------------------------------------------------------------------===//
// Embedding, normalization, elementwise
//===----------------------------------------------------------------------===//

/// out[t, :] = table[ids[t], :] for a [rows, hidden] table. Fails, naming
/// the id, when one is outside [0, rows).
bool embedding(const float *table, int64_t rows, int64_t hidden,
               const int32_t *ids, int64_t n, float *out, std::string &error);

/// RMSNorm as Hugging Face computes it: the mean square in double, then
/// w * (x / sqrt(var + eps)) in float32.
void rmsNorm(const float *x, const float *w, int64_t rows, int64_t hidden,
             float eps, float *out, unsigned threads);

/// LayerNorm over the last axis; `bias` may be null.
void layerNorm(const float *x, const float *w, const float *bias, int64_t rows,
               int64_t hidden, double eps, float *out);

/// x * sigmoid(x).
void silu(const float *x, int64_t n, float *out, unsigned threads);
/// Exact GELU (erf), or its tanh approximation.
void gelu(const float *x, int64_t n, bool approximate, float *out);
void mul(const float *a, const float *b, int64_t n, float *out);
void add(const float *a, const float *b, int64_t n, float *out);

/// Multiplies the row-major tensor `x` of `shape` in place by `scales[i]`
/// along `axis` (qopt.scale_channels).
void scaleChannels(float *x, const std::vector<int64_t> &shape,
                   const float *scales, int64_t axis);

/// Checks that `perm` ([n]) is a permutation of [0, n); else sets `error`
/// naming the first index out of range or repeated.
bool checkPermutation(const int32_t *perm, int64_t n, std::string &error);
/// out[r, j] = x[r, perm[j]] for `rows` rows of `cols` channels
/// (qopt.permute_channels); `perm` must have passed checkPermutation.
void permuteChannels(const float *x, int64_t rows, int64_t cols,
                     const int32_t *perm, float *out);

//===----------------------------------------------------------------------===//
// Rotary position embedding
//===----------------------------------------------------------------------===//

struct RopeScaling {
  enum class Kind { None, Linear, Llama3 };
  Kind kind = Kind::None;
  double factor = 1.0;
  /// Llama 3 only.
  double lowFreqFactor = 1.0, highFreqFactor = 4.0;
  int64_t originalMaxPosition = 0;
};

/// The inverse frequencies of RoPE, computed like Hugging Face (float32).
std::vector<float> ropeInvFreq(int64_t headDim, double theta,
                               const RopeScaling &scaling);

/// The cos / sin table `[maxPositions, headDim]` of compiled models: row p
/// holds cos(p * f_i) for i < headDim / 2, then sin(p * f_i), computed
/// exactly as `rope` computes its angles (float32 product, double cos / sin
/// rounded to float).
std::vector<float> ropeTable(int64_t maxPositions, int64_t headDim,
                             const std::vector<float> &invFreq);

/// Rotates the two halves of each head of the [rows, heads * headDim]
/// tensor `x` by the angles positions[t] * invFreq[i].
void rope(const float *x, const int32_t *positions, int64_t rows, int64_t heads,
          int64_t headDim, const std::vector<float> &invFreq, float *out);

//===----------------------------------------------------------------------===//
// Attention over a KV cache
//===----------------------------------------------------------------------===//

struct AttentionShape {
  int64_t numHeads = 0, numKvHeads = 0, headDim = 0;
  bool causal = true;
  /// Scores are multiplied by this (usually 1 / sqrt(headDim)).
  float scale = 1.0f;
  /// With causal: a query at position p attends to positions in
  /// (p - slidingWindow, p]; 0 means no window.
  int64_t slidingWindow = 0;
};

/// The keys and values of one attention layer, [positions, kvDim] each.
/// A quantized cache holds what a kernel reads back: the dequantized
/// storage values.
struct KVCache {
  std::vector<float> keys, values;
  int64_t positions(int64_t kvDim) const {
    return static_cast<int64_t>(keys.size()) / kvDim;
  }
};

/// Appends `rows` rows of `cols` values to `cache`, quantized with `scheme`
/// and dequantized back when it is not null (dynamic schemes compute their
/// parameters from the rows).
void appendToCache(std::vector<float> &cache, const float *x, int64_t rows,
                   int64_t cols, const qnum::TensorScheme *scheme);

/// out [n, numHeads * headDim] = softmax(scale * Q K^T + mask) V for the n
/// queries at positions start, start + 1, ..., over the `total` cached
/// keys and values (which include the n new ones); query head h reads KV
/// head h / (numHeads / numKvHeads).
void attention(const float *q, int64_t n, int64_t start, const float *keys,
               const float *values, int64_t total, const AttentionShape &shape,
               float *out, unsigned threads);

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

/// y [m, n] = x [m, k] w [n, k]^T (+ bias[n]).
void linear(const float *x, const float *w, const float *bias, float *y,
            int64_t m, int64_t n, int64_t k, unsigned threads);

enum class Activation { None, Silu, Gelu, GeluTanh };

/// The operands of a quantized linear layer (qopt.quantized_linear).
struct QuantizedLinearArgs {
  /// [m, k]: storage values when `inputScheme` is set, else float inputs.
  const float *x = nullptr;
  /// [n, k] storage values.
  const float *w = nullptr;
  int64_t m = 0, n = 0, k = 0;
  /// With its scales (and zero points).
  qnum::TensorScheme weightScheme;
  /// Null for weight-only layers.
  const qnum::TensorScheme *inputScheme = nullptr;
  /// [n] int32 added to the integer accumulator (a folded zero point).
  const int32_t *intBias = nullptr;
  /// Epilogue: y = act(acc + bias) + residual.
  const float *bias = nullptr;
  Activation activation = Activation::None;
  /// [m, n].
  const float *residual = nullptr;
};

/// Exact simulation of a quantized linear layer: integer inputs and weights
/// accumulate exactly (as an int32 accumulator would), float8 ones in
/// float32; scales apply per K-segment (a weight group or block column);
/// then bias, activation and residual. Weight-only layers dequantize the
/// weight and run a float32 GEMM.
void quantizedLinear(const QuantizedLinearArgs &args, float *y,
                     unsigned threads);

} // namespace kernels
} // namespace qrt

#endif // QOPT_RUNTIME_KERNELS_H
