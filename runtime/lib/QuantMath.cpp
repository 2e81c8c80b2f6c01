//===- QuantMath.cpp - Quantization arithmetic shared by all layers -------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/QuantMath.h"
#include "qopt-runtime/Parallel.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

using namespace qnum;

static std::string dimString(int64_t d) {
  return d == kDynamicDim ? std::string("?") : std::to_string(d);
}

std::string qnum::shapeToString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + dimString(shape[i]);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// Storage types
//===----------------------------------------------------------------------===//

StorageRange qnum::storageRange(StorageKind kind, bool symmetric) {
  switch (kind) {
  case StorageKind::Int8:
    return symmetric ? StorageRange{-127, 127} : StorageRange{-128, 127};
  case StorageKind::Int4:
    return symmetric ? StorageRange{-7, 7} : StorageRange{-8, 7};
  case StorageKind::Float8E4M3FN:
    return {-448.0, 448.0};
  case StorageKind::Float8E5M2:
    return {-57344.0, 57344.0};
  }
  return {0, 0};
}

bool qnum::isFloat8(StorageKind kind) {
  return kind == StorageKind::Float8E4M3FN || kind == StorageKind::Float8E5M2;
}

const char *qnum::storageName(StorageKind kind) {
  switch (kind) {
  case StorageKind::Int8:
    return "i8";
  case StorageKind::Int4:
    return "i4";
  case StorageKind::Float8E4M3FN:
    return "f8E4M3FN";
  case StorageKind::Float8E5M2:
    return "f8E5M2";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// Granularity
//===----------------------------------------------------------------------===//

static std::string checkAxis(const char *what, int64_t axis, size_t rank) {
  if (axis < 0 || axis >= static_cast<int64_t>(rank))
    return std::string(what) + " axis " + std::to_string(axis) +
           " is out of range for a tensor of rank " + std::to_string(rank);
  return {};
}

std::string qnum::checkGranularity(const Granularity &g,
                                   const std::vector<int64_t> &shape) {
  size_t rank = shape.size();
  switch (g.kind) {
  case GranularityKind::PerTensor:
    return {};
  case GranularityKind::PerChannel:
    return checkAxis("per-channel", g.axis, rank);
  case GranularityKind::PerToken:
    if (rank < 1)
      return "per-token granularity needs a tensor of rank >= 1";
    return {};
  case GranularityKind::PerGroup: {
    if (std::string msg = checkAxis("per-group", g.axis, rank); !msg.empty())
      return msg;
    if (g.size <= 0)
      return "group size must be positive, got " + std::to_string(g.size);
    int64_t dim = shape[g.axis];
    if (dim != kDynamicDim && dim % g.size != 0)
      return "group size " + std::to_string(g.size) + " does not divide axis " +
             std::to_string(g.axis) + " of size " + std::to_string(dim);
    return {};
  }
  case GranularityKind::PerHead: {
    if (std::string msg = checkAxis("per-head", g.axis, rank); !msg.empty())
      return msg;
    if (g.size <= 0)
      return "number of heads must be positive, got " + std::to_string(g.size);
    int64_t dim = shape[g.axis];
    if (dim != kDynamicDim && dim % g.size != 0)
      return "axis " + std::to_string(g.axis) + " of size " +
             std::to_string(dim) + " does not split into " +
             std::to_string(g.size) + " heads";
    return {};
  }
  case GranularityKind::Block:
    if (rank < 2)
      return "block granularity needs a tensor of rank >= 2, got rank " +
             std::to_string(rank);
    if (g.rows <= 0 || g.cols <= 0)
      return "block sizes must be positive, got " + std::to_string(g.rows) +
             "x" + std::to_string(g.cols);
    return {};
  }
  return "unknown granularity";
}

static int64_t ceilDivDyn(int64_t a, int64_t b) {
  return a == kDynamicDim ? kDynamicDim : (a + b - 1) / b;
}

std::vector<int64_t> qnum::scaleShape(const Granularity &g,
                                      const std::vector<int64_t> &shape) {
  assert(checkGranularity(g, shape).empty() && "granularity does not apply");
  switch (g.kind) {
  case GranularityKind::PerTensor:
    return {};
  case GranularityKind::PerChannel:
    return {shape[g.axis]};
  case GranularityKind::PerToken:
    return std::vector<int64_t>(shape.begin(), shape.end() - 1);
  case GranularityKind::PerGroup: {
    std::vector<int64_t> s = shape;
    s[g.axis] = s[g.axis] == kDynamicDim ? kDynamicDim : s[g.axis] / g.size;
    return s;
  }
  case GranularityKind::PerHead:
    return {g.size};
  case GranularityKind::Block: {
    std::vector<int64_t> s(shape.begin(), shape.end() - 2);
    s.push_back(ceilDivDyn(shape[shape.size() - 2], g.rows));
    s.push_back(ceilDivDyn(shape[shape.size() - 1], g.cols));
    return s;
  }
  }
  return {};
}

int64_t qnum::numScales(const Granularity &g,
                        const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : scaleShape(g, shape)) {
    if (d == kDynamicDim)
      return kDynamicDim;
    n *= d;
  }
  return n;
}

int64_t qnum::scaleIndex(const Granularity &g,
                         const std::vector<int64_t> &shape,
                         const std::vector<int64_t> &index) {
  assert(index.size() == shape.size() && "index rank mismatch");
  std::vector<int64_t> sshape = scaleShape(g, shape);
  std::vector<int64_t> sidx;
  switch (g.kind) {
  case GranularityKind::PerTensor:
    return 0;
  case GranularityKind::PerChannel:
    return index[g.axis];
  case GranularityKind::PerHead:
    return index[g.axis] / (shape[g.axis] / g.size);
  case GranularityKind::PerToken:
    sidx.assign(index.begin(), index.end() - 1);
    break;
  case GranularityKind::PerGroup:
    sidx = index;
    sidx[g.axis] /= g.size;
    break;
  case GranularityKind::Block: {
    size_t r = index.size();
    sidx.assign(index.begin(), index.end() - 2);
    sidx.push_back(index[r - 2] / g.rows);
    sidx.push_back(index[r - 1] / g.cols);
    break;
  }
  }
  int64_t flat = 0;
  for (size_t i = 0; i < sidx.size(); ++i)
    flat = flat * sshape[i] + sidx[i];
  return flat;
}

void qnum::forEachScaleIndex(const Granularity &g,
                             const std::vector<int64_t> &shape,
                             const std::function<void(int64_t, int64_t)> &fn) {
  assert(checkGranularity(g, shape).empty() && "granularity does not apply");
  std::vector<int64_t> sshape = scaleShape(g, shape);
  size_t rank = shape.size();
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<int64_t> index(rank, 0);
  for (int64_t e = 0; e < n; ++e) {
    int64_t s = 0;
    switch (g.kind) {
    case GranularityKind::PerTensor:
      break;
    case GranularityKind::PerChannel:
      s = index[g.axis];
      break;
    case GranularityKind::PerHead:
      s = index[g.axis] / (shape[g.axis] / g.size);
      break;
    case GranularityKind::PerToken:
      s = e / (rank ? shape[rank - 1] : 1);
      break;
    case GranularityKind::PerGroup:
    case GranularityKind::Block:
      for (size_t d = 0; d < rank; ++d) {
        int64_t i = index[d];
        if (g.kind == GranularityKind::PerGroup && int64_t(d) == g.axis)
          i /= g.size;
        else if (g.kind == GranularityKind::Block && d == rank - 2)
          i /= g.rows;
        else if (g.kind == GranularityKind::Block && d == rank - 1)
          i /= g.cols;
        s = s * sshape[d] + i;
      }
      break;
    }
    fn(e, s);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
}

namespace {
/// scaleIndex() for one granularity and shape, without its per-call
/// allocations.
class ScaleIndexer {
public:
  ScaleIndexer(const Granularity &g, const std::vector<int64_t> &shape)
      : g(g), shape(shape), sshape(scaleShape(g, shape)) {}

  int64_t operator()(const std::vector<int64_t> &index) const {
    size_t rank = index.size();
    int64_t flat = 0;
    switch (g.kind) {
    case GranularityKind::PerTensor:
      return 0;
    case GranularityKind::PerChannel:
      return index[g.axis];
    case GranularityKind::PerHead:
      return index[g.axis] / (shape[g.axis] / g.size);
    case GranularityKind::PerToken:
      for (size_t d = 0; d + 1 < rank; ++d)
        flat = flat * sshape[d] + index[d];
      return flat;
    case GranularityKind::PerGroup:
      for (size_t d = 0; d < rank; ++d)
        flat = flat * sshape[d] +
               (int64_t(d) == g.axis ? index[d] / g.size : index[d]);
      return flat;
    case GranularityKind::Block:
      for (size_t d = 0; d + 2 < rank; ++d)
        flat = flat * sshape[d] + index[d];
      flat = flat * sshape[rank - 2] + index[rank - 2] / g.rows;
      return flat * sshape[rank - 1] + index[rank - 1] / g.cols;
    }
    return 0;
  }

private:
  const Granularity &g;
  const std::vector<int64_t> &shape;
  std::vector<int64_t> sshape;
};

/// The runs of forEachScaleRun over the innermost rows [rowBegin, rowEnd) of
/// a tensor of `shape` (runs never cross a row).
class ScaleRuns {
public:
  ScaleRuns(const Granularity &g, const std::vector<int64_t> &shape)
      : indexer(g, shape), shape(shape) {
    size_t rank = shape.size();
    inner = rank ? shape[rank - 1] : 1;
    count = 1;
    for (int64_t d : shape)
      count *= d;
    rows = inner ? count / inner : 0;
    // How many consecutive innermost elements share a scale.
    unit = inner;
    bool innerAxis = rank && g.axis == static_cast<int64_t>(rank) - 1;
    if (g.kind == GranularityKind::PerChannel && innerAxis)
      unit = 1;
    else if (g.kind == GranularityKind::PerHead && innerAxis)
      unit = inner / g.size;
    else if (g.kind == GranularityKind::PerGroup)
      unit = innerAxis ? g.size : 1; // other axes keep the innermost index
    else if (g.kind == GranularityKind::Block)
      unit = g.cols;
  }

  int64_t numRows() const { return count == 0 ? 0 : rows; }
  int64_t rowLength() const { return inner; }

  template <typename Fn>
  void forRows(int64_t rowBegin, int64_t rowEnd, const Fn &fn) const {
    size_t rank = shape.size();
    std::vector<int64_t> index(rank, 0);
    for (int64_t r = rowBegin; r < rowEnd; ++r) {
      int64_t rest = r;
      for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d) {
        index[d] = rest % shape[d];
        rest /= shape[d];
      }
      int64_t e = r * inner, end = e + inner;
      while (e < end) {
        int64_t col = e - r * inner;
        if (rank)
          index[rank - 1] = col;
        int64_t s = indexer(index);
        int64_t len =
            std::max<int64_t>(1, std::min(unit - col % unit, inner - col));
        fn(e, e + len, s);
        e += len;
      }
    }
  }

private:
  ScaleIndexer indexer;
  const std::vector<int64_t> &shape;
  int64_t inner = 1, count = 0, rows = 0, unit = 1;
};

/// Consecutive innermost rows of a tensor whose elements' scale indices no
/// other rows share, for splitting a reduction into scales by rows; 0 when
/// rows share scales (or the layout is not one this recognizes).
int64_t rowsOwningScales(const Granularity &g,
                         const std::vector<int64_t> &shape) {
  if (g.kind == GranularityKind::PerToken)
    return 1;
  if (shape.size() != 2)
    return 0;
  switch (g.kind) {
  case GranularityKind::PerChannel:
    return g.axis == 0 ? 1 : 0;
  case GranularityKind::PerGroup:
    return g.axis == 1 ? 1 : g.size;
  case GranularityKind::PerHead:
    return g.axis == 0 ? shape[0] / g.size : 0;
  case GranularityKind::Block:
    return g.rows;
  case GranularityKind::PerTensor:
  case GranularityKind::PerToken:
    break;
  }
  return 0;
}

/// Calls fn(rowBegin, rowEnd) over the innermost rows of `runs` in chunks of
/// a multiple of `multiple` rows, in parallel.
template <typename Fn>
void parallelRows(const ScaleRuns &runs, int64_t multiple, int threads,
                  const Fn &fn) {
  int64_t rows = runs.numRows(), inner = std::max<int64_t>(1, runs.rowLength());
  multiple = std::max<int64_t>(1, multiple);
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / inner);
  grain = (grain + multiple - 1) / multiple * multiple;
  // About 16 units of work per element: stays serial below ~256K elements.
  qrt::parallelForChunks(rows, grain, 16.0 * double(inner), threads, fn);
}
} // namespace

void qnum::forEachScaleRun(
    const Granularity &g, const std::vector<int64_t> &shape,
    const std::function<void(int64_t, int64_t, int64_t)> &fn) {
  assert(checkGranularity(g, shape).empty() && "granularity does not apply");
  ScaleRuns runs(g, shape);
  runs.forRows(0, runs.numRows(), fn);
}

//===----------------------------------------------------------------------===//
// Rounding and integer quantization
//===----------------------------------------------------------------------===//

double qnum::roundHalfToEven(double x) {
  if (!std::isfinite(x))
    return x;
  double fl = std::floor(x);
  double diff = x - fl;
  if (diff > 0.5)
    return fl + 1.0;
  if (diff < 0.5)
    return fl;
  // Exactly halfway: pick the even neighbour (fl / 2 is exact, and an
  // integer exactly when fl is even; cheaper than fmod, which the compiler
  // may evaluate on every call).
  double half = fl * 0.5;
  return std::floor(half) == half ? fl : fl + 1.0;
}

float qnum::roundHalfToEven(float x) {
  return static_cast<float>(roundHalfToEven(static_cast<double>(x)));
}

int32_t qnum::quantizeInt(float x, float scale, int32_t zeroPoint, int32_t qmin,
                          int32_t qmax) {
  float scaled = x / scale;
  if (std::fabs(scaled) < 1073741824.0f) {
    // roundHalfToEven in integers, without branches (false for NaN and
    // infinities, which take the general path): floor by truncation, then
    // up when the fraction (exact: x - floor(x) is representable) is above
    // one half, or exactly one half with an odd floor.
    auto t = static_cast<int32_t>(scaled);
    t -= static_cast<float>(t) > scaled ? 1 : 0;
    float frac = scaled - static_cast<float>(t);
    t += (frac > 0.5f || (frac == 0.5f && (t & 1))) ? 1 : 0;
    int64_t q = int64_t(t) + zeroPoint;
    return static_cast<int32_t>(
        std::min<int64_t>(std::max<int64_t>(q, qmin), qmax));
  }
  if (std::isnan(scaled))
    return std::clamp<int32_t>(zeroPoint, qmin, qmax);
  double r = roundHalfToEven(static_cast<double>(scaled)) + zeroPoint;
  r = std::min<double>(std::max<double>(r, qmin), qmax);
  return static_cast<int32_t>(r);
}

float qnum::dequantizeInt(int32_t q, float scale, int32_t zeroPoint) {
  return static_cast<float>(q - zeroPoint) * scale;
}

float qnum::symmetricScale(float absmax, double qmax) {
  if (!(absmax > 0.0f) || !std::isfinite(absmax))
    return 1.0f;
  return static_cast<float>(absmax / qmax);
}

AffineParams qnum::asymmetricParams(float lo, float hi, int32_t qmin,
                                    int32_t qmax) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  if (!(hi > lo))
    return {1.0f, std::clamp<int32_t>(0, qmin, qmax)};
  float scale = (hi - lo) / static_cast<float>(qmax - qmin);
  double zp = qmin - roundHalfToEven(static_cast<double>(lo / scale));
  zp = std::min<double>(std::max<double>(zp, qmin), qmax);
  return {scale, static_cast<int32_t>(zp)};
}

//===----------------------------------------------------------------------===//
// Float8
//===----------------------------------------------------------------------===//

namespace {
struct Fp8Format {
  int mantissaBits;
  int bias;
  double maxValue;
  uint8_t nan;
};
constexpr Fp8Format kE4M3FN{3, 7, 448.0, 0x7F};
constexpr Fp8Format kE5M2{2, 15, 57344.0, 0x7F};
} // namespace

static uint8_t floatToFp8(float x, const Fp8Format &f) {
  uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  if (std::isnan(x))
    return sign | f.nan;
  double a = std::min<double>(std::fabs(static_cast<double>(x)), f.maxValue);
  double minNormal = std::ldexp(1.0, 1 - f.bias);
  if (a < minNormal) {
    // Subnormal: a multiple of 2^(1 - bias - mantissaBits). Rounding up to
    // 2^mantissaBits yields the smallest normal's encoding, as it should.
    double q = roundHalfToEven(std::ldexp(a, f.bias - 1 + f.mantissaBits));
    return sign | static_cast<uint8_t>(q);
  }
  int e;
  double m = std::frexp(a, &e); // a = m * 2^e, m in [0.5, 1)
  int exp = e - 1;              // a = (2m) * 2^exp, 2m in [1, 2)
  double frac = roundHalfToEven((2.0 * m - 1.0) * (1 << f.mantissaBits));
  if (frac >= (1 << f.mantissaBits)) {
    frac = 0;
    ++exp;
  }
  unsigned bits = (static_cast<unsigned>(exp + f.bias) << f.mantissaBits) |
                  static_cast<unsigned>(frac);
  return sign | static_cast<uint8_t>(bits);
}

static float fp8ToFloat(uint8_t bits, const Fp8Format &f, bool hasInf) {
  int expBits = 7 - f.mantissaBits;
  unsigned mant = bits & ((1u << f.mantissaBits) - 1);
  unsigned exp = (bits >> f.mantissaBits) & ((1u << expBits) - 1);
  double sign = (bits & 0x80) ? -1.0 : 1.0;
  unsigned expMax = (1u << expBits) - 1;
  if (hasInf && exp == expMax)
    return mant == 0 ? static_cast<float>(sign * INFINITY)
                     : std::numeric_limits<float>::quiet_NaN();
  if (!hasInf && exp == expMax && mant == (1u << f.mantissaBits) - 1)
    return std::numeric_limits<float>::quiet_NaN();
  if (exp == 0)
    return static_cast<float>(sign * std::ldexp(static_cast<double>(mant),
                                                1 - f.bias - f.mantissaBits));
  return static_cast<float>(
      sign *
      std::ldexp(1.0 + std::ldexp(static_cast<double>(mant), -f.mantissaBits),
                 static_cast<int>(exp) - f.bias));
}

uint8_t qnum::floatToE4M3FN(float x) { return floatToFp8(x, kE4M3FN); }
uint8_t qnum::floatToE5M2(float x) { return floatToFp8(x, kE5M2); }
float qnum::e4m3fnToFloat(uint8_t bits) {
  return fp8ToFloat(bits, kE4M3FN, /*hasInf=*/false);
}
float qnum::e5m2ToFloat(uint8_t bits) {
  return fp8ToFloat(bits, kE5M2, /*hasInf=*/true);
}

float qnum::bf16ToFloat(uint16_t bits) {
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

float qnum::halfToFloat(uint16_t bits) {
  uint32_t sign = (bits >> 15) & 1;
  uint32_t exp = (bits >> 10) & 0x1F;
  uint32_t mant = bits & 0x3FF;
  double v;
  if (exp == 0)
    v = std::ldexp(static_cast<double>(mant), -24);
  else if (exp == 31)
    v = mant ? std::numeric_limits<double>::quiet_NaN() : INFINITY;
  else
    v = std::ldexp(1.0 + mant / 1024.0, static_cast<int>(exp) - 15);
  return static_cast<float>(sign ? -v : v);
}

uint8_t qnum::quantizeFloat8(float x, float scale, StorageKind kind) {
  assert(isFloat8(kind) && "not a float8 storage kind");
  float scaled = x / scale;
  return kind == StorageKind::Float8E4M3FN ? floatToE4M3FN(scaled)
                                           : floatToE5M2(scaled);
}

float qnum::dequantizeFloat8(uint8_t bits, float scale, StorageKind kind) {
  assert(isFloat8(kind) && "not a float8 storage kind");
  float v = kind == StorageKind::Float8E4M3FN ? e4m3fnToFloat(bits)
                                              : e5m2ToFloat(bits);
  return v * scale;
}

//===----------------------------------------------------------------------===//
// Whole tensors
//===----------------------------------------------------------------------===//

void qnum::computeDynamicParams(const float *x,
                                const std::vector<int64_t> &shape,
                                TensorScheme &scheme, int threads) {
  int64_t n = numScales(scheme.granularity, shape);
  std::vector<float> lo(n, 0.0f), hi(n, 0.0f), absmax(n, 0.0f);
  auto accumulate = [&](int64_t b, int64_t end, int64_t s) {
    float l = lo[s], h = hi[s], a = absmax[s];
    for (int64_t e = b; e < end; ++e) {
      l = std::min(l, x[e]);
      h = std::max(h, x[e]);
      a = std::max(a, std::fabs(x[e]));
    }
    lo[s] = l;
    hi[s] = h;
    absmax[s] = a;
  };
  assert(checkGranularity(scheme.granularity, shape).empty() &&
         "granularity does not apply");
  ScaleRuns runs(scheme.granularity, shape);
  // Rows that own their scales are reduced in parallel, each scale by one
  // thread in the serial order; otherwise one thread does it all.
  if (int64_t owner = rowsOwningScales(scheme.granularity, shape))
    parallelRows(runs, owner, threads, [&](int64_t rb, int64_t re) {
      runs.forRows(rb, re, accumulate);
    });
  else
    runs.forRows(0, runs.numRows(), accumulate);
  StorageRange range = storageRange(scheme.kind, scheme.symmetric);
  scheme.scales.assign(n, 1.0f);
  scheme.zeroPoints.clear();
  if (scheme.symmetric) {
    for (int64_t s = 0; s < n; ++s)
      scheme.scales[s] = symmetricScale(absmax[s], range.max);
    return;
  }
  scheme.zeroPoints.assign(n, 0);
  for (int64_t s = 0; s < n; ++s) {
    AffineParams p =
        asymmetricParams(lo[s], hi[s], static_cast<int32_t>(range.min),
                         static_cast<int32_t>(range.max));
    scheme.scales[s] = p.scale;
    scheme.zeroPoints[s] = p.zeroPoint;
  }
}

void qnum::quantizeTensor(const float *x, const std::vector<int64_t> &shape,
                          const TensorScheme &scheme, float *q, int threads) {
  StorageRange range = storageRange(scheme.kind, scheme.symmetric);
  auto qmin = static_cast<int32_t>(range.min),
       qmax = static_cast<int32_t>(range.max);
  bool fp8 = isFloat8(scheme.kind);
  auto run = [&](int64_t b, int64_t end, int64_t s) {
    float scale = scheme.scales[s];
    if (fp8) {
      for (int64_t e = b; e < end; ++e) {
        uint8_t bits = quantizeFloat8(x[e], scale, scheme.kind);
        q[e] = scheme.kind == StorageKind::Float8E4M3FN ? e4m3fnToFloat(bits)
                                                        : e5m2ToFloat(bits);
      }
      return;
    }
    int32_t zp = scheme.zeroPoints.empty() ? 0 : scheme.zeroPoints[s];
    for (int64_t e = b; e < end; ++e)
      q[e] = static_cast<float>(quantizeInt(x[e], scale, zp, qmin, qmax));
  };
  assert(checkGranularity(scheme.granularity, shape).empty() &&
         "granularity does not apply");
  ScaleRuns runs(scheme.granularity, shape);
  parallelRows(runs, 1, threads,
               [&](int64_t rb, int64_t re) { runs.forRows(rb, re, run); });
}

void qnum::dequantizeTensor(const float *q, const std::vector<int64_t> &shape,
                            const TensorScheme &scheme, float *x, int threads) {
  bool fp8 = isFloat8(scheme.kind);
  auto run = [&](int64_t b, int64_t end, int64_t s) {
    float scale = scheme.scales[s];
    if (fp8) {
      for (int64_t e = b; e < end; ++e)
        x[e] = q[e] * scale;
      return;
    }
    int32_t zp = scheme.zeroPoints.empty() ? 0 : scheme.zeroPoints[s];
    for (int64_t e = b; e < end; ++e)
      x[e] = dequantizeInt(static_cast<int32_t>(q[e]), scale, zp);
  };
  assert(checkGranularity(scheme.granularity, shape).empty() &&
         "granularity does not apply");
  ScaleRuns runs(scheme.granularity, shape);
  parallelRows(runs, 1, threads,
               [&](int64_t rb, int64_t re) { runs.forRows(rb, re, run); });
}

//===----------------------------------------------------------------------===//
// Int4 packing
//===----------------------------------------------------------------------===//

std::vector<uint8_t> qnum::packInt4x2(const std::vector<int8_t> &values) {
  std::vector<uint8_t> out((values.size() + 1) / 2, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    assert(values[i] >= -8 && values[i] <= 7 && "value outside int4 range");
    uint8_t nibble = static_cast<uint8_t>(values[i]) & 0x0F;
    out[i / 2] |= (i % 2 == 0) ? nibble : static_cast<uint8_t>(nibble << 4);
  }
  return out;
}

std::vector<int8_t> qnum::unpackInt4x2(const std::vector<uint8_t> &packed,
                                       size_t count) {
  assert(packed.size() * 2 >= count && "not enough packed bytes");
  std::vector<int8_t> out(count);
  for (size_t i = 0; i < count; ++i) {
    uint8_t nibble =
        (i % 2 == 0) ? (packed[i / 2] & 0x0F) : (packed[i / 2] >> 4);
    out[i] = static_cast<int8_t>(nibble >= 8 ? nibble - 16 : nibble);
  }
  return out;
}

std::vector<int32_t> qnum::packInt4x8Offset(const std::vector<int8_t> &values) {
  assert(values.size() % 8 == 0 && "count must be a multiple of 8");
  std::vector<int32_t> out(values.size() / 8, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    assert(values[i] >= -8 && values[i] <= 7 && "value outside int4 range");
    uint32_t nibble = static_cast<uint32_t>(values[i] + 8) & 0x0F;
    uint32_t word = static_cast<uint32_t>(out[i / 8]);
    word |= nibble << (4 * (i % 8));
    out[i / 8] = static_cast<int32_t>(word);
  }
  return out;
}

std::vector<int8_t> qnum::unpackInt4x8Offset(const std::vector<int32_t> &packed,
                                             size_t count) {
  assert(packed.size() * 8 >= count && "not enough packed words");
  std::vector<int8_t> out(count);
  for (size_t i = 0; i < count; ++i) {
    uint32_t word = static_cast<uint32_t>(packed[i / 8]);
    out[i] = static_cast<int8_t>(((word >> (4 * (i % 8))) & 0x0F) - 8);
  }
  return out;
}
