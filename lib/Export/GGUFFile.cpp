//===- GGUFFile.cpp - A GGUF (llama.cpp) file writer ----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "GGUFFile.h"

#include <cstring>

using namespace mlir::qopt::gguf;

namespace {
/// GGUF's metadata value types.
enum ValueType : uint32_t {
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
};
constexpr uint64_t kAlignment = 32;
} // namespace

int64_t mlir::qopt::gguf::blockValues(TensorType type) {
  return type == TensorType::Q4_0 || type == TensorType::Q8_0 ? 32 : 1;
}

int64_t mlir::qopt::gguf::blockBytes(TensorType type) {
  switch (type) {
  case TensorType::F32:
    return 4;
  case TensorType::F16:
  case TensorType::BF16:
    return 2;
  case TensorType::Q4_0:
    return 2 + 16;
  case TensorType::Q8_0:
    return 2 + 32;
  }
  return 0;
}

const char *mlir::qopt::gguf::typeName(TensorType type) {
  switch (type) {
  case TensorType::F32:
    return "F32";
  case TensorType::F16:
    return "F16";
  case TensorType::BF16:
    return "BF16";
  case TensorType::Q4_0:
    return "Q4_0";
  case TensorType::Q8_0:
    return "Q8_0";
  }
  return "?";
}

template <typename T> static void put(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

static void putString(std::string &out, llvm::StringRef s) {
  put<uint64_t>(out, s.size());
  out.append(s.data(), s.size());
}

void Writer::key(StringRef k, uint32_t valueType) {
  putString(metadata, k);
  put<uint32_t>(metadata, valueType);
  ++metadataCount;
}

void Writer::addString(StringRef k, StringRef value) {
  key(k, String);
  putString(metadata, value);
}

void Writer::addUInt32(StringRef k, uint32_t value) {
  key(k, UInt32);
  put(metadata, value);
}

void Writer::addFloat32(StringRef k, float value) {
  key(k, Float32);
  put(metadata, value);
}

void Writer::addBool(StringRef k, bool value) {
  key(k, Bool);
  put<uint8_t>(metadata, value ? 1 : 0);
}

void Writer::addStringArray(StringRef k,
                            const std::vector<std::string> &values) {
  key(k, Array);
  put<uint32_t>(metadata, String);
  put<uint64_t>(metadata, values.size());
  for (const std::string &v : values)
    putString(metadata, v);
}

void Writer::addFloat32Array(StringRef k, const std::vector<float> &values) {
  key(k, Array);
  put<uint32_t>(metadata, Float32);
  put<uint64_t>(metadata, values.size());
  for (float v : values)
    put(metadata, v);
}

void Writer::addInt32Array(StringRef k, const std::vector<int32_t> &values) {
  key(k, Array);
  put<uint32_t>(metadata, Int32);
  put<uint64_t>(metadata, values.size());
  for (int32_t v : values)
    put(metadata, v);
}

void Writer::addTensor(std::string name, std::vector<int64_t> dims,
                       TensorType type, std::vector<uint8_t> data) {
  tensors.push_back({std::move(name), std::move(dims), type, std::move(data)});
}

static uint64_t alignUp(uint64_t n) {
  return (n + kAlignment - 1) / kAlignment * kAlignment;
}

void Writer::write(llvm::raw_ostream &os) const {
  std::string head;
  head.append("GGUF", 4);
  put<uint32_t>(head, 3);
  put<uint64_t>(head, tensors.size());
  put<uint64_t>(head, metadataCount);
  head += metadata;
  uint64_t offset = 0;
  for (const Tensor &t : tensors) {
    putString(head, t.name);
    put<uint32_t>(head, t.dims.size());
    for (int64_t d : t.dims)
      put<uint64_t>(head, d);
    put<uint32_t>(head, static_cast<uint32_t>(t.type));
    put<uint64_t>(head, offset);
    offset = alignUp(offset + t.data.size());
  }
  head.resize(alignUp(head.size()), '\0');
  os << head;
  static const char zeros[kAlignment] = {};
  for (const Tensor &t : tensors) {
    os.write(reinterpret_cast<const char *>(t.data.data()), t.data.size());
    os.write(zeros, alignUp(t.data.size()) - t.data.size());
  }
}
