//===- KernelSpecs.h - What each generated GPU kernel computes --*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The contract between kernel-level IR (`qk` ops), the kernel builders that
// write each kernel as a `gpu.func`, the bundle manifest and the runtime's
// CPU backend (the GPU's oracle). A spec fixes a kernel's shapes, element
// types, epilogue and tile; the builder for a spec emits one `gpu.func`
// whose parameters follow the order documented on the spec (every buffer a
// bare global pointer, then the i32 scalars), and docs/bundle.md gives the
// arithmetic each kernel must reproduce.
//
// Conventions shared by every kernel:
//   - activations are row-major `[tokens, features]`; `tokens` (the launch's
//     M, at most the spec's `maxTokens`) is the trailing i32 parameter `m`;
//   - weights are `[out, in]` row-major (K-major for the GEMM's B operand);
//   - scales are float32; integer storage rounds half to even and saturates
//     (symmetric int8 to [-127, 127], asymmetric to [-128, 127]); e4m3 clamps
//     to +-448 before rounding to nearest even;
//   - a bf16 output rounds to nearest even from the float32 result.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CONVERSION_KERNELTOGPU_KERNELSPECS_H
#define QOPT_CONVERSION_KERNELTOGPU_KERNELSPECS_H

#include <cstdint>
#include <string>

namespace mlir::qopt::codegen {

/// Element types that kernels read and write.
enum class ElemType { F32, BF16, F16, I8, F8E4M3, I4x2, I32 };

/// The operand types of a GEMM `out = A B^T`.
enum class GemmKind {
  BF16,  ///< A bf16 [M, K], B bf16 [N, K]; mma m16n8k16 bf16 -> f32.
  S8,    ///< A s8, B s8; mma m16n8k32 s8 -> s32 (exact).
  E4M3,  ///< A e4m3, B e4m3; mma m16n8k32 e4m3 -> f32 (sm_89, sm_90a).
  W8A16, ///< A bf16, B s8 dequantized in registers (exact: |q| <= 127).
  W4A16, ///< A bf16, B int4x2 [N, K/2] (element 2k low nibble, two's
         ///< complement), `q - zero_point` in registers, per-group scales.
};

/// How a scale vector is indexed.
enum class ScaleKind {
  None,
  PerTensor,  ///< [1]
  PerToken,   ///< A only: [maxTokens], one per row of A
  PerChannel, ///< B only: [N]
  PerGroup,   ///< B only: [N, K / groupSize]
  Block,      ///< B only: [ceil(N / blockN), ceil(K / blockK)]
};

/// A GEMM's tile: the thread block computes `bm x bn` outputs with
/// `warpsM x warpsN` warps, stepping K by `bk` through `stages` shared-memory
/// buffers filled with cp.async.
/// With `wgmma` (sm_90a), warpgroups of 4 warps compute 64 rows each with
/// wgmma.mma_async from shared memory (warpsM = bm / 16, warpsN = 1, bk
/// elements = 128 bytes).
struct GemmTile {
  int64_t bm = 64, bn = 64, bk = 64;
  int64_t warpsM = 2, warpsN = 2;
  int64_t stages = 2;
  bool wgmma = false;
  /// wgmma e4m3 without grouped B scales: the partial sums move into
  /// float32 every `promoteK` of K (a multiple of bk; 0: never).
  int64_t promoteK = 0;
};

/// A weight-streaming (GEMV-style) kernel of a GEMM for launches of at
/// most `rows` tokens: a block of `warps` warps computes `warps / kSplit`
/// adjacent column pairs; each pair's K is shared by `kSplit` warps, whose
/// lanes each read one 16-byte vector of both weight rows per step.
struct GemvShape {
  int64_t rows = 1, warps = 8, kSplit = 1;
};

/// What follows the accumulation, per output element (row r, column c):
///   S8:     y = float(acc + intBias[c]) * (aScale[r] * bScale[c])
///   E4M3:   y = acc * (aScale[r] * bScale[c])          (per-channel/tensor)
///           y = aScale[r] * sum_kb acc_kb * bScale[c / blockN, kb] (block)
///   BF16:   y = acc
///   W8A16:  y = acc * bScale[c]      (acc of a * q)
///   W4A16:  y = sum_g acc_g * bScale[c, g]  (acc_g of a * (q - zp[c, g]))
///   then    y += bias[c]; with `gated`: y = silu(y_gate) * y_up, the two
///           GEMMs sharing A; y += residual[r, c]; then the output is stored
///           as `outType` (static quantization: q = sat(rne(y / s) + zp)).
/// An absent scale is 1.
struct GemmSpec {
  std::string name;
  GemmKind kind = GemmKind::BF16;
  int64_t maxTokens = 0, n = 0, k = 0;
  ScaleKind aScale = ScaleKind::None;
  ScaleKind bScale = ScaleKind::None;
  int64_t groupSize = 0;            ///< PerGroup
  int64_t blockN = 0, blockK = 0;   ///< Block
  bool bZeroPoints = false;         ///< W4A16 asymmetric: i32 [N, K / group]
  bool intBias = false;             ///< S8: i32 [N]
  bool bias = false;                ///< f32 [N]
  bool gated = false;               ///< a second B (the "up" projection)
  bool residual = false;            ///< f32 [maxTokens, N]
  ElemType outType = ElemType::F32; ///< F32, BF16, or I8 / F8E4M3 (static)
  bool outAsymmetric = false;       ///< I8 output with a zero point
  GemmTile tile;
};
// Parameters, in order:
//   A, [aScales]                               (aScale != None)
//   B, [bScales], [bZeroPoints], [intBias], [bias]          for the gate/only B
//   [B2, [b2Scales], [b2ZeroPoints], [intBias2], [bias2]]   when gated
//   [residual], [outScale f32[1], [outZeroPoint i32[1]]], out, i32 m
// Buffer shapes: A [maxTokens, K] (bf16; i8 for S8 and E4M3, e4m3 as its
// bit patterns), aScales [1] or [maxTokens]; B [N, K] (bf16, i8; W4A16 i8
// [N, K / 2], two nibbles a byte), bScales [1], [N], [N, K / groupSize] or
// [ceil(N / blockN), ceil(K / blockK)] indexed [c / blockN, k / blockK],
// zero points i32 [N, K / groupSize], intBias i32 [N], bias f32 [N],
// residual f32 [maxTokens, N], out [maxTokens, N] (f32, bf16, i8; e4m3 as
// i8 bit patterns). Every buffer 16-byte aligned (cp.async copies 16 bytes).
// Launch (buildGemmKernel): one block of 32 * warpsM * warpsN threads per
// bm x bn output tile; blockIdx.x = the tile of rows (gridTokenTile = bm,
// gridPerTile = 1), blockIdx.y = the tile of columns (gridY = ceil(N / bn));
// sharedBytes of dynamic shared memory (above 48 KiB the launcher must
// raise the kernel's CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES).
// Tile constraints (checked, with a diagnostic): stages >= 2; bm a multiple
// of 16 * warpsM, bn of 16 * warpsN; bk a power of two, at least the mma's
// K (16 for bf16 and weight-only, 32 for S8 / E4M3; 32 for W4A16) and
// dividing K; N even (not necessarily a multiple of bn: columns past N are
// masked); groupSize / blockK a multiple of the mma's K dividing K, and
// either dividing bk or a multiple of it; the stages fit in shared memory.

/// rms_norm over the innermost dimension, optionally quantizing its output:
///   y = x * rsqrt(mean(x^2) + epsilon) * w   (float32, x read as inType)
/// then stored as `outType`; with `dynamicPerToken`, each row's scale is
/// max|y| / qmax (qmax 127 or 448; a zero row gets scale 1) and q =
/// sat(rne(y / scale)); with a static scale q = sat(rne(y / s) + zp).
struct RmsNormSpec {
  std::string name;
  int64_t maxTokens = 0, hidden = 0;
  double epsilon = 1e-5;
  ElemType weightType = ElemType::F32;
  ElemType outType = ElemType::F32;
  bool dynamicPerToken = false;
  bool staticScale = false, staticAsymmetric = false;
  int64_t blockThreads = 256;
};
// Parameters: x f32 [maxTokens, hidden], w [hidden],
//   [scale f32[1], [zp i32[1]]] (static), out, [rowScales f32 [maxTokens]]
//   (dynamic), i32 m.

/// Quantizes (or converts) a float32 activation row by row, like RmsNormSpec
/// without the normalization. An I8 / F8E4M3 output without
/// `dynamicPerToken` has a static scale.
struct QuantizeSpec {
  std::string name;
  int64_t maxTokens = 0, hidden = 0;
  ElemType outType = ElemType::I8;
  bool dynamicPerToken = false;
  bool staticAsymmetric = false;
  int64_t blockThreads = 256;
};
// Parameters: x f32, [scale f32[1], [zp i32[1]]] (static), out,
//   [rowScales f32 [maxTokens]] (dynamic), i32 m.

/// Embedding gather: out[r, :] = float(table[ids[r], :]). An id outside
/// [0, vocab) gives a zero row (the runtime checks ids before launching).
struct EmbeddingSpec {
  std::string name;
  int64_t maxTokens = 0, vocab = 0, hidden = 0;
  ElemType tableType = ElemType::BF16;
};
// Parameters: table [vocab, hidden], ids i32 [maxTokens], out f32, i32 m.

/// How a KV cache stores one layer's keys or values: row `p` of the cache
/// (`[maxSeq, numKvHeads * headDim]`) holds position `p`.
enum class KVScaleKind {
  None,      ///< float cache (storage bf16 or f32)
  PerTensor, ///< static, f32 [1]
  PerHead,   ///< static, f32 [numKvHeads]
  PerToken,  ///< dynamic: f32 [maxSeq], one scale per cached position
};

struct KVCacheSpec {
  int64_t maxSeq = 0, numKvHeads = 0, headDim = 0;
  ElemType storage = ElemType::BF16; ///< BF16, F32, I8, F8E4M3
  KVScaleKind scales = KVScaleKind::None;
};

/// RoPE (rotate_half layout) of q and k, then k and v appended to the
/// cache at row positions[r] (quantized with the cache's scheme: a static
/// scale s gives q = sat(rne(x / s)); per-token, the scale of the row is
/// max|x| / qmax over all its kv heads). cos/sin come from a table
/// `[maxPositions, headDim]` (f32) the compiler writes: row p holds the
/// headDim / 2 cosines of p * invFreq[i], then the headDim / 2 sines. Static
/// scales are f32 [1] (PerTensor) or f32 [numKvHeads] (PerHead); a row whose
/// position is outside [0, min(maxPositions, maxSeq)) is not written.
struct RopeAppendSpec {
  std::string name;
  int64_t maxTokens = 0, numHeads = 0, numKvHeads = 0, headDim = 0;
  int64_t maxPositions = 0;
  KVCacheSpec keys, values;
};
// Parameters: q f32 [maxTokens, numHeads*headDim], k f32, v f32,
//   positions i32 [maxTokens], ropeTable f32 [maxPositions, headDim],
//   [kScale], [vScale] (static), qOut f32, kCache, vCache,
//   [kCacheScales], [vCacheScales] (per token), i32 m.

/// Attention of each query row (at position positions[r]) over the cache:
/// causal rows see cached positions 0..p (with slidingWindow W > 0, p-W+1..p);
/// non-causal rows see 0..positions[m-1]. Scores in float32 scaled by
/// `scale`, softmax with the row maximum subtracted, output stored as
/// outType (F32 or BF16). `scale` 0 means 1 / sqrt(headDim); keys beyond
/// the cache are not read, and a row without keys is zero.
struct AttentionSpec {
  std::string name;
  int64_t maxTokens = 0, numHeads = 0, numKvHeads = 0, headDim = 0;
  bool causal = true;
  double scale = 0.0;
  int64_t slidingWindow = 0;
  KVCacheSpec keys, values;
  ElemType outType = ElemType::F32;
  /// Warps per block (not part of the arithmetic).
  int64_t warps = 4;
  /// Blocks that split each row's keys (flash-decoding): a thread-block
  /// cluster of `splits` blocks along grid.z whose states are merged
  /// through distributed shared memory (sm_90a; 1 to 8, 1 = no split).
  int64_t splits = 1;
};
// Parameters: q f32 [maxTokens, numHeads*headDim], positions i32,
//   kCache, vCache, [kScales], [vScales], out, i32 m.

/// Elementwise kernels that no fusion absorbed.
/// SiluMul: silu(lhs) * rhs, silu(x) = x / (1 + exp(-x)) (lhs is the gate).
enum class ElementwiseKind { Add, Mul, SiluMul };
struct ElementwiseSpec {
  std::string name;
  ElementwiseKind kind = ElementwiseKind::Add;
  int64_t maxTokens = 0, features = 0;
  ElemType outType = ElemType::F32;
};
// Parameters: lhs f32, rhs f32, out, i32 m.

/// out[r, j] = in[r, perm[j]] (the input of a GPTQ act-order GEMM); an
/// index outside [0, features) reads column 0 (the runtime checks the
/// permutation when it loads the weights).
struct PermuteColumnsSpec {
  std::string name;
  int64_t maxTokens = 0, features = 0;
  ElemType inType = ElemType::F32;
  ElemType outType = ElemType::F32;
};
// Parameters: in [maxTokens, features], perm i32 [features], out, i32 m.

/// Greedy decoding on the device: out[0] = argmax of row m-1 of the logits
/// (the lowest index among equal maxima).
struct ArgmaxSpec {
  std::string name;
  int64_t maxTokens = 0, vocab = 0;
};
// Parameters: logits f32 [maxTokens, vocab], out i32 [1], i32 m.

} // namespace mlir::qopt::codegen

#endif // QOPT_CONVERSION_KERNELTOGPU_KERNELSPECS_H
