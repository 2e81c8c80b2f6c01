//===- Safetensors.cpp - safetensors reader and writer --------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace qrt;
using json = nlohmann::json;

/// The largest header accepted (the safetensors format's own bound).
static constexpr uint64_t kMaxHeaderBytes = 100u * 1000u * 1000u;

//===----------------------------------------------------------------------===//
// DType
//===----------------------------------------------------------------------===//

namespace {
struct DTypeInfo {
  DType dtype;
  const char *name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8},         {DType::F32, "F32", 4},
    {DType::F16, "F16", 2},         {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8},         {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},         {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},           {DType::BOOL, "BOOL", 1},
    {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
};
} // namespace

size_t qrt::dtypeSize(DType dtype) {
  for (const DTypeInfo &i : kDTypes)
    if (i.dtype == dtype)
      return i.size;
  return 0;
}

const char *qrt::dtypeName(DType dtype) {
  for (const DTypeInfo &i : kDTypes)
    if (i.dtype == dtype)
      return i.name;
  return "?";
}

bool qrt::parseDType(const std::string &name, DType &out) {
  for (const DTypeInfo &i : kDTypes)
    if (name == i.name) {
      out = i.dtype;
      return true;
    }
  return false;
}

//===----------------------------------------------------------------------===//
// Float conversions
//===----------------------------------------------------------------------===//

static float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

static float bf16Value(uint16_t b) { return bitsToFloat(uint32_t(b) << 16); }

static float halfValue(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  float v;
  if (exp == 0)
    v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31)
    v = mant ? NAN : INFINITY;
  else
    v = std::ldexp(1.0f + mant / 1024.0f, static_cast<int>(exp) - 15);
  return sign ? -v : v;
}

static float fp8Value(uint8_t b, int mantBits, int bias, bool hasInf) {
  int expBits = 7 - mantBits;
  unsigned mant = b & ((1u << mantBits) - 1);
  unsigned exp = (b >> mantBits) & ((1u << expBits) - 1);
  float sign = (b & 0x80) ? -1.0f : 1.0f;
  unsigned expMax = (1u << expBits) - 1;
  if (hasInf && exp == expMax)
    return mant ? NAN : sign * INFINITY;
  if (!hasInf && exp == expMax && mant == (1u << mantBits) - 1)
    return NAN;
  if (exp == 0)
    return sign * std::ldexp(static_cast<float>(mant), 1 - bias - mantBits);
  return sign *
         std::ldexp(1.0f + std::ldexp(static_cast<float>(mant), -mantBits),
                    static_cast<int>(exp) - bias);
}

uint16_t qrt::floatToBF16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if (std::isnan(x))
    return static_cast<uint16_t>((u >> 16) | 0x40);
  uint32_t rounding = 0x7FFF + ((u >> 16) & 1);
  return static_cast<uint16_t>((u + rounding) >> 16);
}

uint16_t qrt::floatToHalf(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  if (std::isnan(x))
    return sign | 0x7E00;
  float a = std::fabs(x);
  if (a >= 65520.0f) // rounds to infinity
    return sign | 0x7C00;
  if (a < std::ldexp(1.0f, -14)) {
    // Subnormal: multiples of 2^-24, round half to even.
    float q = std::nearbyint(a * std::ldexp(1.0f, 24));
    return sign | static_cast<uint16_t>(q);
  }
  int e;
  float m = std::frexp(a, &e); // a = m * 2^e, m in [0.5, 1)
  int exp = e - 1 + 15;
  float frac = std::nearbyint((2 * m - 1) * 1024.0f);
  if (frac >= 1024.0f) {
    frac = 0;
    ++exp;
  }
  return sign | static_cast<uint16_t>((exp << 10) | static_cast<int>(frac));
}

//===----------------------------------------------------------------------===//
// TensorView
//===----------------------------------------------------------------------===//

int64_t TensorView::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

float TensorView::getFloat(size_t i) const {
  const uint8_t *p = data + i * dtypeSize(dtype);
  auto load = [&](auto v) {
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  switch (dtype) {
  case DType::F64:
    return static_cast<float>(load(double()));
  case DType::F32:
    return load(float());
  case DType::F16:
    return halfValue(load(uint16_t()));
  case DType::BF16:
    return bf16Value(load(uint16_t()));
  case DType::I64:
    return static_cast<float>(load(int64_t()));
  case DType::I32:
    return static_cast<float>(load(int32_t()));
  case DType::I16:
    return static_cast<float>(load(int16_t()));
  case DType::I8:
    return static_cast<float>(load(int8_t()));
  case DType::U8:
  case DType::BOOL:
    return static_cast<float>(load(uint8_t()));
  case DType::F8_E4M3:
    return fp8Value(load(uint8_t()), 3, 7, false);
  case DType::F8_E5M2:
    return fp8Value(load(uint8_t()), 2, 15, true);
  }
  return 0.0f;
}

std::vector<float> TensorView::toFloat() const {
  size_t n = static_cast<size_t>(numElements());
  std::vector<float> out(n);
  if (n == 0)
    return out;
  if (dtype == DType::F32) {
    std::memcpy(out.data(), data, n * 4);
    return out;
  }
  if (dtype == DType::BF16) {
    for (size_t i = 0; i < n; ++i) {
      uint16_t b;
      std::memcpy(&b, data + 2 * i, 2);
      out[i] = bf16Value(b);
    }
    return out;
  }
  for (size_t i = 0; i < n; ++i)
    out[i] = getFloat(i);
  return out;
}

//===----------------------------------------------------------------------===//
// SafetensorsFile
//===----------------------------------------------------------------------===//

namespace {
/// Parses and validates a header; fills `tensors` with offsets relative to
/// the data section (data pointers are set by the caller).
bool parseHeader(const std::string &path, const char *headerText,
                 size_t headerLen, size_t dataLen,
                 std::map<std::string, TensorView> &tensors,
                 std::map<std::string, std::string> &metadata,
                 std::vector<std::pair<size_t, size_t>> &spans,
                 std::string &error) {
  auto fail = [&](const std::string &msg) {
    error = path + ": " + msg;
    return false;
  };
  json header = json::parse(headerText, headerText + headerLen, nullptr,
                            /*allow_exceptions=*/false);
  if (header.is_discarded())
    return fail("header is not valid JSON");
  if (!header.is_object())
    return fail("header is not a JSON object");
  for (auto &[name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        return fail("__metadata__ is not an object");
      for (auto &[k, v] : entry.items()) {
        if (!v.is_string())
          return fail("__metadata__ value for '" + k + "' is not a string");
        metadata[k] = v.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object())
      return fail("entry for tensor '" + name + "' is not an object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string())
      return fail("tensor '" + name + "' has no dtype");
    if (!entry.contains("shape") || !entry["shape"].is_array())
      return fail("tensor '" + name + "' has no shape");
    if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2)
      return fail("tensor '" + name + "' has no [begin, end] data_offsets");
    TensorView view;
    view.name = name;
    view.file = path;
    std::string dtypeText = entry["dtype"].get<std::string>();
    if (!parseDType(dtypeText, view.dtype))
      return fail("tensor '" + name + "' has unknown dtype '" + dtypeText +
                  "'");
    // Sizes are bounded by 2^48 bytes (far beyond any file), so no product
    // below can overflow and every dimension fits in int64_t.
    constexpr uint64_t kMaxBytes = uint64_t(1) << 48;
    uint64_t elements = 1;
    for (const json &d : entry["shape"]) {
      if (!d.is_number_unsigned())
        return fail("tensor '" + name +
                    "' has a negative or non-integer dimension");
      uint64_t dim = d.get<uint64_t>();
      if (dim > kMaxBytes || (dim != 0 && elements > kMaxBytes / dim))
        return fail("tensor '" + name + "' has an impossibly large shape");
      elements *= dim;
      view.shape.push_back(static_cast<int64_t>(dim));
    }
    if (elements > kMaxBytes / dtypeSize(view.dtype))
      return fail("tensor '" + name + "' has an impossibly large shape");
    const json &offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      return fail("tensor '" + name + "' has non-integer data_offsets");
    uint64_t begin = offsets[0].get<uint64_t>(),
             end = offsets[1].get<uint64_t>();
    if (begin > end)
      return fail("tensor '" + name + "' has data_offsets begin > end");
    if (end > dataLen)
      return fail("tensor '" + name + "' data_offsets [" +
                  std::to_string(begin) + ", " + std::to_string(end) +
                  "] exceed the data section of " + std::to_string(dataLen) +
                  " bytes (truncated file?)");
    uint64_t expected = elements * dtypeSize(view.dtype);
    if (end - begin != expected)
      return fail("tensor '" + name + "' spans " + std::to_string(end - begin) +
                  " bytes but shape x dtype needs " + std::to_string(expected));
    view.nbytes = static_cast<size_t>(expected);
    view.data = reinterpret_cast<const uint8_t *>(begin); // relative for now
    spans.emplace_back(begin, end);
    tensors.emplace(name, std::move(view));
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second)
      return fail("tensors overlap at data offset " +
                  std::to_string(spans[i].first));
  return true;
}
} // namespace

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string &path,
                                                       std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(errno);
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    error = path + ": not a regular file";
    return nullptr;
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    error = path + ": file of " + std::to_string(size) +
            " bytes is too short for a safetensors header";
    return nullptr;
  }
  void *map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    error = path + ": mmap failed: " + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->mapping_ = map;
  file->size_ = size;
  const uint8_t *bytes = static_cast<const uint8_t *>(map);
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | bytes[i];
  if (headerLen > kMaxHeaderBytes) {
    error = path + ": header length " + std::to_string(headerLen) +
            " exceeds the 100 MB limit";
    return nullptr;
  }
  if (headerLen > size - 8) {
    error = path + ": header length " + std::to_string(headerLen) +
            " is larger than the file (" + std::to_string(size) + " bytes)";
    return nullptr;
  }
  std::vector<std::pair<size_t, size_t>> spans;
  size_t dataLen = size - 8 - headerLen;
  if (!parseHeader(path, reinterpret_cast<const char *>(bytes + 8), headerLen,
                   dataLen, file->tensors_, file->metadata_, spans, error))
    return nullptr;
  const uint8_t *dataStart = bytes + 8 + headerLen;
  for (auto &[name, view] : file->tensors_)
    view.data = dataStart + reinterpret_cast<uintptr_t>(view.data);
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_)
    munmap(mapping_, size_);
}

const TensorView *SafetensorsFile::find(const std::string &name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

//===----------------------------------------------------------------------===//
// TensorStore
//===----------------------------------------------------------------------===//

static bool isDirectory(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

static bool fileExists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

static std::string dirName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

static bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::unique_ptr<TensorStore> TensorStore::open(const std::string &pathIn,
                                               std::string &error) {
  std::string path = pathIn;
  if (isDirectory(path)) {
    if (fileExists(path + "/model.safetensors.index.json"))
      path += "/model.safetensors.index.json";
    else if (fileExists(path + "/model.safetensors"))
      path += "/model.safetensors";
    else {
      error = pathIn + ": directory has neither model.safetensors nor "
                       "model.safetensors.index.json";
      return nullptr;
    }
  }
  auto fail = [&](std::string msg) {
    error = std::move(msg);
    return std::unique_ptr<TensorStore>();
  };
  std::unique_ptr<TensorStore> store(new TensorStore());
  std::vector<std::string> shards;
  std::map<std::string, std::string> weightMap;
  if (endsWith(path, ".json")) {
    std::ifstream in(path);
    if (!in)
      return fail(path + ": cannot open index");
    std::stringstream ss;
    ss << in.rdbuf();
    json index = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
    if (index.is_discarded() || !index.is_object())
      return fail(path + ": index is not valid JSON");
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      return fail(path + ": index has no weight_map object");
    for (auto &[name, file] : index["weight_map"].items()) {
      if (!file.is_string())
        return fail(path + ": weight_map entry for '" + name +
                    "' is not a file name");
      std::string shard = file.get<std::string>();
      if (shard.find('/') != std::string::npos)
        return fail(path + ": shard name '" + shard +
                    "' must be a file name in the index's directory");
      weightMap[name] = shard;
      if (std::find(shards.begin(), shards.end(), shard) == shards.end())
        shards.push_back(shard);
    }
    std::string dir = dirName(path);
    for (std::string &s : shards)
      s = dir + "/" + s;
  } else {
    shards.push_back(path);
  }
  for (const std::string &shard : shards) {
    auto file = SafetensorsFile::open(shard, error);
    if (!file)
      return nullptr;
    store->files_.push_back(std::move(file));
  }
  for (const auto &file : store->files_)
    for (const auto &[name, view] : file->tensors()) {
      auto [it, inserted] = store->index_.emplace(name, &view);
      if (!inserted) {
        error = path + ": tensor '" + name + "' appears in both " +
                it->second->file + " and " + file->path();
        return nullptr;
      }
    }
  for (const auto &[name, shard] : weightMap) {
    auto it = store->index_.find(name);
    if (it == store->index_.end() || !endsWith(it->second->file, "/" + shard)) {
      error = path + ": index maps tensor '" + name + "' to " + shard +
              ", which does not contain it";
      return nullptr;
    }
  }
  return store;
}

const TensorView *TensorStore::find(const std::string &name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

std::vector<std::string> TensorStore::names() const {
  std::vector<std::string> out;
  for (const auto &[name, view] : index_)
    out.push_back(name);
  return out;
}

bool qrt::readTokenTensor(const std::string &spec, std::vector<int32_t> &tokens,
                          std::vector<int64_t> &shape, std::string &error) {
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) {
    error = "'" + spec + "' must have the form FILE.safetensors:TENSOR";
    return false;
  }
  std::string file = spec.substr(0, colon), name = spec.substr(colon + 1);
  auto st = SafetensorsFile::open(file, error);
  if (!st)
    return false;
  const TensorView *view = st->find(name);
  if (!view) {
    error = file + ": no tensor named '" + name + "'";
    return false;
  }
  if (view->dtype != DType::I32 && view->dtype != DType::I64) {
    error = file + ": tensor '" + name + "' has dtype " +
            dtypeName(view->dtype) + "; token ids must be I32 or I64";
    return false;
  }
  shape = view->shape;
  tokens.resize(view->numElements());
  for (size_t i = 0; i < tokens.size(); ++i) {
    int64_t id = 0;
    if (view->dtype == DType::I32) {
      int32_t v;
      std::memcpy(&v, view->data + 4 * i, 4);
      id = v;
    } else {
      std::memcpy(&id, view->data + 8 * i, 8);
    }
    if (id < INT32_MIN || id > INT32_MAX) {
      error = file + ": token id " + std::to_string(id) + " in '" + name +
              "' does not fit in 32 bits";
      return false;
    }
    tokens[i] = static_cast<int32_t>(id);
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

TensorData TensorData::fromFloats(std::string name, std::vector<int64_t> shape,
                                  const std::vector<float> &values,
                                  DType dtype) {
  TensorData t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.dtype = dtype;
  t.data.resize(values.size() * dtypeSize(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    uint8_t *p = t.data.data() + i * dtypeSize(dtype);
    if (dtype == DType::F32) {
      std::memcpy(p, &values[i], 4);
    } else if (dtype == DType::BF16) {
      uint16_t b = floatToBF16(values[i]);
      std::memcpy(p, &b, 2);
    } else if (dtype == DType::F16) {
      uint16_t h = floatToHalf(values[i]);
      std::memcpy(p, &h, 2);
    } else {
      double d = values[i];
      std::memcpy(p, &d, 8); // F64 is the only other float dtype offered
    }
  }
  return t;
}

TensorData TensorData::fromInt32(std::string name, std::vector<int64_t> shape,
                                 const std::vector<int32_t> &values) {
  TensorData t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.dtype = DType::I32;
  t.data.resize(values.size() * 4);
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

void qrt::releasePages(const TensorView &view) {
  if (!view.data || view.nbytes == 0)
    return;
  uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t begin = reinterpret_cast<uintptr_t>(view.data) / page * page;
  uintptr_t end = reinterpret_cast<uintptr_t>(view.data) + view.nbytes;
  ::madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}
