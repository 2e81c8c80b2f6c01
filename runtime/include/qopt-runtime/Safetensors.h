//===- Safetensors.h - safetensors reader and writer ------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reads safetensors files through mmap (single files and sharded checkpoints
// with model.safetensors.index.json) and writes them atomically (temporary
// file + rename). Every header is validated: bounded length, valid JSON,
// known dtypes, shape x dtype size == byte span, offsets inside the file, no
// overlapping tensors. Pure C++ (no MLIR, no LLVM): the runtime uses it too.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_FRONTEND_SAFETENSORS_H
#define QOPT_FRONTEND_SAFETENSORS_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qrt {

/// safetensors element types.
enum class DType {
  F64,
  F32,
  F16,
  BF16,
  I64,
  I32,
  I16,
  I8,
  U8,
  BOOL,
  F8_E4M3,
  F8_E5M2
};

/// Size in bytes of one element.
size_t dtypeSize(DType dtype);
/// The safetensors spelling ("F32", "BF16", "F8_E4M3", ...).
const char *dtypeName(DType dtype);
/// Parses a safetensors dtype name; false if unknown.
bool parseDType(const std::string &name, DType &out);

/// A view of one tensor's bytes inside a mapped file.
struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr; // little-endian, row-major
  size_t nbytes = 0;
  std::string file; // the file it lives in

  int64_t numElements() const;
  /// Converts any float/int dtype to float32 (exact for every dtype but F64,
  /// I64 and large I32 values, which round to nearest).
  std::vector<float> toFloat() const;
  /// Element i as float.
  float getFloat(size_t i) const;
};

/// One memory-mapped safetensors file.
class SafetensorsFile {
public:
  /// Maps and validates `path`. On failure returns null and sets `error` to
  /// one message naming the file and the problem.
  static std::unique_ptr<SafetensorsFile> open(const std::string &path,
                                               std::string &error);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;

  const std::string &path() const { return path_; }
  const std::map<std::string, TensorView> &tensors() const { return tensors_; }
  const TensorView *find(const std::string &name) const;
  const std::map<std::string, std::string> &metadata() const {
    return metadata_;
  }

private:
  SafetensorsFile() = default;
  std::string path_;
  void *mapping_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// A set of safetensors files seen as one store: a single file, a sharded
/// checkpoint (model.safetensors.index.json), or a directory holding either.
class TensorStore {
public:
  /// Opens `path` (a .safetensors file, an index .json, or a directory).
  /// With `headersOnly`, shards are validated and indexed but a tensor's data
  /// pointer is still valid (files stay mapped; pages are only touched on
  /// access).
  static std::unique_ptr<TensorStore> open(const std::string &path,
                                           std::string &error);

  /// The tensor `name`, or null.
  const TensorView *find(const std::string &name) const;
  /// All tensor names, sorted.
  std::vector<std::string> names() const;
  /// The files of the store.
  const std::vector<std::unique_ptr<SafetensorsFile>> &files() const {
    return files_;
  }

private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView *> index_;
};

/// A tensor to write: `data` holds exactly numElements * dtypeSize bytes.
struct TensorData {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  static TensorData fromFloats(std::string name, std::vector<int64_t> shape,
                               const std::vector<float> &values,
                               DType dtype = DType::F32);
  static TensorData fromInt32(std::string name, std::vector<int64_t> shape,
                              const std::vector<int32_t> &values);
};

/// Writes `tensors` (and optional string metadata) to `path` atomically: the
/// file is written under a temporary name in the same directory and renamed
/// into place only when complete. Returns false and sets `error` on failure,
/// leaving no partial file behind.
bool writeSafetensors(const std::string &path,
                      const std::vector<TensorData> &tensors,
                      const std::map<std::string, std::string> &metadata,
                      std::string &error);

/// Writes a sharded checkpoint's index (`weight_map` from tensor name to
/// shard file name, `metadata.total_size`) to `path`, atomically.
bool writeSafetensorsIndex(const std::string &path,
                           const std::map<std::string, std::string> &weightMap,
                           uint64_t totalSize, std::string &error);

/// A deterministic 64-bit hash of file contents (FNV-1a over the bytes).
class ContentHash {
public:
  void update(const void *bytes, size_t size);
  uint64_t value() const { return state; }
  /// The value as 16 lowercase hex digits.
  std::string hex() const;

private:
  uint64_t state = 0xcbf29ce484222325ull;
};

/// A file written by one of the ...ByContent functions.
struct ContentNamedFile {
  /// `PREFIX-HASH16.safetensors` or `PREFIX-HASH16.safetensors.index.json`,
  /// where HASH16 is the ContentHash of the file's bytes.
  std::string fileName;
  /// False when a file of that name (so the same content) existed already
  /// and was kept untouched.
  bool created = false;
};

/// Writes `tensors` into `directory` under a name derived from the file's
/// content, so that it never replaces a file holding something else: the
/// bytes go to a temporary in `directory`, which is renamed to
/// `PREFIX-HASH16.safetensors` when complete, or removed when that file
/// exists already.
bool writeSafetensorsByContent(
    const std::string &directory, const std::string &prefix,
    const std::vector<TensorData> &tensors,
    const std::map<std::string, std::string> &metadata, ContentNamedFile &file,
    std::string &error);

/// writeSafetensorsIndex into `directory`, named after its content like
/// writeSafetensorsByContent: `PREFIX-HASH16.safetensors.index.json`.
bool writeSafetensorsIndexByContent(
    const std::string &directory, const std::string &prefix,
    const std::map<std::string, std::string> &weightMap, uint64_t totalSize,
    ContentNamedFile &file, std::string &error);

/// Tells the kernel that the mapped pages of `view` are not needed any more:
/// they leave the process's resident set (they stay in the page cache and are
/// read again on the next access). Streaming passes call it after each
/// tensor so that a 16 GB checkpoint does not become 16 GB of RSS.
void releasePages(const TensorView &view);

/// Reads the integer (I32 or I64) tensor named by `spec`, of the form
/// "FILE.safetensors:TENSOR", as int32 token ids with its shape.
bool readTokenTensor(const std::string &spec, std::vector<int32_t> &tokens,
                     std::vector<int64_t> &shape, std::string &error);

/// float32 -> bfloat16 / float16 bits, rounding to nearest even.
uint16_t floatToBF16(float x);
uint16_t floatToHalf(float x);

} // namespace qrt

#endif // QOPT_FRONTEND_SAFETENSORS_H
