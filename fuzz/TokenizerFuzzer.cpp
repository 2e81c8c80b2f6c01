//===- TokenizerFuzzer.cpp - Fuzz the tokenizer.json loader ---------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Feeds each input as tokenizer.json text to qrt::Tokenizer::fromJson. When
// it loads, encodes a few fixed strings and the input's first bytes (often
// invalid UTF-8), checks that every id names a token, and decodes the ids
// back, plus ids that name nothing.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Tokenizer.h"

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

static void check(bool cond, const char *what) {
  if (!cond) {
    std::fprintf(stderr, "TokenizerFuzzer: invariant violated: %s\n", what);
    std::abort();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  std::string error;
  std::unique_ptr<qrt::Tokenizer> tok = qrt::Tokenizer::fromJson(text, error);
  if (!tok) {
    check(!error.empty(), "failed load without an error message");
    return 0;
  }
  int32_t vocab = tok->vocabSize();
  check(vocab >= 0, "negative vocabSize()");
  const std::string samples[] = {
      "",
      "Hello world! The quick brown fox's 12 tails.",
      "  two  spaces\n\nnew\tlines \r\n",
      "\xC3\xBC\x6E\xC3\xAF \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82",
      "<s>special</s> <unk> <|endoftext|>",
      text.substr(0, 64),
  };
  for (const std::string &s : samples) {
    std::vector<int32_t> ids = tok->encode(s);
    for (int32_t id : ids) {
      check(id >= 0 && id < vocab, "encode() produced an id out of range");
      (void)tok->idToToken(id);
      (void)tok->isSpecial(id);
    }
    (void)tok->decode(ids);
    (void)tok->decode(ids, /*skipSpecialTokens=*/false);
  }
  (void)tok->decode({-1, 0, 1, vocab - 1, vocab, INT32_MAX, INT32_MIN});
  (void)tok->decode({-1, 0, vocab, INT32_MAX}, /*skipSpecialTokens=*/false);
  (void)tok->idToToken(-1);
  (void)tok->idToToken(vocab);
  (void)tok->tokenToId("<s>");
  (void)tok->bosId();
  (void)qrt::encodeParagraphsWithBos(*tok, "one\n\n  two\nthree\n \n", 1);
  return 0;
}
