//===- GPTQ.cpp - GPTQ weight quantization --------------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The factorization of the Hessian (blocked Cholesky and triangular inverse,
// DenseLinearAlgebra.h) and the sweep: rows are independent given H, so they
// go in tiles over threads; columns go in blocks of blockSize with lazy
// batch updates (gemmSub).
//
//===----------------------------------------------------------------------===//

#include "DenseLinearAlgebra.h"
#include "GroupQuantizer.h"
#include "qopt-runtime/Parallel.h"
#include "qopt/Support/WeightQuant.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace qnum;
using namespace qnum::detail;

//===----------------------------------------------------------------------===//
// Factorization
//===----------------------------------------------------------------------===//

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
  out.allocate(n, k, groups, asym);
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

  int t =
      qrt::threadsFor(opts.threads, 0.5 * double(n) * double(k) * double(k));
  const int64_t tileRows = rowsPerTask(n, t, 64);
  int64_t tiles = (n + tileRows - 1) / tileRows;
  qrt::parallelForEach(tiles, t, [&](int64_t tile) {
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
