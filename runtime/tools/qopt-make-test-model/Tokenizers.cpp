//===- Tokenizers.cpp - Test-model BPE tokenizers -------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestModelInternal.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

using namespace qrt;
using namespace qtest;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

/// Upper bound on learned merges (the built-in text yields fewer).
static constexpr size_t kMaxMerges = 2000;

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
