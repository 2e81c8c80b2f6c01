//===- Normalizers.cpp - tokenizer.json normalizers -----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TokenizerInternal.h"

#include <unicode/uchar.h>

using namespace qrt;
using namespace qrt::detail;

void NormStep::apply(std::string &s) const {
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
        appendUtf8(out,
                   static_cast<uint32_t>(u_tolower(static_cast<UChar32>(cp))));
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
