//===- TestModel.cpp - Random-weight Hugging Face test checkpoints --------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestModel.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sys/statvfs.h>
#include <thread>
#include <utility>

using namespace qrt;
using namespace qtest;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;
namespace fs = std::filesystem;

/// Elements per independently seeded chunk of a tensor. Part of the output
/// format: changing it changes every weight.
static constexpr uint64_t kChunkElements = uint64_t(1) << 20;

/// Upper bound on learned merges (the built-in text yields fewer).
static constexpr size_t kMaxMerges = 2000;

/// Largest accepted dimension: keeps every size computation far from
/// overflow.
static constexpr int64_t kMaxDim = int64_t(1) << 24;

//===----------------------------------------------------------------------===//
// Presets and validation
//===----------------------------------------------------------------------===//

bool qtest::applyTestModelPreset(const std::string &preset, TestModelSpec &spec,
                                 std::string &error) {
  if (preset == "tiny") {
    spec.hiddenSize = 64;
    spec.numLayers = 2;
    spec.numHeads = 4;
    spec.numKvHeads = 2;
    spec.headDim = 0;
    spec.intermediateSize = 128;
    spec.vocabSize = 512;
    spec.maxPositionEmbeddings = 2048;
    spec.rmsNormEps = spec.modelType == "qwen2" ? 1e-6 : 1e-5;
    spec.ropeTheta = 10000.0;
    spec.llama3RopeScaling = false;
    return true;
  }
  if (preset == "llama3-8b") {
    // Meta-Llama-3.1-8B.
    spec.hiddenSize = 4096;
    spec.numLayers = 32;
    spec.numHeads = 32;
    spec.numKvHeads = 8;
    spec.headDim = 128;
    spec.intermediateSize = 14336;
    spec.vocabSize = 128256;
    spec.maxPositionEmbeddings = 131072;
    spec.rmsNormEps = 1e-5;
    spec.ropeTheta = 500000.0;
    spec.llama3RopeScaling = true;
    spec.ropeFactor = 8.0;
    spec.ropeLowFreqFactor = 1.0;
    spec.ropeHighFreqFactor = 4.0;
    spec.ropeOriginalMaxPosition = 8192;
    return true;
  }
  if (preset == "qwen2-0.5b") {
    // Qwen2.5-0.5B.
    spec.hiddenSize = 896;
    spec.numLayers = 24;
    spec.numHeads = 14;
    spec.numKvHeads = 2;
    spec.headDim = 64;
    spec.intermediateSize = 4864;
    spec.vocabSize = 151936;
    spec.maxPositionEmbeddings = 32768;
    spec.rmsNormEps = 1e-6;
    spec.ropeTheta = 1000000.0;
    spec.llama3RopeScaling = false;
    spec.tieWordEmbeddings = true;
    return true;
  }
  error =
      "unknown preset '" + preset + "'; expected tiny, llama3-8b or qwen2-0.5b";
  return false;
}

bool qtest::validateTestModelSpec(const TestModelSpec &s, std::string &error) {
  auto fail = [&](const std::string &msg) {
    error = msg;
    return false;
  };
  if (s.modelType != "llama" && s.modelType != "mistral" &&
      s.modelType != "qwen2")
    return fail("unsupported architecture '" + s.modelType +
                "'; expected llama, mistral or qwen2");
  const std::pair<const char *, int64_t> dims[] = {
      {"hidden", s.hiddenSize},
      {"layers", s.numLayers},
      {"heads", s.numHeads},
      {"kv-heads", s.numKvHeads},
      {"intermediate", s.intermediateSize},
      {"vocab", s.vocabSize},
      {"max-positions", s.maxPositionEmbeddings}};
  for (const auto &[name, value] : dims) {
    if (value <= 0)
      return fail(std::string("--") + name + " must be positive (got " +
                  std::to_string(value) + ")");
    if (value > kMaxDim)
      return fail(std::string("--") + name + " " + std::to_string(value) +
                  " is too large (at most " + std::to_string(kMaxDim) + ")");
  }
  if (s.headDim < 0 || s.headDim > kMaxDim)
    return fail("--head-dim " + std::to_string(s.headDim) + " is out of range");
  if (s.headDim == 0 && s.hiddenSize % s.numHeads != 0)
    return fail("--hidden " + std::to_string(s.hiddenSize) +
                " is not divisible by --heads " + std::to_string(s.numHeads) +
                " (pass --head-dim to set the head size explicitly)");
  if (s.numHeads % s.numKvHeads != 0)
    return fail("--heads " + std::to_string(s.numHeads) +
                " is not a multiple of --kv-heads " +
                std::to_string(s.numKvHeads));
  int64_t headDim = s.effectiveHeadDim();
  if (headDim % 2 != 0)
    return fail("head dimension " + std::to_string(headDim) +
                " must be even for rotary embeddings");
  if (s.numHeads * headDim > kMaxDim)
    return fail("--heads x head dimension is too large");
  if (s.dtype != DType::BF16 && s.dtype != DType::F16 && s.dtype != DType::F32)
    return fail("unsupported dtype; expected bf16, f16 or f32");
  if (s.shardSizeBytes == 0)
    return fail("--shard-size-mb must be positive");
  if (s.slidingWindow < 0)
    return fail("sliding window must not be negative");
  if (!(s.rmsNormEps > 0) || !(s.ropeTheta > 0))
    return fail("rms_norm_eps and rope_theta must be positive");
  // The total must stay representable (and plausible): 2^50 bytes is 1 PiB.
  double total = 0;
  for (const TestTensor &t : testModelTensors(s))
    total += static_cast<double>(t.numElements());
  if (total * dtypeSize(s.dtype) > std::ldexp(1.0, 50))
    return fail("the model would exceed 1 PiB of weights");
  return true;
}

//===----------------------------------------------------------------------===//
// Tensors and random numbers
//===----------------------------------------------------------------------===//

uint64_t TestTensor::numElements() const {
  uint64_t n = 1;
  for (int64_t d : shape)
    n *= static_cast<uint64_t>(d);
  return n;
}

ModelConfig TestModelSpec::toModelConfig() const {
  ModelConfig c;
  c.modelType = modelType;
  c.hiddenSize = hiddenSize;
  c.numLayers = numLayers;
  c.numHeads = numHeads;
  c.numKvHeads = numKvHeads;
  c.headDim = effectiveHeadDim();
  c.intermediateSize = intermediateSize;
  c.vocabSize = vocabSize;
  c.tieWordEmbeddings = tieWordEmbeddings;
  // Generated llama / mistral configs say attention_bias: false; Qwen2
  // checkpoints carry q/k/v biases.
  c.qkvBias = modelType == "qwen2";
  return c;
}

std::vector<TestTensor> qtest::testModelTensors(const TestModelSpec &s) {
  std::vector<TestTensor> out;
  for (TensorSpec &t : s.toModelConfig().checkpointTensors()) {
    // Norm weights start around 1, everything else around 0.
    bool norm = t.name.size() >= 11 &&
                t.name.compare(t.name.size() - 11, 11, "norm.weight") == 0;
    out.push_back({std::move(t.name), std::move(t.shape),
                   norm ? TestTensor::Init::Norm : TestTensor::Init::Normal});
  }
  return out;
}

static uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static uint64_t fnv1a64(const std::string &s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

/// Fills `out[i - begin]` for i in [begin, end) of chunk `chunk` of `t`
/// (indices relative to the tensor). std::mt19937_64's output sequence is
/// fixed by the C++ standard; the normal deviates come from a hand-written
/// Box-Muller transform so no library distribution is involved.
static void generateChunk(uint64_t seed, const TestTensor &t, uint64_t chunk,
                          uint64_t begin, uint64_t end, float *out) {
  uint64_t tensorSeed = splitmix64(seed ^ fnv1a64(t.name));
  std::mt19937_64 rng(splitmix64(tensorSeed + chunk));
  double mean = t.init == TestTensor::Init::Norm ? 1.0 : 0.0;
  double stddev = t.init == TestTensor::Init::Norm ? 0.1 : 0.02;
  const double twoPi = 6.283185307179586476925286766559;
  uint64_t first = chunk * kChunkElements;
  for (uint64_t i = first; i < end; i += 2) {
    // u1 in (0, 1], u2 in [0, 1).
    double u1 = static_cast<double>((rng() >> 11) + 1) * 0x1.0p-53;
    double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    if (i + 1 < begin)
      continue;
    double r = std::sqrt(-2.0 * std::log(u1));
    double a = twoPi * u2;
    if (i >= begin)
      out[i - begin] = static_cast<float>(mean + stddev * r * std::cos(a));
    if (i + 1 >= begin && i + 1 < end)
      out[i + 1 - begin] = static_cast<float>(mean + stddev * r * std::sin(a));
  }
}

void qtest::generateTestTensor(uint64_t seed, const TestTensor &tensor,
                               uint64_t begin, uint64_t end, float *out) {
  end = std::min(end, tensor.numElements());
  for (uint64_t pos = begin; pos < end;) {
    uint64_t chunk = pos / kChunkElements;
    uint64_t stop = std::min(end, (chunk + 1) * kChunkElements);
    generateChunk(seed, tensor, chunk, pos, stop, out + (pos - begin));
    pos = stop;
  }
}

/// Stores `n` floats as `dtype` (little-endian) at `dst`.
static void storeAs(DType dtype, const float *src, size_t n, uint8_t *dst) {
  for (size_t i = 0; i < n; ++i) {
    if (dtype == DType::F32) {
      uint32_t u;
      std::memcpy(&u, &src[i], 4);
      for (int b = 0; b < 4; ++b)
        dst[4 * i + b] = static_cast<uint8_t>(u >> (8 * b));
      continue;
    }
    uint16_t v =
        dtype == DType::BF16 ? floatToBF16(src[i]) : floatToHalf(src[i]);
    dst[2 * i] = static_cast<uint8_t>(v);
    dst[2 * i + 1] = static_cast<uint8_t>(v >> 8);
  }
}

//===----------------------------------------------------------------------===//
// Tokenizers
//===----------------------------------------------------------------------===//

/// The text merges are learned from (original prose, plain ASCII).
static const char *const kTrainingText = R"(
The quick brown fox jumps over the lazy dog. The dog was not amused, and the
fox ran back into the forest before the farmer could see what had happened.
In the morning the village woke up slowly. The baker opened his shop at six
o'clock, the children walked to school, and the old man who lived near the
river sat on his bench and watched the boats go by. It was a quiet place, and
most of the people there liked it that way.

A language model reads a sequence of tokens and predicts the next one. Each
token is turned into a vector, the vectors pass through many layers of
attention and feed-forward networks, and the last layer produces a score for
every token in the vocabulary. The model is trained on a very large amount of
text, and it learns which words tend to follow which other words.

Quantization stores the weights of a network with fewer bits. Instead of
sixteen bits for every number, a quantized model may use eight bits or even
four bits, together with a scale for each group of weights. This makes the
model smaller and often faster, because less memory has to be read for each
token. The hard part is to keep the quality of the answers while the numbers
become less precise.

She said that she would come back later, but she didn't. They're still
waiting for her at the station, and we've heard nothing since Tuesday. I'll
call her brother tonight; he'd know where she is. You're right that it's
strange, and I'm worried about her.

Weather report: on Monday the sky will be clear with a light wind from the
west. On Tuesday clouds will move in, and by the evening there may be some
rain. Temperatures will stay between 12 and 18 degrees, which is normal for
this time of the year. On Wednesday and Thursday the rain will continue, but
the weekend should be sunny and warm again.

The history of computing is full of small ideas that changed everything.
People once wrote programs on paper cards, and a single mistake could mean a
day of work was lost. Today a program can be written, tested and shared in a
few minutes, and the same code may run on a phone, a laptop or a machine with
thousands of processors in a data center far away.

There were 3 apples, 7 oranges and 12 bananas on the table. After lunch only
2 apples and 5 bananas were left. How many pieces of fruit had been eaten?
The answer is 15, because 22 minus 7 is 15.

Good software is simple to read and hard to break. It tells the user what went
wrong when something fails, it does not lose data, and it does the same thing
every time it is given the same input. Writing such software takes patience,
careful testing and a lot of reading of other people's code.

When the train finally arrived, the passengers climbed in with their bags and
their coffee. The doors closed, the engine started, and the long journey to
the north began. Outside the window the fields turned from green to gold, and
later the mountains appeared, still covered with snow at the top.

"Where are you going?" asked the girl. "To the library," answered her father,
"because I want to find a book about the stars and the planets." She smiled
and said that she wanted to come with him, and so they went together.
)";

/// Appends the UTF-8 encoding of `cp`.
static void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {
struct TrainWord {
  std::vector<std::string> symbols;
  int64_t count = 0;
};

/// Greedy BPE training: repeatedly merges the most frequent adjacent pair
/// (ties broken by the smaller pair) until no pair occurs twice, `kMaxMerges`
/// merges are learned, or `maxNewTokens` new tokens were added. New tokens
/// are appended to `vocab` (which holds the base symbols) in creation order.
struct BpeTrainer {
  std::vector<std::string> vocab;
  std::set<std::string> known;
  std::vector<std::pair<std::string, std::string>> merges;

  void addBase(const std::string &token) {
    if (known.insert(token).second)
      vocab.push_back(token);
  }

  void train(std::vector<TrainWord> words, size_t maxNewTokens) {
    size_t added = 0;
    std::set<std::pair<std::string, std::string>> seen;
    while (merges.size() < kMaxMerges) {
      std::map<std::pair<std::string, std::string>, int64_t> counts;
      for (const TrainWord &w : words)
        for (size_t i = 0; i + 1 < w.symbols.size(); ++i)
          counts[{w.symbols[i], w.symbols[i + 1]}] += w.count;
      const std::pair<std::string, std::string> *best = nullptr;
      int64_t bestCount = 1;
      for (const auto &[pair, count] : counts)
        if (count > bestCount) {
          best = &pair;
          bestCount = count;
        }
      if (!best)
        return;
      std::pair<std::string, std::string> pair = *best;
      std::string merged = pair.first + pair.second;
      bool isNew = !known.count(merged);
      if (isNew && added == maxNewTokens)
        return;
      if (isNew) {
        known.insert(merged);
        vocab.push_back(merged);
        ++added;
      }
      if (seen.insert(pair).second)
        merges.push_back(pair);
      for (TrainWord &w : words) {
        std::vector<std::string> next;
        next.reserve(w.symbols.size());
        for (size_t i = 0; i < w.symbols.size(); ++i) {
          if (i + 1 < w.symbols.size() && w.symbols[i] == pair.first &&
              w.symbols[i + 1] == pair.second) {
            next.push_back(merged);
            ++i;
          } else {
            next.push_back(w.symbols[i]);
          }
        }
        w.symbols = std::move(next);
      }
    }
  }
};
} // namespace

/// Counts the words of `pieces` into training words of one symbol per
/// element of `split(piece)`.
template <typename SplitFn>
static std::vector<TrainWord> countWords(const std::vector<std::string> &pieces,
                                         SplitFn split) {
  std::map<std::string, int64_t> counts;
  for (const std::string &p : pieces)
    ++counts[p];
  std::vector<TrainWord> words;
  for (const auto &[piece, count] : counts)
    words.push_back({split(piece), count});
  return words;
}

static ordered_json addedToken(int64_t id, const std::string &content) {
  ordered_json t;
  t["id"] = id;
  t["content"] = content;
  t["single_word"] = false;
  t["lstrip"] = false;
  t["rstrip"] = false;
  t["normalized"] = false;
  t["special"] = true;
  return t;
}

static ordered_json addedTokenDecoder(const std::string &content) {
  ordered_json t;
  t["content"] = content;
  t["lstrip"] = false;
  t["normalized"] = false;
  t["rstrip"] = false;
  t["single_word"] = false;
  t["special"] = true;
  return t;
}

static ordered_json mergesJson(const BpeTrainer &trainer) {
  ordered_json merges = ordered_json::array();
  for (const auto &[a, b] : trainer.merges)
    merges.push_back(a + " " + b);
  return merges;
}

bool qtest::makeSentencePieceTestTokenizer(int64_t maxVocab,
                                           int64_t modelMaxLength,
                                           TestTokenizer &out,
                                           std::string &error) {
  try {
    const std::string meta = "\xE2\x96\x81"; // U+2581 "▁"
    BpeTrainer trainer;
    for (const char *special : {"<unk>", "<s>", "</s>"})
      trainer.addBase(special);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      trainer.addBase(name);
    }
    trainer.addBase(meta);
    for (char c = 0x21; c < 0x7F; ++c)
      trainer.addBase(std::string(1, c));
    int64_t base = static_cast<int64_t>(trainer.vocab.size());
    if (maxVocab < base) {
      error = "the llama/mistral test tokenizer needs a vocabulary of at "
              "least " +
              std::to_string(base) + " (got " + std::to_string(maxVocab) + ")";
      return false;
    }
    // SentencePiece splits on whitespace and starts every word with "▁".
    std::vector<std::string> pieces;
    std::string word;
    for (const char *p = kTrainingText;; ++p) {
      if (*p == '\0' || *p == ' ' || *p == '\n') {
        if (!word.empty())
          pieces.push_back(word);
        word.clear();
        if (*p == '\0')
          break;
        continue;
      }
      word.push_back(*p);
    }
    trainer.train(countWords(pieces,
                             [&](const std::string &w) {
                               std::vector<std::string> s{meta};
                               for (char c : w)
                                 s.emplace_back(1, c);
                               return s;
                             }),
                  static_cast<size_t>(maxVocab - base));

    ordered_json vocab = ordered_json::object();
    for (size_t i = 0; i < trainer.vocab.size(); ++i)
      vocab[trainer.vocab[i]] = static_cast<int64_t>(i);
    ordered_json tok;
    tok["version"] = "1.0";
    tok["truncation"] = nullptr;
    tok["padding"] = nullptr;
    tok["added_tokens"] = {addedToken(0, "<unk>"), addedToken(1, "<s>"),
                           addedToken(2, "</s>")};
    tok["normalizer"] = {{"type", "Sequence"},
                         {"normalizers",
                          {{{"type", "Prepend"}, {"prepend", meta}},
                           {{"type", "Replace"},
                            {"pattern", {{"String", " "}}},
                            {"content", meta}}}}};
    tok["pre_tokenizer"] = nullptr;
    auto special = [](const char *id, int typeId) {
      return ordered_json{{"SpecialToken", {{"id", id}, {"type_id", typeId}}}};
    };
    auto sequence = [](const char *id, int typeId) {
      return ordered_json{{"Sequence", {{"id", id}, {"type_id", typeId}}}};
    };
    tok["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single", {special("<s>", 0), sequence("A", 0)}},
        {"pair",
         {special("<s>", 0), sequence("A", 0), special("<s>", 1),
          sequence("B", 1)}},
        {"special_tokens",
         {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
    tok["decoder"] = {
        {"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"},
           {"pattern", {{"String", meta}}},
           {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
    ordered_json model;
    model["type"] = "BPE";
    model["dropout"] = nullptr;
    model["unk_token"] = "<unk>";
    model["continuing_subword_prefix"] = nullptr;
    model["end_of_word_suffix"] = nullptr;
    model["fuse_unk"] = true;
    model["byte_fallback"] = true;
    model["ignore_merges"] = false;
    model["vocab"] = std::move(vocab);
    model["merges"] = mergesJson(trainer);
    tok["model"] = std::move(model);

    ordered_json config;
    config["add_bos_token"] = true;
    config["add_eos_token"] = false;
    config["added_tokens_decoder"] = {{"0", addedTokenDecoder("<unk>")},
                                      {"1", addedTokenDecoder("<s>")},
                                      {"2", addedTokenDecoder("</s>")}};
    config["bos_token"] = "<s>";
    config["clean_up_tokenization_spaces"] = false;
    config["eos_token"] = "</s>";
    config["legacy"] = false;
    config["model_max_length"] = modelMaxLength;
    config["pad_token"] = nullptr;
    config["sp_model_kwargs"] = ordered_json::object();
    config["tokenizer_class"] = "LlamaTokenizer";
    config["unk_token"] = "<unk>";
    config["use_default_system_prompt"] = false;

    out.tokenizerJson = tok.dump(2) + "\n";
    out.tokenizerConfigJson = config.dump(2) + "\n";
    out.size = static_cast<int64_t>(trainer.vocab.size());
    out.bosId = 1;
    out.eosId = 2;
    out.numMerges = static_cast<int64_t>(trainer.merges.size());
    return true;
  } catch (const std::exception &e) {
    error = std::string("cannot build the test tokenizer: ") + e.what();
    return false;
  }
}

/// GPT-2's bytes_to_unicode(): the printable characters that stand for each
/// byte, in the order of the first 256 ids of GPT-2 / Qwen2 vocabularies.
static std::vector<std::pair<uint8_t, std::string>> byteLevelAlphabet() {
  std::vector<std::pair<uint8_t, std::string>> out;
  std::vector<bool> direct(256, false);
  for (int b = 0; b < 256; ++b)
    direct[b] = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
                (b >= 0xAE && b <= 0xFF);
  for (int b = 0; b < 256; ++b)
    if (direct[b]) {
      std::string s;
      appendUtf8(s, static_cast<uint32_t>(b));
      out.emplace_back(static_cast<uint8_t>(b), s);
    }
  uint32_t n = 0;
  for (int b = 0; b < 256; ++b)
    if (!direct[b]) {
      std::string s;
      appendUtf8(s, 256 + n++);
      out.emplace_back(static_cast<uint8_t>(b), s);
    }
  return out;
}

/// Qwen2's pre-tokenizer regex, applied to ASCII text only (enough for the
/// built-in training text; the tokenizer itself uses the real regex).
static std::vector<std::string> qwen2SplitAscii(const std::string &s) {
  auto isLetter = [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
  };
  auto isDigit = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  };
  auto isSpace = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
  };
  auto isNewline = [](char c) { return c == '\n' || c == '\r'; };
  std::vector<std::string> out;
  size_t n = s.size(), i = 0;
  while (i < n) {
    size_t j = i;
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (s[i] == '\'') {
      for (const char *c : {"s", "t", "re", "ve", "m", "ll", "d"}) {
        size_t len = std::strlen(c);
        if (i + 1 + len <= n &&
            std::equal(c, c + len, s.begin() + i + 1, [](char a, char b) {
              return a == std::tolower(static_cast<unsigned char>(b));
            })) {
          j = i + 1 + len;
          break;
        }
      }
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (j == i) {
      size_t k = i;
      if (!isNewline(s[k]) && !isLetter(s[k]) && !isDigit(s[k]) && k + 1 < n &&
          isLetter(s[k + 1]))
        ++k;
      if (isLetter(s[k])) {
        while (k < n && isLetter(s[k]))
          ++k;
        j = k;
      }
    }
    // \p{N}
    if (j == i && isDigit(s[i]))
      j = i + 1;
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    if (j == i) {
      size_t k = i;
      auto isPunct = [&](char c) {
        return !isSpace(c) && !isLetter(c) && !isDigit(c);
      };
      if (s[k] == ' ' && k + 1 < n && isPunct(s[k + 1]))
        ++k;
      if (isPunct(s[k])) {
        while (k < n && isPunct(s[k]))
          ++k;
        while (k < n && isNewline(s[k]))
          ++k;
        j = k;
      }
    }
    if (j == i) {
      // Whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
      size_t end = i;
      while (end < n && isSpace(s[end]))
        ++end;
      size_t lastNewline = std::string::npos;
      for (size_t k = i; k < end; ++k)
        if (isNewline(s[k]))
          lastNewline = k;
      if (lastNewline != std::string::npos)
        j = lastNewline + 1;
      else if (end == n || end - i == 1)
        j = end;
      else
        j = end - 1;
    }
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool qtest::makeByteLevelTestTokenizer(int64_t maxVocab, int64_t modelMaxLength,
                                       TestTokenizer &out, std::string &error) {
  try {
    std::vector<std::pair<uint8_t, std::string>> alphabet = byteLevelAlphabet();
    std::string byteSymbol[256];
    BpeTrainer trainer;
    for (const auto &[byte, symbol] : alphabet) {
      byteSymbol[byte] = symbol;
      trainer.addBase(symbol);
    }
    const char *const added[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    const int64_t numAdded = 3;
    int64_t base = static_cast<int64_t>(trainer.vocab.size());
    if (maxVocab < base + numAdded) {
      error = "the qwen2 test tokenizer needs a vocabulary of at least " +
              std::to_string(base + numAdded) + " (got " +
              std::to_string(maxVocab) + ")";
      return false;
    }
    std::string text = kTrainingText;
    trainer.train(countWords(qwen2SplitAscii(text),
                             [&](const std::string &w) {
                               std::vector<std::string> s;
                               for (unsigned char c : w)
                                 s.push_back(byteSymbol[c]);
                               return s;
                             }),
                  static_cast<size_t>(maxVocab - base - numAdded));
    int64_t firstAdded = static_cast<int64_t>(trainer.vocab.size());

    ordered_json vocab = ordered_json::object();
    for (size_t i = 0; i < trainer.vocab.size(); ++i)
      vocab[trainer.vocab[i]] = static_cast<int64_t>(i);
    ordered_json addedTokens = ordered_json::array();
    ordered_json addedDecoder = ordered_json::object();
    for (int64_t i = 0; i < numAdded; ++i) {
      addedTokens.push_back(addedToken(firstAdded + i, added[i]));
      addedDecoder[std::to_string(firstAdded + i)] =
          addedTokenDecoder(added[i]);
    }
    const char *const pattern =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    ordered_json byteLevel = {{"type", "ByteLevel"},
                              {"add_prefix_space", false},
                              {"trim_offsets", false},
                              {"use_regex", false}};
    ordered_json tok;
    tok["version"] = "1.0";
    tok["truncation"] = nullptr;
    tok["padding"] = nullptr;
    tok["added_tokens"] = std::move(addedTokens);
    tok["normalizer"] = {{"type", "NFC"}};
    tok["pre_tokenizer"] = {{"type", "Sequence"},
                            {"pretokenizers",
                             {{{"type", "Split"},
                               {"pattern", {{"Regex", pattern}}},
                               {"behavior", "Isolated"},
                               {"invert", false}},
                              byteLevel}}};
    tok["post_processor"] = byteLevel;
    tok["decoder"] = byteLevel;
    ordered_json model;
    model["type"] = "BPE";
    model["dropout"] = nullptr;
    model["unk_token"] = nullptr;
    model["continuing_subword_prefix"] = "";
    model["end_of_word_suffix"] = "";
    model["fuse_unk"] = false;
    model["byte_fallback"] = false;
    model["ignore_merges"] = false;
    model["vocab"] = std::move(vocab);
    model["merges"] = mergesJson(trainer);
    tok["model"] = std::move(model);

    ordered_json config;
    config["add_bos_token"] = false;
    config["add_prefix_space"] = false;
    config["added_tokens_decoder"] = std::move(addedDecoder);
    config["additional_special_tokens"] = {"<|im_start|>", "<|im_end|>"};
    config["bos_token"] = nullptr;
    config["clean_up_tokenization_spaces"] = false;
    config["eos_token"] = "<|endoftext|>";
    config["errors"] = "replace";
    config["model_max_length"] = modelMaxLength;
    config["pad_token"] = "<|endoftext|>";
    config["split_special_tokens"] = false;
    config["tokenizer_class"] = "Qwen2Tokenizer";
    config["unk_token"] = nullptr;

    out.tokenizerJson = tok.dump(2) + "\n";
    out.tokenizerConfigJson = config.dump(2) + "\n";
    out.size = firstAdded + numAdded;
    out.bosId = firstAdded;
    out.eosId = firstAdded;
    out.numMerges = static_cast<int64_t>(trainer.merges.size());
    return true;
  } catch (const std::exception &e) {
    error = std::string("cannot build the test tokenizer: ") + e.what();
    return false;
  }
}

bool qtest::makeTestTokenizer(const TestModelSpec &spec, TestTokenizer &out,
                              std::string &error) {
  if (spec.modelType == "qwen2")
    return makeByteLevelTestTokenizer(spec.vocabSize,
                                      spec.maxPositionEmbeddings, out, error);
  return makeSentencePieceTestTokenizer(spec.vocabSize,
                                        spec.maxPositionEmbeddings, out, error);
}

//===----------------------------------------------------------------------===//
// config.json
//===----------------------------------------------------------------------===//

static const char *torchDtypeName(DType dtype) {
  switch (dtype) {
  case DType::BF16:
    return "bfloat16";
  case DType::F16:
    return "float16";
  default:
    return "float32";
  }
}

std::string qtest::testModelConfigJson(const TestModelSpec &s,
                                       const TestTokenizer &tokenizer) {
  // transformers writes config.json with sorted keys; so does json.
  json c;
  bool qwen = s.modelType == "qwen2", mistral = s.modelType == "mistral";
  c["architectures"] = {qwen      ? "Qwen2ForCausalLM"
                        : mistral ? "MistralForCausalLM"
                                  : "LlamaForCausalLM"};
  c["model_type"] = s.modelType;
  c["hidden_size"] = s.hiddenSize;
  c["num_hidden_layers"] = s.numLayers;
  c["num_attention_heads"] = s.numHeads;
  c["num_key_value_heads"] = s.numKvHeads;
  c["head_dim"] = s.effectiveHeadDim();
  c["intermediate_size"] = s.intermediateSize;
  c["vocab_size"] = s.vocabSize;
  c["max_position_embeddings"] = s.maxPositionEmbeddings;
  c["rms_norm_eps"] = s.rmsNormEps;
  c["hidden_act"] = "silu";
  c["initializer_range"] = 0.02;
  c["attention_dropout"] = 0.0;
  c["tie_word_embeddings"] = s.tieWordEmbeddings;
  c["use_cache"] = true;
  c["bos_token_id"] = tokenizer.bosId;
  c["eos_token_id"] = tokenizer.eosId;
  if (!qwen)
    c["attention_bias"] = false; // Qwen2 has q/k/v biases without the key
  if (s.modelType == "llama") {
    c["mlp_bias"] = false;
    c["pretraining_tp"] = 1;
  }
  if (qwen || mistral) {
    if (s.slidingWindow > 0)
      c["sliding_window"] = s.slidingWindow;
    else
      c["sliding_window"] = nullptr;
  }
  if (qwen) {
    c["use_sliding_window"] = s.slidingWindow > 0;
    c["max_window_layers"] = s.numLayers;
  }
  json rope = json::object();
  if (s.llama3RopeScaling) {
    rope["rope_type"] = "llama3";
    rope["factor"] = s.ropeFactor;
    rope["low_freq_factor"] = s.ropeLowFreqFactor;
    rope["high_freq_factor"] = s.ropeHighFreqFactor;
    rope["original_max_position_embeddings"] = s.ropeOriginalMaxPosition;
  }
  if (s.oldStyleConfig) {
    c["rope_theta"] = s.ropeTheta;
    c["rope_scaling"] = s.llama3RopeScaling ? rope : json(nullptr);
    c["torch_dtype"] = torchDtypeName(s.dtype);
    c["transformers_version"] = "4.46.0";
  } else {
    rope["rope_theta"] = s.ropeTheta;
    if (!s.llama3RopeScaling)
      rope["rope_type"] = "default";
    c["rope_parameters"] = rope;
    c["dtype"] = torchDtypeName(s.dtype);
    c["transformers_version"] = "5.0.0";
  }
  return c.dump(2) + "\n";
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

namespace {
struct Shard {
  std::string file;
  std::vector<const TestTensor *> tensors;
  uint64_t bytes = 0;
};

/// Removes a directory tree on scope exit unless released.
class TempDir {
public:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  void release() { path_.clear(); }

private:
  std::string path_;
};
} // namespace

static std::string formatBytes(double bytes) {
  char buf[32];
  if (bytes >= 1e9)
    std::snprintf(buf, sizeof(buf), "%.2f GB", bytes / 1e9);
  else if (bytes >= 1e6)
    std::snprintf(buf, sizeof(buf), "%.1f MB", bytes / 1e6);
  else
    std::snprintf(buf, sizeof(buf), "%.1f kB", bytes / 1e3);
  return buf;
}

static bool writeTextFile(const std::string &path, const std::string &text,
                          std::string &error) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok)
    error = "cannot write " + path + ": " + std::strerror(errno);
  return ok;
}

/// Splits the tensors into shards the way huggingface_hub does: in order,
/// starting a new shard when the next tensor would overflow the current one.
static std::vector<Shard> planShards(const std::vector<TestTensor> &tensors,
                                     DType dtype, uint64_t limit) {
  std::vector<Shard> shards(1);
  for (const TestTensor &t : tensors) {
    uint64_t bytes = t.numElements() * dtypeSize(dtype);
    if (!shards.back().tensors.empty() && shards.back().bytes + bytes > limit)
      shards.emplace_back();
    shards.back().tensors.push_back(&t);
    shards.back().bytes += bytes;
  }
  if (shards.size() == 1) {
    shards[0].file = "model.safetensors";
  } else {
    for (size_t i = 0; i < shards.size(); ++i) {
      char name[64];
      std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors",
                    i + 1, shards.size());
      shards[i].file = name;
    }
  }
  return shards;
}

/// Streams one safetensors file: header first, then every tensor generated
/// a batch of chunks at a time on `threads` threads.
static bool writeShard(const std::string &path, const Shard &shard,
                       const TestModelSpec &spec, unsigned threads,
                       std::string &error) {
  size_t elemSize = dtypeSize(spec.dtype);
  json header = json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const TestTensor *t : shard.tensors) {
    uint64_t bytes = t->numElements() * elemSize;
    header[t->name] = {{"dtype", dtypeName(spec.dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0)
    text.push_back(' ');

  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  uint8_t len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = static_cast<uint8_t>(uint64_t(text.size()) >> (8 * i));
  bool ok = std::fwrite(len, 1, 8, f) == 8 &&
            std::fwrite(text.data(), 1, text.size(), f) == text.size();

  size_t batchChunks = std::max<size_t>(threads, 8);
  std::vector<uint8_t> bytes(batchChunks * kChunkElements * elemSize);
  std::vector<std::vector<float>> scratch(threads,
                                          std::vector<float>(kChunkElements));
  for (const TestTensor *t : shard.tensors) {
    uint64_t n = t->numElements();
    uint64_t numChunks = (n + kChunkElements - 1) / kChunkElements;
    for (uint64_t first = 0; ok && first < numChunks; first += batchChunks) {
      uint64_t last = std::min<uint64_t>(numChunks, first + batchChunks);
      auto work = [&](unsigned worker) {
        float *vals = scratch[worker].data();
        for (uint64_t c = first + worker; c < last; c += threads) {
          uint64_t begin = c * kChunkElements;
          uint64_t end = std::min(n, begin + kChunkElements);
          generateChunk(spec.seed, *t, c, begin, end, vals);
          storeAs(spec.dtype, vals, end - begin,
                  bytes.data() + (c - first) * kChunkElements * elemSize);
        }
      };
      unsigned used =
          static_cast<unsigned>(std::min<uint64_t>(threads, last - first));
      if (used <= 1) {
        work(0);
      } else {
        std::vector<std::thread> pool;
        for (unsigned w = 0; w < used; ++w)
          pool.emplace_back(work, w);
        for (std::thread &th : pool)
          th.join();
      }
      uint64_t batchBytes =
          (std::min(n, last * kChunkElements) - first * kChunkElements) *
          elemSize;
      ok = std::fwrite(bytes.data(), 1, batchBytes, f) == batchBytes;
    }
  }
  ok = std::fflush(f) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

static bool writeTestModelImpl(const TestModelSpec &spec,
                               const std::string &dirIn,
                               const TestModelWriteOptions &options,
                               std::string &error) {
  auto progress = [&](const std::string &line) {
    if (options.progress)
      options.progress(line);
  };
  if (!validateTestModelSpec(spec, error))
    return false;
  TestTokenizer tokenizer;
  if (!makeTestTokenizer(spec, tokenizer, error))
    return false;

  // The output directory: refuse to clobber unless asked.
  if (dirIn.empty()) {
    error = "no output directory given";
    return false;
  }
  fs::path dir = fs::path(dirIn).lexically_normal();
  if (dir.filename().empty())
    dir = dir.parent_path();
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  bool exists = fs::exists(st);
  if (exists && !fs::is_directory(st)) {
    error = dirIn + " exists and is not a directory";
    return false;
  }
  if (exists && !fs::is_empty(dir, ec) && !options.force) {
    error = dirIn + " exists and is not empty (pass --force to replace it)";
    return false;
  }
  fs::path parent = dir.parent_path();
  if (parent.empty())
    parent = ".";
  fs::create_directories(parent, ec);
  if (ec) {
    error = "cannot create directory " + parent.string() + ": " + ec.message();
    return false;
  }
  std::string tmpl = dir.string() + ".tmp-XXXXXX";
  std::vector<char> tmpBuf(tmpl.begin(), tmpl.end());
  tmpBuf.push_back('\0');
  if (!::mkdtemp(tmpBuf.data())) {
    error = "cannot create a temporary directory next to " + dirIn + ": " +
            std::strerror(errno);
    return false;
  }
  std::string tmp = tmpBuf.data();
  TempDir cleanup(tmp);
  // mkdtemp creates the directory 0700; a checkpoint is an ordinary one.
  fs::permissions(tmp, fs::perms(0755), ec);

  std::vector<TestTensor> tensors = testModelTensors(spec);
  std::vector<Shard> shards =
      planShards(tensors, spec.dtype, spec.shardSizeBytes);
  uint64_t totalBytes = 0, totalParams = 0;
  for (const TestTensor &t : tensors) {
    totalParams += t.numElements();
    totalBytes += t.numElements() * dtypeSize(spec.dtype);
  }
  struct statvfs vfs;
  if (::statvfs(tmp.c_str(), &vfs) == 0) {
    double avail = static_cast<double>(vfs.f_bavail) * vfs.f_frsize;
    if (avail < static_cast<double>(totalBytes) + 16e6) {
      error = "not enough disk space for " + dirIn + ": the weights need " +
              formatBytes(static_cast<double>(totalBytes)) + ", " +
              formatBytes(avail) + " are available";
      return false;
    }
  }

  unsigned threads = options.threads;
  if (threads == 0)
    threads = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  threads = std::min(threads, 64u); // each holds a 4 MB chunk buffer
  char line[512];
  char params[32];
  if (totalParams >= 1000000000)
    std::snprintf(params, sizeof(params), "%.2fB", totalParams / 1e9);
  else if (totalParams >= 1000000)
    std::snprintf(params, sizeof(params), "%.2fM", totalParams / 1e6);
  else
    std::snprintf(params, sizeof(params), "%llu",
                  static_cast<unsigned long long>(totalParams));
  std::snprintf(line, sizeof(line),
                "%s: %s, %s parameters, %s of %s weights in %zu file%s, "
                "%u thread%s",
                dirIn.c_str(), spec.modelType.c_str(), params,
                formatBytes(static_cast<double>(totalBytes)).c_str(),
                dtypeName(spec.dtype), shards.size(),
                shards.size() == 1 ? "" : "s", threads,
                threads == 1 ? "" : "s");
  progress(line);

  auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  uint64_t done = 0;
  for (const Shard &shard : shards) {
    if (!writeShard(tmp + "/" + shard.file, shard, spec, threads, error))
      return false;
    done += shard.bytes;
    if (shards.size() > 1 || totalBytes > 100e6) {
      std::snprintf(
          line, sizeof(line), "  wrote %s (%zu tensors, %s) [%.0f%%, %.1f s]",
          shard.file.c_str(), shard.tensors.size(),
          formatBytes(static_cast<double>(shard.bytes)).c_str(),
          100.0 * done / std::max<uint64_t>(totalBytes, 1), seconds());
      progress(line);
    }
  }
  if (shards.size() > 1) {
    json index;
    index["metadata"] = {{"total_size", totalBytes}};
    json weightMap = json::object();
    for (const Shard &shard : shards)
      for (const TestTensor *t : shard.tensors)
        weightMap[t->name] = shard.file;
    index["weight_map"] = std::move(weightMap);
    if (!writeTextFile(tmp + "/model.safetensors.index.json",
                       index.dump(2) + "\n", error))
      return false;
  }
  if (!writeTextFile(tmp + "/tokenizer.json", tokenizer.tokenizerJson, error) ||
      !writeTextFile(tmp + "/tokenizer_config.json",
                     tokenizer.tokenizerConfigJson, error) ||
      !writeTextFile(tmp + "/config.json", testModelConfigJson(spec, tokenizer),
                     error))
    return false;

  // Move the finished checkpoint into place. A directory may be renamed
  // over an empty one; a non-empty one (with force) is first moved aside.
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    int err = errno;
    if (!(options.force && (err == ENOTEMPTY || err == EEXIST))) {
      error =
          "cannot rename " + tmp + " to " + dirIn + ": " + std::strerror(err);
      return false;
    }
    std::string oldTmpl = dir.string() + ".old-XXXXXX";
    std::vector<char> oldBuf(oldTmpl.begin(), oldTmpl.end());
    oldBuf.push_back('\0');
    if (!::mkdtemp(oldBuf.data()) ||
        ::rename(dir.c_str(), oldBuf.data()) != 0) {
      error =
          "cannot move the old " + dirIn + " aside: " + std::strerror(errno);
      return false;
    }
    TempDir oldCleanup(oldBuf.data());
    if (::rename(tmp.c_str(), dir.c_str()) != 0) {
      error =
          "cannot rename " + tmp + " to " + dirIn + ": " + std::strerror(errno);
      ::rename(oldBuf.data(), dir.c_str()); // put the old one back
      oldCleanup.release();
      return false;
    }
  }
  cleanup.release();
  std::snprintf(line, sizeof(line),
                "%s: done in %.1f s (tokenizer: %lld ids, %lld merges)",
                dirIn.c_str(), seconds(),
                static_cast<long long>(tokenizer.size),
                static_cast<long long>(tokenizer.numMerges));
  progress(line);
  return true;
}

bool qtest::writeTestModel(const TestModelSpec &spec, const std::string &dir,
                           const TestModelWriteOptions &options,
                           std::string &error) {
  try {
    return writeTestModelImpl(spec, dir, options, error);
  } catch (const std::exception &e) {
    error = std::string("cannot write ") + dir + ": " + e.what();
    return false;
  }
}
