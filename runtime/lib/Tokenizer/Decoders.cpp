//===- Decoders.cpp - tokenizer.json decoders -----------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TokenizerInternal.h"

#include <cctype>
#include <cstdlib>

using namespace qrt;
using namespace qrt::detail;

std::vector<std::string> DecStep::apply(std::vector<std::string> tokens) const {
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
