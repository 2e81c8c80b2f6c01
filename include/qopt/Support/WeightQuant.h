//===- WeightQuant.h - Weight-only quantization algorithms ------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The numerics of weight quantization for Linear layers: round-to-nearest
// (RTN), GPTQ (Frantar et al. 2022) and the AWQ scale and clip searches
// (Lin et al. 2023). Like QuantMath.h it depends on nothing but the C++
// standard library, and every quantized value is produced by QuantMath's
// primitives (quantizeInt, quantizeFloat8, symmetricScale, asymmetricParams),
// so that a weight quantized here dequantizes exactly as the dialect, the CPU
// executor and the GPU runtime expect.
//
// Weights are row-major float32 [N, K] in PyTorch Linear layout (out x in).
// A group is `groupSize` consecutive input columns of one output row; a group
// size of 0 means one group per row (per-channel). The Hessian H of a layer
// is the [K, K] float64 matrix X^T X over calibration tokens X [T, K]; the
// loss of a quantized weight Wq is ||X W^T - X Wq^T||_F^2 = tr(D H D^T) with
// D = W - Wq.
//
// The heavy kernels (RTN, the Cholesky factorization and the GPTQ sweep,
// hessianLoss, the AWQ searches) split their work over `threads` threads
// (0: std::thread::hardware_concurrency()). Every result is computed in the
// same order whatever the thread count, so results are bit-identical for any
// number of threads. The implementation is split by algorithm: RTN.cpp,
// GPTQ.cpp, AWQ.cpp, and the dense kernels in DenseLinearAlgebra.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_SUPPORT_WEIGHTQUANT_H
#define QOPT_SUPPORT_WEIGHTQUANT_H

#include "qopt-runtime/QuantMath.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qnum {

/// How a weight is quantized.
struct WeightQuantConfig {
  /// Int8, Int4, Float8E4M3FN (or Float8E5M2).
  StorageKind kind = StorageKind::Int8;
  /// Asymmetric (with zero points) is only supported for integer kinds.
  bool symmetric = true;
  /// 0: one group per output row (per-channel); otherwise must divide K.
  int64_t groupSize = 0;
};

/// Returns "" when `cfg` applies to a [n, k] weight, else a message that
/// names the problem ("group size 100 does not divide the input dimension
/// 384", asymmetric float8, a negative group size, an empty shape).
std::string checkWeightQuantConfig(const WeightQuantConfig &cfg, int64_t n,
                                   int64_t k);

/// The number of groups per row: k / groupSize, or 1 when per-channel.
int64_t numGroups(const WeightQuantConfig &cfg, int64_t k);

/// A quantized [n, k] weight with its per-(row, group) parameters.
struct QuantizedWeight {
  int64_t n = 0, k = 0;
  /// [n, k] storage values held as float: the integer for integer storage,
  /// the float8 value itself for float8 storage (as quantizeTensor).
  std::vector<float> q;
  /// [n, groups] row-major.
  std::vector<float> scales;
  /// [n, groups]; empty when symmetric.
  std::vector<int32_t> zeroPoints;

  /// Sizes the buffers for a [n, k] weight of `groups` groups per row, with
  /// zero points when `asymmetric`.
  void allocate(int64_t rows, int64_t cols, int64_t groups, bool asymmetric) {
    n = rows;
    k = cols;
    q.resize(static_cast<size_t>(rows * cols));
    scales.resize(static_cast<size_t>(rows * groups));
    if (asymmetric)
      zeroPoints.resize(static_cast<size_t>(rows * groups));
  }

  /// w = (q - zp) * scale in float32 (float8: q * scale), row-major [n, k];
  /// the same arithmetic as QuantMath's dequantizeTensor. Rows are split
  /// over `threads` threads (0: all hardware threads).
  std::vector<float> dequantize(int threads = 0) const;
};

/// Round-to-nearest. Each (row, group) covers [min, max] of its weights
/// (asymmetric; widened to contain 0 by asymmetricParams) or their absmax
/// (symmetric), both multiplied by clip[row * groups + g] when `clip` is
/// non-null (a ratio in (0, 1]; values beyond the clipped range saturate).
/// Scales come from symmetricScale / asymmetricParams over
/// storageRange(kind, symmetric), and values from quantizeInt /
/// quantizeFloat8: without `clip`, the result is bit-identical to
/// computeDynamicParams + quantizeTensor with per-channel (axis 0) or
/// per-group (axis 1) granularity. Returns an empty weight (n = k = 0) when
/// checkWeightQuantConfig rejects the configuration. Rows are split over
/// `threads` threads (0: all hardware threads).
QuantizedWeight quantizeRTN(const float *w, int64_t n, int64_t k,
                            const WeightQuantConfig &cfg,
                            const float *clip = nullptr, int threads = 0);

/// tr((W - Wq) H (W - Wq)^T) = sum over rows of d^T H d in float64, with H
/// [k, k] symmetric (only its upper triangle is read). With H = X^T X this
/// is ||X W^T - X Wq^T||_F^2. O(n k^2 / 2).
double hessianLoss(const float *w, const float *wq, int64_t n, int64_t k,
                   const double *h, int threads = 0);

struct GPTQOptions {
  /// Fraction of mean(diag H) added to the diagonal of H.
  double dampening = 0.01;
  /// Columns per lazy batch update (any positive value gives the same
  /// result up to floating-point rounding).
  int64_t blockSize = 128;
  /// Process columns by descending diag(H) ("act-order", "desc_act").
  bool actOrder = false;
  /// 0: std::thread::hardware_concurrency().
  int threads = 0;
};

/// The part of GPTQ that depends on H only, shared by the layers that read
/// the same input (q/k/v, gate/up): the column order, the dead columns, and
/// the upper Cholesky factor of the inverse of the dampened (permuted) H.
struct GPTQFactor {
  int64_t k = 0;
  /// Processing position -> original column (the identity without
  /// act-order).
  std::vector<int64_t> perm;
  /// Per original column: H_ii == 0 (the column's weights are zeroed).
  std::vector<uint8_t> dead;
  /// [k, k] row-major, upper triangle: U with U^T U = (P H P^T)^-1 in
  /// processing order (the lower triangle is zero).
  std::vector<double> u;
};

/// Computes the factor of `h` [k, k] (dead inputs get H_ii = 1, dampening,
/// act-order permutation by descending diag(H), stable on ties). Returns
/// false and sets `error` when H is not positive definite after dampening.
/// O(k^3 / 3).
bool factorGPTQHessian(const double *h, int64_t k, const GPTQOptions &opts,
                       GPTQFactor &out, std::string &error);

/// GPTQ with the reference algorithm's steps: dead inputs have their weight
/// columns zeroed; columns are quantized in the factor's order in blocks of
/// opts.blockSize with lazy batch updates of the remaining columns. The
/// scale (and zero point) of each (row, group) is computed, in float64 and
/// then as quantizeRTN does, from the error-updated weights of the whole
/// group at the moment the first of its columns is quantized (including the
/// updates still pending in the lazy batch, so the result does not depend on
/// blockSize). With act-order, groups stay static groups of consecutive
/// original columns (no g_idx): a group's parameters are fixed when any of
/// its columns is reached first in the permuted order. Works in float64.
/// Returns false and sets `error` when the config is invalid for [n, k] or
/// H is not positive definite after dampening. O(k^3 / 3 + n k^2 / 2).
bool quantizeGPTQ(const float *w, int64_t n, int64_t k, const double *h,
                  const WeightQuantConfig &cfg, const GPTQOptions &opts,
                  QuantizedWeight &out, std::string &error);
/// The same with a factor from factorGPTQHessian (its act-order and
/// dampening apply; opts.blockSize and opts.threads are used).
bool quantizeGPTQ(const float *w, int64_t n, int64_t k,
                  const GPTQFactor &factor, const WeightQuantConfig &cfg,
                  const GPTQOptions &opts, QuantizedWeight &out,
                  std::string &error);

/// AWQ scale search with the Hessian as the objective (no activation samples
/// needed). `ws` are the weights of the layers that share one input (e.g.
/// q/k/v), each [ns[i], k]; xScale[k] is a per-input-channel activation
/// magnitude (e.g. RMS or mean |x|). For alpha in {0, 1/grid, ...,
/// (grid-1)/grid}: s_j = max(xScale_j, 1e-5)^alpha normalized by
/// sqrt(max(s) * min(s)), and loss(alpha) = sum_i hessianLoss(W_i,
/// dequant(RTN(W_i diag(s))) diag(s)^-1, H). Returns the s of the smallest
/// loss (all ones when alpha = 0 wins, which is exactly RTN; ties keep the
/// smaller alpha), with that loss in *bestLoss and the alpha = 0 loss in
/// *rtnLoss (either may be null). The caller multiplies the weights' columns
/// by s and divides the producer of the input by s. Returns an empty vector
/// when the inputs are inconsistent or the config is invalid.
std::vector<float>
awqSearchScales(const std::vector<const float *> &ws,
                const std::vector<int64_t> &ns, int64_t k, const double *h,
                const std::vector<float> &xScale, const WeightQuantConfig &cfg,
                int grid, double *bestLoss, double *rtnLoss, int threads = 0);

/// AWQ clip search on one (already scaled) weight: for every (row, group)
/// independently, the ratio r in {1, 1 - 1/steps, ..., >= minRatio} that
/// minimizes d_g^T H_gg d_g, the loss restricted to the group's diagonal
/// block of H, of quantizeRTN with clip r (ties keep the larger ratio).
/// Returns the clip ratios [n * groups] to pass to quantizeRTN (1 = no clip,
/// which is RTN), or an empty vector when the config is invalid.
std::vector<float> awqSearchClip(const float *w, int64_t n, int64_t k,
                                 const double *h, const WeightQuantConfig &cfg,
                                 int steps = 20, double minRatio = 0.5,
                                 int threads = 0);

} // namespace qnum

#endif // QOPT_SUPPORT_WEIGHTQUANT_H
