//===- GGUFFile.h - A GGUF (llama.cpp) file writer --------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// GGUF version 3, as llama.cpp's ggml reads it: the magic "GGUF", the
// version, the tensor and metadata counts, the metadata (typed key / value
// pairs), the tensor infos (name, dimensions innermost first, ggml type,
// offset into the data), then the tensor data, each tensor aligned to
// `general.alignment` (32) bytes. Little-endian throughout.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_EXPORT_GGUFFILE_H
#define QOPT_LIB_EXPORT_GGUFFILE_H

#include "mlir/Support/LLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::qopt::gguf {

/// ggml's tensor types that qopt writes.
enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
  BF16 = 30,
};

/// Values per block and bytes per block of a ggml type.
int64_t blockValues(TensorType type);
int64_t blockBytes(TensorType type);
const char *typeName(TensorType type);

/// Builds a GGUF file in memory order: metadata, then tensors.
class Writer {
public:
  void addString(StringRef key, StringRef value);
  void addUInt32(StringRef key, uint32_t value);
  void addFloat32(StringRef key, float value);
  void addBool(StringRef key, bool value);
  void addStringArray(StringRef key, const std::vector<std::string> &values);
  void addFloat32Array(StringRef key, const std::vector<float> &values);
  void addInt32Array(StringRef key, const std::vector<int32_t> &values);

  /// Adds a tensor of `dims` (innermost first, as ggml's ne) whose bytes
  /// are `data` in ggml's layout of `type`.
  void addTensor(std::string name, std::vector<int64_t> dims, TensorType type,
                 std::vector<uint8_t> data);

  /// Writes the file.
  void write(llvm::raw_ostream &os) const;

private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> dims;
    TensorType type;
    std::vector<uint8_t> data;
  };
  void key(StringRef key, uint32_t valueType);

  std::string metadata; // the encoded key / value pairs
  uint64_t metadataCount = 0;
  std::vector<Tensor> tensors;
};

/// Adds llama.cpp's "llama" (SentencePiece) vocabulary, read from the
/// checkpoint directory's tokenizer.json (a byte-fallback BPE with the "▁"
/// word prefix, as Llama 2's), tokenizer_config.json and `config`: tokens,
/// scores (a merge's rank orders llama.cpp's merges as it ordered Hugging
/// Face's), token types, and the special token ids. Fails naming the file
/// and the problem for another kind of tokenizer.
LogicalResult addLlamaVocab(StringRef dir, const llvm::json::Object &config,
                            Writer &writer, std::string &error);

} // namespace mlir::qopt::gguf

#endif // QOPT_LIB_EXPORT_GGUFFILE_H
