//===- Tokenizer.h - Hugging Face tokenizer.json tokenizer ------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A tokenizer driven by a Hugging Face `tokenizer.json`, reproducing the
// `tokenizers` library token for token for BPE models:
//  - SentencePiece-style BPE (Llama-2, Mistral): byte fallback, fused unk,
//    normalizer Sequence[Prepend("▁"), Replace(" " -> "▁")] or the older
//    Metaspace pre-tokenizer, decoder Sequence[Replace, ByteFallback, Fuse,
//    Strip] or Metaspace;
//  - byte-level BPE (GPT-2, Qwen2, Llama-3): ByteLevel pre-tokenizer with its
//    GPT-2 regex and/or Split(Regex) pre-tokenizers, NFC normalizer, ByteLevel
//    decoder.
// Added tokens (special or not) found literally in the text are matched as
// single tokens, as Hugging Face does. Anything else in the file (another
// model type, an unknown normalizer, pre-tokenizer or decoder) is refused
// with a clear error when loading. Pure C++ (no MLIR, no LLVM): the runtime
// uses it too. No exception escapes the API.
//
// The tokenizer is an optional part of the runtime (it alone needs PCRE2
// and ICU): in a runtime built with QOPT_RUNTIME_TOKENIZER=OFF, isSupported()
// is false, fromFile / fromJson fail with "<file>: this runtime was built
// without tokenizer support (QOPT_RUNTIME_TOKENIZER=OFF)", and
// splitParagraphs returns no paragraph.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_FRONTEND_TOKENIZER_H
#define QOPT_FRONTEND_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qrt {

class Tokenizer {
public:
  /// False in a runtime built without the tokenizer.
  static bool isSupported();
  /// Loads tokenizer.json; on failure returns null and sets `error` to one
  /// clear message naming the file and problem (missing file, malformed JSON,
  /// unsupported model type / normalizer / pre-tokenizer / decoder, merges
  /// referring to tokens missing from the vocabulary, ...).
  static std::unique_ptr<Tokenizer> fromFile(const std::string &path,
                                             std::string &error);
  /// Same as fromFile for an in-memory tokenizer.json; messages name it
  /// "tokenizer.json".
  static std::unique_ptr<Tokenizer> fromJson(const std::string &jsonText,
                                             std::string &error);
  ~Tokenizer();
  Tokenizer(const Tokenizer &) = delete;
  Tokenizer &operator=(const Tokenizer &) = delete;

  /// Encodes `text` WITHOUT adding special tokens (no BOS/EOS). Added and
  /// special tokens that appear literally in the text are still matched as
  /// single tokens, as Hugging Face does. Bytes of `text` that are not valid
  /// UTF-8 are read as U+FFFD. Thread-safe.
  std::vector<int32_t> encode(const std::string &text) const;
  /// Decodes ids to text following the tokenizer.json decoder with
  /// skip_special_tokens semantics: special added tokens are dropped, and so
  /// are ids that name no token.
  std::string decode(const std::vector<int32_t> &ids) const;
  /// Same, keeping the special tokens when `skipSpecialTokens` is false.
  std::string decode(const std::vector<int32_t> &ids,
                     bool skipSpecialTokens) const;

  /// One more than the largest id of the vocabulary and the added tokens.
  int32_t vocabSize() const;
  /// Id of a token string (added tokens first, then the model vocabulary), or
  /// -1.
  int32_t tokenToId(const std::string &token) const;
  /// The token string of `id`, or "" when no token has that id.
  std::string idToToken(int32_t id) const;
  /// True when `id` is an added token marked special.
  bool isSpecial(int32_t id) const;
  /// The beginning-of-sequence id: the first special token of the
  /// post_processor's single-sequence template (TemplateProcessing), else
  /// the added token "<s>", else -1.
  int32_t bosId() const;

  struct Impl;

private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Splits `text` into paragraphs on blank lines (one or more lines that are
/// empty or whitespace-only), strips each paragraph of leading/trailing
/// whitespace, drops empty ones, encodes each without special tokens and
/// prepends `bos` to each. `numParagraphs`, when given, receives the number
/// of paragraphs encoded.
std::vector<int32_t> encodeParagraphsWithBos(const Tokenizer &tok,
                                             const std::string &text,
                                             int32_t bos);
std::vector<int32_t> encodeParagraphsWithBos(const Tokenizer &tok,
                                             const std::string &text,
                                             int32_t bos,
                                             size_t *numParagraphs);

/// The paragraphs of `text` as encodeParagraphsWithBos sees them.
std::vector<std::string> splitParagraphs(const std::string &text);

} // namespace qrt

#endif // QOPT_FRONTEND_TOKENIZER_H
