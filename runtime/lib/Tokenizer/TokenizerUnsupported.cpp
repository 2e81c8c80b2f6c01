//===- TokenizerUnsupported.cpp - The tokenizer API without a tokenizer ---===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What QoptRuntime holds in place of the tokenizer when it is built with
// QOPT_RUNTIME_TOKENIZER=OFF (no PCRE2, no ICU): loading a tokenizer fails
// with one clear message, so no Tokenizer object can exist and the other
// members are never reached.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Tokenizer.h"

using namespace qrt;

namespace {
const char *const kUnsupported = "this runtime was built without tokenizer "
                                 "support (QOPT_RUNTIME_TOKENIZER=OFF)";
} // namespace

struct Tokenizer::Impl {};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

bool Tokenizer::isSupported() { return false; }

std::unique_ptr<Tokenizer> Tokenizer::fromFile(const std::string &path,
                                               std::string &error) {
  error = path + ": " + kUnsupported;
  return nullptr;
}

std::unique_ptr<Tokenizer> Tokenizer::fromJson(const std::string &,
                                               std::string &error) {
  error = std::string("tokenizer.json: ") + kUnsupported;
  return nullptr;
}

std::vector<int32_t> Tokenizer::encode(const std::string &) const { return {}; }
std::string Tokenizer::decode(const std::vector<int32_t> &) const { return ""; }
std::string Tokenizer::decode(const std::vector<int32_t> &, bool) const {
  return "";
}
int32_t Tokenizer::vocabSize() const { return 0; }
int32_t Tokenizer::tokenToId(const std::string &) const { return -1; }
std::string Tokenizer::idToToken(int32_t) const { return ""; }
bool Tokenizer::isSpecial(int32_t) const { return false; }
int32_t Tokenizer::bosId() const { return -1; }

std::vector<int32_t>
qrt::encodeParagraphsWithBos(const Tokenizer &, const std::string &, int32_t) {
  return {};
}
std::vector<int32_t> qrt::encodeParagraphsWithBos(const Tokenizer &,
                                                  const std::string &, int32_t,
                                                  size_t *numParagraphs) {
  if (numParagraphs)
    *numParagraphs = 0;
  return {};
}
std::vector<std::string> qrt::splitParagraphs(const std::string &) {
  return {};
}
