//===- Tokenizer.cpp - Hugging Face tokenizer.json tokenizer --------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
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
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>

using namespace qrt;
using json = nlohmann::json;

namespace {

//===----------------------------------------------------------------------===//
// Errors while loading
//===----------------------------------------------------------------------===//

/// Thrown while loading only; caught in Tokenizer::fromJson.
struct LoadError {
  std::string message;
};

[[noreturn]] void fail(std::string message) {
  throw LoadError{std::move(message)};
}

//===----------------------------------------------------------------------===//
// UTF-8 and Unicode helpers
//===----------------------------------------------------------------------===//

const char kReplacementChar[] = "\xEF\xBF\xBD"; // U+FFFD

/// Byte length of the UTF-8 sequence led by `c` (input known valid).
inline size_t utf8Len(unsigned char c) {
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/// Decodes the code point at `s[i]` of valid UTF-8; sets `len`.
uint32_t decodeUtf8(const std::string &s, size_t i, size_t &len) {
  auto c = static_cast<unsigned char>(s[i]);
  len = utf8Len(c);
  if (len == 1 || i + len > s.size()) {
    len = 1;
    return c;
  }
  uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < len; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

/// Converts bytes to valid UTF-8 the way Rust's String::from_utf8_lossy does:
/// every maximal invalid subpart becomes one U+FFFD. `valid`, when given, is
/// set to whether the input was valid already.
std::string toValidUtf8(const std::string &in, bool *valid = nullptr) {
  const auto *data = reinterpret_cast<const unsigned char *>(in.data());
  size_t n = in.size();
  std::string out;
  bool ok = true;
  size_t i = 0;
  while (i < n) {
    unsigned char c = data[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c == 0xE0) {
      need = 2;
      lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      need = 2;
    } else if (c == 0xED) {
      need = 2;
      hi = 0x9F;
    } else if (c == 0xF0) {
      need = 3;
      lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      need = 3;
    } else if (c == 0xF4) {
      need = 3;
      hi = 0x8F;
    } else {
      out += kReplacementChar;
      ok = false;
      ++i;
      continue;
    }
    size_t j = 1;
    for (; j <= need; ++j) {
      if (i + j >= n)
        break;
      unsigned char d = data[i + j];
      unsigned char l = j == 1 ? lo : 0x80, h = j == 1 ? hi : 0xBF;
      if (d < l || d > h)
        break;
    }
    if (j > need) {
      out.append(in, i, need + 1);
      i += need + 1;
    } else {
      out += kReplacementChar;
      ok = false;
      i += j;
    }
  }
  if (valid)
    *valid = ok;
  return out;
}

/// True if `in` is valid UTF-8.
bool isValidUtf8(const std::string &in) {
  for (unsigned char c : in)
    if (c >= 0x80) {
      bool valid = false;
      (void)toValidUtf8(in, &valid);
      return valid;
    }
  return true;
}

/// Rust's char::is_whitespace (the White_Space property).
bool isWhitespace(uint32_t cp) {
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE);
}

/// Rust's char::is_numeric (general categories Nd, Nl, No).
bool isNumeric(uint32_t cp) {
  int8_t t = u_charType(static_cast<UChar32>(cp));
  return t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER ||
         t == U_OTHER_NUMBER;
}

/// The Rust regex crate's Unicode `\w`.
bool isWordChar(uint32_t cp) {
  auto c = static_cast<UChar32>(cp);
  if (u_hasBinaryProperty(c, UCHAR_ALPHABETIC) ||
      u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL))
    return true;
  int8_t t = u_charType(c);
  return t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK ||
         t == U_COMBINING_SPACING_MARK || t == U_DECIMAL_DIGIT_NUMBER ||
         t == U_CONNECTOR_PUNCTUATION;
}

/// Python's str.isspace, used for the paragraph convention.
bool isPythonSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) ||
         cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool isAscii(const std::string &s) {
  for (unsigned char c : s)
    if (c >= 0x80)
      return false;
  return true;
}

/// Unicode normalization through ICU; `form` is one of NFC, NFD, NFKC, NFKD.
/// Returns false if ICU fails (the text is then left unchanged).
bool icuNormalize(std::string &s, const std::string &form) {
  if (isAscii(s))
    return true; // every normalization form maps ASCII to itself
  UErrorCode st = U_ZERO_ERROR;
  const UNormalizer2 *norm = form == "NFC"    ? unorm2_getNFCInstance(&st)
                             : form == "NFD"  ? unorm2_getNFDInstance(&st)
                             : form == "NFKC" ? unorm2_getNFKCInstance(&st)
                                              : unorm2_getNFKDInstance(&st);
  if (U_FAILURE(st) || !norm || s.size() > INT32_MAX / 4)
    return false;
  int32_t len16 = 0;
  u_strFromUTF8(nullptr, 0, &len16, s.data(), static_cast<int32_t>(s.size()),
                &st);
  if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
    return false;
  st = U_ZERO_ERROR;
  std::vector<UChar> src(static_cast<size_t>(len16) + 1);
  u_strFromUTF8(src.data(), len16 + 1, nullptr, s.data(),
                static_cast<int32_t>(s.size()), &st);
  if (U_FAILURE(st))
    return false;
  int32_t cap = len16 * 2 + 16;
  std::vector<UChar> dst(static_cast<size_t>(cap));
  int32_t outLen =
      unorm2_normalize(norm, src.data(), len16, dst.data(), cap, &st);
  if (st == U_BUFFER_OVERFLOW_ERROR) {
    st = U_ZERO_ERROR;
    dst.resize(static_cast<size_t>(outLen) + 1);
    outLen =
        unorm2_normalize(norm, src.data(), len16, dst.data(), outLen + 1, &st);
  }
  if (U_FAILURE(st))
    return false;
  int32_t len8 = 0;
  u_strToUTF8(nullptr, 0, &len8, dst.data(), outLen, &st);
  if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
    return false;
  st = U_ZERO_ERROR;
  std::string out(static_cast<size_t>(len8) + 1, '\0');
  u_strToUTF8(&out[0], len8 + 1, nullptr, dst.data(), outLen, &st);
  if (U_FAILURE(st))
    return false;
  out.resize(static_cast<size_t>(len8));
  s = std::move(out);
  return true;
}

//===----------------------------------------------------------------------===//
// GPT-2 byte <-> unicode mapping
//===----------------------------------------------------------------------===//

struct ByteMap {
  std::string byteToUtf8[256];
  int16_t cpToByte[512]; // every mapped code point is below 0x144

  ByteMap() {
    std::vector<int> bs, cs;
    for (int b = '!'; b <= '~'; ++b)
      bs.push_back(b);
    for (int b = 0xA1; b <= 0xAC; ++b)
      bs.push_back(b);
    for (int b = 0xAE; b <= 0xFF; ++b)
      bs.push_back(b);
    cs = bs;
    int n = 0;
    for (int b = 0; b < 256; ++b)
      if (std::find(bs.begin(), bs.end(), b) == bs.end()) {
        bs.push_back(b);
        cs.push_back(256 + n++);
      }
    std::fill(std::begin(cpToByte), std::end(cpToByte), -1);
    for (size_t i = 0; i < bs.size(); ++i) {
      appendUtf8(byteToUtf8[bs[i]], static_cast<uint32_t>(cs[i]));
      cpToByte[cs[i]] = static_cast<int16_t>(bs[i]);
    }
  }
};

const ByteMap &byteMap() {
  static const ByteMap map;
  return map;
}

//===----------------------------------------------------------------------===//
// Regular expressions (PCRE2) and split patterns
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
  bool compile(const std::string &pattern, std::string &error) {
    int errorCode = 0;
    PCRE2_SIZE errorOffset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()),
                          pattern.size(), PCRE2_UTF | PCRE2_UCP, &errorCode,
                          &errorOffset, nullptr);
    if (!code_) {
      PCRE2_UCHAR buffer[256];
      pcre2_get_error_message(errorCode, buffer, sizeof(buffer));
      error = std::string(reinterpret_cast<const char *>(buffer)) +
              " at offset " + std::to_string(errorOffset);
      return false;
    }
    // JIT is optional: matching falls back to the interpreter without it.
    (void)pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);
    return true;
  }

  /// Appends the [begin, end) of every match in `s` (valid UTF-8) to `out`,
  /// with the semantics of Oniguruma's find_iter as used by `tokenizers`: an
  /// empty match adjacent to the previous match is skipped.
  void findAll(const std::string &s,
               std::vector<std::pair<size_t, size_t>> &out) const {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code_, nullptr);
    if (!md)
      return;
    size_t pos = 0, lastEnd = 0;
    bool haveLast = false;
    uint32_t options = PCRE2_NO_UTF_CHECK;
    const auto *subject = reinterpret_cast<PCRE2_SPTR>(s.data());
    while (pos <= s.size()) {
      int rc = pcre2_match(code_, subject, s.size(), pos, options, md, nullptr);
      if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !(options & PCRE2_NO_JIT)) {
        options |= PCRE2_NO_JIT; // retry with the interpreter
        continue;
      }
      if (rc < 0)
        break; // no match (or a resource limit: the rest stays unmatched)
      PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
      size_t ms = ov[0], me = ov[1];
      if (ms == me && haveLast && lastEnd == me) {
        if (pos >= s.size())
          break;
        pos += utf8Len(static_cast<unsigned char>(s[pos]));
        continue;
      }
      out.emplace_back(ms, me);
      pos = me;
      lastEnd = me;
      haveLast = true;
    }
    pcre2_match_data_free(md);
  }

private:
  pcre2_code *code_ = nullptr;
};

std::shared_ptr<Regex> compileRegex(const std::string &pattern,
                                    const std::string &context) {
  auto re = std::make_shared<Regex>();
  std::string error;
  if (!re->compile(pattern, error))
    fail(context + ": invalid regex '" + pattern + "': " + error);
  return re;
}

/// A `tokenizers` split pattern: a literal string or a regex.
struct Pattern {
  std::string literal;
  std::shared_ptr<Regex> regex; // null for a literal

  /// Every match of the pattern in `s`, as in Pattern::find_matches.
  void matches(const std::string &s,
               std::vector<std::pair<size_t, size_t>> &out) const {
    if (regex) {
      regex->findAll(s, out);
      return;
    }
    size_t pos = 0;
    while ((pos = s.find(literal, pos)) != std::string::npos) {
      out.emplace_back(pos, pos + literal.size());
      pos += literal.size();
    }
  }

  /// The spans of `s` (matches and gaps), as Pattern::find_matches.
  std::vector<Span> spans(const std::string &s) const {
    std::vector<Span> out;
    if (s.empty()) {
      out.push_back({0, 0, false});
      return out;
    }
    std::vector<std::pair<size_t, size_t>> ms;
    matches(s, ms);
    size_t prev = 0;
    for (auto &m : ms) {
      if (prev != m.first)
        out.push_back({prev, m.first, false});
      out.push_back({m.first, m.second, true});
      prev = m.second;
    }
    if (prev != s.size())
      out.push_back({prev, s.size(), false});
    return out;
  }
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
                                                     Behavior behavior) {
  struct R {
    size_t b, e;
    bool remove;
  };
  std::vector<R> rs;
  switch (behavior) {
  case Behavior::Isolated:
    for (auto &s : spans)
      rs.push_back({s.begin, s.end, false});
    break;
  case Behavior::Removed:
    for (auto &s : spans)
      rs.push_back({s.begin, s.end, s.match});
    break;
  case Behavior::Contiguous: {
    bool previousMatch = false;
    for (auto &s : spans) {
      if (s.match == previousMatch && !rs.empty())
        rs.back().e = s.end;
      else
        rs.push_back({s.begin, s.end, false});
      previousMatch = s.match;
    }
    break;
  }
  case Behavior::MergedWithPrevious: {
    bool previousMatch = false;
    for (auto &s : spans) {
      if (s.match && !previousMatch && !rs.empty())
        rs.back().e = s.end;
      else
        rs.push_back({s.begin, s.end, false});
      previousMatch = s.match;
    }
    break;
  }
  case Behavior::MergedWithNext: {
    bool previousMatch = false;
    for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
      if (it->match && !previousMatch && !rs.empty())
        rs.back().b = it->begin;
      else
        rs.push_back({it->begin, it->end, false});
      previousMatch = it->match;
    }
    std::reverse(rs.begin(), rs.end());
    break;
  }
  }
  std::vector<std::pair<size_t, size_t>> out;
  for (auto &r : rs)
    if (!r.remove)
      out.emplace_back(r.b, r.e);
  return out;
}

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
// Normalizers
//===----------------------------------------------------------------------===//

struct NormStep {
  enum Kind { Prepend, Replace, Unicode, Lowercase, Strip } kind;
  std::string text;   // Prepend: prefix; Replace: content; Unicode: form
  Pattern pattern;    // Replace
  bool left = false;  // Strip
  bool right = false; // Strip

  void apply(std::string &s) const {
    switch (kind) {
    case Prepend:
      if (!s.empty())
        s.insert(0, text);
      return;
    case Replace: {
      std::vector<std::pair<size_t, size_t>> ms;
      pattern.matches(s, ms);
      if (ms.empty())
        return;
      std::string out;
      size_t prev = 0;
      for (auto &m : ms) {
        out.append(s, prev, m.first - prev);
        out += text;
        prev = m.second;
      }
      out.append(s, prev, std::string::npos);
      s = std::move(out);
      return;
    }
    case Unicode:
      icuNormalize(s, text);
      return;
    case Lowercase: {
      std::string out;
      out.reserve(s.size());
      for (size_t i = 0; i < s.size();) {
        size_t len;
        uint32_t cp = decodeUtf8(s, i, len);
        if (cp == 0x130) { // the one unconditional multi-char lowercase
          out += "i\xCC\x87";
        } else {
          appendUtf8(
              out, static_cast<uint32_t>(u_tolower(static_cast<UChar32>(cp))));
        }
        i += len;
      }
      s = std::move(out);
      return;
    }
    case Strip: {
      size_t b = 0, e = s.size();
      if (left)
        while (b < e) {
          size_t len;
          if (!isWhitespace(decodeUtf8(s, b, len)))
            break;
          b += len;
        }
      if (right)
        while (e > b) {
          size_t start = e - 1;
          while (start > b &&
                 (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
            --start;
          size_t len;
          if (!isWhitespace(decodeUtf8(s, start, len)))
            break;
          e = start;
        }
      s = s.substr(b, e - b);
      return;
    }
    }
  }
};

//===----------------------------------------------------------------------===//
// Pre-tokenizers
//===----------------------------------------------------------------------===//

enum class PrependScheme { First, Always, Never };

/// The GPT-2 regex of the ByteLevel pre-tokenizer.
const char kGpt2Pattern[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| "
                            "?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

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

  void apply(std::vector<Piece> &pieces) const {
    switch (kind) {
    case Split:
      splitPieces(pieces, [&](const Piece &p) {
        std::vector<Span> spans = pattern.spans(p.text);
        if (invert)
          for (Span &s : spans)
            s.match = !s.match;
        return applyBehavior(std::move(spans), behavior);
      });
      return;
    case ByteLevel: {
      for (Piece &p : pieces)
        if (p.id < 0 && addPrefixSpace && (p.text.empty() || p.text[0] != ' '))
          p.text.insert(0, " ");
      if (useRegex)
        splitPieces(pieces, [&](const Piece &p) {
          return applyBehavior(pattern.spans(p.text), Behavior::Isolated);
        });
      const ByteMap &map = byteMap();
      for (Piece &p : pieces) {
        if (p.id >= 0)
          continue;
        std::string mapped;
        mapped.reserve(p.text.size() * 2);
        for (unsigned char c : p.text)
          mapped += map.byteToUtf8[c];
        p.text = std::move(mapped);
      }
      return;
    }
    case Metaspace:
      for (Piece &p : pieces) {
        if (p.id >= 0)
          continue;
        std::string out;
        out.reserve(p.text.size() + 8);
        for (char c : p.text) {
          if (c == ' ')
            out += replacement;
          else
            out.push_back(c);
        }
        bool startsWithRep =
            out.compare(0, replacement.size(), replacement) == 0;
        if (!startsWithRep && (scheme == PrependScheme::Always ||
                               (scheme == PrependScheme::First && p.atStart)))
          out.insert(0, replacement);
        p.text = std::move(out);
      }
      if (split) {
        uint32_t rep = 0;
        size_t len;
        rep = decodeUtf8(replacement, 0, len);
        splitPieces(pieces, [&](const Piece &p) {
          return applyBehavior(
              charSpans(p.text, [&](uint32_t cp) { return cp == rep; }),
              Behavior::MergedWithNext);
        });
      }
      return;
    case Digits:
      splitPieces(pieces, [&](const Piece &p) {
        return applyBehavior(charSpans(p.text, isNumeric),
                             individualDigits ? Behavior::Isolated
                                              : Behavior::Contiguous);
      });
      return;
    case WhitespaceSplit:
      if (pattern.regex) { // "Whitespace": \w+|[^\w\s]+, inverted, removed
        splitPieces(pieces, [&](const Piece &p) {
          std::vector<Span> spans = pattern.spans(p.text);
          for (Span &s : spans)
            s.match = !s.match;
          return applyBehavior(std::move(spans), Behavior::Removed);
        });
      } else {
        splitPieces(pieces, [&](const Piece &p) {
          return applyBehavior(charSpans(p.text, isWhitespace),
                               Behavior::Removed);
        });
      }
      return;
    }
  }
};

//===----------------------------------------------------------------------===//
// Decoders
//===----------------------------------------------------------------------===//

struct DecStep {
  enum Kind { Replace, ByteFallback, Fuse, Strip, Metaspace, ByteLevel } kind;
  Pattern pattern;            // Replace
  std::string content;        // Replace: replacement text
  uint32_t stripChar = 0;     // Strip: the character; Metaspace: replacement
  size_t start = 0, stop = 0; // Strip
  bool prepend = true;        // Metaspace: prepend_scheme != never

  std::vector<std::string> apply(std::vector<std::string> tokens) const {
    switch (kind) {
    case Replace:
      for (std::string &t : tokens) {
        std::string out;
        for (const Span &s : pattern.spans(t)) {
          if (s.match)
            out += content;
          else
            out.append(t, s.begin, s.end - s.begin);
        }
        t = std::move(out);
      }
      return tokens;
    case ByteFallback: {
      std::vector<std::string> out;
      std::string bytes;
      auto flush = [&]() {
        if (bytes.empty())
          return;
        if (isValidUtf8(bytes)) {
          out.push_back(bytes);
        } else {
          for (size_t i = 0; i < bytes.size(); ++i)
            out.push_back(kReplacementChar);
        }
        bytes.clear();
      };
      for (std::string &t : tokens) {
        int byte = -1;
        if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
          char *end = nullptr;
          std::string hex = t.substr(3, 2);
          long v = std::strtol(hex.c_str(), &end, 16);
          if (end == hex.c_str() + 2 &&
              std::isxdigit(static_cast<unsigned char>(hex[0])))
            byte = static_cast<int>(v);
        }
        if (byte >= 0) {
          bytes.push_back(static_cast<char>(byte));
        } else {
          flush();
          out.push_back(std::move(t));
        }
      }
      flush();
      return out;
    }
    case Fuse: {
      std::string joined;
      for (const std::string &t : tokens)
        joined += t;
      return {joined};
    }
    case Strip:
      for (std::string &t : tokens) {
        std::vector<std::pair<size_t, uint32_t>> chars; // (offset, cp)
        for (size_t i = 0; i < t.size();) {
          size_t len;
          chars.emplace_back(i, decodeUtf8(t, i, len));
          i += len;
        }
        size_t startCut = 0;
        for (size_t i = 0; i < chars.size() && i < start; ++i) {
          if (chars[i].second != stripChar)
            break;
          startCut = i + 1;
        }
        size_t stopCut = chars.size();
        for (size_t i = 0; i < stop && i < chars.size(); ++i) {
          size_t index = chars.size() - i - 1;
          if (chars[index].second != stripChar)
            break;
          stopCut = index;
        }
        if (stopCut < startCut)
          stopCut = startCut;
        size_t b = startCut < chars.size() ? chars[startCut].first : t.size();
        size_t e = stopCut < chars.size() ? chars[stopCut].first : t.size();
        t = t.substr(b, e - b);
      }
      return tokens;
    case Metaspace:
      for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string &t = tokens[i];
        std::string out;
        for (size_t k = 0; k < t.size();) {
          size_t len;
          uint32_t cp = decodeUtf8(t, k, len);
          if (cp == stripChar) {
            if (!(i == 0 && prepend))
              out.push_back(' ');
          } else {
            out.append(t, k, len);
          }
          k += len;
        }
        tokens[i] = std::move(out);
      }
      return tokens;
    case ByteLevel: {
      const ByteMap &map = byteMap();
      std::string bytes;
      for (const std::string &t : tokens) {
        std::string mapped;
        bool ok = true;
        for (size_t k = 0; k < t.size();) {
          size_t len;
          uint32_t cp = decodeUtf8(t, k, len);
          if (cp >= 512 || map.cpToByte[cp] < 0) {
            ok = false;
            break;
          }
          mapped.push_back(static_cast<char>(map.cpToByte[cp]));
          k += len;
        }
        bytes += ok ? mapped : t;
      }
      return {toValidUtf8(bytes)};
    }
    }
    return tokens;
  }
};

//===----------------------------------------------------------------------===//
// Added tokens
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

  void add(const std::string &pattern, int32_t tokenIndex) {
    if (pattern.empty())
      return;
    if (terminal_.empty())
      terminal_.push_back(-1);
    first_[static_cast<unsigned char>(pattern[0])] = true;
    uint32_t node = 0;
    for (unsigned char c : pattern) {
      uint64_t key = (static_cast<uint64_t>(node) << 8) | c;
      auto it = edges_.find(key);
      if (it == edges_.end()) {
        uint32_t child = static_cast<uint32_t>(terminal_.size());
        terminal_.push_back(-1);
        edges_.emplace(key, child);
        node = child;
      } else {
        node = it->second;
      }
    }
    terminal_[node] = tokenIndex;
  }

  /// Finds the leftmost-longest match in `s` starting at or after `from`.
  bool find(const std::string &s, size_t from, size_t &begin, size_t &end,
            int32_t &tokenIndex) const {
    if (empty())
      return false;
    for (size_t i = from; i < s.size(); ++i) {
      if (!first_[static_cast<unsigned char>(s[i])])
        continue;
      uint32_t node = 0;
      int32_t best = -1;
      size_t bestEnd = 0;
      for (size_t j = i; j < s.size(); ++j) {
        auto it = edges_.find((static_cast<uint64_t>(node) << 8) |
                              static_cast<unsigned char>(s[j]));
        if (it == edges_.end())
          break;
        node = it->second;
        if (terminal_[node] >= 0) {
          best = terminal_[node];
          bestEnd = j + 1;
        }
      }
      if (best >= 0) {
        begin = i;
        end = bestEnd;
        tokenIndex = best;
        return true;
      }
    }
    return false;
  }

private:
  std::vector<int32_t> terminal_;
  std::unordered_map<uint64_t, uint32_t> edges_;
  bool first_[256] = {};
};

//===----------------------------------------------------------------------===//
// BPE model
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
  void tokenize(const std::string &word, std::vector<int32_t> &out) const {
    if (word.empty())
      return;
    if (ignoreMerges) {
      int32_t id = lookup(word);
      if (id >= 0) {
        out.push_back(id);
        return;
      }
    }
    bool cacheable = word.size() < kMaxCachedWordBytes;
    if (cacheable) {
      std::lock_guard<std::mutex> lock(cacheMutex);
      auto it = cache.find(word);
      if (it != cache.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int32_t> ids;
    mergeWord(word, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) {
      std::lock_guard<std::mutex> lock(cacheMutex);
      if (cache.size() < kCacheCapacity)
        cache.emplace(word, std::move(ids));
    }
  }

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
  void mergeWord(const std::string &w, std::vector<int32_t> &ids) const {
    std::vector<Symbol> symbols;
    symbols.reserve(w.size());
    auto add = [&](int32_t c, uint32_t len) {
      int32_t n = static_cast<int32_t>(symbols.size());
      if (!symbols.empty())
        symbols.back().next = n;
      symbols.push_back({c, n - 1, -1, len});
    };
    bool haveUnk = false;
    uint32_t unkLen = 0;
    std::string s;
    for (size_t i = 0; i < w.size();) {
      size_t len = utf8Len(static_cast<unsigned char>(w[i]));
      if (i + len > w.size())
        len = w.size() - i;
      bool isFirst = i == 0, isLast = i + len >= w.size();
      s.assign(w, i, len);
      if (!isFirst && hasPrefix)
        s.insert(0, prefix);
      if (isLast && hasSuffix)
        s += suffix;
      i += len;
      int32_t id = lookup(s);
      if (id >= 0) {
        if (haveUnk) {
          add(unkId, unkLen);
          haveUnk = false;
        }
        add(id, static_cast<uint32_t>(len));
        continue;
      }
      if (byteFallback) {
        bool all = true;
        for (unsigned char c : s)
          if (byteIds[c] < 0)
            all = false;
        if (all) {
          for (unsigned char c : s)
            add(byteIds[c], 1);
          continue;
        }
      }
      if (unkId >= 0) {
        if (haveUnk && fuseUnk) {
          unkLen += static_cast<uint32_t>(len);
        } else {
          if (haveUnk)
            add(unkId, unkLen);
          haveUnk = true;
          unkLen = static_cast<uint32_t>(len);
        }
      }
      // Without an unk token the character is dropped, as in `tokenizers`.
    }
    if (haveUnk)
      add(unkId, unkLen);

    // Word::merge_all: a heap of candidate merges, lowest rank first, then
    // leftmost position.
    auto lower = [](const Merge &a, const Merge &b) {
      return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    };
    std::vector<Merge> heap;
    heap.reserve(symbols.size());
    auto push = [&](uint32_t pos, int32_t a, int32_t b) {
      auto it = merges.find(key(a, b));
      if (it == merges.end())
        return;
      heap.push_back({it->second.first, pos, it->second.second});
      std::push_heap(heap.begin(), heap.end(), lower);
    };
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto it = merges.find(key(symbols[i].c, symbols[i + 1].c));
      if (it != merges.end())
        heap.push_back(
            {it->second.first, static_cast<uint32_t>(i), it->second.second});
    }
    std::make_heap(heap.begin(), heap.end(), lower);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), lower);
      Merge top = heap.back();
      heap.pop_back();
      Symbol &cur = symbols[top.pos];
      if (cur.len == 0 || cur.next == -1)
        continue;
      size_t nextPos = static_cast<size_t>(cur.next);
      Symbol right = symbols[nextPos];
      auto it = merges.find(key(cur.c, right.c));
      if (it == merges.end() || it->second.second != top.newId)
        continue; // an expired entry
      cur.c = top.newId;
      cur.len += right.len;
      cur.next = right.next;
      symbols[nextPos].len = 0;
      if (right.next > -1 && static_cast<size_t>(right.next) < symbols.size())
        symbols[static_cast<size_t>(right.next)].prev =
            static_cast<int32_t>(top.pos);
      Symbol current = symbols[top.pos];
      if (current.prev >= 0)
        push(static_cast<uint32_t>(current.prev),
             symbols[static_cast<size_t>(current.prev)].c, current.c);
      if (current.next >= 0 &&
          static_cast<size_t>(current.next) < symbols.size())
        push(top.pos, current.c, symbols[static_cast<size_t>(current.next)].c);
    }
    for (const Symbol &sym : symbols)
      if (sym.len != 0)
        ids.push_back(sym.c);
  }
};

//===----------------------------------------------------------------------===//
// JSON helpers
//===----------------------------------------------------------------------===//

std::string typeOf(const json &j, const std::string &context) {
  if (!j.is_object())
    fail(context + " must be a JSON object");
  auto it = j.find("type");
  if (it == j.end() || !it->is_string())
    fail(context + " has no \"type\" string");
  return it->get<std::string>();
}

bool getBool(const json &j, const char *key, bool dflt,
             const std::string &context) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return dflt;
  if (!it->is_boolean())
    fail(context + ": \"" + key + "\" must be a boolean");
  return it->get<bool>();
}

std::string getString(const json &j, const char *key,
                      const std::string &context) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    fail(context + ": \"" + key + "\" must be a string");
  return it->get<std::string>();
}

size_t getSize(const json &j, const char *key, const std::string &context) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned())
    fail(context + ": \"" + key + "\" must be a non-negative integer");
  return it->get<size_t>();
}

/// A single Unicode character given as a string.
uint32_t getChar(const json &j, const char *key, const std::string &context) {
  std::string s = getString(j, key, context);
  size_t len = 0;
  if (s.empty() || (decodeUtf8(s, 0, len), len != s.size()))
    fail(context + ": \"" + key + "\" must be a single character");
  return decodeUtf8(s, 0, len);
}

/// {"String": s} or {"Regex": r}.
Pattern getPattern(const json &j, const std::string &context) {
  auto it = j.find("pattern");
  if (it == j.end() || !it->is_object())
    fail(context + ": \"pattern\" must be an object {\"String\": ...} or "
                   "{\"Regex\": ...}");
  Pattern p;
  if (it->contains("String") && (*it)["String"].is_string()) {
    p.literal = (*it)["String"].get<std::string>();
    if (p.literal.empty())
      fail(context + ": empty string pattern");
  } else if (it->contains("Regex") && (*it)["Regex"].is_string()) {
    p.regex = compileRegex((*it)["Regex"].get<std::string>(), context);
  } else {
    fail(context + ": \"pattern\" must be {\"String\": ...} or "
                   "{\"Regex\": ...}");
  }
  return p;
}

PrependScheme getPrependScheme(const json &j, const std::string &context) {
  auto it = j.find("prepend_scheme");
  PrependScheme scheme = PrependScheme::Always;
  bool explicitScheme = it != j.end() && !it->is_null();
  if (explicitScheme) {
    std::string s = it->is_string() ? it->get<std::string>() : "";
    if (s == "first")
      scheme = PrependScheme::First;
    else if (s == "always")
      scheme = PrependScheme::Always;
    else if (s == "never")
      scheme = PrependScheme::Never;
    else
      fail(context + ": unknown prepend_scheme '" + it->dump() +
           "' (expected \"first\", \"always\" or \"never\")");
  }
  auto ap = j.find("add_prefix_space");
  if (ap != j.end() && ap->is_boolean() && !ap->get<bool>()) {
    if (explicitScheme && scheme != PrependScheme::Never)
      fail(context + ": add_prefix_space does not match declared "
                     "prepend_scheme");
    scheme = PrependScheme::Never;
  }
  return scheme;
}

} // namespace

//===----------------------------------------------------------------------===//
// Tokenizer::Impl
//===----------------------------------------------------------------------===//

struct Tokenizer::Impl {
  Bpe bpe;
  std::vector<AddedToken> added;
  std::unordered_map<std::string, int32_t> addedByContent;
  std::unordered_map<int32_t, size_t> addedById; // index into `added`
  std::unordered_map<int32_t, std::string> normalizedContent;
  std::unordered_set<std::string> specialContents;
  AddedMatcher rawMatcher, normMatcher;
  std::vector<NormStep> normalizer;
  std::vector<PreStep> preTokenizer;
  bool hasDecoder = false;
  std::vector<DecStep> decoder;
  int32_t bos = -1;
  int32_t vocabSize = 0;

  void loadModel(const json &model);
  void loadAddedTokens(const json &list);
  void loadNormalizer(const json &j, const std::string &context);
  void loadPreTokenizer(const json &j, const std::string &context);
  void loadDecoder(const json &j, const std::string &context);
  void loadBos(const json &root);

  void normalize(std::string &s) const {
    for (const NormStep &step : normalizer)
      step.apply(s);
  }

  /// AddedVocabulary::find_matches + split_with_indices over `piece`.
  void splitAdded(const Piece &piece, const AddedMatcher &matcher,
                  std::vector<Piece> &out) const;
  std::vector<int32_t> encode(const std::string &text) const;
  bool idToTokenForDecode(int32_t id, std::string &token) const;
  std::string decode(const std::vector<int32_t> &ids, bool skipSpecial) const;
};

void Tokenizer::Impl::loadModel(const json &model) {
  if (!model.is_object())
    fail("\"model\" must be a JSON object");
  std::string type;
  auto t = model.find("type");
  if (t != model.end() && t->is_string())
    type = t->get<std::string>();
  else if (model.contains("merges"))
    type = "BPE"; // untagged legacy form
  else
    fail("\"model\" has no \"type\"");
  if (type != "BPE")
    fail("unsupported model type '" + type + "' (only BPE is supported)");
  const std::string ctx = "model BPE";

  auto d = model.find("dropout");
  if (d != model.end() && !d->is_null()) {
    if (!d->is_number())
      fail(ctx + ": \"dropout\" must be a number or null");
    if (d->get<double>() != 0.0)
      fail(ctx + ": BPE dropout is not supported (it makes encoding random)");
  }
  bpe.fuseUnk = getBool(model, "fuse_unk", false, ctx);
  bpe.byteFallback = getBool(model, "byte_fallback", false, ctx);
  bpe.ignoreMerges = getBool(model, "ignore_merges", false, ctx);
  auto pre = model.find("continuing_subword_prefix");
  if (pre != model.end() && !pre->is_null()) {
    bpe.prefix = getString(model, "continuing_subword_prefix", ctx);
    bpe.hasPrefix = true;
  }
  auto suf = model.find("end_of_word_suffix");
  if (suf != model.end() && !suf->is_null()) {
    bpe.suffix = getString(model, "end_of_word_suffix", ctx);
    bpe.hasSuffix = true;
  }

  auto v = model.find("vocab");
  if (v == model.end() || !v->is_object())
    fail(ctx + ": \"vocab\" must be an object mapping tokens to ids");
  int64_t maxId = -1;
  bpe.vocab.reserve(v->size());
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() >= (int64_t(1) << 30))
      fail(ctx + ": vocab entry '" + it.key() +
           "' must have a non-negative integer id below 2^30");
    int32_t id = static_cast<int32_t>(it.value().get<int64_t>());
    bpe.vocab[it.key()] = id;
    maxId = std::max<int64_t>(maxId, id);
  }
  // Id tables are indexed by id: refuse vocabularies so sparse that they
  // would be mostly holes (found by the fuzzer: one huge id allocates GBs).
  if (maxId >= 2 * static_cast<int64_t>(v->size()) + 65536)
    fail(ctx + ": vocab ids are too sparse (largest id " +
         std::to_string(maxId) + " for " + std::to_string(v->size()) +
         " entries)");
  bpe.vocabR.assign(static_cast<size_t>(maxId + 1), std::string());
  bpe.hasId.assign(static_cast<size_t>(maxId + 1), false);
  for (auto &kv : bpe.vocab) {
    bpe.vocabR[static_cast<size_t>(kv.second)] = kv.first;
    bpe.hasId[static_cast<size_t>(kv.second)] = true;
  }
  vocabSize = static_cast<int32_t>(maxId + 1);

  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    bpe.byteIds[b] = bpe.lookup(name);
  }

  auto u = model.find("unk_token");
  if (u != model.end() && !u->is_null()) {
    std::string unk = getString(model, "unk_token", ctx);
    bpe.unkId = bpe.lookup(unk);
    if (bpe.unkId < 0)
      fail(ctx + ": unk_token '" + unk + "' is not in the vocabulary");
  }

  auto m = model.find("merges");
  if (m == model.end() || !m->is_array())
    fail(ctx + ": \"merges\" must be an array");
  bpe.merges.reserve(m->size());
  size_t prefixLen = bpe.hasPrefix ? bpe.prefix.size() : 0;
  uint32_t rank = 0;
  for (const json &entry : *m) {
    std::string a, b;
    if (entry.is_string()) {
      std::string line = entry.get<std::string>();
      size_t sp = line.find(' ');
      if (sp == std::string::npos ||
          line.find(' ', sp + 1) != std::string::npos)
        fail(ctx + ": merge " + std::to_string(rank + 1) + " ('" + line +
             "') is not of the form \"a b\"");
      a = line.substr(0, sp);
      b = line.substr(sp + 1);
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() &&
               entry[1].is_string()) {
      a = entry[0].get<std::string>();
      b = entry[1].get<std::string>();
    } else {
      fail(ctx + ": merge " + std::to_string(rank + 1) +
           " must be a string \"a b\" or an array [a, b]");
    }
    auto where = [&]() {
      return ctx + ": merge " + std::to_string(rank + 1) + " ('" + a + " " + b +
             "') ";
    };
    int32_t ia = bpe.lookup(a);
    if (ia < 0)
      fail(where() + "refers to token '" + a + "' which is not in the vocab");
    int32_t ib = bpe.lookup(b);
    if (ib < 0)
      fail(where() + "refers to token '" + b + "' which is not in the vocab");
    if (b.size() < prefixLen)
      fail(where() + "is shorter than continuing_subword_prefix");
    std::string merged = a + b.substr(prefixLen);
    int32_t im = bpe.lookup(merged);
    if (im < 0)
      fail(where() + "produces token '" + merged +
           "' which is not in the vocab");
    bpe.merges[Bpe::key(ia, ib)] = {rank, im};
    ++rank;
  }
}

void Tokenizer::Impl::loadAddedTokens(const json &list) {
  if (list.is_null())
    return;
  if (!list.is_array())
    fail("\"added_tokens\" must be an array");
  for (const json &j : list) {
    const std::string ctx = "added token";
    if (!j.is_object())
      fail("every entry of \"added_tokens\" must be an object");
    AddedToken tok;
    tok.content = getString(j, "content", ctx);
    std::string c = ctx + " '" + tok.content + "'";
    tok.special = getBool(j, "special", false, c);
    tok.normalized = getBool(j, "normalized", !tok.special, c);
    tok.lstrip = getBool(j, "lstrip", false, c);
    tok.rstrip = getBool(j, "rstrip", false, c);
    tok.singleWord = getBool(j, "single_word", false, c);
    if (tok.content.empty())
      continue;
    // As in `tokenizers`: a token already in the model vocabulary keeps its
    // vocabulary id; otherwise the id given in the file is used.
    int32_t vocabId = bpe.lookup(tok.content);
    if (vocabId >= 0) {
      tok.id = vocabId;
    } else {
      auto id = j.find("id");
      if (id == j.end() || !id->is_number_integer() || id->get<int64_t>() < 0 ||
          id->get<int64_t>() >= (int64_t(1) << 30))
        fail(c + ": \"id\" must be a non-negative integer below 2^30");
      tok.id = static_cast<int32_t>(id->get<int64_t>());
    }
    auto prev = addedById.find(tok.id);
    if (prev != addedById.end()) {
      added[prev->second] = tok;
    } else {
      addedById[tok.id] = added.size();
      added.push_back(tok);
    }
    addedByContent[tok.content] = tok.id;
    if (tok.special)
      specialContents.insert(tok.content);
    vocabSize = std::max(vocabSize, tok.id + 1);
  }
}

void Tokenizer::Impl::loadNormalizer(const json &j,
                                     const std::string &context) {
  std::string type = typeOf(j, context);
  std::string ctx = "normalizer " + type;
  NormStep step{};
  if (type == "Sequence") {
    auto list = j.find("normalizers");
    if (list == j.end() || !list->is_array())
      fail(ctx + ": \"normalizers\" must be an array");
    for (const json &sub : *list)
      loadNormalizer(sub, ctx);
    return;
  }
  if (type == "Prepend") {
    step.kind = NormStep::Prepend;
    step.text = getString(j, "prepend", ctx);
  } else if (type == "Replace") {
    step.kind = NormStep::Replace;
    step.pattern = getPattern(j, ctx);
    step.text = getString(j, "content", ctx);
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" ||
             type == "NFKD") {
    step.kind = NormStep::Unicode;
    step.text = type;
  } else if (type == "Lowercase") {
    step.kind = NormStep::Lowercase;
  } else if (type == "Strip") {
    step.kind = NormStep::Strip;
    step.left = getBool(j, "strip_left", false, ctx);
    step.right = getBool(j, "strip_right", false, ctx);
  } else {
    fail("unsupported normalizer '" + type +
         "' (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, "
         "Lowercase, Strip)");
  }
  normalizer.push_back(std::move(step));
}

void Tokenizer::Impl::loadPreTokenizer(const json &j,
                                       const std::string &context) {
  std::string type = typeOf(j, context);
  std::string ctx = "pre_tokenizer " + type;
  PreStep step{};
  if (type == "Sequence") {
    auto list = j.find("pretokenizers");
    if (list == j.end() || !list->is_array())
      fail(ctx + ": \"pretokenizers\" must be an array");
    for (const json &sub : *list)
      loadPreTokenizer(sub, ctx);
    return;
  }
  if (type == "Split") {
    step.kind = PreStep::Split;
    step.pattern = getPattern(j, ctx);
    std::string b = getString(j, "behavior", ctx);
    if (b == "Removed")
      step.behavior = Behavior::Removed;
    else if (b == "Isolated")
      step.behavior = Behavior::Isolated;
    else if (b == "MergedWithPrevious")
      step.behavior = Behavior::MergedWithPrevious;
    else if (b == "MergedWithNext")
      step.behavior = Behavior::MergedWithNext;
    else if (b == "Contiguous")
      step.behavior = Behavior::Contiguous;
    else
      fail(ctx + ": unknown behavior '" + b + "'");
    step.invert = getBool(j, "invert", false, ctx);
  } else if (type == "ByteLevel") {
    step.kind = PreStep::ByteLevel;
    step.addPrefixSpace = getBool(j, "add_prefix_space", true, ctx);
    step.useRegex = getBool(j, "use_regex", true, ctx);
    if (step.useRegex)
      step.pattern.regex = compileRegex(kGpt2Pattern, ctx);
  } else if (type == "Metaspace") {
    step.kind = PreStep::Metaspace;
    uint32_t rep = getChar(j, "replacement", ctx);
    appendUtf8(step.replacement, rep);
    step.scheme = getPrependScheme(j, ctx);
    step.split = getBool(j, "split", true, ctx);
  } else if (type == "Digits") {
    step.kind = PreStep::Digits;
    step.individualDigits = getBool(j, "individual_digits", false, ctx);
  } else if (type == "WhitespaceSplit") {
    step.kind = PreStep::WhitespaceSplit;
  } else if (type == "Whitespace") {
    step.kind = PreStep::WhitespaceSplit;
    step.pattern.regex = compileRegex("\\w+|[^\\w\\s]+", ctx);
  } else {
    fail("unsupported pre_tokenizer '" + type +
         "' (supported: Sequence, Split, ByteLevel, Metaspace, Digits, "
         "Whitespace, WhitespaceSplit)");
  }
  preTokenizer.push_back(std::move(step));
}

void Tokenizer::Impl::loadDecoder(const json &j, const std::string &context) {
  std::string type = typeOf(j, context);
  std::string ctx = "decoder " + type;
  DecStep step{};
  if (type == "Sequence") {
    auto list = j.find("decoders");
    if (list == j.end() || !list->is_array())
      fail(ctx + ": \"decoders\" must be an array");
    for (const json &sub : *list)
      loadDecoder(sub, ctx);
    return;
  }
  if (type == "Replace") {
    step.kind = DecStep::Replace;
    step.pattern = getPattern(j, ctx);
    step.content = getString(j, "content", ctx);
  } else if (type == "ByteFallback") {
    step.kind = DecStep::ByteFallback;
  } else if (type == "Fuse") {
    step.kind = DecStep::Fuse;
  } else if (type == "Strip") {
    step.kind = DecStep::Strip;
    step.stripChar = getChar(j, "content", ctx);
    step.start = getSize(j, "start", ctx);
    step.stop = getSize(j, "stop", ctx);
  } else if (type == "Metaspace") {
    step.kind = DecStep::Metaspace;
    step.stripChar = getChar(j, "replacement", ctx);
    step.prepend = getPrependScheme(j, ctx) != PrependScheme::Never;
  } else if (type == "ByteLevel") {
    step.kind = DecStep::ByteLevel;
  } else {
    fail("unsupported decoder '" + type +
         "' (supported: Sequence, Replace, ByteFallback, Fuse, Strip, "
         "Metaspace, ByteLevel)");
  }
  decoder.push_back(std::move(step));
}

void Tokenizer::Impl::loadBos(const json &root) {
  auto pp = root.find("post_processor");
  // Searches one post-processor; returns true when it decided the BOS.
  std::function<bool(const json &)> visit = [&](const json &p) -> bool {
    if (!p.is_object())
      return false;
    std::string type = p.value("type", "");
    if (type == "Sequence") {
      auto list = p.find("processors");
      if (list != p.end() && list->is_array())
        for (const json &sub : *list)
          if (visit(sub))
            return true;
      return false;
    }
    if (type == "TemplateProcessing") {
      auto single = p.find("single");
      if (single == p.end() || !single->is_array())
        return false;
      bos = -1;
      if (!single->empty() && (*single)[0].is_object() &&
          (*single)[0].contains("SpecialToken")) {
        const json &st = (*single)[0]["SpecialToken"];
        std::string name = st.value("id", "");
        auto specials = p.find("special_tokens");
        if (specials != p.end() && specials->is_object() &&
            specials->contains(name)) {
          const json &ids = (*specials)[name].value("ids", json::array());
          if (ids.is_array() && !ids.empty() && ids[0].is_number_integer())
            bos = static_cast<int32_t>(ids[0].get<int64_t>());
        }
        if (bos < 0) {
          auto a = addedByContent.find(name);
          bos = a != addedByContent.end() ? a->second : bpe.lookup(name);
        }
      }
      return true;
    }
    if (type == "RobertaProcessing" || type == "BertProcessing") {
      auto cls = p.find("cls");
      if (cls != p.end() && cls->is_array() && cls->size() == 2 &&
          (*cls)[1].is_number_integer()) {
        bos = static_cast<int32_t>((*cls)[1].get<int64_t>());
        return true;
      }
    }
    return false;
  };
  if (pp != root.end() && visit(*pp))
    return;
  auto s = addedByContent.find("<s>");
  bos = s != addedByContent.end() ? s->second : -1;
}

void Tokenizer::Impl::splitAdded(const Piece &piece,
                                 const AddedMatcher &matcher,
                                 std::vector<Piece> &out) const {
  const std::string &s = piece.text;
  auto emit = [&](size_t b, size_t e, int32_t id) {
    if (e <= b)
      return;
    Piece p;
    p.text = s.substr(b, e - b);
    p.id = id;
    p.atStart = piece.atStart && b == 0;
    out.push_back(std::move(p));
  };
  size_t startOffset = 0, from = 0;
  size_t mb, me;
  int32_t index;
  while (from < s.size() && matcher.find(s, from, mb, me, index)) {
    from = me;
    if (mb < startOffset)
      continue; // inside a previous token's rstrip
    const AddedToken &tok = added[static_cast<size_t>(index)];
    size_t start = mb, stop = me;
    if (tok.singleWord) {
      bool startSpace = true, stopSpace = true;
      if (start > 0) {
        size_t k = start - 1;
        while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80)
          --k;
        size_t len;
        startSpace = !isWordChar(decodeUtf8(s, k, len));
      }
      if (stop < s.size()) {
        size_t len;
        stopSpace = !isWordChar(decodeUtf8(s, stop, len));
      }
      if (!startSpace || !stopSpace)
        continue;
    }
    if (tok.lstrip) {
      size_t k = start;
      while (k > 0) {
        size_t p = k - 1;
        while (p > 0 && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80)
          --p;
        size_t len;
        if (!isWhitespace(decodeUtf8(s, p, len)))
          break;
        k = p;
      }
      start = std::max(k, startOffset);
    }
    if (tok.rstrip) {
      while (stop < s.size()) {
        size_t len;
        if (!isWhitespace(decodeUtf8(s, stop, len)))
          break;
        stop += len;
      }
    }
    emit(startOffset, start, -1);
    emit(start, stop, tok.id);
    startOffset = stop;
  }
  emit(startOffset, s.size(), -1);
}

std::vector<int32_t> Tokenizer::Impl::encode(const std::string &input) const {
  std::vector<int32_t> ids;
  Piece whole;
  whole.text = toValidUtf8(input);
  whole.atStart = true;
  if (whole.text.empty())
    return ids;

  // 1. Added tokens matched on the raw text.
  std::vector<Piece> pieces;
  splitAdded(whole, rawMatcher, pieces);

  // 2. Normalization, then added tokens matched on the normalized text.
  std::vector<Piece> normalized;
  normalized.reserve(pieces.size());
  for (Piece &p : pieces) {
    if (p.id >= 0) {
      normalized.push_back(std::move(p));
      continue;
    }
    normalize(p.text);
    splitAdded(p, normMatcher, normalized);
  }

  // 3. Pre-tokenization.
  for (const PreStep &step : preTokenizer)
    step.apply(normalized);

  // 4. The model.
  for (const Piece &p : normalized) {
    if (p.id >= 0)
      ids.push_back(p.id);
    else
      bpe.tokenize(p.text, ids);
  }
  return ids;
}

bool Tokenizer::Impl::idToTokenForDecode(int32_t id, std::string &token) const {
  auto a = addedById.find(id);
  if (a != addedById.end()) {
    auto n = normalizedContent.find(id);
    token = n != normalizedContent.end() ? n->second : added[a->second].content;
    return true;
  }
  if (id >= 0 && static_cast<size_t>(id) < bpe.hasId.size() &&
      bpe.hasId[static_cast<size_t>(id)]) {
    token = bpe.vocabR[static_cast<size_t>(id)];
    return true;
  }
  return false;
}

std::string Tokenizer::Impl::decode(const std::vector<int32_t> &ids,
                                    bool skipSpecial) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    std::string t;
    if (!idToTokenForDecode(id, t))
      continue;
    if (skipSpecial && specialContents.count(t))
      continue;
    tokens.push_back(std::move(t));
  }
  std::string out;
  if (!hasDecoder) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i)
        out += ' ';
      out += tokens[i];
    }
    return out;
  }
  for (const DecStep &step : decoder)
    tokens = step.apply(std::move(tokens));
  for (const std::string &t : tokens)
    out += t;
  return out;
}

//===----------------------------------------------------------------------===//
// Tokenizer
//===----------------------------------------------------------------------===//

namespace {

std::unique_ptr<Tokenizer::Impl>
loadImpl(const std::string &text, const std::string &name, std::string &error) {
  try {
    json root;
    try {
      root = json::parse(text);
    } catch (const json::exception &e) {
      error = name + ": malformed JSON: " + e.what();
      return nullptr;
    }
    if (!root.is_object())
      fail("the top level must be a JSON object");
    auto version = root.find("version");
    if (version != root.end() && !version->is_null() &&
        (!version->is_string() || version->get<std::string>() != "1.0"))
      fail("unsupported tokenizer.json version " + version->dump() +
           " (expected \"1.0\")");

    auto impl = std::make_unique<Tokenizer::Impl>();
    auto model = root.find("model");
    if (model == root.end())
      fail("no \"model\" section");
    impl->loadModel(*model);

    auto norm = root.find("normalizer");
    if (norm != root.end() && !norm->is_null())
      impl->loadNormalizer(*norm, "normalizer");
    auto pre = root.find("pre_tokenizer");
    if (pre != root.end() && !pre->is_null())
      impl->loadPreTokenizer(*pre, "pre_tokenizer");
    auto dec = root.find("decoder");
    if (dec != root.end() && !dec->is_null()) {
      impl->hasDecoder = true;
      impl->loadDecoder(*dec, "decoder");
    }
    auto addedList = root.find("added_tokens");
    if (addedList != root.end())
      impl->loadAddedTokens(*addedList);

    // The matchers: tokens with `normalized` are matched on normalized text,
    // in their normalized form.
    for (size_t i = 0; i < impl->added.size(); ++i) {
      const AddedToken &tok = impl->added[i];
      if (!tok.normalized) {
        impl->rawMatcher.add(tok.content, static_cast<int32_t>(i));
        continue;
      }
      std::string pattern = tok.content;
      impl->normalize(pattern);
      if (pattern != tok.content)
        impl->normalizedContent[tok.id] = pattern;
      impl->normMatcher.add(pattern, static_cast<int32_t>(i));
    }
    impl->loadBos(root);
    return impl;
  } catch (const LoadError &e) {
    error = name + ": " + e.message;
  } catch (const std::exception &e) {
    error = name + ": invalid tokenizer: " + e.what();
  } catch (...) {
    error = name + ": invalid tokenizer";
  }
  return nullptr;
}

} // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::fromFile(const std::string &path,
                                               std::string &error) {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = path + ": cannot open file: " + std::strerror(errno);
      return nullptr;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
      error = path + ": cannot read file";
      return nullptr;
    }
    std::unique_ptr<Impl> impl = loadImpl(ss.str(), path, error);
    if (!impl)
      return nullptr;
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
  } catch (const std::exception &e) {
    error = path + ": " + e.what();
  } catch (...) {
    error = path + ": cannot load tokenizer";
  }
  return nullptr;
}

std::unique_ptr<Tokenizer> Tokenizer::fromJson(const std::string &jsonText,
                                               std::string &error) {
  try {
    std::unique_ptr<Impl> impl = loadImpl(jsonText, "tokenizer.json", error);
    if (!impl)
      return nullptr;
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
  } catch (const std::exception &e) {
    error = std::string("tokenizer.json: ") + e.what();
  } catch (...) {
    error = "tokenizer.json: cannot load tokenizer";
  }
  return nullptr;
}

std::vector<int32_t> Tokenizer::encode(const std::string &text) const {
  try {
    return impl_->encode(text);
  } catch (...) {
    return {}; // only std::bad_alloc can get here
  }
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
  return decode(ids, /*skipSpecialTokens=*/true);
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids,
                              bool skipSpecialTokens) const {
  try {
    return impl_->decode(ids, skipSpecialTokens);
  } catch (...) {
    return {};
  }
}

int32_t Tokenizer::vocabSize() const { return impl_->vocabSize; }

int32_t Tokenizer::tokenToId(const std::string &token) const {
  auto a = impl_->addedByContent.find(token);
  if (a != impl_->addedByContent.end())
    return a->second;
  return impl_->bpe.lookup(token);
}

std::string Tokenizer::idToToken(int32_t id) const {
  std::string t;
  try {
    if (impl_->idToTokenForDecode(id, t))
      return t;
  } catch (...) {
  }
  return {};
}

bool Tokenizer::isSpecial(int32_t id) const {
  auto a = impl_->addedById.find(id);
  return a != impl_->addedById.end() && impl_->added[a->second].special;
}

int32_t Tokenizer::bosId() const { return impl_->bos; }

//===----------------------------------------------------------------------===//
// Paragraphs
//===----------------------------------------------------------------------===//

namespace {

/// `s` without leading and trailing (Python) whitespace; `s` is valid UTF-8.
std::string stripPython(const std::string &s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    size_t len;
    if (!isPythonSpace(decodeUtf8(s, b, len)))
      break;
    b += len;
  }
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
      --start;
    size_t len;
    if (!isPythonSpace(decodeUtf8(s, start, len)))
      break;
    e = start;
  }
  return s.substr(b, e - b);
}

bool isBlankLine(const std::string &s, size_t b, size_t e) {
  while (b < e) {
    size_t len;
    if (!isPythonSpace(decodeUtf8(s, b, len)))
      return false;
    b += len;
  }
  return true;
}

} // namespace

std::vector<std::string> qrt::splitParagraphs(const std::string &input) {
  std::vector<std::string> out;
  try {
    std::string text = toValidUtf8(input);
    size_t paraStart = 0, lineStart = 0;
    auto flush = [&](size_t end) {
      if (end > paraStart) {
        std::string p = stripPython(text.substr(paraStart, end - paraStart));
        if (!p.empty())
          out.push_back(std::move(p));
      }
    };
    // A line strictly between two newlines that is empty or whitespace-only
    // ends a paragraph (the text split on /\n\s*\n/).
    while (lineStart <= text.size()) {
      size_t nl = text.find('\n', lineStart);
      if (nl == std::string::npos)
        break;
      size_t next = nl + 1;
      size_t nextNl = text.find('\n', next);
      if (nextNl != std::string::npos && isBlankLine(text, next, nextNl)) {
        flush(nl);
        // Skip every following blank line.
        size_t k = nextNl;
        while (true) {
          size_t after = text.find('\n', k + 1);
          if (after == std::string::npos || !isBlankLine(text, k + 1, after))
            break;
          k = after;
        }
        paraStart = k + 1;
        lineStart = k + 1;
        continue;
      }
      lineStart = next;
    }
    flush(text.size());
  } catch (...) {
    out.clear();
  }
  return out;
}

std::vector<int32_t> qrt::encodeParagraphsWithBos(const Tokenizer &tok,
                                                  const std::string &text,
                                                  int32_t bos) {
  return encodeParagraphsWithBos(tok, text, bos, nullptr);
}

std::vector<int32_t> qrt::encodeParagraphsWithBos(const Tokenizer &tok,
                                                  const std::string &text,
                                                  int32_t bos,
                                                  size_t *numParagraphs) {
  std::vector<int32_t> out;
  std::vector<std::string> paragraphs = splitParagraphs(text);
  if (numParagraphs)
    *numParagraphs = paragraphs.size();
  try {
    for (const std::string &p : paragraphs) {
      out.push_back(bos);
      std::vector<int32_t> ids = tok.encode(p);
      out.insert(out.end(), ids.begin(), ids.end());
    }
  } catch (...) {
    out.clear();
  }
  return out;
}
