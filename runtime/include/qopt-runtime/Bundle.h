//===- Bundle.h - A compiled-model bundle, loaded and validated -*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reads a bundle directory (docs/bundle.md, format version 1): its
// manifest.json, every field checked; the kernels' specs (BundleSpecs.h);
// and weights.safetensors, mapped, with every weight buffer's dtype and
// shape checked. A loaded Bundle is consistent: every buffer a kernel names
// exists, with the type and shape its spec needs for that parameter;
// kernels write arena buffers and KV caches only; arena buffers lie inside
// `arena_bytes`; launch sequences name existing kernels. Backends
// (Backend.h) run it without checking any of that again.
//
// Buffers: the manifest's `buffers`, then, for each KV cache NAME (in
// order), NAME.k and NAME.v ([S, num_kv_heads * head_dim] of the storage
// type) and, for per-token scales, NAME.k_scales / NAME.v_scales ([S] f32),
// where S, the cache rows, is chosen by the backend. The manifest must not
// declare those names itself.
//
// Files: kernels.ptx, weights.safetensors and (when the manifest names one)
// tokenizer.json must exist; the cubin may be absent (the CUDA backend then
// loads the PTX). A manifest with no `weights` is a kernels-only bundle
// (qopt-bundle --kernels-only): its weights have shapes and types but no
// data, the backends start them zeroed, and only the kernel checks
// (KernelCheck.h), which write every input, run it. Each launch sequence must
// write the logits and the next_token outputs; the only input buffers are
// `tokens` and `positions`.
//
// Weights: an `i4x2` weight is stored in the safetensors file as U8 with
// its last dimension ceil(cols / 2) (each row packed on its own, as qopt's
// weight writer does); every other type by its safetensors name (F32,
// BF16, F16, I8, F8_E4M3, I32).
//
// Errors: nothing throws; load() returns null with one message, prefixed
// by the file it concerns ("DIR/manifest.json: ...", or the safetensors
// reader's own message naming weights.safetensors), and naming the
// manifest entry by its JSON path, e.g.
//   DIR/manifest.json: bundle version 2 is not supported by this runtime
//     (version 1)
//   DIR/manifest.json: kernels[3] (k3_gemm): spec.n: must be at least 1,
//     got -3
//   DIR/manifest.json: kernels[3] (k3_gemm): argument 2 (b_scales) is
//     buffer w5, f32 [384]; the spec needs f32 [768]
//   DIR/weights.safetensors: tensor 'w0' is F32 [64]; the manifest's
//     weight buffer w0 (bf16 [64]) needs BF16 [64]
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_BUNDLE_H
#define QOPT_RUNTIME_BUNDLE_H

#include "qopt-runtime/BundleSpecs.h"
#include "qopt-runtime/WeightRecipe.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qrt {

class SafetensorsFile;
struct TensorView;

namespace bundle {

/// The format version this runtime reads.
constexpr int64_t kFormatVersion = 1;
constexpr const char *kFormatName = "qopt-bundle";

enum class BufferKind {
  Input,    ///< filled by the runtime (tokens, positions)
  Weight,   ///< a tensor of weights.safetensors
  Arena,    ///< at `offset` in the activation arena
  KVCache,  ///< NAME.k / NAME.v of a KV cache
  KVScales, ///< NAME.k_scales / NAME.v_scales (per-token scales)
};
const char *bufferKindName(BufferKind kind);

/// A weight computed from the model's checkpoint while the bundle loads
/// (qopt --...=at-load, qopt-bundle --weights-at-load): the checkpoint
/// tensor `tensor`, multiplied by the factors `scaleChannels` (tensors of
/// weights.safetensors, each along its axis), then quantized by `recipe`
/// and `part` of it taken; or, for WeightPart::Copy, the tensor as it is.
struct AtLoadWeight {
  std::string tensor;
  std::vector<std::pair<std::string, int64_t>> scaleChannels;
  WeightQuantRecipe recipe;
  WeightPart part = WeightPart::Copy;
};

struct Buffer {
  std::string name;
  BufferKind kind = BufferKind::Arena;
  ElemType type = ElemType::F32;
  /// kTokensDim (-1) for the token dimension; KV buffers have kCacheRowsDim
  /// as their first dimension.
  std::vector<int64_t> shape;
  /// Arena buffers: the byte offset into the arena.
  int64_t offset = 0;
  /// KV buffers: the index of their cache in Manifest::kvCaches, and which
  /// side (keys or values).
  int cache = -1;
  bool keys = false;
  /// Weight buffers read from the checkpoint (`at_load`); `tensor` empty
  /// for those of weights.safetensors.
  AtLoadWeight atLoad;

  /// Bytes with `rows` tokens (or cache rows) in the dynamic dimension.
  int64_t bytes(int64_t rows) const;
  /// "f32 [-1, 384]".
  std::string describe() const;
};

struct KVSide {
  ElemType storage = ElemType::BF16;
  KVScaleKind scales = KVScaleKind::None;
};

struct KVCache {
  std::string name;
  int64_t layer = 0, numKvHeads = 0, headDim = 0;
  KVSide key, value;
  int64_t width() const { return numKvHeads * headDim; }
};

struct Launch {
  unsigned block[3] = {1, 1, 1};
  int64_t tokenTile = 0, perTile = 1, gridY = 1, gridZ = 1;
  int64_t sharedBytes = 0;
  /// Blocks in x for a launch of `m` tokens.
  int64_t gridX(int64_t m) const;
};

/// Another kernel with the same parameters and arithmetic for launches of
/// at most `maxM` tokens (a GEMM's weight-streaming decode kernel).
struct SmallMVariant {
  std::string name;
  int64_t maxM = 0;
  Launch launch;
};

struct Kernel {
  std::string name;
  Family family = Family::Add;
  KernelSpec spec;
  std::vector<std::string> args;
  Launch launch;
  /// By ascending maxM; a launch of m tokens runs the first with m <= maxM
  /// (variantFor), a larger one the kernel itself.
  std::vector<SmallMVariant> smallM;
  /// The parameters the spec defines (kernelParams), and for each the index
  /// of its buffer in Manifest::buffers.
  std::vector<Param> params;
  std::vector<int> argBuffers;
  /// The family, spec and launch as the manifest gives them: kernels with
  /// the same signature run the same code (the kernel checks run one).
  std::string signature;

  int64_t maxTokens() const { return specMaxTokens(spec); }
  /// The variant a launch of m tokens runs, or null for the kernel itself.
  const SmallMVariant *variantFor(int64_t m) const;
  /// The buffer index of the parameter `role`, or -1.
  int arg(const std::string &role) const;
};

struct ModelInfo {
  std::string architecture;
  int64_t vocabSize = 0, maxPositionEmbeddings = 0;
  /// -1 when the model has none (null in the manifest).
  int64_t bosTokenId = -1, eosTokenId = -1;
};

struct Manifest {
  std::string chip;
  ModelInfo model;
  std::string recipe;
  int64_t maxTokens = 0;
  int64_t arenaBytes = 0;
  /// File names inside the bundle directory; cubin and tokenizer may be "".
  std::string ptx, cubin, weights, tokenizer;
  /// The checkpoint the at_load weights read (its path when compiled; the
  /// loader may be given another), and the dtype and shape each of its
  /// tensors had then.
  std::string checkpoint;
  std::map<std::string, std::pair<DType, std::vector<int64_t>>>
      checkpointTensors;
  /// Buffer indices.
  int tokens = -1, positions = -1, logits = -1, nextToken = -1;
  std::vector<Buffer> buffers;
  std::vector<KVCache> kvCaches;
  std::vector<Kernel> kernels;
  std::vector<int> prefill, decode;
  /// Every kernel runs griddepcontrol.wait before it touches memory that
  /// another kernel writes or reads ("grid_dependency", default false), so
  /// it may be launched programmatically (Function::launch).
  bool gridDependency = false;

  /// Buffer name -> index in `buffers`.
  std::map<std::string, int> bufferIndex;

  /// The index of buffer `name`, or -1.
  int findBuffer(const std::string &name) const;
  /// The most KV cache rows the kernels allow: the model's
  /// max_position_embeddings, the smallest max_seq of any KV spec and
  /// max_positions of any RoPE table.
  int64_t maxSeqLimit() const;
};

/// Parses and validates manifest.json text (everything but the weights
/// file); `file` names it in messages. Exposed for tests.
bool parseManifest(const std::string &text, const std::string &file,
                   Manifest &manifest, std::string &error);

} // namespace bundle

/// A loaded bundle: its manifest and mapped weights.
class Bundle {
public:
  /// Loads `directory` (see the file comment); null with `error` on failure.
  /// Weights the manifest reads at load (`at_load`) come from `checkpoint`
  /// (a checkpoint directory, index or .safetensors file; "" for the path
  /// the manifest recorded), quantized on the host's threads.
  static std::unique_ptr<Bundle> load(const std::string &directory,
                                      std::string &error,
                                      const std::string &checkpoint = "");
  ~Bundle();
  Bundle(const Bundle &) = delete;
  Bundle &operator=(const Bundle &) = delete;

  const bundle::Manifest &manifest() const { return manifest_; }
  const std::string &directory() const { return directory_; }
  /// DIR/NAME for a file name of the manifest ("" for "").
  std::string path(const std::string &file) const;
  /// The safetensors tensor of weight buffer `buffer` (null for others, and
  /// for every buffer of a kernels-only bundle).
  const TensorView *weight(int buffer) const;
  /// False for a kernels-only bundle (no weights file).
  bool hasWeights() const { return !manifest_.weights.empty(); }

  /// True when `directory` holds a manifest.json (what qopt-run checks to
  /// tell a bundle from a model file).
  static bool isBundleDirectory(const std::string &directory);

  /// How many weight buffers were computed or copied from the checkpoint
  /// at load, and the seconds that took (0 when none).
  int atLoadWeights() const { return atLoadWeights_; }
  double atLoadSeconds() const { return atLoadSeconds_; }
  /// The checkpoint they were read from ("" when none).
  const std::string &checkpointPath() const { return checkpointPath_; }

private:
  Bundle() = default;
  /// Fills weightViews_ for the `at_load` buffers (AtLoad.cpp).
  bool loadAtLoad(const std::string &checkpoint, std::string &error);
  std::string directory_;
  bundle::Manifest manifest_;
  std::unique_ptr<SafetensorsFile> weights_;
  std::vector<const TensorView *> weightViews_;
  std::unique_ptr<TensorStore> checkpoint_;
  std::map<std::string, QuantizedWeight> computed_;
  std::map<int, TensorView> computedViews_;
  std::string checkpointPath_;
  int atLoadWeights_ = 0;
  double atLoadSeconds_ = 0;
};

} // namespace qrt

#endif // QOPT_RUNTIME_BUNDLE_H
