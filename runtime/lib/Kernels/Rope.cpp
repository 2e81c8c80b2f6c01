//===- Rope.cpp - Rotary position embedding -------------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Kernels.h"

#include <cmath>

using namespace qrt;

std::vector<float> kernels::ropeInvFreq(int64_t headDim, double theta,
                                        const RopeScaling &scaling) {
  std::vector<float> inv(headDim / 2);
  for (int64_t i = 0; i < headDim / 2; ++i) {
    float exponent = static_cast<float>(2 * i) / static_cast<float>(headDim);
    inv[i] = static_cast<float>(1.0 / std::pow(theta, double(exponent)));
  }
  if (scaling.kind == RopeScaling::Kind::None)
    return inv;
  double factor = scaling.factor;
  if (scaling.kind == RopeScaling::Kind::Linear) {
    for (float &f : inv)
      f = static_cast<float>(f / factor);
    return inv;
  }
  // Llama 3: scale low frequencies, keep high ones, interpolate between.
  double low = scaling.lowFreqFactor, high = scaling.highFreqFactor;
  double oldLen = static_cast<double>(scaling.originalMaxPosition);
  double lowWavelen = oldLen / low, highWavelen = oldLen / high;
  for (float &f : inv) {
    double wavelen = 2 * M_PI / f;
    double scaled = f;
    if (wavelen > lowWavelen)
      scaled = f / factor;
    else if (wavelen >= highWavelen) {
      double smooth = (oldLen / wavelen - low) / (high - low);
      scaled = (1 - smooth) * f / factor + smooth * f;
    }
    f = static_cast<float>(scaled);
  }
  return inv;
}

std::vector<float> kernels::ropeTable(int64_t maxPositions, int64_t headDim,
                                      const std::vector<float> &invFreq) {
  int64_t half = headDim / 2;
  std::vector<float> table(static_cast<size_t>(maxPositions * headDim));
  for (int64_t p = 0; p < maxPositions; ++p) {
    float fp = static_cast<float>(p);
    for (int64_t i = 0; i < half; ++i) {
      float angle = fp * invFreq[i];
      table[p * headDim + i] = static_cast<float>(std::cos(double(angle)));
      table[p * headDim + half + i] =
          static_cast<float>(std::sin(double(angle)));
    }
  }
  return table;
}

void kernels::rope(const float *x, const int32_t *positions, int64_t rows,
                   int64_t heads, int64_t headDim,
                   const std::vector<float> &invFreq, float *out) {
  int64_t d = headDim, half = d / 2;
  for (int64_t t = 0; t < rows; ++t) {
    float p = static_cast<float>(positions[t]);
    for (int64_t i = 0; i < half; ++i) {
      float angle = p * invFreq[i];
      float c = static_cast<float>(std::cos(double(angle)));
      float s = static_cast<float>(std::sin(double(angle)));
      for (int64_t hh = 0; hh < heads; ++hh) {
        const float *xr = x + t * heads * d + hh * d;
        float *yr = out + t * heads * d + hh * d;
        float x1 = xr[i], x2 = xr[i + half];
        yr[i] = x1 * c - x2 * s;
        yr[i + half] = x2 * c + x1 * s;
      }
    }
  }
}
