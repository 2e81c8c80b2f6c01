//===- LayerLoop.cpp - The per-layer loop of weight passes ----------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/LayerLoop.h"
#include "qopt/Dialect/Qopt/Transforms/PassOptions.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Reads pages of the checkpoint in on a background thread: asks the kernel
/// to read them ahead, then touches one byte of every page, so that the
/// compute on the current layer overlaps the disk reads of the next one.
class Prefetcher {
public:
  ~Prefetcher() { wait(); }

  void start(std::vector<WeightReader::PageSpan> spans) {
    wait();
    if (spans.empty())
      return;
    worker = std::thread([spans = std::move(spans)] {
      uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
      for (const WeightReader::PageSpan &s : spans) {
        if (!s.data || !s.size)
          continue;
        uintptr_t begin = reinterpret_cast<uintptr_t>(s.data) / page * page;
        uintptr_t end = reinterpret_cast<uintptr_t>(s.data) + s.size;
        ::madvise(reinterpret_cast<void *>(begin), end - begin, MADV_WILLNEED);
      }
      unsigned sum = 0;
      for (const WeightReader::PageSpan &s : spans)
        for (size_t off = 0; off < s.size; off += page)
          sum += *reinterpret_cast<const volatile uint8_t *>(s.data + off);
      (void)sum;
    });
  }

  void wait() {
    if (worker.joinable())
      worker.join();
  }

private:
  std::thread worker;
};

/// The decoder layer of a label "model.layers.L.<...>", or -1.
int64_t layerOf(LinearOp linear) {
  StringAttr label = linear.getLabelAttr();
  if (!label)
    return -1;
  StringRef s = label.getValue();
  size_t pos = s.find("layers.");
  if (pos == StringRef::npos)
    return -1;
  StringRef rest = s.substr(pos + 7);
  rest = rest.take_while([](char c) { return c >= '0' && c <= '9'; });
  int64_t layer;
  if (rest.empty() || rest.getAsInteger(10, layer))
    return -1;
  return layer;
}

/// One updating line on stderr: "\r[pass] layer L/N" (or "linear i/N" when
/// the labels name no layers).
class Progress {
public:
  Progress(StringRef pass, ArrayRef<LinearOp> linears) : pass(pass.str()) {
    const char *env = std::getenv("QOPT_PROGRESS");
    enabled = env && *env ? std::strcmp(env, "0") != 0 : isatty(2) != 0;
    if (!enabled)
      return;
    for (LinearOp linear : linears)
      layers = std::max(layers, layerOf(linear) + 1);
    total = layers > 0 ? layers : static_cast<int64_t>(linears.size());
  }
  ~Progress() {
    if (enabled && shown)
      std::fprintf(stderr, "\n");
  }

  void update(size_t index, LinearOp linear) {
    if (!enabled)
      return;
    int64_t at = layers > 0 ? layerOf(linear) + 1 : int64_t(index) + 1;
    if (at <= 0 || at == last)
      return;
    last = at;
    shown = true;
    std::fprintf(stderr, "\r[%s] %s %lld/%lld", pass.c_str(),
                 layers > 0 ? "layer" : "linear", static_cast<long long>(at),
                 static_cast<long long>(total));
    std::fflush(stderr);
  }

private:
  std::string pass;
  bool enabled = false, shown = false;
  int64_t layers = 0, total = 0, last = 0;
};

} // namespace

LogicalResult mlir::qopt::forEachLinearWeight(
    StringRef pass, ArrayRef<LinearOp> linears, WeightReader &reader,
    llvm::function_ref<LogicalResult(LinearWeight &)> fn,
    llvm::function_ref<Operation *(size_t)> errorAt) {
  Progress progress(pass, linears);
  Prefetcher prefetcher;
  std::vector<float> values;
  std::string error;
  for (size_t i = 0; i < linears.size(); ++i) {
    LinearOp linear = linears[i];
    progress.update(i, linear);
    Value weight = linear.getWeight();
    if (failed(reader.evaluate(weight, values, error))) {
      prefetcher.wait();
      Operation *at = errorAt ? errorAt(i) : linear.getOperation();
      emitPassError(at) << pass << ": " << error;
      return failure();
    }
    reader.release(weight);
    // The next weight is read in while this one is processed.
    std::vector<WeightReader::PageSpan> spans;
    if (i + 1 < linears.size())
      reader.pageSpans(LinearOp(linears[i + 1]).getWeight(), spans);
    prefetcher.start(std::move(spans));
    auto type = cast<RankedTensorType>(weight.getType());
    LinearWeight w{linear, i, type.getDimSize(0), type.getDimSize(1), values};
    if (failed(fn(w))) {
      prefetcher.wait();
      return failure();
    }
  }
  return success();
}
