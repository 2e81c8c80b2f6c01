//===- Paragraphs.cpp - paragraph splitting for tokenization --------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TokenizerInternal.h"

using namespace qrt;
using namespace qrt::detail;

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
