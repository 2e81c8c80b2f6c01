//===- CpuGemm.cpp - The CPU backend's GEMM with its epilogues ------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// out = A B^T as KernelSpecs.h's GemmSpec states it, per output (r, c):
//   S8:     float(acc + int_bias[c]) * (sa[r] * sb[c])   acc exact (int32)
//   E4M3:   acc * (sa[r] * sb[c]), or with block scales
//           sa[r] * sum_kb acc_kb * sb[c / block_n, kb]
//   BF16:   acc
//   W8A16, W4A16: acc * sb[c], or with group scales sum_g acc_g * sb[c, g],
//           acc of a * (q - zp)
// (an absent scale is 1), then + bias[c], silu(gate) * up when gated,
// + residual[r, c], and the store as out_type. Products of the operands are
// exact in float32 (bf16 x bf16, e4m3 x e4m3, bf16 x small integers), so
// float32 sums differ from the GPU's only in their order; s8 sums are exact
// (accumulated in double, as an int32 accumulator would hold them).
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include "qopt-runtime/Parallel.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace qrt;
using namespace qrt::bundle;
using namespace qrt::cpu;

namespace {

/// Output columns per sgemm / dgemm call. Fixed, so that every output is
/// summed the same way whatever the number of threads.
constexpr int64_t kColumnBlock = 128;

/// C [m, n] = A [m, len] B [n, len]^T with leading dimensions lda, ldb, in
/// blocks of kColumnBlock output columns spread over threads.
template <typename T>
void gemmNT(const T *a, int64_t lda, const T *b, int64_t ldb, T *c, int64_t m,
            int64_t n, int64_t len, unsigned threads) {
  int64_t blocks = (n + kColumnBlock - 1) / kColumnBlock;
  parallelFor(blocks, threads, [&](int64_t bb, int64_t be) {
    for (int64_t blk = bb; blk < be; ++blk) {
      int64_t n0 = blk * kColumnBlock;
      int64_t cols = std::min(kColumnBlock, n - n0);
      if constexpr (std::is_same_v<T, float>)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, cols, len, 1.0f,
                    a, lda, b + n0 * ldb, ldb, 0.0f, c + n0, n);
      else
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, cols, len, 1.0,
                    a, lda, b + n0 * ldb, ldb, 0.0, c + n0, n);
    }
  });
}

float readF32(const uint8_t *p, int64_t i = 0) {
  float v;
  std::memcpy(&v, p + 4 * i, 4);
  return v;
}

int32_t readI32(const uint8_t *p, int64_t i = 0) {
  int32_t v;
  std::memcpy(&v, p + 4 * i, 4);
  return v;
}

/// The number of scale columns of B (1 unless per group or block).
int64_t scaleColumns(const GemmSpec &s) {
  if (s.bScale == ScaleKind::PerGroup)
    return s.k / s.groupSize;
  if (s.bScale == ScaleKind::Block)
    return (s.k + s.blockK - 1) / s.blockK;
  return 1;
}

/// The K segments that share one B scale: groups, block columns or all.
int64_t segmentLength(const GemmSpec &s) {
  if (s.bScale == ScaleKind::PerGroup)
    return s.groupSize;
  if (s.bScale == ScaleKind::Block)
    return s.blockK;
  return s.k;
}

/// The zero point of B element (c, kk), from a zero-point tensor laid out
/// like the b scales.
int32_t zeroPoint(const GemmSpec &s, const uint8_t *zp, int64_t c, int64_t kk) {
  if (!zp)
    return 0;
  switch (s.bScale) {
  case ScaleKind::PerTensor:
    return readI32(zp);
  case ScaleKind::PerChannel:
    return readI32(zp, c);
  case ScaleKind::PerGroup:
    return readI32(zp, c * scaleColumns(s) + kk / s.groupSize);
  default:
    return 0;
  }
}

/// B's values as the accumulation sees them: q - zp for integer weights.
void decodeB(const GemmSpec &s, const uint8_t *b, const uint8_t *zp,
             DecodedB &out) {
  int64_t n = s.n, k = s.k;
  std::vector<float> f(n * k);
  if (s.kind == GemmKind::W4A16) {
    int64_t rowBytes = (k + 1) / 2;
    for (int64_t c = 0; c < n; ++c)
      for (int64_t kk = 0; kk < k; ++kk) {
        uint8_t byte = b[c * rowBytes + kk / 2];
        int nibble = kk % 2 == 0 ? (byte & 0x0F) : (byte >> 4);
        f[c * k + kk] = static_cast<float>(nibble >= 8 ? nibble - 16 : nibble);
      }
  } else {
    ElemType t = s.kind == GemmKind::BF16   ? ElemType::BF16
                 : s.kind == GemmKind::E4M3 ? ElemType::F8E4M3
                                            : ElemType::I8;
    loadFloats(t, b, n * k, f.data());
  }
  if (zp)
    for (int64_t c = 0; c < n; ++c)
      for (int64_t kk = 0; kk < k; ++kk)
        f[c * k + kk] -= static_cast<float>(zeroPoint(s, zp, c, kk));
  if (s.kind == GemmKind::S8)
    out.d.assign(f.begin(), f.end());
  else
    out.f = std::move(f);
}

/// The decoded B of buffer `b` (cached when it is a weight).
const DecodedB &decoded(const Kernel &kernel, const GemmSpec &s,
                        CpuContext &ctx, const char *bRole, const char *zpRole,
                        DecodedB &scratch) {
  int b = kernel.arg(bRole), zp = kernel.arg(zpRole);
  const uint8_t *zpData = zp < 0 ? nullptr : ctx.data[zp];
  bool constant =
      ctx.manifest.buffers[b].kind == BufferKind::Weight &&
      (zp < 0 || ctx.manifest.buffers[zp].kind == BufferKind::Weight);
  if (!constant) {
    decodeB(s, ctx.data[b], zpData, scratch);
    return scratch;
  }
  auto key = std::make_pair(b, zp);
  auto it = ctx.decoded.find(key);
  if (it == ctx.decoded.end()) {
    it = ctx.decoded.emplace(key, DecodedB()).first;
    decodeB(s, ctx.data[b], zpData, it->second);
  }
  return it->second;
}

/// y [m, n] for one B operand, scales and int_bias applied, + bias.
void oneGemm(const Kernel &kernel, const GemmSpec &s, int64_t m,
             CpuContext &ctx, const std::vector<float> &a, bool second,
             std::vector<float> &y) {
  const char *bRole = second ? "b2" : "b";
  std::string sRole = std::string(bRole) + "_scales";
  std::string zRole = std::string(bRole) + "_zero_points";
  const uint8_t *aScales = ctx.arg(kernel, "a_scales");
  const uint8_t *bScales = ctx.arg(kernel, sRole.c_str());
  const uint8_t *intBias = ctx.arg(kernel, second ? "int_bias2" : "int_bias");
  const uint8_t *bias = ctx.arg(kernel, second ? "bias2" : "bias");
  DecodedB scratch;
  const DecodedB &b = decoded(kernel, s, ctx, bRole, zRole.c_str(), scratch);
  int64_t n = s.n, k = s.k;
  auto sa = [&](int64_t r) {
    if (s.aScale == ScaleKind::PerToken)
      return readF32(aScales, r);
    return s.aScale == ScaleKind::PerTensor ? readF32(aScales) : 1.0f;
  };
  int64_t cols = scaleColumns(s);
  auto sb = [&](int64_t c, int64_t g) {
    switch (s.bScale) {
    case ScaleKind::PerTensor:
      return readF32(bScales);
    case ScaleKind::PerChannel:
      return readF32(bScales, c);
    case ScaleKind::PerGroup:
      return readF32(bScales, c * cols + g);
    case ScaleKind::Block:
      return readF32(bScales, (c / s.blockN) * cols + g);
    default:
      return 1.0f;
    }
  };
  y.assign(m * n, 0.0f);
  if (s.kind == GemmKind::S8) {
    std::vector<double> ad(a.begin(), a.end()), acc(m * n);
    gemmNT(ad.data(), k, b.d.data(), k, acc.data(), m, n, k, ctx.threads);
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < n; ++c) {
        double v = acc[r * n + c] + (intBias ? readI32(intBias, c) : 0);
        y[r * n + c] = static_cast<float>(v) * (sa(r) * sb(c, 0));
      }
  } else {
    int64_t seg = segmentLength(s);
    std::vector<float> acc(m * n);
    for (int64_t g = 0; g * seg < k; ++g) {
      int64_t k0 = g * seg, len = std::min(seg, k - k0);
      gemmNT(a.data() + k0, k, b.f.data() + k0, k, acc.data(), m, n, len,
             ctx.threads);
      bool grouped = cols > 1 || s.bScale == ScaleKind::Block;
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < n; ++c) {
          float v = acc[r * n + c];
          float &out = y[r * n + c];
          if (s.kind == GemmKind::BF16)
            out = v;
          else if (s.kind == GemmKind::E4M3 && !grouped)
            out = v * (sa(r) * sb(c, 0));
          else
            out += v * sb(c, g); // E4M3 block, W8A16 / W4A16
        }
    }
    if (s.kind == GemmKind::E4M3 && s.bScale == ScaleKind::Block)
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < n; ++c)
          y[r * n + c] = sa(r) * y[r * n + c];
  }
  if (bias)
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < n; ++c)
        y[r * n + c] += readF32(bias, c);
}

} // namespace

bool cpu::runGemm(const Kernel &kernel, const GemmSpec &s, int64_t m,
                  CpuContext &ctx, std::string &error) {
  (void)error;
  int64_t n = s.n, k = s.k;
  ElemType aType = s.kind == GemmKind::S8     ? ElemType::I8
                   : s.kind == GemmKind::E4M3 ? ElemType::F8E4M3
                                              : ElemType::BF16;
  std::vector<float> a(m * k), y, up;
  loadFloats(aType, ctx.arg(kernel, "a"), m * k, a.data());
  oneGemm(kernel, s, m, ctx, a, false, y);
  if (s.gated) {
    oneGemm(kernel, s, m, ctx, a, true, up);
    for (int64_t i = 0; i < m * n; ++i)
      y[i] = y[i] / (1.0f + std::exp(-y[i])) * up[i];
  }
  if (const uint8_t *res = ctx.arg(kernel, "residual"))
    for (int64_t i = 0; i < m * n; ++i)
      y[i] += readF32(res, i);
  uint8_t *out = ctx.arg(kernel, "out");
  if (isFloatType(s.outType)) {
    storeFloats(s.outType, y.data(), m * n, out);
  } else {
    const uint8_t *zp = ctx.arg(kernel, "out_zero_point");
    storeQuantized(s.outType, y.data(), m * n,
                   readF32(ctx.arg(kernel, "out_scale")), zp ? readI32(zp) : 0,
                   s.outAsymmetric, out);
  }
  return true;
}
