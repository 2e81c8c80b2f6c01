//===- WeightQuant.cpp - Weight-only quantization algorithms --------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Performance notes. Everything heavy is plain loops over row-major float64
// buffers, without BLAS, written so that the compiler vectorizes them without
// reassociating any sum:
//   - one kernel, gemmSub (C -= A B with 4 x 4 register tiles and column
//     chunks of B kept in cache), does the Cholesky trailing updates, the
//     triangular inverse and GPTQ's lazy batch updates
//     W[:, i2:] -= Err U[i1:i2, i2:];
//   - the Cholesky factorization is blocked right-looking (panels of kPanel
//     columns); the triangular inverse runs over independent column chunks;
//   - the GPTQ sweep handles rows in tiles (rows are independent given H),
//     columns in blocks of blockSize;
//   - hessianLoss streams blocks of H through the cache for many rows at a
//     time, with register-held partial sums.
// Work is split over threads by rows or column chunks only, and every value
// is computed by the same sequence of operations whatever the split, so the
// results do not depend on the number of threads.
//
//===----------------------------------------------------------------------===//

#include "qopt/Support/WeightQuant.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

using namespace qnum;

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

/// The number of threads to use for about `fma` multiply-adds of work:
/// `requested` (0: all hardware threads), but one per ~4M multiply-adds at
/// most, so small problems stay on the calling thread.
static int threadsFor(int requested, double fma) {
  int t = requested;
  if (t <= 0) {
    unsigned hc = std::thread::hardware_concurrency();
    t = hc ? static_cast<int>(hc) : 1;
  }
  double byWork = std::floor(fma / 4.0e6);
  if (byWork < t)
    t = std::max(1, static_cast<int>(byWork));
  return t;
}

/// Calls fn(i) for every i in [0, count), spread dynamically over `threads`
/// threads (the calling thread included).
template <typename Fn>
static void parallelFor(int64_t count, int threads, const Fn &fn) {
  if (count <= 0)
    return;
  int64_t t = std::min<int64_t>(std::max(threads, 1), count);
  if (t == 1) {
    for (int64_t i = 0; i < count; ++i)
      fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  auto worker = [&]() {
    for (int64_t i = next.fetch_add(1); i < count; i = next.fetch_add(1))
      fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (int64_t i = 1; i < t; ++i)
    pool.emplace_back(worker);
  worker();
  for (std::thread &th : pool)
    th.join();
}

//===----------------------------------------------------------------------===//
// Configuration and round-to-nearest
//===----------------------------------------------------------------------===//

std::string qnum::checkWeightQuantConfig(const WeightQuantConfig &cfg,
                                         int64_t n, int64_t k) {
  if (n < 0 || k <= 0)
    return "invalid weight shape [" + std::to_string(n) + ", " +
           std::to_string(k) + "]";
  if (cfg.groupSize < 0)
    return "group size must be non-negative, got " +
           std::to_string(cfg.groupSize);
  if (cfg.groupSize > 0 && k % cfg.groupSize != 0)
    return "group size " + std::to_string(cfg.groupSize) +
           " does not divide the input dimension " + std::to_string(k);
  if (!cfg.symmetric && isFloat8(cfg.kind))
    return std::string("asymmetric quantization is not supported for ") +
           storageName(cfg.kind) + " storage";
  return {};
}

int64_t qnum::numGroups(const WeightQuantConfig &cfg, int64_t k) {
  return cfg.groupSize > 0 ? k / cfg.groupSize : 1;
}

namespace {

/// One storage kind's quantization, through QuantMath's primitives.
struct Quantizer {
  StorageKind kind;
  bool symmetric;
  bool fp8;
  int32_t qmin, qmax;
  double rangeMax;

  explicit Quantizer(const WeightQuantConfig &cfg)
      : kind(cfg.kind), symmetric(cfg.symmetric), fp8(isFloat8(cfg.kind)) {
    StorageRange r = storageRange(cfg.kind, cfg.symmetric);
    qmin = static_cast<int32_t>(r.min);
    qmax = static_cast<int32_t>(r.max);
    rangeMax = r.max;
  }

  /// The parameters for values whose [min, max] (started at 0) and absmax
  /// are given, exactly as computeDynamicParams derives them, after
  /// multiplying them by `clip`.
  AffineParams params(float lo, float hi, float absmax, float clip) const {
    if (clip != 1.0f) {
      lo *= clip;
      hi *= clip;
      absmax *= clip;
    }
    if (symmetric || fp8)
      return {symmetricScale(absmax, rangeMax), 0};
    return asymmetricParams(lo, hi, qmin, qmax);
  }

  /// The storage value of `x` (as quantizeTensor stores it), and in `dq` its
  /// dequantized value (as dequantizeTensor computes it).
  float quantize(float x, const AffineParams &p, float &dq) const {
    if (fp8) {
      uint8_t bits = quantizeFloat8(x, p.scale, kind);
      float v = kind == StorageKind::Float8E4M3FN ? e4m3fnToFloat(bits)
                                                  : e5m2ToFloat(bits);
      dq = v * p.scale;
      return v;
    }
    int32_t q = quantizeInt(x, p.scale, p.zeroPoint, qmin, qmax);
    dq = dequantizeInt(q, p.scale, p.zeroPoint);
    return static_cast<float>(q);
  }
};

/// [min, max] and absmax of values, accumulated like computeDynamicParams.
struct RangeAcc {
  float lo = 0.0f, hi = 0.0f, absmax = 0.0f;
  void add(float x) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    absmax = std::max(absmax, std::fabs(x));
  }
};

} // namespace

/// Quantizes `len` values of one group with clip ratio `clip`; writes the
/// storage values to `q` and the dequantized ones to `dq` (either may be
/// null).
static AffineParams quantizeGroup(const Quantizer &quant, const float *x,
                                  int64_t len, float clip, float *q,
                                  float *dq) {
  RangeAcc acc;
  for (int64_t j = 0; j < len; ++j)
    acc.add(x[j]);
  AffineParams p = quant.params(acc.lo, acc.hi, acc.absmax, clip);
  for (int64_t j = 0; j < len; ++j) {
    float d;
    float v = quant.quantize(x[j], p, d);
    if (q)
      q[j] = v;
    if (dq)
      dq[j] = d;
  }
  return p;
}

std::vector<float> QuantizedWeight::dequantize() const {
  std::vector<float> w(static_cast<size_t>(n * k));
  if (n == 0 || k == 0)
    return w;
  int64_t groups = static_cast<int64_t>(scales.size()) / n;
  if (groups <= 0 || k % groups != 0 || q.size() != w.size())
    return {};
  int64_t gs = k / groups;
  bool hasZp = !zeroPoints.empty();
  // Float8 storage values are the float8 values themselves, integer ones
  // integers: (q - zp) * scale covers both when zp is 0 (dequantizeInt is
  // exactly float(q - zp) * scale).
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      float scale = scales[r * groups + g];
      int32_t zp = hasZp ? zeroPoints[r * groups + g] : 0;
      const float *qr = q.data() + r * k + g * gs;
      float *wr = w.data() + r * k + g * gs;
      if (!hasZp) {
        for (int64_t j = 0; j < gs; ++j)
          wr[j] = qr[j] * scale;
      } else {
        for (int64_t j = 0; j < gs; ++j)
          wr[j] = dequantizeInt(static_cast<int32_t>(qr[j]), scale, zp);
      }
    }
  }
  return w;
}

QuantizedWeight qnum::quantizeRTN(const float *w, int64_t n, int64_t k,
                                  const WeightQuantConfig &cfg,
                                  const float *clip) {
  QuantizedWeight out;
  if (!checkWeightQuantConfig(cfg, n, k).empty())
    return out;
  Quantizer quant(cfg);
  int64_t groups = numGroups(cfg, k), gs = k / groups;
  bool asym = !cfg.symmetric && !quant.fp8;
  out.n = n;
  out.k = k;
  out.q.resize(static_cast<size_t>(n * k));
  out.scales.resize(static_cast<size_t>(n * groups));
  if (asym)
    out.zeroPoints.resize(static_cast<size_t>(n * groups));
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      int64_t s = r * groups + g;
      AffineParams p =
          quantizeGroup(quant, w + r * k + g * gs, gs, clip ? clip[s] : 1.0f,
                        out.q.data() + r * k + g * gs, nullptr);
      out.scales[s] = p.scale;
      if (asym)
        out.zeroPoints[s] = p.zeroPoint;
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Hessian loss
//===----------------------------------------------------------------------===//

/// Rows per task when `n` rows are split over `threads` threads: at most
/// `maxRows` (enough to amortize streaming a [k, k] matrix through the
/// cache), fewer when that leaves too few tasks to keep the threads busy. A
/// multiple of 4 (the register tiles' height).
static int64_t rowsPerTask(int64_t n, int threads, int64_t maxRows) {
  int64_t want = (n + 4 * int64_t(threads) - 1) / (4 * int64_t(threads));
  want = (want + 3) / 4 * 4;
  return std::clamp<int64_t>(want, 4, maxRows);
}

/// Blocks of H (rows x columns) that hessianLoss streams through the cache.
static constexpr int64_t kLossBlockRows = 64, kLossBlockCols = 256;

/// y_r[i - ib] += sum_{j in [jb, je), j > i} H_ij d_r[j] for i in [ib, ie)
/// and R rows d_r, y_r, H's rows at stride ldh. Rows of H go in pairs (i, i +
/// 1) (ib is even), each inner sum in two interleaved partial sums held in
/// registers; the block's part of y_r[i] is (H_i,i+1 d_i+1 when in the
/// block) + (partial0 + partial1). Each row's result is computed by the same
/// operations whatever R is.
template <int R>
static void upperProduct(const double *const *d, double *const *y,
                         const double *h, int64_t ldh, int64_t ib, int64_t ie,
                         int64_t jb, int64_t je) {
  for (int64_t i = ib; i + 1 < ie; i += 2) {
    const double *h0 = h + i * ldh, *h1 = h0 + ldh;
    double s0[R][2], s1[R][2];
    for (int r = 0; r < R; ++r)
      s0[r][0] = s0[r][1] = s1[r][0] = s1[r][1] = 0.0;
    int64_t j = std::max(jb, i + 2);
    for (; j + 2 <= je; j += 2) {
      double a0 = h0[j], a1 = h0[j + 1], b0 = h1[j], b1 = h1[j + 1];
      for (int r = 0; r < R; ++r) {
        double x0 = d[r][j], x1 = d[r][j + 1];
        s0[r][0] += a0 * x0;
        s0[r][1] += a1 * x1;
        s1[r][0] += b0 * x0;
        s1[r][1] += b1 * x1;
      }
    }
    for (; j < je; ++j)
      for (int r = 0; r < R; ++r) {
        s0[r][0] += h0[j] * d[r][j];
        s1[r][0] += h1[j] * d[r][j];
      }
    bool adjacent = i + 1 >= jb && i + 1 < je;
    for (int r = 0; r < R; ++r) {
      double p0 = s0[r][0] + s0[r][1], p1 = s1[r][0] + s1[r][1];
      if (adjacent)
        p0 = h0[i + 1] * d[r][i + 1] + p0;
      y[r][i - ib] += p0;
      y[r][i + 1 - ib] += p1;
    }
  }
  // With an odd length the last row has no j > i: nothing to add.
}

/// out[r] = d_r^T H d_r = sum_i d_i (H_ii d_i + 2 sum_{j>i} H_ij d_j) for
/// `rows` rows d_r of length `len` (row stride ldd), H's rows at stride ldh
/// (only its upper triangle is read). The inner sums run over fixed blocks of
/// H, each applied to all rows (four at a time) while it is in cache.
static void quadFormsAny(const double *d, int64_t ldd, int64_t rows,
                         const double *h, int64_t ldh, int64_t len,
                         double *out) {
  // y holds the inner sums of one block of kLossBlockRows rows of H.
  double yv[kLossBlockRows * 64];
  for (int64_t r0 = 0; r0 < rows; r0 += 64) {
    int64_t nr = std::min<int64_t>(64, rows - r0);
    const double *d0 = d + r0 * ldd;
    for (int64_t r = 0; r < nr; ++r)
      out[r0 + r] = 0.0;
    for (int64_t ib = 0; ib < len; ib += kLossBlockRows) {
      int64_t ie = std::min(ib + kLossBlockRows, len), bl = ie - ib;
      std::fill(yv, yv + nr * bl, 0.0);
      for (int64_t jb = ib / kLossBlockCols * kLossBlockCols; jb < len;
           jb += kLossBlockCols) {
        int64_t je = std::min(jb + kLossBlockCols, len);
        int64_t r = 0;
        for (; r + 4 <= nr; r += 4) {
          const double *dr[4] = {d0 + r * ldd, d0 + (r + 1) * ldd,
                                 d0 + (r + 2) * ldd, d0 + (r + 3) * ldd};
          double *yr[4] = {yv + r * bl, yv + (r + 1) * bl, yv + (r + 2) * bl,
                           yv + (r + 3) * bl};
          upperProduct<4>(dr, yr, h, ldh, ib, ie, jb, je);
        }
        for (; r < nr; ++r) {
          const double *dr[1] = {d0 + r * ldd};
          double *yr[1] = {yv + r * bl};
          upperProduct<1>(dr, yr, h, ldh, ib, ie, jb, je);
        }
      }
      for (int64_t r = 0; r < nr; ++r) {
        const double *dr = d0 + r * ldd, *yr = yv + r * bl;
        double s = out[r0 + r];
        for (int64_t i = ib; i < ie; ++i)
          s += dr[i] * (h[i * ldh + i] * dr[i] + 2.0 * yr[i - ib]);
        out[r0 + r] = s;
      }
    }
  }
}

double qnum::hessianLoss(const float *w, const float *wq, int64_t n, int64_t k,
                         const double *h, int threads) {
  if (n <= 0 || k <= 0)
    return 0.0;
  int t = threadsFor(threads, 0.5 * double(n) * double(k) * double(k));
  int64_t taskRows = rowsPerTask(n, t, 64);
  int64_t tasks = (n + taskRows - 1) / taskRows;
  std::vector<double> rowLoss(static_cast<size_t>(n));
  parallelFor(tasks, t, [&](int64_t task) {
    int64_t r0 = task * taskRows, rows = std::min(taskRows, n - r0);
    thread_local std::vector<double> d;
    d.resize(static_cast<size_t>(rows * k));
    for (int64_t i = 0; i < rows * k; ++i)
      d[i] = static_cast<double>(w[r0 * k + i]) -
             static_cast<double>(wq[r0 * k + i]);
    quadFormsAny(d.data(), k, rows, h, k, k, rowLoss.data() + r0);
  });
  double total = 0.0;
  for (double l : rowLoss)
    total += l;
  return total;
}

//===----------------------------------------------------------------------===//
// GPTQ: factorization
//===----------------------------------------------------------------------===//

/// Columns per Cholesky panel and per chunk of the cache-blocked loops.
static constexpr int64_t kPanel = 64;
static constexpr int64_t kChunk = 64;

/// C -= A B for C [rows, cols] (row stride ldc), A [rows, depth] (row stride
/// lda) and B [depth, cols] (row stride ldb): every element of C gets
/// c -= a[r][t] * b[t][j] for t = 0, 1, ..., depth - 1 in that order, so the
/// result does not depend on how callers split rows or columns. Register
/// tiles of 4 x 4 elements of C are kept in registers over the whole depth,
/// column chunks of kChunk keep the B panel in cache across row groups.
static void gemmSub(double *c, int64_t ldc, const double *a, int64_t lda,
                    const double *b, int64_t ldb, int64_t rows, int64_t cols,
                    int64_t depth) {
  for (int64_t cb = 0; cb < cols; cb += kChunk) {
    int64_t ce = std::min(cb + kChunk, cols);
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
      const double *a0 = a + r * lda, *a1 = a0 + lda, *a2 = a1 + lda,
                   *a3 = a2 + lda;
      double *c0 = c + r * ldc, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
      int64_t j = cb;
      for (; j + 4 <= ce; j += 4) {
        double x00 = c0[j], x01 = c0[j + 1], x02 = c0[j + 2], x03 = c0[j + 3];
        double x10 = c1[j], x11 = c1[j + 1], x12 = c1[j + 2], x13 = c1[j + 3];
        double x20 = c2[j], x21 = c2[j + 1], x22 = c2[j + 2], x23 = c2[j + 3];
        double x30 = c3[j], x31 = c3[j + 1], x32 = c3[j + 2], x33 = c3[j + 3];
        const double *bt = b + j;
        for (int64_t t = 0; t < depth; ++t, bt += ldb) {
          double b0 = bt[0], b1 = bt[1], b2 = bt[2], b3 = bt[3];
          double e0 = a0[t], e1 = a1[t], e2 = a2[t], e3 = a3[t];
          x00 -= e0 * b0;
          x01 -= e0 * b1;
          x02 -= e0 * b2;
          x03 -= e0 * b3;
          x10 -= e1 * b0;
          x11 -= e1 * b1;
          x12 -= e1 * b2;
          x13 -= e1 * b3;
          x20 -= e2 * b0;
          x21 -= e2 * b1;
          x22 -= e2 * b2;
          x23 -= e2 * b3;
          x30 -= e3 * b0;
          x31 -= e3 * b1;
          x32 -= e3 * b2;
          x33 -= e3 * b3;
        }
        c0[j] = x00;
        c0[j + 1] = x01;
        c0[j + 2] = x02;
        c0[j + 3] = x03;
        c1[j] = x10;
        c1[j + 1] = x11;
        c1[j + 2] = x12;
        c1[j + 3] = x13;
        c2[j] = x20;
        c2[j + 1] = x21;
        c2[j + 2] = x22;
        c2[j + 3] = x23;
        c3[j] = x30;
        c3[j + 1] = x31;
        c3[j + 2] = x32;
        c3[j + 3] = x33;
      }
      for (; j < ce; ++j) {
        double x0 = c0[j], x1 = c1[j], x2 = c2[j], x3 = c3[j];
        const double *bt = b + j;
        for (int64_t t = 0; t < depth; ++t, bt += ldb) {
          x0 -= a0[t] * bt[0];
          x1 -= a1[t] * bt[0];
          x2 -= a2[t] * bt[0];
          x3 -= a3[t] * bt[0];
        }
        c0[j] = x0;
        c1[j] = x1;
        c2[j] = x2;
        c3[j] = x3;
      }
    }
    for (; r < rows; ++r) {
      const double *ar = a + r * lda;
      double *cr = c + r * ldc;
      int64_t j = cb;
      for (; j + 4 <= ce; j += 4) {
        double x0 = cr[j], x1 = cr[j + 1], x2 = cr[j + 2], x3 = cr[j + 3];
        const double *bt = b + j;
        for (int64_t t = 0; t < depth; ++t, bt += ldb) {
          double e = ar[t];
          x0 -= e * bt[0];
          x1 -= e * bt[1];
          x2 -= e * bt[2];
          x3 -= e * bt[3];
        }
        cr[j] = x0;
        cr[j + 1] = x1;
        cr[j + 2] = x2;
        cr[j + 3] = x3;
      }
      for (; j < ce; ++j) {
        double x = cr[j];
        const double *bt = b + j;
        for (int64_t t = 0; t < depth; ++t, bt += ldb)
          x -= ar[t] * bt[0];
        cr[j] = x;
      }
    }
  }
}

/// In-place lower Cholesky factorization A = L L^T of the lower triangle of
/// the row-major [k, k] `a` (the strict upper triangle is scratch). Returns
/// false, with the failing pivot in `bad`, when A is not positive definite.
static bool choleskyLower(double *a, int64_t k, int threads, int64_t &bad) {
  std::vector<double> pt;
  for (int64_t j0 = 0; j0 < k; j0 += kPanel) {
    int64_t j1 = std::min(j0 + kPanel, k), w = j1 - j0;
    // Factor the diagonal block (already updated by the previous panels).
    for (int64_t i = j0; i < j1; ++i) {
      double *ai = a + i * k;
      for (int64_t j = j0; j <= i; ++j) {
        const double *aj = a + j * k;
        double s = ai[j];
        for (int64_t m = j0; m < j; ++m)
          s -= ai[m] * aj[m];
        if (i == j) {
          if (!(s > 0.0) || !std::isfinite(s)) {
            bad = i;
            return false;
          }
          ai[i] = std::sqrt(s);
        } else {
          ai[j] = s / aj[j];
        }
      }
    }
    if (j1 == k)
      break;
    int64_t len = k - j1;
    double work = double(len) * double(w) * double(w) / 2;
    // The panel below it: L21 = A21 L11^-T, row by row.
    constexpr int64_t kPanelRows = 64;
    parallelFor((len + kPanelRows - 1) / kPanelRows, threadsFor(threads, work),
                [&](int64_t task) {
                  int64_t ib = j1 + task * kPanelRows;
                  int64_t ie = std::min(ib + kPanelRows, k);
                  for (int64_t i = ib; i < ie; ++i) {
                    double *ai = a + i * k;
                    for (int64_t j = j0; j < j1; ++j) {
                      const double *aj = a + j * k;
                      double s = ai[j];
                      for (int64_t m = j0; m < j; ++m)
                        s -= ai[m] * aj[m];
                      ai[j] = s / aj[j];
                    }
                  }
                });
    // The trailing update A22 -= L21 L21^T (lower part), reading the panel
    // transposed: pt[m][i - j1] = L[i][j0 + m]. By blocks of kBlock rows:
    // the rectangle left of the block's diagonal for all its rows at once
    // (the panel stays in cache across them), then the diagonal part in
    // groups of four rows, each up to its last row.
    pt.resize(static_cast<size_t>(w * len));
    for (int64_t i = j1; i < k; ++i)
      for (int64_t m = 0; m < w; ++m)
        pt[m * len + (i - j1)] = a[i * k + j0 + m];
    work = double(len) * double(len) * double(w) / 2;
    constexpr int64_t kBlock = 32;
    parallelFor((len + kBlock - 1) / kBlock, threadsFor(threads, work),
                [&](int64_t task) {
                  int64_t ib = j1 + task * kBlock;
                  int64_t rows = std::min(kBlock, k - ib);
                  gemmSub(a + ib * k + j1, k, a + ib * k + j0, k, pt.data(),
                          len, rows, ib - j1, w);
                  for (int64_t g = 0; g < rows; g += 4) {
                    int64_t gr = std::min<int64_t>(4, rows - g);
                    int64_t i = ib + g;
                    gemmSub(a + i * k + ib, k, a + i * k + j0, k,
                            pt.data() + (ib - j1), len, gr, g + gr, w);
                  }
                });
  }
  return true;
}

/// x = l^-1 for the lower triangular [k, k] `l` (lower triangle read), into
/// `x` (lower triangle written; the rest left as is), by independent chunks
/// of columns.
static void invertLower(const double *l, double *x, int64_t k, int threads) {
  constexpr int64_t kCols = 64, kRows = 32, kDepth = 128;
  int64_t chunks = (k + kCols - 1) / kCols;
  int t = threadsFor(threads, double(k) * double(k) * double(k) / 6);
  parallelFor(chunks, t, [&](int64_t chunk) {
    int64_t c0 = chunk * kCols, c1 = std::min(c0 + kCols, k), cw = c1 - c0;
    std::vector<double> acc(static_cast<size_t>(kRows * cw));
    // X[i][j] = (delta_ij - sum_{m=j}^{i-1} L[i][m] X[m][j]) / L[i][i] for
    // j in [c0, c1), j <= i; acc = -sum runs over m in increasing order
    // (the terms with m < j are exact zeros: X is lower triangular).
    for (int64_t ib = c0; ib < k; ib += kRows) {
      int64_t rows = std::min(kRows, k - ib);
      std::fill(acc.begin(), acc.end(), 0.0);
      // Rows m in [c0, ib), shared by the block, in slices of kDepth that
      // stay in cache across the block's rows.
      for (int64_t m0 = c0; m0 < ib; m0 += kDepth) {
        int64_t depth = std::min(kDepth, ib - m0);
        gemmSub(acc.data(), cw, l + ib * k + m0, k, x + m0 * k + c0, k, rows,
                cw, depth);
      }
      // Within the block, in order.
      for (int64_t r = 0; r < rows; ++r) {
        int64_t i = ib + r;
        double *ar = acc.data() + r * cw;
        for (int64_t m = ib; m < i; ++m) {
          double lr = l[i * k + m];
          const double *xm = x + m * k + c0;
          for (int64_t j = 0; j < cw; ++j)
            ar[j] -= lr * xm[j];
        }
        int64_t ji = std::min(i + 1, c1) - c0;
        double lii = l[i * k + i];
        double *xi = x + i * k + c0;
        for (int64_t j = 0; j < ji; ++j)
          xi[j] = ((c0 + j == i ? 1.0 : 0.0) + ar[j]) / lii;
      }
    }
  });
}

bool qnum::factorGPTQHessian(const double *h, int64_t k,
                             const GPTQOptions &opts, GPTQFactor &out,
                             std::string &error) {
  out = GPTQFactor();
  if (k <= 0 || !h) {
    error = "the Hessian must be a non-empty [k, k] matrix";
    return false;
  }
  if (!(opts.dampening >= 0.0) || !std::isfinite(opts.dampening)) {
    error = "GPTQ dampening must be a non-negative number";
    return false;
  }
  // Dead inputs (H_ii == 0) get H_ii = 1; dampening adds a fraction of the
  // mean diagonal (taken after that) to the whole diagonal.
  std::vector<double> diag(static_cast<size_t>(k));
  out.dead.assign(static_cast<size_t>(k), 0);
  double sum = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    diag[i] = h[i * k + i];
    if (diag[i] == 0.0) {
      out.dead[i] = 1;
      diag[i] = 1.0;
    }
    sum += diag[i];
  }
  double damp = opts.dampening * sum / static_cast<double>(k);
  out.perm.resize(static_cast<size_t>(k));
  std::iota(out.perm.begin(), out.perm.end(), 0);
  if (opts.actOrder)
    std::sort(out.perm.begin(), out.perm.end(), [&](int64_t x, int64_t y) {
      return diag[x] != diag[y] ? diag[x] > diag[y] : x < y;
    });

  // U = chol_upper(S^-1) for S = P H P^T in processing order: with J the
  // reversal permutation, factor J S J = L L^T (lower); then S = R R^T with
  // R = J L J upper, S^-1 = R^-T R^-1 and U = R^-1 = J L^-1 J.
  std::vector<double> a(static_cast<size_t>(k * k), 0.0);
  for (int64_t i = 0; i < k; ++i) {
    int64_t oi = out.perm[k - 1 - i];
    for (int64_t j = 0; j < i; ++j)
      a[i * k + j] = h[oi * k + out.perm[k - 1 - j]];
    a[i * k + i] = diag[oi] + damp;
  }
  int64_t bad = 0;
  if (!choleskyLower(a.data(), k, opts.threads, bad)) {
    int64_t col = out.perm[k - 1 - bad];
    error = "the Hessian is not positive definite after dampening (at input " +
            std::to_string(col) + ")";
    out = GPTQFactor();
    return false;
  }
  out.u.assign(static_cast<size_t>(k * k), 0.0);
  invertLower(a.data(), out.u.data(), k, opts.threads);
  std::reverse(out.u.begin(), out.u.end()); // U[p][c] = X[k-1-p][k-1-c]
  for (int64_t p = 0; p < k; ++p) {
    if (!std::isfinite(out.u[p * k + p]) || !(out.u[p * k + p] > 0.0)) {
      error = "the Hessian is numerically singular after dampening";
      out = GPTQFactor();
      return false;
    }
  }
  out.k = k;
  return true;
}

//===----------------------------------------------------------------------===//
// GPTQ: the sweep
//===----------------------------------------------------------------------===//

/// wt[r][c] -= sum_t err[r][t] * u[t][c] for the `rows` rows of wt (stride
/// k), t in [0, bw) (err stride errStride, u rows at stride k), c in [c0, k).
static void lazyUpdate(double *wt, int64_t rows, int64_t k, const double *err,
                       int64_t errStride, int64_t bw, const double *u,
                       int64_t c0) {
  gemmSub(wt + c0, k, err, errStride, u + c0, k, rows, k - c0, bw);
}

bool qnum::quantizeGPTQ(const float *w, int64_t n, int64_t k,
                        const GPTQFactor &factor, const WeightQuantConfig &cfg,
                        const GPTQOptions &opts, QuantizedWeight &out,
                        std::string &error) {
  out = QuantizedWeight();
  if (std::string msg = checkWeightQuantConfig(cfg, n, k); !msg.empty()) {
    error = msg;
    return false;
  }
  if (factor.k != k || factor.u.size() != static_cast<size_t>(k * k)) {
    error = "the GPTQ factor does not match the input dimension " +
            std::to_string(k);
    return false;
  }
  if (opts.blockSize <= 0) {
    error = "GPTQ block size must be positive, got " +
            std::to_string(opts.blockSize);
    return false;
  }
  Quantizer quant(cfg);
  int64_t groups = numGroups(cfg, k), gs = k / groups;
  bool asym = !cfg.symmetric && !quant.fp8;
  out.n = n;
  out.k = k;
  out.q.resize(static_cast<size_t>(n * k));
  out.scales.resize(static_cast<size_t>(n * groups));
  if (asym)
    out.zeroPoints.resize(static_cast<size_t>(n * groups));
  if (n == 0)
    return true;

  const std::vector<int64_t> &perm = factor.perm;
  std::vector<int64_t> invPerm(static_cast<size_t>(k));
  for (int64_t p = 0; p < k; ++p)
    invPerm[perm[p]] = p;
  // The processing position at which each group's parameters are fixed.
  std::vector<int64_t> firstPos(static_cast<size_t>(groups), k);
  for (int64_t p = 0; p < k; ++p) {
    int64_t g = perm[p] / gs;
    firstPos[g] = std::min(firstPos[g], p);
  }
  const double *u = factor.u.data();
  const int64_t bs = std::min(opts.blockSize, k);

  int t = threadsFor(opts.threads, 0.5 * double(n) * double(k) * double(k));
  const int64_t tileRows = rowsPerTask(n, t, 64);
  int64_t tiles = (n + tileRows - 1) / tileRows;
  parallelFor(tiles, t, [&](int64_t tile) {
    int64_t r0 = tile * tileRows, rows = std::min(tileRows, n - r0);
    // The tile's weights in processing order, dead columns zeroed, and the
    // scaled errors of the current block.
    std::vector<double> wt(static_cast<size_t>(rows * k));
    std::vector<double> err(static_cast<size_t>(rows * bs));
    std::vector<float> vals(static_cast<size_t>(gs));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t p = 0; p < k; ++p) {
        int64_t c = perm[p];
        wt[r * k + p] =
            factor.dead[c] ? 0.0 : static_cast<double>(w[(r0 + r) * k + c]);
      }
    for (int64_t i1 = 0; i1 < k; i1 += bs) {
      int64_t i2 = std::min(i1 + bs, k);
      for (int64_t p = i1; p < i2; ++p) {
        int64_t col = perm[p], g = col / gs;
        if (firstPos[g] == p) {
          // Fix the group's parameters from its current weights: those in
          // this block are up to date, later ones still lack this block's
          // pending update from the columns before p.
          for (int64_t r = 0; r < rows; ++r) {
            const double *wr = wt.data() + r * k;
            const double *er = err.data() + r * bs;
            for (int64_t j = 0; j < gs; ++j) {
              int64_t pos = invPerm[g * gs + j];
              double v = wr[pos];
              if (pos >= i2)
                for (int64_t q = i1; q < p; ++q)
                  v -= er[q - i1] * u[q * k + pos];
              vals[j] = static_cast<float>(v);
            }
            RangeAcc acc;
            for (int64_t j = 0; j < gs; ++j)
              acc.add(vals[j]);
            AffineParams prm = quant.params(acc.lo, acc.hi, acc.absmax, 1.0f);
            out.scales[(r0 + r) * groups + g] = prm.scale;
            if (asym)
              out.zeroPoints[(r0 + r) * groups + g] = prm.zeroPoint;
          }
        }
        const double *up = u + p * k;
        double upp = up[p];
        for (int64_t r = 0; r < rows; ++r) {
          double *wr = wt.data() + r * k;
          int64_t s = (r0 + r) * groups + g;
          AffineParams prm{out.scales[s], asym ? out.zeroPoints[s] : 0};
          float dq;
          out.q[(r0 + r) * k + col] =
              quant.quantize(static_cast<float>(wr[p]), prm, dq);
          double e = (wr[p] - static_cast<double>(dq)) / upp;
          err[r * bs + (p - i1)] = e;
          for (int64_t c = p + 1; c < i2; ++c)
            wr[c] -= e * up[c];
        }
      }
      if (i2 < k)
        lazyUpdate(wt.data(), rows, k, err.data(), bs, i2 - i1, u + i1 * k, i2);
    }
  });
  return true;
}

bool qnum::quantizeGPTQ(const float *w, int64_t n, int64_t k, const double *h,
                        const WeightQuantConfig &cfg, const GPTQOptions &opts,
                        QuantizedWeight &out, std::string &error) {
  out = QuantizedWeight();
  if (std::string msg = checkWeightQuantConfig(cfg, n, k); !msg.empty()) {
    error = msg;
    return false;
  }
  if (opts.blockSize <= 0) {
    error = "GPTQ block size must be positive, got " +
            std::to_string(opts.blockSize);
    return false;
  }
  GPTQFactor factor;
  if (!factorGPTQHessian(h, k, opts, factor, error))
    return false;
  return quantizeGPTQ(w, n, k, factor, cfg, opts, out, error);
}

//===----------------------------------------------------------------------===//
// AWQ
//===----------------------------------------------------------------------===//

std::vector<float> qnum::awqSearchScales(const std::vector<const float *> &ws,
                                         const std::vector<int64_t> &ns,
                                         int64_t k, const double *h,
                                         const std::vector<float> &xScale,
                                         const WeightQuantConfig &cfg, int grid,
                                         double *bestLoss, double *rtnLoss,
                                         int threads) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (bestLoss)
    *bestLoss = kNaN;
  if (rtnLoss)
    *rtnLoss = kNaN;
  if (ws.empty() || ws.size() != ns.size() || !h || grid < 1 ||
      xScale.size() != static_cast<size_t>(k))
    return {};
  for (size_t i = 0; i < ws.size(); ++i)
    if (!ws[i] || !checkWeightQuantConfig(cfg, ns[i], k).empty())
      return {};

  Quantizer quant(cfg);
  int64_t gs = k / numGroups(cfg, k);
  std::vector<float> best(static_cast<size_t>(k), 1.0f), s(best);
  double bestL = std::numeric_limits<double>::infinity(), rtnL = kNaN;
  for (int a = 0; a < grid; ++a) {
    double alpha = static_cast<double>(a) / grid;
    double smax = 0.0, smin = std::numeric_limits<double>::infinity();
    std::vector<double> sd(static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) {
      float x = xScale[j] > 1e-5f ? xScale[j] : 1e-5f;
      sd[j] = std::pow(static_cast<double>(x), alpha);
      smax = std::max(smax, sd[j]);
      smin = std::min(smin, sd[j]);
    }
    double norm = std::sqrt(smax * smin);
    for (int64_t j = 0; j < k; ++j)
      s[j] = static_cast<float>(sd[j] / norm);
    // hessianLoss(W, dequant(RTN(W diag(s))) diag(s)^-1, H), with the
    // quantization done row by row inside the parallel tasks (the same
    // values as quantizeRTN + dequantize, the same sums as hessianLoss).
    double loss = 0.0;
    for (size_t i = 0; i < ws.size(); ++i) {
      int64_t n = ns[i];
      const float *w = ws[i];
      int t = threadsFor(threads, 0.5 * double(n) * double(k) * double(k));
      int64_t taskRows = rowsPerTask(n, t, 64);
      std::vector<double> rowLoss(static_cast<size_t>(n));
      parallelFor((n + taskRows - 1) / taskRows, t, [&](int64_t task) {
        int64_t r0 = task * taskRows, rows = std::min(taskRows, n - r0);
        thread_local std::vector<float> scaled, dq;
        thread_local std::vector<double> d;
        scaled.resize(static_cast<size_t>(k));
        dq.resize(static_cast<size_t>(k));
        d.resize(static_cast<size_t>(rows * k));
        for (int64_t r = 0; r < rows; ++r) {
          const float *wr = w + (r0 + r) * k;
          for (int64_t j = 0; j < k; ++j)
            scaled[j] = wr[j] * s[j];
          for (int64_t g = 0; g < k; g += gs)
            quantizeGroup(quant, scaled.data() + g, gs, 1.0f, nullptr,
                          dq.data() + g);
          for (int64_t j = 0; j < k; ++j)
            d[r * k + j] =
                static_cast<double>(wr[j]) - static_cast<double>(dq[j] / s[j]);
        }
        quadFormsAny(d.data(), k, rows, h, k, k, rowLoss.data() + r0);
      });
      double total = 0.0;
      for (double l : rowLoss)
        total += l;
      loss += total;
    }
    if (a == 0)
      rtnL = loss;
    if (loss < bestL) {
      bestL = loss;
      best = s;
    }
  }
  if (bestLoss)
    *bestLoss = std::isfinite(bestL) ? bestL : rtnL;
  if (rtnLoss)
    *rtnLoss = rtnL;
  return best;
}

std::vector<float> qnum::awqSearchClip(const float *w, int64_t n, int64_t k,
                                       const double *h,
                                       const WeightQuantConfig &cfg, int steps,
                                       double minRatio, int threads) {
  if (!w || !h || !checkWeightQuantConfig(cfg, n, k).empty())
    return {};
  Quantizer quant(cfg);
  int64_t groups = numGroups(cfg, k), gs = k / groups;
  std::vector<float> ratios{1.0f};
  for (int st = 1; steps > 0 && st <= steps; ++st) {
    double r = 1.0 - static_cast<double>(st) / steps;
    if (r < minRatio - 1e-12 || !(r > 0.0))
      break;
    ratios.push_back(static_cast<float>(r));
  }
  std::vector<float> clip(static_cast<size_t>(n * groups), 1.0f);
  int t = threadsFor(threads, double(ratios.size()) * double(n) * double(k) *
                                  double(gs) / 2);
  const int64_t taskRows = rowsPerTask(n, t, 32);
  int64_t tasks = (n + taskRows - 1) / taskRows;
  parallelFor(tasks, t, [&](int64_t task) {
    int64_t r0 = task * taskRows, rows = std::min(taskRows, n - r0);
    std::vector<float> dq(static_cast<size_t>(gs));
    std::vector<double> d(static_cast<size_t>(rows * k));
    std::vector<double> best(static_cast<size_t>(rows * groups),
                             std::numeric_limits<double>::infinity());
    std::vector<double> loss(static_cast<size_t>(rows));
    for (float ratio : ratios) {
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t g = 0; g < groups; ++g) {
          const float *x = w + (r0 + r) * k + g * gs;
          quantizeGroup(quant, x, gs, ratio, nullptr, dq.data());
          double *dr = d.data() + r * k + g * gs;
          for (int64_t j = 0; j < gs; ++j)
            dr[j] = static_cast<double>(x[j]) - static_cast<double>(dq[j]);
        }
      }
      for (int64_t g = 0; g < groups; ++g) {
        quadFormsAny(d.data() + g * gs, k, rows, h + g * gs * (k + 1), k, gs,
                     loss.data());
        for (int64_t r = 0; r < rows; ++r) {
          if (loss[r] < best[r * groups + g]) {
            best[r * groups + g] = loss[r];
            clip[(r0 + r) * groups + g] = ratio;
          }
        }
      }
    }
  });
  return clip;
}
