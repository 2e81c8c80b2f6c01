//===- PreTokenizers.cpp - tokenizer.json pre-tokenizers ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TokenizerInternal.h"

using namespace qrt;
using namespace qrt::detail;

namespace {

/// The GPT-2 regex of the ByteLevel pre-tokenizer.
const char kGpt2Pattern[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| "
                            "?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

} // namespace

void PreStep::apply(std::vector<Piece> &pieces) const {
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
      bool startsWithRep = out.compare(0, replacement.size(), replacement) == 0;
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
