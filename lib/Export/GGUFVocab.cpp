//===- GGUFVocab.cpp - A tokenizer.json as llama.cpp's vocabulary ---------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// llama.cpp's "llama" vocabulary is SentencePiece's: pieces with scores, and
// llama.cpp merges the adjacent pair whose merged piece has the highest
// score. Hugging Face keeps such a tokenizer as a BPE whose merges are ranked
// (Llama 2's were made from the SentencePiece scores), so a piece made by
// the merge of rank r scores -r: the same merges, in the same order. Pieces
// no merge makes (characters, bytes, special tokens) score 0.
//
//===----------------------------------------------------------------------===//

#include "GGUFFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <functional>
#include <map>

using namespace mlir;
using namespace mlir::qopt;
using llvm::json::Object;

namespace {
/// llama.cpp's token types.
enum TokenType : int32_t {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Byte = 6,
};
} // namespace

static FailureOr<llvm::json::Value> readJson(const std::string &path,
                                             std::string &error) {
  auto file = llvm::MemoryBuffer::getFile(path);
  if (!file) {
    error = path + ": " + file.getError().message();
    return failure();
  }
  llvm::Expected<llvm::json::Value> v = llvm::json::parse((*file)->getBuffer());
  if (!v) {
    error = path + ": not JSON: " + llvm::toString(v.takeError());
    return failure();
  }
  return std::move(*v);
}

/// Whether the tokenizer puts "▁" before the text (SentencePiece's
/// add_dummy_prefix): a Prepend normalizer or a Metaspace pre-tokenizer.
static bool addsSpacePrefix(const Object &tok) {
  std::function<bool(const llvm::json::Value *)> has =
      [&](const llvm::json::Value *v) -> bool {
    const Object *o = v ? v->getAsObject() : nullptr;
    if (!o)
      return false;
    std::optional<StringRef> type = o->getString("type");
    if (type == "Prepend")
      return true;
    if (type == "Metaspace")
      return o->getString("prepend_scheme").value_or("always") != "never";
    for (const char *list : {"normalizers", "pretokenizers"})
      if (const llvm::json::Array *a = o->getArray(list))
        for (const llvm::json::Value &e : *a)
          if (has(&e))
            return true;
    return false;
  };
  return has(tok.get("normalizer")) || has(tok.get("pre_tokenizer"));
}

LogicalResult gguf::addLlamaVocab(StringRef dirRef, const Object &config,
                                  Writer &writer, std::string &error) {
  std::string dir = dirRef.str(), path = dir + "/tokenizer.json";
  FailureOr<llvm::json::Value> parsed = readJson(path, error);
  if (failed(parsed))
    return failure();
  const Object *tok = parsed->getAsObject();
  const Object *model = tok ? tok->getObject("model") : nullptr;
  const Object *vocab = model ? model->getObject("vocab") : nullptr;
  const llvm::json::Array *merges = model ? model->getArray("merges") : nullptr;
  if (!model || model->getString("type") != "BPE" || !vocab || !merges ||
      model->getBoolean("byte_fallback") != true || !addsSpacePrefix(*tok)) {
    error = path + ": not a SentencePiece-style BPE (byte fallback, \"▁\" "
                   "word prefix) tokenizer; qopt's GGUF export writes "
                   "llama.cpp's \"llama\" vocabulary only";
    return failure();
  }
  size_t size = vocab->size();
  std::vector<std::string> tokens(size);
  std::vector<bool> seen(size);
  std::map<std::string, int64_t> ids;
  for (const auto &[piece, idValue] : *vocab) {
    std::optional<int64_t> id = idValue.getAsInteger();
    if (!id || *id < 0 || size_t(*id) >= size || seen[*id]) {
      error = path + ": the vocabulary's ids are not 0.." +
              std::to_string(size - 1) + ", each once";
      return failure();
    }
    seen[*id] = true;
    tokens[*id] = piece.str();
    ids[piece.str()] = *id;
  }
  std::vector<float> scores(size, 0.0f);
  std::vector<bool> scored(size);
  for (size_t rank = 0; rank < merges->size(); ++rank) {
    const llvm::json::Value &m = (*merges)[rank];
    std::string merged;
    if (std::optional<StringRef> s = m.getAsString()) {
      auto [a, b] = s->split(' ');
      merged = (a + b).str();
    } else if (const llvm::json::Array *pair = m.getAsArray();
               pair && pair->size() == 2 && (*pair)[0].getAsString() &&
               (*pair)[1].getAsString()) {
      merged = (*(*pair)[0].getAsString() + *(*pair)[1].getAsString()).str();
    } else {
      error = path + ": merge " + std::to_string(rank) +
              " is neither \"a b\" nor [a, b]";
      return failure();
    }
    auto it = ids.find(merged);
    if (it == ids.end() || scored[it->second])
      continue;
    scored[it->second] = true;
    scores[it->second] = -static_cast<float>(rank);
  }
  std::vector<int32_t> types(size, Normal);
  for (size_t i = 0; i < size; ++i)
    if (tokens[i].size() == 6 && StringRef(tokens[i]).starts_with("<0x") &&
        tokens[i].back() == '>')
      types[i] = Byte;
  int64_t unk = -1;
  if (std::optional<StringRef> u = model->getString("unk_token"))
    if (auto it = ids.find(u->str()); it != ids.end())
      unk = it->second;
  if (const llvm::json::Array *added = tok->getArray("added_tokens")) {
    for (const llvm::json::Value &a : *added) {
      const Object *o = a.getAsObject();
      std::optional<int64_t> id = o ? o->getInteger("id") : std::nullopt;
      if (!id || *id < 0 || size_t(*id) >= size)
        continue; // added beyond the vocabulary: llama.cpp has no slot
      types[*id] =
          o->getBoolean("special").value_or(false) ? Control : UserDefined;
    }
  }
  if (unk >= 0)
    types[unk] = Unknown;

  writer.addString("tokenizer.ggml.model", "llama");
  writer.addStringArray("tokenizer.ggml.tokens", tokens);
  writer.addFloat32Array("tokenizer.ggml.scores", scores);
  writer.addInt32Array("tokenizer.ggml.token_type", types);
  auto firstId = [&](StringRef key) -> std::optional<int64_t> {
    if (std::optional<int64_t> v = config.getInteger(key))
      return v;
    if (const llvm::json::Array *a = config.getArray(key))
      if (!a->empty())
        return (*a)[0].getAsInteger();
    return std::nullopt;
  };
  for (auto [key, ggufKey] :
       {std::pair<const char *, const char *>{"bos_token_id",
                                              "tokenizer.ggml.bos_token_id"},
        {"eos_token_id", "tokenizer.ggml.eos_token_id"},
        {"pad_token_id", "tokenizer.ggml.padding_token_id"}})
    if (std::optional<int64_t> id = firstId(key); id && *id >= 0)
      writer.addUInt32(ggufKey, uint32_t(*id));
  if (unk >= 0)
    writer.addUInt32("tokenizer.ggml.unknown_token_id", uint32_t(unk));
  bool addBos = true, addEos = false;
  std::string configPath = dir + "/tokenizer_config.json";
  if (llvm::sys::fs::exists(configPath)) {
    FailureOr<llvm::json::Value> tc = readJson(configPath, error);
    if (failed(tc))
      return failure();
    if (const Object *o = tc->getAsObject()) {
      addBos = o->getBoolean("add_bos_token").value_or(addBos);
      addEos = o->getBoolean("add_eos_token").value_or(addEos);
    }
  }
  writer.addBool("tokenizer.ggml.add_bos_token", addBos);
  writer.addBool("tokenizer.ggml.add_eos_token", addEos);
  writer.addBool("tokenizer.ggml.add_space_prefix", true);
  return success();
}
