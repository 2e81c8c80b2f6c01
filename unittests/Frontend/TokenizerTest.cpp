//===- TokenizerTest.cpp - tokenizer.json tokenizer -----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The qopt-tiny-llama tokenizer (SentencePiece-style BPE with byte fallback,
// 32,000 entries) against the reference tokens made by Hugging Face
// `tokenizers` (shared/data), a hand-written byte-level BPE tokenizer
// (GPT-2 / Qwen2 style) with ids computed by hand, and loading errors.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Tokenizer.h"
#include "qopt-runtime/Safetensors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

using namespace qrt;
using json = nlohmann::json;

namespace {

const char kLlamaTokenizer[] =
    QOPT_SHARED_MODELS_DIR "/qopt-tiny-llama/tokenizer.json";
const char kReference[] = QOPT_SHARED_DATA_DIR "/tiny-llama-reference";
const char kOpticks[] = QOPT_SHARED_DATA_DIR "/opticks.txt";

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// An I32 tensor of the reference file.
std::vector<int32_t> referenceTensor(const std::string &name) {
  std::string error;
  std::unique_ptr<SafetensorsFile> file =
      SafetensorsFile::open(std::string(kReference) + ".safetensors", error);
  if (!file) {
    ADD_FAILURE() << error;
    return {};
  }
  const TensorView *view = file->find(name);
  if (!view || view->dtype != DType::I32) {
    ADD_FAILURE() << "no I32 tensor " << name;
    return {};
  }
  std::vector<int32_t> out(static_cast<size_t>(view->numElements()));
  std::memcpy(out.data(), view->data, out.size() * sizeof(int32_t));
  return out;
}

/// The qopt-tiny-llama tokenizer, loaded once for all tests.
const Tokenizer &llama() {
  static std::unique_ptr<Tokenizer> tok = [] {
    std::string error;
    std::unique_ptr<Tokenizer> t = Tokenizer::fromFile(kLlamaTokenizer, error);
    if (!t)
      ADD_FAILURE() << error;
    return t;
  }();
  if (!tok)
    std::abort();
  return *tok;
}

//===----------------------------------------------------------------------===//
// qopt-tiny-llama (SentencePiece-style BPE with byte fallback)
//===----------------------------------------------------------------------===//

TEST(LlamaTokenizer, Basics) {
  const Tokenizer &tok = llama();
  EXPECT_EQ(tok.vocabSize(), 32000);
  EXPECT_EQ(tok.tokenToId("<unk>"), 0);
  EXPECT_EQ(tok.tokenToId("<s>"), 1);
  EXPECT_EQ(tok.tokenToId("</s>"), 2);
  EXPECT_EQ(tok.tokenToId("<0x0A>"), 13);
  EXPECT_EQ(tok.tokenToId("no such token"), -1);
  EXPECT_EQ(tok.idToToken(1), "<s>");
  EXPECT_EQ(tok.idToToken(22557), "\xE2\x96\x81Hello"); // "▁Hello"
  EXPECT_EQ(tok.idToToken(-1), "");
  EXPECT_EQ(tok.idToToken(32000), "");
  EXPECT_EQ(tok.bosId(), 1);
  EXPECT_TRUE(tok.isSpecial(1));
  EXPECT_FALSE(tok.isSpecial(22557));
}

TEST(LlamaTokenizer, KnownIds) {
  const Tokenizer &tok = llama();
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<int32_t>{22557, 1526}));
  EXPECT_EQ(tok.idToToken(1526), "\xE2\x96\x81world");
  EXPECT_TRUE(tok.encode("").empty());
  // Newlines are ordinary characters: byte fallback <0x0A>.
  std::vector<int32_t> ids = tok.encode("a\nb");
  EXPECT_NE(std::find(ids.begin(), ids.end(), 13), ids.end());
  // Special tokens written in the text are matched as single tokens; the
  // pieces around them are normalized separately (each gets its "▁").
  EXPECT_EQ(tok.encode("<s>"), (std::vector<int32_t>{1}));
  EXPECT_EQ(tok.encode("a</s>b"),
            (std::vector<int32_t>{tok.tokenToId("\xE2\x96\x81"
                                                "a"),
                                  2,
                                  tok.tokenToId("\xE2\x96\x81"
                                                "b")}));
}

TEST(LlamaTokenizer, OpticksMatchesReference) {
  const Tokenizer &tok = llama();
  std::string text = readText(kOpticks);
  ASSERT_EQ(text.size(), 567198u);
  std::vector<int32_t> ref = referenceTensor("eval_opticks");
  ASSERT_EQ(ref.size(), 32769u);

  size_t paragraphs = 0;
  auto start = std::chrono::steady_clock::now();
  std::vector<int32_t> ids = encodeParagraphsWithBos(tok, text, 1, &paragraphs);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("encoded opticks (%zu paragraphs, %zu tokens) in %.3f s\n",
              paragraphs, ids.size(), seconds);

  // The reference is the first 32,769 tokens of the whole text's encoding.
  EXPECT_EQ(paragraphs, 701u);
  ASSERT_EQ(ids.size(), 155772u);
  size_t firstDiff = 0;
  while (firstDiff < ref.size() && ids[firstDiff] == ref[firstDiff])
    ++firstDiff;
  EXPECT_EQ(firstDiff, ref.size())
      << "first difference at token " << firstDiff << ": got " << ids[firstDiff]
      << " ('" << tok.idToToken(ids[firstDiff]) << "'), expected "
      << ref[firstDiff] << " ('" << tok.idToToken(ref[firstDiff]) << "')";
  // 701 paragraphs, each led by BOS.
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 701);
}

TEST(LlamaTokenizer, RoundTrips) {
  const Tokenizer &tok = llama();
  const char *texts[] = {
      "Hello world",
      "The quick brown fox jumps over the lazy dog.",
      "  two leading spaces, and trailing ones  ",
      "Caf\xC3\xA9 na\xC3\xAFve fa\xC3\xA7"
      "ade r\xC3\xA9sum\xC3\xA9",
      "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x83\x86\xE3\x82\xAD"
      "\xE3\x82\xB9\xE3\x83\x88", // 日本語のテキスト
      "Emoji \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD!", // 😀👍🏽
      "Crab \xF0\x9F\xA6\x80 and \xEA\x99\xAE",                  // 🦀 ꙮ
      "line one\nline two\n\n\tindented",
      "Numbers 1234567 and 3.14159",
  };
  for (const char *text : texts) {
    std::vector<int32_t> ids = tok.encode(text);
    EXPECT_FALSE(ids.empty()) << text;
    EXPECT_EQ(tok.decode(ids), text);
  }
  // 😀 is in the vocabulary; 🦀 is not: it falls back to its UTF-8 bytes.
  EXPECT_EQ(tok.encode("\xF0\x9F\x98\x80"),
            (std::vector<int32_t>{28705, 30575}));           // ▁ 😀
  std::vector<int32_t> ids = tok.encode("\xF0\x9F\xA6\x80"); // 🦀
  std::vector<int32_t> expected = {
      28705, tok.tokenToId("<0xF0>"), tok.tokenToId("<0x9F>"),
      tok.tokenToId("<0xA6>"), tok.tokenToId("<0x80>")};
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(expected[1], 243);
  // Special tokens are dropped when decoding (unless asked otherwise).
  std::vector<int32_t> withBos = {1, 22557, 1526, 2};
  EXPECT_EQ(tok.decode(withBos), "Hello world");
  EXPECT_EQ(tok.decode(withBos, /*skipSpecialTokens=*/false),
            "<s> Hello world</s>");
  // Invalid UTF-8 input is read as U+FFFD; unknown ids are skipped.
  EXPECT_EQ(tok.decode(tok.encode("a\xFF"
                                  "b")),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(tok.decode({22557, -5, 99999, 1526}), "Hello world");
  // Byte tokens that do not form valid UTF-8 decode to one U+FFFD each.
  EXPECT_EQ(tok.decode({tok.tokenToId("<0xF0>"), tok.tokenToId("<0x9F>")}),
            "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(LlamaTokenizer, GreedyReferenceDecodes) {
  const Tokenizer &tok = llama();
  std::vector<int32_t> greedy = referenceTensor("greedy_ids");
  ASSERT_EQ(greedy.size(), 55u);
  EXPECT_EQ(greedy[0], 1);
  std::string text = tok.decode(greedy);
  EXPECT_EQ(text.rfind("The Congress of the United States", 0), 0u) << text;
  json ref = json::parse(readText(std::string(kReference) + ".json"));
  EXPECT_EQ(text, ref.at("greedy_text").get<std::string>());
  // And the prompt encodes to the ids the reference started from.
  std::vector<int32_t> prompt = tok.encode("The Congress of the United States");
  ASSERT_LE(prompt.size() + 1, greedy.size());
  EXPECT_TRUE(std::equal(prompt.begin(), prompt.end(), greedy.begin() + 1));
}

/// The older Llama/Mistral layout (no normalizer, Metaspace pre-tokenizer and
/// decoder) gives the same ids as the newer one.
TEST(LlamaTokenizer, OlderMetaspaceLayoutIsEquivalent) {
  json j = json::parse(readText(kLlamaTokenizer));
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "Metaspace"},
                        {"replacement", "\xE2\x96\x81"},
                        {"prepend_scheme", "first"},
                        {"split", false}};
  j["decoder"] = {{"type", "Sequence"},
                  {"decoders", json::array({{{"type", "Metaspace"},
                                             {"replacement", "\xE2\x96\x81"},
                                             {"prepend_scheme", "first"},
                                             {"split", false}},
                                            {{"type", "ByteFallback"}},
                                            {{"type", "Fuse"}}})}};
  std::string error;
  std::unique_ptr<Tokenizer> old = Tokenizer::fromJson(j.dump(), error);
  ASSERT_TRUE(old) << error;
  std::vector<std::string> paragraphs = splitParagraphs(readText(kOpticks));
  ASSERT_EQ(paragraphs.size(), 701u);
  for (size_t i = 0; i < 60; ++i) {
    EXPECT_EQ(old->encode(paragraphs[i]), llama().encode(paragraphs[i]))
        << paragraphs[i];
    EXPECT_EQ(old->decode(old->encode(paragraphs[i])), paragraphs[i]);
  }
  // "first" prepends only at the very start of the input, "always" after
  // added tokens too.
  int32_t a = llama().tokenToId("\xE2\x96\x81"
                                "a");
  int32_t bare = llama().tokenToId("a");
  EXPECT_EQ(old->encode("a<s>a"), (std::vector<int32_t>{a, 1, bare}));
  j["pre_tokenizer"]["prepend_scheme"] = "always";
  std::unique_ptr<Tokenizer> always = Tokenizer::fromJson(j.dump(), error);
  ASSERT_TRUE(always) << error;
  EXPECT_EQ(always->encode("a<s>a"), (std::vector<int32_t>{a, 1, a}));
}

TEST(LlamaTokenizer, ConcurrentEncodeIsConsistent) {
  const Tokenizer &tok = llama();
  std::vector<std::string> paragraphs = splitParagraphs(readText(kOpticks));
  paragraphs.resize(120);
  std::vector<std::vector<int32_t>> expected;
  for (const std::string &p : paragraphs)
    expected.push_back(tok.encode(p));
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < paragraphs.size(); ++i)
        if (tok.encode(paragraphs[(i + 29 * t) % paragraphs.size()]) !=
            expected[(i + 29 * t) % paragraphs.size()])
          ++failures[t];
    });
  for (std::thread &t : threads)
    t.join();
  for (int f : failures)
    EXPECT_EQ(f, 0);
}

TEST(Paragraphs, SplitOnBlankLines) {
  std::vector<std::string> p = splitParagraphs(
      "\n\n  First line\nsecond line  \n \t \n\nThird\r\n\r\nFourth\n   \n");
  EXPECT_EQ(p, (std::vector<std::string>{"First line\nsecond line", "Third",
                                         "Fourth"}));
  EXPECT_TRUE(splitParagraphs(" \n\n\t\n").empty());
  // No blank line: one paragraph, stripped.
  EXPECT_EQ(splitParagraphs(" a\n b "), (std::vector<std::string>{"a\n b"}));
}

//===----------------------------------------------------------------------===//
// A hand-written byte-level BPE tokenizer (GPT-2 / Qwen2 style)
//===----------------------------------------------------------------------===//

/// GPT-2's byte -> unicode mapping (the byte-level alphabet).
std::string byteSymbol(int b) {
  std::vector<int> bs;
  for (int c = '!'; c <= '~'; ++c)
    bs.push_back(c);
  for (int c = 0xA1; c <= 0xAC; ++c)
    bs.push_back(c);
  for (int c = 0xAE; c <= 0xFF; ++c)
    bs.push_back(c);
  int cp = b, n = 0;
  if (std::find(bs.begin(), bs.end(), b) == bs.end())
    for (int c = 0; c < 256; ++c)
      if (std::find(bs.begin(), bs.end(), c) == bs.end()) {
        if (c == b) {
          cp = 256 + n;
          break;
        }
        ++n;
      }
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

const char kQwen2Split[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/// Ids 0..255: the byte symbols (id == byte value). Then the merges, in rank
/// order: 256 "Ġt", 257 "he", 258 "Ġthe", 259 "in", 260 "ing", 261 "Ġa",
/// 262 "ĠĠ", 263 "ll", 264 "12". Added: 265 <|endoftext|>, 266 <|im_start|>.
json byteLevelTokenizer(const json &preTokenizer) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b)
    vocab[byteSymbol(b)] = b;
  const std::string G = byteSymbol(' '); // "Ġ"
  std::vector<std::pair<std::string, std::string>> merges = {
      {G, "t"}, {"h", "e"}, {G + "t", "he"}, {"i", "n"}, {"in", "g"},
      {G, "a"}, {G, G},     {"l", "l"},      {"1", "2"}};
  json mergeList = json::array();
  int id = 256;
  for (auto &m : merges) {
    vocab[m.first + m.second] = id++;
    // Newer files write merges as pairs, older ones as "a b": use both.
    if (id % 2)
      mergeList.push_back(m.first + " " + m.second);
    else
      mergeList.push_back(json::array({m.first, m.second}));
  }
  json added = json::array();
  added.push_back({{"id", 265},
                   {"content", "<|endoftext|>"},
                   {"single_word", false},
                   {"lstrip", false},
                   {"rstrip", false},
                   {"normalized", false},
                   {"special", true}});
  added.push_back({{"id", 266},
                   {"content", "<|im_start|>"},
                   {"single_word", false},
                   {"lstrip", false},
                   {"rstrip", false},
                   {"normalized", false},
                   {"special", true}});
  json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added;
  j["normalizer"] = {{"type", "NFC"}};
  j["pre_tokenizer"] = preTokenizer;
  j["post_processor"] = {{"type", "ByteLevel"},
                         {"add_prefix_space", false},
                         {"trim_offsets", false},
                         {"use_regex", false}};
  j["decoder"] = {{"type", "ByteLevel"},
                  {"add_prefix_space", false},
                  {"trim_offsets", false},
                  {"use_regex", false}};
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", vocab},
                {"merges", mergeList}};
  return j;
}

json qwen2PreTokenizer() {
  return {{"type", "Sequence"},
          {"pretokenizers", json::array({{{"type", "Split"},
                                          {"pattern", {{"Regex", kQwen2Split}}},
                                          {"behavior", "Isolated"},
                                          {"invert", false}},
                                         {{"type", "ByteLevel"},
                                          {"add_prefix_space", false},
                                          {"trim_offsets", false},
                                          {"use_regex", false}}})}};
}

std::unique_ptr<Tokenizer> load(const json &j) {
  std::string error;
  std::unique_ptr<Tokenizer> tok = Tokenizer::fromJson(j.dump(), error);
  EXPECT_TRUE(tok) << error;
  return tok;
}

using Ids = std::vector<int32_t>;

TEST(ByteLevelTokenizer, Qwen2StyleEncode) {
  std::unique_ptr<Tokenizer> tok =
      load(byteLevelTokenizer(qwen2PreTokenizer()));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->vocabSize(), 267);
  EXPECT_EQ(tok->bosId(), -1); // Qwen2 has no BOS
  // "the" | " thing": t h e -> t he; Ġ t h i n g -> Ġt h in g -> Ġt h ing.
  EXPECT_EQ(tok->encode("the thing"), (Ids{'t', 257, 256, 'h', 260}));
  // Ġ t h e -> Ġt h e -> Ġt he -> Ġthe.
  EXPECT_EQ(tok->encode(" the"), (Ids{258}));
  // "Hello" | " " | " all" | "\n" (\s+(?!\S) keeps one space for the word).
  EXPECT_EQ(tok->encode("Hello  all\n"),
            (Ids{'H', 'e', 263, 'o', ' ', 261, 263, '\n'}));
  // Digits are split one by one, so the merge "1 2" never applies.
  EXPECT_EQ(tok->encode("123"), (Ids{'1', '2', '3'}));
  // Added tokens in the text.
  EXPECT_EQ(tok->encode("<|endoftext|>the<|im_start|>"),
            (Ids{265, 't', 257, 266}));
  // NFC: e + U+0301 becomes U+00E9 (bytes C3 A9).
  EXPECT_EQ(tok->encode("e\xCC\x81"), (Ids{0xC3, 0xA9}));
  // An emoji is its four bytes.
  EXPECT_EQ(tok->encode("\xF0\x9F\x98\x80"), (Ids{0xF0, 0x9F, 0x98, 0x80}));
  // Contractions are their own pieces (case-insensitively).
  EXPECT_EQ(tok->encode("IT'S"), (Ids{'I', 'T', '\'', 'S'}));
}

TEST(ByteLevelTokenizer, Decode) {
  std::unique_ptr<Tokenizer> tok =
      load(byteLevelTokenizer(qwen2PreTokenizer()));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->decode({'t', 257, 256, 'h', 260}), "the thing");
  EXPECT_EQ(tok->decode({265, 't', 257}), "the");
  EXPECT_EQ(tok->decode({265, 't', 257}, /*skipSpecialTokens=*/false),
            "<|endoftext|>the");
  EXPECT_EQ(tok->decode({0xC3, 0xA9}), "\xC3\xA9");
  // A truncated UTF-8 sequence is one U+FFFD (from_utf8_lossy).
  EXPECT_EQ(tok->decode({0xF0, 0x9F}), "\xEF\xBF\xBD");
  const char *texts[] = {
      "Hello, world! It's 2024.\n\n  Indented\ttab",
      "Caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80",
      "<|im_start|>user\nhi<|endoftext|>",
  };
  for (const char *text : texts)
    EXPECT_EQ(tok->decode(tok->encode(text), false), text);
}

TEST(ByteLevelTokenizer, Gpt2Style) {
  json pre = {{"type", "ByteLevel"},
              {"add_prefix_space", false},
              {"trim_offsets", true},
              {"use_regex", true}};
  std::unique_ptr<Tokenizer> tok = load(byteLevelTokenizer(pre));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("the thing"), (Ids{'t', 257, 256, 'h', 260}));
  // GPT-2's regex keeps digit runs together: 1 2 3 -> 12 3.
  EXPECT_EQ(tok->encode("123"), (Ids{264, '3'}));
  // add_prefix_space turns "the" into " the".
  pre["add_prefix_space"] = true;
  tok = load(byteLevelTokenizer(pre));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("the"), (Ids{258}));
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// Loads `text`, expects failure and returns the error message.
std::string loadError(const std::string &text) {
  std::string error;
  std::unique_ptr<Tokenizer> tok = Tokenizer::fromJson(text, error);
  EXPECT_FALSE(tok);
  EXPECT_FALSE(error.empty());
  return error;
}

TEST(TokenizerErrors, MissingFile) {
  std::string error;
  EXPECT_FALSE(Tokenizer::fromFile("/nonexistent/tokenizer.json", error));
  EXPECT_EQ(error, "/nonexistent/tokenizer.json: cannot open file: No such "
                   "file or directory");
}

TEST(TokenizerErrors, MalformedJson) {
  EXPECT_NE(loadError("{\"model\": ").find("tokenizer.json: malformed JSON"),
            std::string::npos);
  EXPECT_NE(loadError("[1, 2]").find("top level must be a JSON object"),
            std::string::npos);
  EXPECT_NE(loadError("{}").find("no \"model\" section"), std::string::npos);
}

TEST(TokenizerErrors, UnsupportedComponents) {
  json j = byteLevelTokenizer(qwen2PreTokenizer());
  json k = j;
  k["model"]["type"] = "Unigram";
  EXPECT_EQ(loadError(k.dump()), "tokenizer.json: unsupported model type "
                                 "'Unigram' (only BPE is supported)");
  k = j;
  k["normalizer"] = {{"type", "BertNormalizer"}};
  EXPECT_NE(loadError(k.dump()).find("unsupported normalizer 'BertNormalizer'"),
            std::string::npos);
  k = j;
  k["pre_tokenizer"]["pretokenizers"][1] = {{"type", "BertPreTokenizer"}};
  EXPECT_NE(
      loadError(k.dump()).find("unsupported pre_tokenizer 'BertPreTokenizer'"),
      std::string::npos);
  k = j;
  k["decoder"] = {{"type", "WordPiece"}};
  EXPECT_NE(loadError(k.dump()).find("unsupported decoder 'WordPiece'"),
            std::string::npos);
  k = j;
  k["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  EXPECT_NE(loadError(k.dump()).find("invalid regex '(unclosed'"),
            std::string::npos);
  k = j;
  k["model"]["dropout"] = 0.1;
  EXPECT_NE(loadError(k.dump()).find("dropout is not supported"),
            std::string::npos);
  k = j;
  k["version"] = "2.0";
  EXPECT_NE(loadError(k.dump()).find("unsupported tokenizer.json version"),
            std::string::npos);
}

TEST(TokenizerErrors, BadVocabOrMerges) {
  json j = byteLevelTokenizer(qwen2PreTokenizer());
  json k = j;
  k["model"]["merges"].push_back("a zz");
  EXPECT_EQ(loadError(k.dump()),
            "tokenizer.json: model BPE: merge 10 ('a zz') refers to token "
            "'zz' which is not in the vocab");
  k = j;
  k["model"]["merges"].push_back(json::array({"x", "y"})); // "xy" missing
  EXPECT_NE(loadError(k.dump()).find("produces token 'xy' which is not in the "
                                     "vocab"),
            std::string::npos);
  k = j;
  k["model"]["merges"].push_back("a b c");
  EXPECT_NE(loadError(k.dump()).find("is not of the form \"a b\""),
            std::string::npos);
  k = j;
  k["model"]["unk_token"] = "<unk>";
  EXPECT_NE(loadError(k.dump()).find("unk_token '<unk>' is not in the "
                                     "vocabulary"),
            std::string::npos);
  k = j;
  k["model"]["vocab"]["a"] = -3;
  EXPECT_NE(loadError(k.dump()).find("vocab entry 'a'"), std::string::npos);
  k = j;
  k["model"].erase("merges");
  EXPECT_NE(loadError(k.dump()).find("\"merges\" must be an array"),
            std::string::npos);
}

} // namespace
