//===- CpuKernels.cpp - The CPU backend's kernels but the GEMM ------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include "qopt-runtime/Kernels.h"
#include "qopt-runtime/Parallel.h"
#include "qopt-runtime/QuantMath.h"
#include "qopt-runtime/Safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace qrt;
using namespace qrt::bundle;
using namespace qrt::cpu;

//===----------------------------------------------------------------------===//
// Storage conversions
//===----------------------------------------------------------------------===//

void cpu::loadFloats(ElemType type, const uint8_t *src, int64_t n, float *out) {
  switch (type) {
  case ElemType::F32:
    std::memcpy(out, src, n * sizeof(float));
    return;
  case ElemType::BF16:
  case ElemType::F16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits;
      std::memcpy(&bits, src + 2 * i, 2);
      out[i] = type == ElemType::BF16 ? qnum::bf16ToFloat(bits)
                                      : qnum::halfToFloat(bits);
    }
    return;
  case ElemType::I8:
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(static_cast<int8_t>(src[i]));
    return;
  case ElemType::F8E4M3:
    for (int64_t i = 0; i < n; ++i)
      out[i] = qnum::e4m3fnToFloat(src[i]);
    return;
  case ElemType::I32:
    for (int64_t i = 0; i < n; ++i) {
      int32_t v;
      std::memcpy(&v, src + 4 * i, 4);
      out[i] = static_cast<float>(v);
    }
    return;
  case ElemType::I4x2:
    break;
  }
  std::fill(out, out + n, 0.0f); // i4x2 rows are decoded by the GEMM
}

void cpu::storeFloats(ElemType type, const float *y, int64_t n, uint8_t *dst) {
  switch (type) {
  case ElemType::F32:
    std::memcpy(dst, y, n * sizeof(float));
    return;
  case ElemType::BF16:
  case ElemType::F16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits =
          type == ElemType::BF16 ? floatToBF16(y[i]) : floatToHalf(y[i]);
      std::memcpy(dst + 2 * i, &bits, 2);
    }
    return;
  default:
    return; // the manifest validation admits float types only here
  }
}

void cpu::storeQuantized(ElemType type, const float *y, int64_t n, float scale,
                         int32_t zeroPoint, bool asymmetric, uint8_t *dst) {
  if (type == ElemType::F8E4M3) {
    for (int64_t i = 0; i < n; ++i)
      dst[i] =
          qnum::quantizeFloat8(y[i], scale, qnum::StorageKind::Float8E4M3FN);
    return;
  }
  int32_t qmin = asymmetric ? -128 : -127;
  for (int64_t i = 0; i < n; ++i)
    dst[i] = static_cast<uint8_t>(static_cast<int8_t>(
        qnum::quantizeInt(y[i], scale, zeroPoint, qmin, 127)));
}

float cpu::quantMax(ElemType type) {
  return type == ElemType::F8E4M3 ? 448.0f : 127.0f;
}

namespace {

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

void writeF32(uint8_t *p, int64_t i, float v) { std::memcpy(p + 4 * i, &v, 4); }

size_t elemBytes(ElemType type) {
  return static_cast<size_t>(storageBytes(type, {1}));
}

/// Stores the rows [m, width] of `y`: a float type, quantized per row
/// (dynamic: `rowScales` receives each row's scale), or with a static
/// scale.
struct RowStore {
  ElemType type;
  bool dynamic = false;
  float scale = 1.0f;
  int32_t zeroPoint = 0;
  bool asymmetric = false;
  uint8_t *out = nullptr;
  uint8_t *rowScales = nullptr;

  void store(const float *y, int64_t m, int64_t width) const {
    size_t rowBytes = elemBytes(type) * width;
    for (int64_t r = 0; r < m; ++r) {
      const float *row = y + r * width;
      uint8_t *dst = out + r * rowBytes;
      if (isFloatType(type)) {
        storeFloats(type, row, width, dst);
        continue;
      }
      float s = scale;
      if (dynamic) {
        float absmax = 0.0f;
        for (int64_t c = 0; c < width; ++c)
          absmax = std::max(absmax, std::fabs(row[c]));
        s = qnum::symmetricScale(absmax, quantMax(type));
        writeF32(rowScales, r, s);
      }
      storeQuantized(type, row, width, s, zeroPoint, asymmetric, dst);
    }
  }
};

RowStore rowStore(const Kernel &k, CpuContext &ctx, ElemType type, bool dynamic,
                  bool asymmetric) {
  RowStore s;
  s.type = type;
  s.dynamic = dynamic;
  s.asymmetric = asymmetric;
  s.out = ctx.arg(k, "out");
  s.rowScales = ctx.arg(k, "row_scales");
  if (const uint8_t *scale = ctx.arg(k, "scale"))
    s.scale = readF32(scale);
  if (const uint8_t *zp = ctx.arg(k, "zero_point"))
    s.zeroPoint = readI32(zp);
  return s;
}

bool embedding(const Kernel &k, const EmbeddingSpec &s, int64_t m,
               CpuContext &ctx, std::string &error) {
  const uint8_t *table = ctx.arg(k, "table"), *ids = ctx.arg(k, "tokens");
  uint8_t *out = ctx.arg(k, "out");
  size_t rowBytes = elemBytes(s.tableType) * s.hidden;
  std::vector<float> row(s.hidden);
  for (int64_t r = 0; r < m; ++r) {
    int32_t id = readI32(ids, r);
    if (id < 0 || id >= s.vocab) {
      error = "kernel " + k.name + ": token " + std::to_string(id) + " (row " +
              std::to_string(r) + ") is outside the table's " +
              std::to_string(s.vocab) + " rows";
      return false;
    }
    loadFloats(s.tableType, table + id * rowBytes, s.hidden, row.data());
    std::memcpy(out + r * s.hidden * 4, row.data(), s.hidden * 4);
  }
  return true;
}

void rmsNorm(const Kernel &k, const RmsNormSpec &s, int64_t m,
             CpuContext &ctx) {
  std::vector<float> x(m * s.hidden), w(s.hidden), y(m * s.hidden);
  loadFloats(ElemType::F32, ctx.arg(k, "x"), m * s.hidden, x.data());
  loadFloats(s.weightType, ctx.arg(k, "w"), s.hidden, w.data());
  kernels::rmsNorm(x.data(), w.data(), m, s.hidden,
                   static_cast<float>(s.epsilon), y.data(), ctx.threads);
  rowStore(k, ctx, s.outType, s.dynamicPerToken, s.staticAsymmetric)
      .store(y.data(), m, s.hidden);
}

void quantize(const Kernel &k, const QuantizeSpec &s, int64_t m,
              CpuContext &ctx) {
  std::vector<float> x(m * s.hidden);
  loadFloats(ElemType::F32, ctx.arg(k, "x"), m * s.hidden, x.data());
  rowStore(k, ctx, s.outType, s.dynamicPerToken, s.staticAsymmetric)
      .store(x.data(), m, s.hidden);
}

void elementwise(const Kernel &k, const ElementwiseSpec &s, int64_t m,
                 CpuContext &ctx) {
  int64_t n = m * s.features;
  std::vector<float> a(n), b(n);
  loadFloats(ElemType::F32, ctx.arg(k, "lhs"), n, a.data());
  loadFloats(ElemType::F32, ctx.arg(k, "rhs"), n, b.data());
  for (int64_t i = 0; i < n; ++i) {
    switch (s.kind) {
    case ElementwiseKind::Add:
      a[i] = a[i] + b[i];
      break;
    case ElementwiseKind::Mul:
      a[i] = a[i] * b[i];
      break;
    case ElementwiseKind::SiluMul:
      a[i] = a[i] / (1.0f + std::exp(-a[i])) * b[i];
      break;
    }
  }
  storeFloats(s.outType, a.data(), n, ctx.arg(k, "out"));
}

void argmax(const Kernel &k, const ArgmaxSpec &s, int64_t m, CpuContext &ctx) {
  std::vector<float> row(s.vocab);
  loadFloats(ElemType::F32, ctx.arg(k, "logits") + (m - 1) * s.vocab * 4,
             s.vocab, row.data());
  int32_t best = 0;
  for (int64_t v = 1; v < s.vocab; ++v)
    if (row[v] > row[best] || (std::isnan(row[best]) && !std::isnan(row[v])))
      best = static_cast<int32_t>(v);
  std::memcpy(ctx.arg(k, "out"), &best, 4);
}

bool permuteColumns(const Kernel &k, const PermuteColumnsSpec &s, int64_t m,
                    CpuContext &ctx, std::string &error) {
  std::vector<int32_t> perm(size_t(s.features));
  std::memcpy(perm.data(), ctx.arg(k, "perm"), perm.size() * 4);
  if (!kernels::checkPermutation(perm.data(), s.features, error)) {
    error = "kernel " + k.name + ": perm: " + error;
    return false;
  }
  int64_t n = m * s.features;
  std::vector<float> x(n), y(n);
  loadFloats(s.inType, ctx.arg(k, "in"), n, x.data());
  kernels::permuteChannels(x.data(), m, s.features, perm.data(), y.data());
  storeFloats(s.outType, y.data(), n, ctx.arg(k, "out"));
  return true;
}

/// Stores one KV row (width values) at cache row `p` with the cache's
/// scheme.
void storeKVRow(const KVCacheSpec &c, const float *row, int64_t p,
                uint8_t *cache, const uint8_t *staticScale,
                uint8_t *rowScales) {
  int64_t width = c.numKvHeads * c.headDim;
  uint8_t *dst = cache + p * width * elemBytes(c.storage);
  switch (c.scales) {
  case KVScaleKind::None:
    storeFloats(c.storage, row, width, dst);
    return;
  case KVScaleKind::PerTensor:
    storeQuantized(c.storage, row, width, readF32(staticScale), 0, false, dst);
    return;
  case KVScaleKind::PerHead:
    for (int64_t h = 0; h < c.numKvHeads; ++h)
      storeQuantized(c.storage, row + h * c.headDim, c.headDim,
                     readF32(staticScale, h), 0, false,
                     dst + h * c.headDim * elemBytes(c.storage));
    return;
  case KVScaleKind::PerToken: {
    float absmax = 0.0f;
    for (int64_t i = 0; i < width; ++i)
      absmax = std::max(absmax, std::fabs(row[i]));
    float s = qnum::symmetricScale(absmax, quantMax(c.storage));
    writeF32(rowScales, p, s);
    storeQuantized(c.storage, row, width, s, 0, false, dst);
    return;
  }
  }
}

void ropeKVAppend(const Kernel &k, const RopeAppendSpec &s, int64_t m,
                  CpuContext &ctx) {
  int64_t d = s.headDim, half = d / 2;
  int64_t qw = s.numHeads * d, kw = s.numKvHeads * d;
  std::vector<float> q(m * qw), key(m * kw), v(m * kw);
  loadFloats(ElemType::F32, ctx.arg(k, "q"), m * qw, q.data());
  loadFloats(ElemType::F32, ctx.arg(k, "k"), m * kw, key.data());
  loadFloats(ElemType::F32, ctx.arg(k, "v"), m * kw, v.data());
  const uint8_t *positions = ctx.arg(k, "positions");
  const uint8_t *table = ctx.arg(k, "rope_table");
  auto rotate = [&](float *x, int64_t heads, const float *cs) {
    for (int64_t h = 0; h < heads; ++h) {
      float *xh = x + h * d;
      for (int64_t i = 0; i < half; ++i) {
        float c = cs[i], sn = cs[half + i];
        float x1 = xh[i], x2 = xh[i + half];
        xh[i] = x1 * c - x2 * sn;
        xh[i + half] = x2 * c + x1 * sn;
      }
    }
  };
  std::vector<float> cs(d);
  for (int64_t r = 0; r < m; ++r) {
    int32_t p = readI32(positions, r);
    loadFloats(ElemType::F32, table + int64_t(p) * d * 4, d, cs.data());
    rotate(q.data() + r * qw, s.numHeads, cs.data());
    rotate(key.data() + r * kw, s.numKvHeads, cs.data());
  }
  storeFloats(ElemType::F32, q.data(), m * qw, ctx.arg(k, "q_out"));
  for (int64_t r = 0; r < m; ++r) {
    int32_t p = readI32(positions, r);
    storeKVRow(s.keys, key.data() + r * kw, p, ctx.arg(k, "k_cache"),
               ctx.arg(k, "k_scale"), ctx.arg(k, "k_cache_scales"));
    storeKVRow(s.values, v.data() + r * kw, p, ctx.arg(k, "v_cache"),
               ctx.arg(k, "v_scale"), ctx.arg(k, "v_cache_scales"));
  }
}

/// Rows [0, rows) of a cache, dequantized to float.
std::vector<float> readCache(const KVCacheSpec &c, const uint8_t *cache,
                             const uint8_t *scales, int64_t rows) {
  int64_t width = c.numKvHeads * c.headDim;
  std::vector<float> out(rows * width);
  loadFloats(c.storage, cache, rows * width, out.data());
  for (int64_t p = 0; p < rows; ++p) {
    float *row = out.data() + p * width;
    for (int64_t i = 0; i < width; ++i) {
      switch (c.scales) {
      case KVScaleKind::None:
        break;
      case KVScaleKind::PerTensor:
        row[i] *= readF32(scales);
        break;
      case KVScaleKind::PerHead:
        row[i] *= readF32(scales, i / c.headDim);
        break;
      case KVScaleKind::PerToken:
        row[i] *= readF32(scales, p);
        break;
      }
    }
  }
  return out;
}

void attention(const Kernel &k, const AttentionSpec &s, int64_t m,
               CpuContext &ctx) {
  int64_t d = s.headDim, qw = s.numHeads * d, kw = s.numKvHeads * d;
  int64_t group = s.numHeads / s.numKvHeads;
  std::vector<float> q(m * qw), out(m * qw, 0.0f);
  loadFloats(ElemType::F32, ctx.arg(k, "q"), m * qw, q.data());
  const uint8_t *positions = ctx.arg(k, "positions");
  int64_t last = readI32(positions, m - 1), rows = 0;
  for (int64_t r = 0; r < m; ++r)
    rows = std::max<int64_t>(rows, readI32(positions, r) + 1);
  rows = std::max(rows, last + 1);
  std::vector<float> keys =
      readCache(s.keys, ctx.arg(k, "k_cache"), ctx.arg(k, "k_scales"), rows);
  std::vector<float> values =
      readCache(s.values, ctx.arg(k, "v_cache"), ctx.arg(k, "v_scales"), rows);
  float scale = static_cast<float>(s.scale);
  parallelFor(m * s.numHeads, ctx.threads, [&](int64_t b, int64_t e) {
    std::vector<float> scores;
    for (int64_t i = b; i < e; ++i) {
      int64_t r = i / s.numHeads, h = i % s.numHeads, kvh = h / group;
      int64_t p = readI32(positions, r);
      int64_t lo = 0, hi = s.causal ? p : last;
      if (s.causal && s.slidingWindow > 0)
        lo = std::max<int64_t>(0, p - s.slidingWindow + 1);
      const float *qh = q.data() + r * qw + h * d;
      scores.assign(hi - lo + 1, 0.0f);
      float best = -INFINITY;
      for (int64_t j = lo; j <= hi; ++j) {
        const float *kj = keys.data() + j * kw + kvh * d;
        float dot = 0.0f;
        for (int64_t c = 0; c < d; ++c)
          dot += qh[c] * kj[c];
        scores[j - lo] = dot * scale;
        best = std::max(best, scores[j - lo]);
      }
      float sum = 0.0f;
      float *oh = out.data() + r * qw + h * d;
      for (int64_t j = lo; j <= hi; ++j) {
        float w = std::exp(scores[j - lo] - best);
        sum += w;
        const float *vj = values.data() + j * kw + kvh * d;
        for (int64_t c = 0; c < d; ++c)
          oh[c] += w * vj[c];
      }
      for (int64_t c = 0; c < d; ++c)
        oh[c] /= sum;
    }
  });
  storeFloats(s.outType, out.data(), m * qw, ctx.arg(k, "out"));
}

} // namespace

bool cpu::runKernel(const Kernel &kernel, int64_t m, CpuContext &ctx,
                    std::string &error) {
  const KernelSpec &spec = kernel.spec;
  switch (kernel.family) {
  case Family::Embedding:
    return embedding(kernel, std::get<EmbeddingSpec>(spec), m, ctx, error);
  case Family::RmsNorm:
    rmsNorm(kernel, std::get<RmsNormSpec>(spec), m, ctx);
    return true;
  case Family::Quantize:
    quantize(kernel, std::get<QuantizeSpec>(spec), m, ctx);
    return true;
  case Family::Gemm:
    return runGemm(kernel, std::get<GemmSpec>(spec), m, ctx, error);
  case Family::RopeKVAppend:
    ropeKVAppend(kernel, std::get<RopeAppendSpec>(spec), m, ctx);
    return true;
  case Family::Attention:
    attention(kernel, std::get<AttentionSpec>(spec), m, ctx);
    return true;
  case Family::Add:
  case Family::Mul:
  case Family::SiluMul:
    elementwise(kernel, std::get<ElementwiseSpec>(spec), m, ctx);
    return true;
  case Family::Argmax:
    argmax(kernel, std::get<ArgmaxSpec>(spec), m, ctx);
    return true;
  case Family::PermuteColumns:
    return permuteColumns(kernel, std::get<PermuteColumnsSpec>(spec), m, ctx,
                          error);
  }
  error = "kernel " + kernel.name + ": unknown family";
  return false;
}
