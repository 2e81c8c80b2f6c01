//===- SafetensorsHeaderFuzzer.cpp - Fuzz the safetensors reader ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Feeds each input as a whole safetensors file to qrt::SafetensorsFile::open
// (through a memfd, since the reader takes a path and maps it), then checks
// what a successful open promises: every tensor's byte span matches its
// shape and dtype, lies inside the file and overlaps no other; every element
// converts to float.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Safetensors.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>

static void check(bool cond, const char *what) {
  if (!cond) {
    std::fprintf(stderr, "SafetensorsHeaderFuzzer: invariant violated: %s\n",
                 what);
    std::abort();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // One memfd for the whole run, rewritten for each input.
  static int fd = memfd_create("safetensors-fuzz", MFD_CLOEXEC);
  static std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0)
    std::abort();
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))
    std::abort();

  std::string error;
  std::unique_ptr<qrt::SafetensorsFile> file =
      qrt::SafetensorsFile::open(path, error);
  if (!file) {
    check(!error.empty(), "failed open without an error message");
    return 0;
  }
  // The header is 8 + n bytes; the data section is what follows.
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | data[i];
  check(size >= 8 && headerLen <= size - 8, "header larger than the file");
  size_t dataLen = size - 8 - headerLen;

  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (const auto &[name, view] : file->tensors()) {
    check(view.name == name, "view name differs from its key");
    check(file->find(name) == &view, "find() does not return the tensor");
    uint64_t elements = 1, bytes = 0;
    for (int64_t d : view.shape) {
      check(d >= 0, "negative dimension");
      check(!__builtin_mul_overflow(elements, static_cast<uint64_t>(d),
                                    &elements),
            "element count overflows");
    }
    check(elements <= static_cast<uint64_t>(INT64_MAX) &&
              static_cast<int64_t>(elements) == view.numElements(),
          "numElements() disagrees with the shape");
    check(
        !__builtin_mul_overflow(elements, qrt::dtypeSize(view.dtype), &bytes) &&
            bytes == view.nbytes,
        "nbytes != elements x dtype size (or it overflows)");
    check(view.nbytes <= dataLen, "tensor larger than the data section");
    if (view.nbytes) {
      // The mapping's address is private: compare spans with each other.
      spans.emplace_back(reinterpret_cast<uintptr_t>(view.data),
                         reinterpret_cast<uintptr_t>(view.data) + view.nbytes);
    }
    // Touch every element (small tensors only, to keep runs fast).
    if (elements <= 4096) {
      std::vector<float> values = view.toFloat();
      check(values.size() == elements, "toFloat() size");
      for (size_t i = 0; i < elements; ++i) {
        float v = view.getFloat(i);
        check(v == values[i] || (v != v && values[i] != values[i]),
              "getFloat() disagrees with toFloat()");
      }
    }
  }
  // Spans must not overlap and must all fit in a window of dataLen bytes.
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    check(spans[i].first >= spans[i - 1].second, "overlapping tensors");
  if (!spans.empty()) {
    uint64_t lo = spans.front().first, hi = 0;
    for (const auto &s : spans)
      hi = std::max(hi, s.second);
    check(hi - lo <= dataLen, "tensors span more than the data section");
  }
  return 0;
}
