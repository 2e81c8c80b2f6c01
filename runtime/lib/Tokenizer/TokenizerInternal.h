//===- TokenizerInternal.h - Pieces of the tokenizer.json tokenizer -*- C++
//-*-//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Private to runtime/lib/Tokenizer/: what the files of the tokenizer share.
//
// Follows the Hugging Face `tokenizers` library (Rust) step by step:
//  1. added tokens with `normalized: false` are cut out of the raw text
//     (leftmost-longest match, honouring single_word / lstrip / rstrip);
//  2. every other piece is normalized, then added tokens with
//     `normalized: true` are cut out of the normalized text;
//  3. the pre-tokenizer splits the remaining pieces into words;
//  4. BPE turns each word into ids (merges by rank with a heap over a linked
//     list of symbols, exactly as `Word::merge_all`), with a per-word cache.
// Decoding runs the decoder chain over the token strings.
//
// Regular expressions use PCRE2 (UTF + UCP) in place of Oniguruma, Unicode
// normalization and character properties use ICU.
//
//   Unicode.cpp        UTF-8 and Unicode helpers, the GPT-2 byte mapping
//   Regex.cpp          PCRE2 regexes, split patterns and split behaviours
//   Normalizers.cpp    normalizer steps and their loading
//   PreTokenizers.cpp  pre-tokenizer steps and their loading
//   Decoders.cpp       decoder steps and their loading
//   AddedTokens.cpp    the added-token matcher, loading and splitting
//   Bpe.cpp            the BPE model and its loading
//   Tokenizer.cpp      JSON helpers, encode/decode and the public Tokenizer
//   Paragraphs.cpp     splitParagraphs and encodeParagraphsWithBos
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_LIB_TOKENIZER_TOKENIZERINTERNAL_H
#define QOPT_RUNTIME_LIB_TOKENIZER_TOKENIZERINTERNAL_H

#include "qopt-runtime/Tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace qrt {
namespace detail {

using json = nlohmann::json;

//===----------------------------------------------------------------------===//
// Errors while loading
//===----------------------------------------------------------------------===//

/// Thrown while loading only; caught in Tokenizer::fromJson.
struct LoadError {
  std::string message;
};

[[noreturn]] inline void fail(std::string message) {
  throw LoadError{std::move(message)};
}

//===----------------------------------------------------------------------===//
// UTF-8 and Unicode helpers (Unicode.cpp)
//===----------------------------------------------------------------------===//

inline constexpr char kReplacementChar[] = "\xEF\xBF\xBD"; // U+FFFD

/// Byte length of the UTF-8 sequence led by `c` (input known valid).
inline size_t utf8Len(unsigned char c) {
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/// Decodes the code point at `s[i]` of valid UTF-8; sets `len`.
uint32_t decodeUtf8(const std::string &s, size_t i, size_t &len);

void appendUtf8(std::string &out, uint32_t cp);

/// Converts bytes to valid UTF-8 the way Rust's String::from_utf8_lossy does:
/// every maximal invalid subpart becomes one U+FFFD. `valid`, when given, is
/// set to whether the input was valid already.
std::string toValidUtf8(const std::string &in, bool *valid = nullptr);

/// True if `in` is valid UTF-8.
bool isValidUtf8(const std::string &in);

/// Rust's char::is_whitespace (the White_Space property).
bool isWhitespace(uint32_t cp);

/// Rust's char::is_numeric (general categories Nd, Nl, No).
bool isNumeric(uint32_t cp);

/// The Rust regex crate's Unicode `\w`.
bool isWordChar(uint32_t cp);

/// Python's str.isspace, used for the paragraph convention.
bool isPythonSpace(uint32_t cp);

/// Unicode normalization through ICU; `form` is one of NFC, NFD, NFKC, NFKD.
/// Returns false if ICU fails (the text is then left unchanged).
bool icuNormalize(std::string &s, const std::string &form);

//===----------------------------------------------------------------------===//
// GPT-2 byte <-> unicode mapping (Unicode.cpp)
//===----------------------------------------------------------------------===//

struct ByteMap {
  std::string byteToUtf8[256];
  int16_t cpToByte[512]; // every mapped code point is below 0x144

  ByteMap();
};

const ByteMap &byteMap();

//===----------------------------------------------------------------------===//
// Regular expressions (PCRE2) and split patterns (Regex.cpp)
//===----------------------------------------------------------------------===//

/// A half-open byte range of a string, and whether a pattern matched it.
struct Span {
  size_t begin, end;
  bool match;
};

class Regex {
public:
  Regex() = default;
  Regex(const Regex &) = delete;
  Regex &operator=(const Regex &) = delete;
  ~Regex() {
    if (code_)
      pcre2_code_free(code_);
  }

  /// Compiles `pattern` (UTF-8, Unicode properties); on failure sets `error`.
  bool compile(const std::string &pattern, std::string &error);

  /// Appends the [begin, end) of every match in `s` (valid UTF-8) to `out`,
  /// with the semantics of Oniguruma's find_iter as used by `tokenizers`: an
  /// empty match adjacent to the previous match is skipped.
  void findAll(const std::string &s,
               std::vector<std::pair<size_t, size_t>> &out) const;

private:
  pcre2_code *code_ = nullptr;
};

std::shared_ptr<Regex> compileRegex(const std::string &pattern,
                                    const std::string &context);

/// A `tokenizers` split pattern: a literal string or a regex.
struct Pattern {
  std::string literal;
  std::shared_ptr<Regex> regex; // null for a literal

  /// Every match of the pattern in `s`, as in Pattern::find_matches.
  void matches(const std::string &s,
               std::vector<std::pair<size_t, size_t>> &out) const;

  /// The spans of `s` (matches and gaps), as Pattern::find_matches.
  std::vector<Span> spans(const std::string &s) const;
};

/// Spans of `s` for a character predicate: every matching character is its
/// own span (the `Fn(char) -> bool` pattern of `tokenizers`).
template <typename Pred>
std::vector<Span> charSpans(const std::string &s, Pred pred) {
  std::vector<Span> out;
  if (s.empty()) {
    out.push_back({0, 0, false});
    return out;
  }
  size_t lastOffset = 0, i = 0;
  while (i < s.size()) {
    size_t len;
    uint32_t cp = decodeUtf8(s, i, len);
    if (pred(cp)) {
      if (lastOffset < i)
        out.push_back({lastOffset, i, false});
      out.push_back({i, i + len, true});
      lastOffset = i + len;
    }
    i += len;
  }
  if (s.size() > lastOffset)
    out.push_back({lastOffset, s.size(), false});
  return out;
}

enum class Behavior {
  Removed,
  Isolated,
  MergedWithPrevious,
  MergedWithNext,
  Contiguous
};

/// NormalizedString::split: the [begin, end) ranges kept for `behavior`.
std::vector<std::pair<size_t, size_t>> applyBehavior(std::vector<Span> spans,
                                                     Behavior behavior);

//===----------------------------------------------------------------------===//
// Pieces of text between the pipeline stages
//===----------------------------------------------------------------------===//

/// A piece of the input: either an added token (`id` >= 0) or text still to
/// be pre-tokenized and tokenized.
struct Piece {
  std::string text;
  int32_t id = -1;
  /// Whether the piece starts at offset 0 of the original input (Metaspace's
  /// prepend_scheme "first").
  bool atStart = false;
};

/// Replaces every text piece by its non-empty sub-ranges given by `split`.
template <typename SplitFn>
void splitPieces(std::vector<Piece> &pieces, SplitFn split) {
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (Piece &p : pieces) {
    if (p.id >= 0) {
      out.push_back(std::move(p));
      continue;
    }
    for (auto &r : split(p)) {
      if (r.second <= r.first)
        continue;
      Piece q;
      q.text = p.text.substr(r.first, r.second - r.first);
      q.atStart = p.atStart && r.first == 0;
      out.push_back(std::move(q));
    }
  }
  pieces = std::move(out);
}

//===----------------------------------------------------------------------===//
// Normalizers (Normalizers.cpp)
//===----------------------------------------------------------------------===//

struct NormStep {
  enum Kind { Prepend, Replace, Unicode, Lowercase, Strip } kind;
  std::string text;   // Prepend: prefix; Replace: content; Unicode: form
  Pattern pattern;    // Replace
  bool left = false;  // Strip
  bool right = false; // Strip

  void apply(std::string &s) const;
};

//===----------------------------------------------------------------------===//
// Pre-tokenizers (PreTokenizers.cpp)
//===----------------------------------------------------------------------===//

enum class PrependScheme { First, Always, Never };

struct PreStep {
  enum Kind { Split, ByteLevel, Metaspace, Digits, WhitespaceSplit } kind;
  Pattern pattern;                        // Split (also ByteLevel's regex)
  Behavior behavior = Behavior::Isolated; // Split
  bool invert = false;                    // Split
  bool addPrefixSpace = false;            // ByteLevel
  bool useRegex = false;                  // ByteLevel
  std::string replacement;                // Metaspace
  PrependScheme scheme = PrependScheme::Always; // Metaspace
  bool split = true;                            // Metaspace
  bool individualDigits = false;                // Digits

  void apply(std::vector<Piece> &pieces) const;
};

//===----------------------------------------------------------------------===//
// Decoders (Decoders.cpp)
//===----------------------------------------------------------------------===//

struct DecStep {
  enum Kind { Replace, ByteFallback, Fuse, Strip, Metaspace, ByteLevel } kind;
  Pattern pattern;            // Replace
  std::string content;        // Replace: replacement text
  uint32_t stripChar = 0;     // Strip: the character; Metaspace: replacement
  size_t start = 0, stop = 0; // Strip
  bool prepend = true;        // Metaspace: prepend_scheme != never

  std::vector<std::string> apply(std::vector<std::string> tokens) const;
};

//===----------------------------------------------------------------------===//
// Added tokens (AddedTokens.cpp)
//===----------------------------------------------------------------------===//

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false, normalized = true, lstrip = false, rstrip = false,
       singleWord = false;
};

/// Leftmost-longest matching of a set of strings (a byte trie).
class AddedMatcher {
public:
  bool empty() const { return terminal_.size() <= 1; }

  void add(const std::string &pattern, int32_t tokenIndex);

  /// Finds the leftmost-longest match in `s` starting at or after `from`.
  bool find(const std::string &s, size_t from, size_t &begin, size_t &end,
            int32_t &tokenIndex) const;

private:
  std::vector<int32_t> terminal_;
  std::unordered_map<uint64_t, uint32_t> edges_;
  bool first_[256] = {};
};

//===----------------------------------------------------------------------===//
// BPE model (Bpe.cpp)
//===----------------------------------------------------------------------===//

struct Bpe {
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::string> vocabR;
  std::vector<bool> hasId;
  std::unordered_map<uint64_t, std::pair<uint32_t, int32_t>> merges;
  int32_t unkId = -1;
  bool fuseUnk = false, byteFallback = false, ignoreMerges = false;
  std::string prefix, suffix; // continuing_subword_prefix, end_of_word_suffix
  bool hasPrefix = false, hasSuffix = false;
  int32_t byteIds[256];

  mutable std::mutex cacheMutex;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache;
  static constexpr size_t kMaxCachedWordBytes = 256;
  static constexpr size_t kCacheCapacity = 200000;

  static uint64_t key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) |
           static_cast<uint32_t>(b);
  }

  int32_t lookup(const std::string &s) const {
    auto it = vocab.find(s);
    return it == vocab.end() ? -1 : it->second;
  }

  /// BPE::tokenize of one word, appending the ids to `out`.
  void tokenize(const std::string &word, std::vector<int32_t> &out) const;

  struct Symbol {
    int32_t c;
    int32_t prev, next;
    uint32_t len;
  };
  struct Merge {
    uint32_t rank;
    uint32_t pos;
    int32_t newId;
  };

  /// BPE::merge_word followed by Word::merge_all.
  void mergeWord(const std::string &w, std::vector<int32_t> &ids) const;
};

//===----------------------------------------------------------------------===//
// JSON helpers (Tokenizer.cpp)
//===----------------------------------------------------------------------===//

std::string typeOf(const json &j, const std::string &context);

bool getBool(const json &j, const char *key, bool dflt,
             const std::string &context);

std::string getString(const json &j, const char *key,
                      const std::string &context);

size_t getSize(const json &j, const char *key, const std::string &context);

/// A single Unicode character given as a string.
uint32_t getChar(const json &j, const char *key, const std::string &context);

/// {"String": s} or {"Regex": r}.
Pattern getPattern(const json &j, const std::string &context);

PrependScheme getPrependScheme(const json &j, const std::string &context);

} // namespace detail

//===----------------------------------------------------------------------===//
// Tokenizer::Impl
//===----------------------------------------------------------------------===//

struct Tokenizer::Impl {
  using json = detail::json;
  using Piece = detail::Piece;
  using AddedMatcher = detail::AddedMatcher;

  detail::Bpe bpe;
  std::vector<detail::AddedToken> added;
  std::unordered_map<std::string, int32_t> addedByContent;
  std::unordered_map<int32_t, size_t> addedById; // index into `added`
  std::unordered_map<int32_t, std::string> normalizedContent;
  std::unordered_set<std::string> specialContents;
  AddedMatcher rawMatcher, normMatcher;
  std::vector<detail::NormStep> normalizer;
  std::vector<detail::PreStep> preTokenizer;
  bool hasDecoder = false;
  std::vector<detail::DecStep> decoder;
  int32_t bos = -1;
  int32_t vocabSize = 0;

  // Each loader lives with what it loads: Bpe.cpp, AddedTokens.cpp,
  // Normalizers.cpp, PreTokenizers.cpp, Decoders.cpp; loadBos in
  // Tokenizer.cpp.
  void loadModel(const json &model);
  void loadAddedTokens(const json &list);
  void loadNormalizer(const json &j, const std::string &context);
  void loadPreTokenizer(const json &j, const std::string &context);
  void loadDecoder(const json &j, const std::string &context);
  void loadBos(const json &root);

  void normalize(std::string &s) const {
    for (const detail::NormStep &step : normalizer)
      step.apply(s);
  }

  /// AddedVocabulary::find_matches + split_with_indices over `piece`
  /// (AddedTokens.cpp).
  void splitAdded(const Piece &piece, const AddedMatcher &matcher,
                  std::vector<Piece> &out) const;
  std::vector<int32_t> encode(const std::string &text) const;
  bool idToTokenForDecode(int32_t id, std::string &token) const;
  std::string decode(const std::vector<int32_t> &ids, bool skipSpecial) const;
};

} // namespace qrt

#endif // QOPT_RUNTIME_LIB_TOKENIZER_TOKENIZERINTERNAL_H
