//===- BundleSpecs.h - The kernel specs of a compiled-model bundle -*- C++ -*-//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The runtime's copy of the compiler's kernel contract
// (include/qopt/Conversion/KernelToGPU/KernelSpecs.h, which the runtime
// cannot include): one struct per kernel family with the same fields, read
// from a bundle manifest's `spec` objects (the same names in snake case).
// The arithmetic each family computes is documented there and in
// docs/bundle.md; the CPU backend (Backend.h) implements it.
//
// Differences from the compiler's structs: a spec carries no `name` (the
// manifest's kernel entry has it) and no `blockThreads` (the launch has the
// block); the elementwise kinds are the families `add`, `mul` and
// `silu_mul`; `permute_columns` reorders the columns of an activation
// (the input of a GPTQ act-order GEMM).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_BUNDLESPECS_H
#define QOPT_RUNTIME_BUNDLESPECS_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace qrt {
namespace bundle {

/// Element types of bundle buffers: `f32`, `bf16`, `f16`, `i8`, `f8e4m3`,
/// `i4x2` (two int4 per byte along the last axis, element 2j in the low
/// nibble, two's complement; shapes are logical), `i32`.
enum class ElemType { F32, BF16, F16, I8, F8E4M3, I4x2, I32 };

/// The manifest spelling ("f32", ..., "i4x2").
const char *elemTypeName(ElemType type);
/// Parses a manifest spelling; false if unknown.
bool parseElemType(const std::string &name, ElemType &type);
/// Bytes of a row-major tensor of `shape` (no dynamic dimension left): an
/// i4x2 tensor packs each innermost row in ceil(cols / 2) bytes.
int64_t storageBytes(ElemType type, const std::vector<int64_t> &shape);
/// True for f32, bf16 and f16.
bool isFloatType(ElemType type);

enum class GemmKind { BF16, S8, E4M3, W8A16, W4A16 };
enum class ScaleKind { None, PerTensor, PerToken, PerChannel, PerGroup, Block };

const char *gemmKindName(GemmKind kind);
const char *scaleKindName(ScaleKind kind);

/// A GEMM's thread-block tile (informational for the runtime).
struct GemmTile {
  int64_t bm = 64, bn = 64, bk = 64;
  int64_t warpsM = 2, warpsN = 2;
  int64_t stages = 2;
};

/// out = A B^T with the epilogue of KernelSpecs.h's GemmSpec.
struct GemmSpec {
  GemmKind kind = GemmKind::BF16;
  int64_t maxTokens = 0, n = 0, k = 0;
  ScaleKind aScale = ScaleKind::None;
  ScaleKind bScale = ScaleKind::None;
  int64_t groupSize = 0;
  int64_t blockN = 0, blockK = 0;
  bool bZeroPoints = false;
  bool intBias = false;
  bool bias = false;
  bool gated = false;
  bool residual = false;
  ElemType outType = ElemType::F32;
  bool outAsymmetric = false;
  GemmTile tile;
};

struct RmsNormSpec {
  int64_t maxTokens = 0, hidden = 0;
  double epsilon = 1e-5;
  ElemType weightType = ElemType::F32;
  ElemType outType = ElemType::F32;
  bool dynamicPerToken = false;
  bool staticScale = false, staticAsymmetric = false;
};

/// Without `dynamicPerToken`, an i8 / f8e4m3 output is quantized with a
/// static scale (and zero point with `staticAsymmetric`); a float output is
/// a conversion.
struct QuantizeSpec {
  int64_t maxTokens = 0, hidden = 0;
  ElemType outType = ElemType::I8;
  bool dynamicPerToken = false;
  bool staticAsymmetric = false;
};

struct EmbeddingSpec {
  int64_t maxTokens = 0, vocab = 0, hidden = 0;
  ElemType tableType = ElemType::BF16;
};

enum class KVScaleKind { None, PerTensor, PerHead, PerToken };
const char *kvScaleKindName(KVScaleKind kind);

struct KVCacheSpec {
  int64_t maxSeq = 0, numKvHeads = 0, headDim = 0;
  ElemType storage = ElemType::BF16;
  KVScaleKind scales = KVScaleKind::None;
};

struct RopeAppendSpec {
  int64_t maxTokens = 0, numHeads = 0, numKvHeads = 0, headDim = 0;
  int64_t maxPositions = 0;
  KVCacheSpec keys, values;
};

struct AttentionSpec {
  int64_t maxTokens = 0, numHeads = 0, numKvHeads = 0, headDim = 0;
  bool causal = true;
  double scale = 0.0;
  int64_t slidingWindow = 0;
  KVCacheSpec keys, values;
  ElemType outType = ElemType::F32;
};

enum class ElementwiseKind { Add, Mul, SiluMul };

struct ElementwiseSpec {
  ElementwiseKind kind = ElementwiseKind::Add;
  int64_t maxTokens = 0, features = 0;
  ElemType outType = ElemType::F32;
};

struct ArgmaxSpec {
  int64_t maxTokens = 0, vocab = 0;
};

/// out[r, j] = in[r, perm[j]].
struct PermuteColumnsSpec {
  int64_t maxTokens = 0, features = 0;
  ElemType inType = ElemType::F32;
  ElemType outType = ElemType::F32;
};

/// The kernel families of a bundle (the manifest's `family`).
enum class Family {
  Embedding,
  RmsNorm,
  Quantize,
  Gemm,
  RopeKVAppend,
  Attention,
  Add,
  Mul,
  SiluMul,
  Argmax,
  PermuteColumns
};
const char *familyName(Family family);
bool parseFamily(const std::string &name, Family &family);

using KernelSpec =
    std::variant<EmbeddingSpec, RmsNormSpec, QuantizeSpec, GemmSpec,
                 RopeAppendSpec, AttentionSpec, ElementwiseSpec, ArgmaxSpec,
                 PermuteColumnsSpec>;

/// The spec's max_tokens, whatever its family.
int64_t specMaxTokens(const KernelSpec &spec);

/// A dimension of an expected parameter shape that is not a number.
constexpr int64_t kTokensDim = -1;    ///< the launch's m (max_tokens rows)
constexpr int64_t kCacheRowsDim = -2; ///< the KV cache's rows (S)

/// One kernel parameter as a spec fixes it: its role (a name unique within
/// the kernel, e.g. "b_scales", "b2", "k_cache"), element type and shape.
struct Param {
  std::string role;
  ElemType type = ElemType::F32;
  std::vector<int64_t> shape;
  /// The kernel writes it.
  bool output = false;
  /// A one-element parameter ([1]) that may also be declared with shape [].
  bool scalar = false;
  /// A KV cache parameter: the cache's keys / values or their per-token
  /// scales; `cacheKeys` tells which side.
  enum class Cache { None, Data, Scales } cache = Cache::None;
  bool cacheKeys = false;
};

/// The parameters (every buffer, in order; the trailing i32 m excluded) of
/// a kernel of `spec`. Fails, with a message, for a spec whose combination
/// of fields the contract does not define (e.g. an s8 GEMM with per-group
/// scales, a static KV scale kind on a float cache).
bool kernelParams(const KernelSpec &spec, Family family,
                  std::vector<Param> &params, std::string &error);

} // namespace bundle
} // namespace qrt

#endif // QOPT_RUNTIME_BUNDLESPECS_H
