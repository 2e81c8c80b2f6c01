//===- DenseLinearAlgebra.h - Dense kernels of GPTQ and AWQ -----*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Plain loops over row-major float64 buffers, without BLAS, written so that
// the compiler vectorizes them without reassociating any sum. Each kernel
// computes every value by the same sequence of operations however callers
// split rows or columns over threads.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_SUPPORT_DENSELINEARALGEBRA_H
#define QOPT_LIB_SUPPORT_DENSELINEARALGEBRA_H

#include <algorithm>
#include <cstdint>

namespace qnum {
namespace detail {

/// Rows per task when `n` rows are split over `threads` threads: at most
/// `maxRows` (enough to amortize streaming a [k, k] matrix through the
/// cache), fewer when that leaves too few tasks to keep the threads busy. A
/// multiple of 4 (the register tiles' height).
inline int64_t rowsPerTask(int64_t n, int threads, int64_t maxRows) {
  int64_t want = (n + 4 * int64_t(threads) - 1) / (4 * int64_t(threads));
  want = (want + 3) / 4 * 4;
  return std::clamp<int64_t>(want, 4, maxRows);
}

/// out[r] = d_r^T H d_r = sum_i d_i (H_ii d_i + 2 sum_{j>i} H_ij d_j) for
/// `rows` rows d_r of length `len` (row stride ldd), H's rows at stride ldh
/// (only its upper triangle is read). The inner sums run over fixed blocks of
/// H, each applied to all rows (four at a time) while it is in cache.
void quadForms(const double *d, int64_t ldd, int64_t rows, const double *h,
               int64_t ldh, int64_t len, double *out);

/// C -= A B for C [rows, cols] (row stride ldc), A [rows, depth] (row stride
/// lda) and B [depth, cols] (row stride ldb): every element of C gets
/// c -= a[r][t] * b[t][j] for t = 0, 1, ..., depth - 1 in that order, so the
/// result does not depend on how callers split rows or columns.
void gemmSub(double *c, int64_t ldc, const double *a, int64_t lda,
             const double *b, int64_t ldb, int64_t rows, int64_t cols,
             int64_t depth);

/// In-place lower Cholesky factorization A = L L^T of the lower triangle of
/// the row-major [k, k] `a` (the strict upper triangle is scratch). Returns
/// false, with the failing pivot in `bad`, when A is not positive definite.
bool choleskyLower(double *a, int64_t k, int threads, int64_t &bad);

/// x = l^-1 for the lower triangular [k, k] `l` (lower triangle read), into
/// `x` (lower triangle written; the rest left as is), by independent chunks
/// of columns.
void invertLower(const double *l, double *x, int64_t k, int threads);

} // namespace detail
} // namespace qnum

#endif // QOPT_LIB_SUPPORT_DENSELINEARALGEBRA_H
