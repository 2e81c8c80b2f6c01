//===- Linear.cpp - Float and quantized linear layers ---------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Kernels.h"
#include "qopt-runtime/Parallel.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

using namespace qrt;

void kernels::linear(const float *x, const float *w, const float *bias,
                     float *y, int64_t m, int64_t n, int64_t k,
                     unsigned threads) {
  // Output columns are split over threads; each runs a single-threaded
  // sgemm on its slice of W.
  int64_t blocks =
      std::max<int64_t>(1, std::min<int64_t>(resolveThreads(threads), n / 64));
  parallelFor(blocks, blocks, [&](int64_t bb, int64_t be) {
    for (int64_t blk = bb; blk < be; ++blk) {
      int64_t n0 = n * blk / blocks, n1 = n * (blk + 1) / blocks;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n1 - n0, k, 1.0f,
                  x, k, w + n0 * k, k, 0.0f, y + n0, n);
      if (bias)
        for (int64_t r = 0; r < m; ++r)
          for (int64_t c = n0; c < n1; ++c)
            y[r * n + c] += bias[c];
    }
  });
}

/// y = act(y + bias) + residual, in place.
static void epilogue(float *y, int64_t m, int64_t n, const float *bias,
                     kernels::Activation act, const float *res) {
  using kernels::Activation;
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < n; ++c) {
      float v = y[r * n + c] + (bias ? bias[c] : 0.0f);
      if (act == Activation::Silu)
        v = v / (1.0f + std::exp(-v));
      else if (act == Activation::Gelu)
        v = static_cast<float>(0.5 * v * (1 + std::erf(v / std::sqrt(2.0))));
      else if (act == Activation::GeluTanh)
        v = static_cast<float>(
            0.5 * v *
            (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
      y[r * n + c] = v + (res ? res[r * n + c] : 0.0f);
    }
}

void kernels::quantizedLinear(const QuantizedLinearArgs &a, float *y,
                              unsigned threads) {
  int64_t m = a.m, n = a.n, k = a.k;
  const qnum::TensorScheme &tw = a.weightScheme;
  std::vector<int64_t> wShape = {n, k};
  std::fill(y, y + m * n, 0.0f);
  if (!a.inputScheme) {
    // Weight-only: dequantize the weight, float32 GEMM.
    std::vector<float> wd(n * k);
    qnum::dequantizeTensor(a.w, wShape, tw, wd.data());
    linear(a.x, wd.data(), nullptr, y, m, n, k, threads);
    epilogue(y, m, n, a.bias, a.activation, a.residual);
    return;
  }
  const qnum::TensorScheme &tx = *a.inputScheme;
  std::vector<int64_t> xShape = {m, k};
  // K-segments sharing one weight scale along the input dimension.
  int64_t seg = k;
  if (tw.granularity.kind == qnum::GranularityKind::PerGroup)
    seg = tw.granularity.size;
  else if (tw.granularity.kind == qnum::GranularityKind::Block)
    seg = tw.granularity.cols;
  bool integer =
      tx.kind == qnum::StorageKind::Int8 || tx.kind == qnum::StorageKind::Int4;
  std::vector<double> xd, wdd, accd;
  std::vector<float> accf;
  for (int64_t k0 = 0; k0 < k; k0 += seg) {
    int64_t len = std::min(seg, k - k0);
    if (integer) {
      // Integer products summed in double: exact for every sum an int32
      // accumulator holds.
      xd.assign(m * len, 0.0);
      wdd.assign(n * len, 0.0);
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < len; ++c)
          xd[r * len + c] = a.x[r * k + k0 + c];
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < len; ++c)
          wdd[r * len + c] = a.w[r * k + k0 + c];
      accd.assign(m * n, 0.0);
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, len, 1.0,
                  xd.data(), len, wdd.data(), len, 0.0, accd.data(), n);
    } else {
      accf.assign(m * n, 0.0f);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, len, 1.0f,
                  a.x + k0, k, a.w + k0, k, 0.0f, accf.data(), n);
    }
    std::vector<float> sxRow(m), swCol(n);
    for (int64_t r = 0; r < m; ++r)
      sxRow[r] = tx.scales[qnum::scaleIndex(tx.granularity, xShape, {r, k0})];
    for (int64_t c = 0; c < n; ++c)
      swCol[c] = tw.scales[qnum::scaleIndex(tw.granularity, wShape, {c, k0})];
    parallelFor(m, threads, [&](int64_t rb, int64_t re) {
      for (int64_t r = rb; r < re; ++r) {
        float sx = sxRow[r];
        for (int64_t c = 0; c < n; ++c) {
          float sw = swCol[c];
          float acc;
          if (integer) {
            double v = accd[r * n + c];
            if (a.intBias && k0 == 0)
              v += a.intBias[c];
            acc = static_cast<float>(v);
          } else {
            acc = accf[r * n + c];
          }
          y[r * n + c] += acc * (sx * sw);
        }
      }
    });
  }
  epilogue(y, m, n, a.bias, a.activation, a.residual);
}
