//===- Tokenizer.cpp - Hugging Face tokenizer.json tokenizer --------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TokenizerInternal.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

using namespace qrt;
using namespace qrt::detail;

//===----------------------------------------------------------------------===//
// JSON helpers
//===----------------------------------------------------------------------===//

namespace qrt {
namespace detail {

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

} // namespace detail
} // namespace qrt

//===----------------------------------------------------------------------===//
// Tokenizer::Impl
//===----------------------------------------------------------------------===//

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

bool Tokenizer::isSupported() { return true; }

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
