//===- DenseLinearAlgebra.cpp - Dense kernels of GPTQ and AWQ -------------===//
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
//   - hessianLoss streams blocks of H through the cache for many rows at a
//     time, with register-held partial sums.
// Work is split over threads by rows or column chunks only, and every value
// is computed by the same sequence of operations whatever the split, so the
// results do not depend on the number of threads.
//
//===----------------------------------------------------------------------===//

#include "DenseLinearAlgebra.h"
#include "qopt-runtime/Parallel.h"
#include "qopt/Support/WeightQuant.h"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace qnum;
using namespace qnum::detail;

//===----------------------------------------------------------------------===//
// Hessian loss
//===----------------------------------------------------------------------===//

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
void qnum::detail::quadForms(const double *d, int64_t ldd, int64_t rows,
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
  int t = qrt::threadsFor(threads, 0.5 * double(n) * double(k) * double(k));
  int64_t taskRows = rowsPerTask(n, t, 64);
  int64_t tasks = (n + taskRows - 1) / taskRows;
  std::vector<double> rowLoss(static_cast<size_t>(n));
  qrt::parallelForEach(tasks, t, [&](int64_t task) {
    int64_t r0 = task * taskRows, rows = std::min(taskRows, n - r0);
    thread_local std::vector<double> d;
    d.resize(static_cast<size_t>(rows * k));
    for (int64_t i = 0; i < rows * k; ++i)
      d[i] = static_cast<double>(w[r0 * k + i]) -
             static_cast<double>(wq[r0 * k + i]);
    quadForms(d.data(), k, rows, h, k, k, rowLoss.data() + r0);
  });
  double total = 0.0;
  for (double l : rowLoss)
    total += l;
  return total;
}

//===----------------------------------------------------------------------===//
// Factorization
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
void qnum::detail::gemmSub(double *c, int64_t ldc, const double *a, int64_t lda,
                           const double *b, int64_t ldb, int64_t rows,
                           int64_t cols, int64_t depth) {
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
bool qnum::detail::choleskyLower(double *a, int64_t k, int threads,
                                 int64_t &bad) {
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
    qrt::parallelForEach((len + kPanelRows - 1) / kPanelRows,
                         qrt::threadsFor(threads, work), [&](int64_t task) {
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
    qrt::parallelForEach((len + kBlock - 1) / kBlock,
                         qrt::threadsFor(threads, work), [&](int64_t task) {
                           int64_t ib = j1 + task * kBlock;
                           int64_t rows = std::min(kBlock, k - ib);
                           gemmSub(a + ib * k + j1, k, a + ib * k + j0, k,
                                   pt.data(), len, rows, ib - j1, w);
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
void qnum::detail::invertLower(const double *l, double *x, int64_t k,
                               int threads) {
  constexpr int64_t kCols = 64, kRows = 32, kDepth = 128;
  int64_t chunks = (k + kCols - 1) / kCols;
  int t = qrt::threadsFor(threads, double(k) * double(k) * double(k) / 6);
  qrt::parallelForEach(chunks, t, [&](int64_t chunk) {
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
