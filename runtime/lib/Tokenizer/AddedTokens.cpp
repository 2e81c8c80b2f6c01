//===- AddedTokens.cpp - tokenizer.json added tokens ----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TokenizerInternal.h"

using namespace qrt;
using namespace qrt::detail;

void AddedMatcher::add(const std::string &pattern, int32_t tokenIndex) {
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

bool AddedMatcher::find(const std::string &s, size_t from, size_t &begin,
                        size_t &end, int32_t &tokenIndex) const {
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
