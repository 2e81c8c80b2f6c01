//===- QuantMath.h - Quantization arithmetic shared by all layers -*- C++
//-*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The numerics of qopt's quantization schemes: rounding, saturation, scale
// computation, float8 conversion, int4 packing and the scale layout of each
// granularity. This library depends on nothing but the C++ standard library
// so that the dialect, the CPU executor and the GPU runtime (which never
// includes MLIR) share one definition of every formula. It lives in namespace
// `qnum` ("qopt numerics"), apart from the dialect's `mlir::qopt`.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_SUPPORT_QUANTMATH_H
#define QOPT_SUPPORT_QUANTMATH_H

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace qnum {

/// A dimension whose size is only known at run time (equal to MLIR's
/// ShapedType::kDynamic).
constexpr int64_t kDynamicDim = std::numeric_limits<int64_t>::min();

/// Formats a shape as "[a, ?, b]" for diagnostics.
std::string shapeToString(const std::vector<int64_t> &shape);

//===----------------------------------------------------------------------===//
// Storage types
//===----------------------------------------------------------------------===//

enum class StorageKind { Int8, Int4, Float8E4M3FN, Float8E5M2 };

/// The representable range of a storage type: symmetric integer schemes use
/// the narrow range [-(2^(b-1) - 1), 2^(b-1) - 1], asymmetric the full one.
struct StorageRange {
  double min;
  double max;
};
StorageRange storageRange(StorageKind kind, bool symmetric);
bool isFloat8(StorageKind kind);
const char *storageName(StorageKind kind);

//===----------------------------------------------------------------------===//
// Granularity
//===----------------------------------------------------------------------===//

enum class GranularityKind {
  PerTensor,
  PerChannel,
  PerToken,
  PerGroup,
  PerHead,
  Block
};

/// Which elements share a scale. `axis` is used by PerChannel, PerGroup and
/// PerHead; `size` is the group size (PerGroup) or the number of heads
/// (PerHead); `rows` x `cols` is the block of Block.
struct Granularity {
  GranularityKind kind = GranularityKind::PerTensor;
  int64_t axis = 0;
  int64_t size = 0;
  int64_t rows = 0;
  int64_t cols = 0;

  static Granularity perTensor() { return {}; }
  static Granularity perChannel(int64_t axis) {
    return {GranularityKind::PerChannel, axis, 0, 0, 0};
  }
  static Granularity perToken() {
    return {GranularityKind::PerToken, 0, 0, 0, 0};
  }
  static Granularity perGroup(int64_t axis, int64_t size) {
    return {GranularityKind::PerGroup, axis, size, 0, 0};
  }
  static Granularity perHead(int64_t axis, int64_t heads) {
    return {GranularityKind::PerHead, axis, heads, 0, 0};
  }
  static Granularity block(int64_t rows, int64_t cols) {
    return {GranularityKind::Block, 0, 0, rows, cols};
  }
};

/// Returns an empty string when `g` applies to a tensor of `shape`, otherwise
/// a message that names the problem. Dynamic dimensions are accepted wherever
/// the check needs their size.
std::string checkGranularity(const Granularity &g,
                             const std::vector<int64_t> &shape);

/// The shape of the scale tensor that `g` needs for a tensor of `shape`
/// (rank 0 for per-tensor). Dynamic dimensions propagate as kDynamicDim.
std::vector<int64_t> scaleShape(const Granularity &g,
                                const std::vector<int64_t> &shape);

/// The number of scales, or kDynamicDim when it depends on a dynamic size.
int64_t numScales(const Granularity &g, const std::vector<int64_t> &shape);

/// The flat (row-major) index into the scale tensor of the element at
/// multi-index `index` of a tensor of static `shape`.
int64_t scaleIndex(const Granularity &g, const std::vector<int64_t> &shape,
                   const std::vector<int64_t> &index);

/// Calls fn(element, scaleIndex) for every element of a tensor of static
/// `shape`, in row-major order. Same mapping as scaleIndex(), without its
/// per-call allocations.
void forEachScaleIndex(const Granularity &g, const std::vector<int64_t> &shape,
                       const std::function<void(int64_t, int64_t)> &fn);

/// Calls fn(begin, end, scaleIndex) for every maximal run of consecutive
/// (row-major) elements inside one innermost row that share a scale index,
/// in order. The same mapping as forEachScaleIndex, with one call per run
/// (a row, a group, a block column) instead of per element.
void forEachScaleRun(const Granularity &g, const std::vector<int64_t> &shape,
                     const std::function<void(int64_t, int64_t, int64_t)> &fn);

//===----------------------------------------------------------------------===//
// Rounding and integer quantization
//===----------------------------------------------------------------------===//

/// Rounds to the nearest integer, ties to even (like torch.round), whatever
/// the floating-point environment's rounding mode is.
double roundHalfToEven(double x);
float roundHalfToEven(float x);

/// q = clamp(round_half_even(x / scale) + zeroPoint, qmin, qmax), computed
/// with a float32 division.
int32_t quantizeInt(float x, float scale, int32_t zeroPoint, int32_t qmin,
                    int32_t qmax);
/// x = (q - zeroPoint) * scale in float32.
float dequantizeInt(int32_t q, float scale, int32_t zeroPoint);

/// The symmetric scale for values of magnitude up to `absmax`:
/// absmax / qmax, or 1 when absmax is 0 (every value then quantizes to 0).
float symmetricScale(float absmax, double qmax);

/// Scale and zero point of an asymmetric integer scheme covering [lo, hi]
/// (the range is first widened to contain 0, so 0 is exactly representable).
struct AffineParams {
  float scale;
  int32_t zeroPoint;
};
AffineParams asymmetricParams(float lo, float hi, int32_t qmin, int32_t qmax);

//===----------------------------------------------------------------------===//
// Float8
//===----------------------------------------------------------------------===//

/// float32 -> float8 bits with saturation to the finite range, rounding to
/// nearest even. NaN maps to the format's NaN (0x7F for E4M3FN, 0x7F for
/// E5M2 with the sign of the input).
uint8_t floatToE4M3FN(float x);
uint8_t floatToE5M2(float x);
float e4m3fnToFloat(uint8_t bits);
float e5m2ToFloat(uint8_t bits);

/// Conversions from the 16-bit formats (exactly representable in float32).
float bf16ToFloat(uint16_t bits);
float halfToFloat(uint16_t bits);

/// q = fp8(clamp(x / scale, -max, max)); returns the fp8 bits.
uint8_t quantizeFloat8(float x, float scale, StorageKind kind);
float dequantizeFloat8(uint8_t bits, float scale, StorageKind kind);

//===----------------------------------------------------------------------===//
// Whole tensors
//===----------------------------------------------------------------------===//

/// A scheme's numeric parameters, without MLIR: the storage kind, symmetry,
/// granularity, and one scale (and zero point) per scale index. Zero points
/// may be empty (all zero).
struct TensorScheme {
  StorageKind kind = StorageKind::Int8;
  bool symmetric = true;
  Granularity granularity;
  std::vector<float> scales;
  std::vector<int32_t> zeroPoints;
  /// The parameters are computed from the values at run time
  /// (computeDynamicParams) rather than calibrated.
  bool dynamic = false;
};

/// Fills `scheme.scales` (and, when asymmetric, `scheme.zeroPoints`) from the
/// values they will quantize, as a dynamic scheme does at run time: per scale
/// group, symmetric schemes use absmax / max(storage), asymmetric integer
/// schemes asymmetricParams(min, max).
///
/// These three split their work by rows over `threads` threads (0: all
/// hardware threads, fewer for small tensors); the results do not depend on
/// the number of threads.
void computeDynamicParams(const float *x, const std::vector<int64_t> &shape,
                          TensorScheme &scheme, int threads = 0);

/// Quantizes `x` (row-major, static `shape`) into `q`, one storage value per
/// element held as a float: the integer for integer storage, the float8
/// value itself for float8 storage.
void quantizeTensor(const float *x, const std::vector<int64_t> &shape,
                    const TensorScheme &scheme, float *q, int threads = 0);
/// x = (q - zero_point) * scale, or q * scale for float8.
void dequantizeTensor(const float *q, const std::vector<int64_t> &shape,
                      const TensorScheme &scheme, float *x, int threads = 0);

//===----------------------------------------------------------------------===//
// Int4 packing
//===----------------------------------------------------------------------===//

/// Packs signed 4-bit values (each in [-8, 7]) two per byte, element 2k in
/// the low nibble and 2k+1 in the high nibble (two's complement). An odd
/// count leaves the last high nibble zero.
std::vector<uint8_t> packInt4x2(const std::vector<int8_t> &values);
std::vector<int8_t> unpackInt4x2(const std::vector<uint8_t> &packed,
                                 size_t count);

/// compressed-tensors `pack-quantized`: eight values per int32, element i of
/// a group in bits [4i, 4i+4), each stored as value + 8. `count` must be a
/// multiple of 8.
std::vector<int32_t> packInt4x8Offset(const std::vector<int8_t> &values);
std::vector<int8_t> unpackInt4x8Offset(const std::vector<int32_t> &packed,
                                       size_t count);

} // namespace qnum

#endif // QOPT_SUPPORT_QUANTMATH_H
