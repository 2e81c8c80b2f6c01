//===- Unicode.cpp - UTF-8, Unicode and the GPT-2 byte map ----------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TokenizerInternal.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <climits>

namespace {

bool isAscii(const std::string &s) {
  for (unsigned char c : s)
    if (c >= 0x80)
      return false;
  return true;
}

} // namespace

namespace qrt {
namespace detail {

//===----------------------------------------------------------------------===//
// UTF-8 and Unicode helpers
//===----------------------------------------------------------------------===//

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
std::string toValidUtf8(const std::string &in, bool *valid) {
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

ByteMap::ByteMap() {
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

const ByteMap &byteMap() {
  static const ByteMap map;
  return map;
}

} // namespace detail
} // namespace qrt
