//===- TestModel.h - Random-weight HF test checkpoints ----------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Writes deterministic random-weight Hugging Face checkpoints (llama, mistral,
// qwen2) for tests and benchmarks: config.json with the real HF keys, the
// weights as safetensors with the HF tensor names and shapes (sharded with
// model.safetensors.index.json past a size limit), and a small but valid
// tokenizer.json + tokenizer_config.json (SentencePiece-style BPE with byte
// fallback for llama/mistral, byte-level BPE for qwen2) whose merges are
// learned from a built-in English text.
//
// Weights are a pure function of the seed and the tensor name: each tensor is
// cut into fixed-size chunks, each chunk draws from its own std::mt19937_64
// through a hand-written Box-Muller transform, so the bytes do not depend on
// the shard size, the thread count or the standard library. Tensors are
// generated and streamed to disk chunk by chunk, so memory stays bounded
// (a few MB per thread) whatever the model size. Pure C++; no exception
// escapes the API.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_TOOLS_QOPT_MAKE_TEST_MODEL_TESTMODEL_H
#define QOPT_RUNTIME_TOOLS_QOPT_MAKE_TEST_MODEL_TESTMODEL_H

#include "qopt-runtime/ModelConfig.h"
#include "qopt-runtime/Safetensors.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qtest {
using namespace qrt;

/// The hyper-parameters of a test checkpoint. `headDim` 0 means
/// hiddenSize / numHeads.
struct TestModelSpec {
  std::string modelType = "llama"; // "llama", "mistral" or "qwen2"
  int64_t hiddenSize = 64;
  int64_t numLayers = 2;
  int64_t numHeads = 4;
  int64_t numKvHeads = 2;
  int64_t headDim = 0;
  int64_t intermediateSize = 128;
  int64_t vocabSize = 512;
  int64_t maxPositionEmbeddings = 2048;
  double rmsNormEps = 1e-5;
  double ropeTheta = 10000.0;
  /// Llama-3 rope scaling (rope_type "llama3") with these parameters.
  bool llama3RopeScaling = false;
  double ropeFactor = 8.0;
  double ropeLowFreqFactor = 1.0;
  double ropeHighFreqFactor = 4.0;
  int64_t ropeOriginalMaxPosition = 8192;
  /// Mistral / Qwen2 sliding window; 0 writes `null` (no window).
  int64_t slidingWindow = 0;
  bool tieWordEmbeddings = false;
  /// Top-level `rope_theta` / `rope_scaling` / `torch_dtype` (transformers
  /// 4.x) instead of `rope_parameters` / `dtype` (transformers 5).
  bool oldStyleConfig = false;
  DType dtype = DType::BF16; // BF16, F16 or F32
  uint64_t seed = 0;
  /// Shard size limit in bytes (HF's max_shard_size): a checkpoint whose
  /// weights exceed it is sharded.
  uint64_t shardSizeBytes = 2000ull * 1000 * 1000;

  /// head_dim as written to config.json.
  int64_t effectiveHeadDim() const {
    return headDim > 0 ? headDim : hiddenSize / numHeads;
  }
  /// The architecture as the importer will read it back from config.json.
  ModelConfig toModelConfig() const;
};

/// Sets the dimensions of preset `preset` ("tiny", "llama3-8b",
/// "qwen2-0.5b") on `spec` (whose modelType must already be set); false with
/// `error` set for an unknown preset.
bool applyTestModelPreset(const std::string &preset, TestModelSpec &spec,
                          std::string &error);

/// Checks `spec`; false with `error` set to one message otherwise.
bool validateTestModelSpec(const TestModelSpec &spec, std::string &error);

/// One weight of a test checkpoint, in the order it is written.
struct TestTensor {
  enum class Init { Normal, Norm };
  std::string name;
  std::vector<int64_t> shape;
  /// Normal: N(0, 0.02); Norm: 1 + 0.1 * N(0, 1).
  Init init = Init::Normal;

  uint64_t numElements() const;
};

/// The weights of `spec`'s checkpoint with their HF names and shapes.
std::vector<TestTensor> testModelTensors(const TestModelSpec &spec);

/// The values of `tensor` as float (before conversion to the checkpoint
/// dtype), elements [begin, end). Deterministic in (seed, name, index).
void generateTestTensor(uint64_t seed, const TestTensor &tensor, uint64_t begin,
                        uint64_t end, float *out);

/// A generated tokenizer.
struct TestTokenizer {
  std::string tokenizerJson;
  std::string tokenizerConfigJson;
  /// Number of ids used (model vocabulary plus added tokens).
  int64_t size = 0;
  int64_t bosId = -1;
  int64_t eosId = -1;
  int64_t numMerges = 0;
};

/// A SentencePiece-style BPE tokenizer with byte fallback (Llama-2 /
/// Mistral layout) using at most `maxVocab` ids: <unk> <s> </s>, the 256
/// byte tokens, "▁" and printable ASCII, then merges. `modelMaxLength` goes
/// to tokenizer_config.json. False with `error` set when `maxVocab` cannot
/// hold the base vocabulary.
bool makeSentencePieceTestTokenizer(int64_t maxVocab, int64_t modelMaxLength,
                                    TestTokenizer &out, std::string &error);
/// A byte-level BPE tokenizer (Qwen2 layout: NFC, Split(Regex) + ByteLevel)
/// using at most `maxVocab` ids: the 256 byte symbols, merges, then the
/// added tokens <|endoftext|>, <|im_start|>, <|im_end|>.
bool makeByteLevelTestTokenizer(int64_t maxVocab, int64_t modelMaxLength,
                                TestTokenizer &out, std::string &error);
/// The tokenizer that goes with `spec.modelType`.
bool makeTestTokenizer(const TestModelSpec &spec, TestTokenizer &out,
                       std::string &error);

/// config.json for `spec` with the tokenizer's bos/eos ids.
std::string testModelConfigJson(const TestModelSpec &spec,
                                const TestTokenizer &tokenizer);

struct TestModelWriteOptions {
  /// Replace `dir` if it exists and is not empty (otherwise that is an
  /// error).
  bool force = false;
  /// Worker threads generating weights; 0 picks the hardware concurrency.
  /// The bytes written do not depend on it.
  unsigned threads = 0;
  /// Receives one line of progress at a time (no trailing newline).
  std::function<void(const std::string &)> progress;
};

/// Writes the checkpoint of `spec` to directory `dir`. Everything is written
/// into a fresh sibling directory `dir.tmp-XXXXXX` that is renamed to `dir`
/// only when complete, so `dir` never holds a partial checkpoint. False with
/// `error` set on failure (the temporary directory is removed).
bool writeTestModel(const TestModelSpec &spec, const std::string &dir,
                    const TestModelWriteOptions &options, std::string &error);

} // namespace qtest

#endif // QOPT_RUNTIME_TOOLS_QOPT_MAKE_TEST_MODEL_TESTMODEL_H
