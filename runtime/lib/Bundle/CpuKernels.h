//===- CpuKernels.h - The CPU backend's kernels ------------------*- C++
//-*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One function per kernel family, computing what KernelSpecs.h states on
// buffers in their storage types (bf16 as uint16 bits, i8, e4m3 bytes,
// int4 packed two per byte): float32 accumulation (exact int32 for s8),
// scales applied in the order the contract writes them, and outputs
// rounded to their storage (bf16 / f16 to nearest even, int8 half to even
// with saturation, e4m3 clamped to +-448 and rounded to nearest even).
// Each kernel reads all of its inputs before it writes an output row, so
// arena buffers that alias (an output planned over an input) behave as on
// the GPU. Internal to the bundle library.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_LIB_BUNDLE_CPUKERNELS_H
#define QOPT_RUNTIME_LIB_BUNDLE_CPUKERNELS_H

#include "qopt-runtime/Bundle.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace qrt {
namespace cpu {

/// A GEMM's B operand as the arithmetic sees it: `q - zero_point` (or the
/// bf16 / e4m3 value), [n, k] row-major; double for s8 (exact sums).
struct DecodedB {
  std::vector<float> f;
  std::vector<double> d;
};

/// Decoded weights, by (B buffer, zero-point buffer or -1).
using DecodedCache = std::map<std::pair<int, int>, DecodedB>;

struct CpuContext {
  const bundle::Manifest &manifest;
  /// Every buffer's bytes, by buffer index (weights are never written).
  const std::vector<uint8_t *> &data;
  unsigned threads;
  DecodedCache &decoded;

  uint8_t *arg(const bundle::Kernel &k, const char *role) const {
    int b = k.arg(role);
    return b < 0 ? nullptr : data[b];
  }
};

/// Runs `kernel` for a launch of `m` tokens.
bool runKernel(const bundle::Kernel &kernel, int64_t m, CpuContext &ctx,
               std::string &error);

bool runGemm(const bundle::Kernel &kernel, const bundle::GemmSpec &spec,
             int64_t m, CpuContext &ctx, std::string &error);

//===----------------------------------------------------------------------===//
// Storage conversions
//===----------------------------------------------------------------------===//

/// `n` elements of `type` (not i4x2) at `src` as floats.
void loadFloats(bundle::ElemType type, const uint8_t *src, int64_t n,
                float *out);
/// `n` floats stored as the float type `type` (f32, bf16, f16).
void storeFloats(bundle::ElemType type, const float *y, int64_t n,
                 uint8_t *dst);
/// `n` floats quantized to i8 (q = sat(rne(y / scale) + zp), to [-127, 127]
/// when symmetric, [-128, 127] when asymmetric) or f8e4m3 (y / scale
/// clamped to +-448, rounded to nearest even).
void storeQuantized(bundle::ElemType type, const float *y, int64_t n,
                    float scale, int32_t zeroPoint, bool asymmetric,
                    uint8_t *dst);
/// The largest representable magnitude of a dynamic scale: 127 or 448.
float quantMax(bundle::ElemType type);

} // namespace cpu
} // namespace qrt

#endif // QOPT_RUNTIME_LIB_BUNDLE_CPUKERNELS_H
