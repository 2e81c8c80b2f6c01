//===- Bpe.cpp - the BPE model of tokenizer.json --------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TokenizerInternal.h"

#include <cstdio>

using namespace qrt;
using namespace qrt::detail;

void Bpe::tokenize(const std::string &word, std::vector<int32_t> &out) const {
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

void Bpe::mergeWord(const std::string &w, std::vector<int32_t> &ids) const {
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
    if (current.next >= 0 && static_cast<size_t>(current.next) < symbols.size())
      push(top.pos, current.c, symbols[static_cast<size_t>(current.next)].c);
  }
  for (const Symbol &sym : symbols)
    if (sym.len != 0)
      ids.push_back(sym.c);
}

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
