//===- CpuBackend.cpp - Bundles run on the host ---------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The arena is one host allocation of arena_bytes, buffers at their
// offsets, so that buffers the planner overlaps overlap here too; weights
// are read in place from the mapped weights file (a weight written through
// writeBuffer gets its own copy first); the KV caches hold maxSeqLen rows.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include "qopt-runtime/Backend.h"
#include "qopt-runtime/Bundle.h"
#include "qopt-runtime/Safetensors.h"

#include <algorithm>
#include <chrono>
#include <cstring>

using namespace qrt;
using namespace qrt::bundle;

struct CpuBackend::State {
  std::vector<uint8_t> arena;
  /// Inputs and KV buffers, by buffer index (empty for the others).
  std::vector<std::vector<uint8_t>> owned;
  std::vector<uint8_t *> data;
  cpu::DecodedCache decoded;
};

CpuBackend::CpuBackend(unsigned threads) : threads_(threads) {}
CpuBackend::~CpuBackend() = default;

bool CpuBackend::doLoad(std::string &error) {
  const Manifest &m = bundle_->manifest();
  auto s = std::make_unique<State>();
  try {
    s->arena.assign(static_cast<size_t>(m.arenaBytes), 0);
    s->owned.resize(m.buffers.size());
    s->data.assign(m.buffers.size(), nullptr);
    for (size_t i = 0; i < m.buffers.size(); ++i) {
      const Buffer &b = m.buffers[i];
      switch (b.kind) {
      case BufferKind::Arena:
        s->data[i] = s->arena.data() + b.offset;
        break;
      case BufferKind::Weight:
        // Read in place (kernels write arena and KV buffers only); a
        // kernels-only bundle has no weight file: its weights start zeroed
        // and are written by the kernel checks.
        if (const TensorView *view = bundle_->weight(int(i))) {
          s->data[i] = const_cast<uint8_t *>(view->data);
        } else {
          s->owned[i].assign(b.bytes(0), 0);
          s->data[i] = s->owned[i].data();
        }
        break;
      case BufferKind::Input:
        s->owned[i].assign(b.bytes(m.maxTokens), 0);
        s->data[i] = s->owned[i].data();
        break;
      case BufferKind::KVCache:
      case BufferKind::KVScales:
        s->owned[i].assign(b.bytes(maxSeqLen_), 0);
        s->data[i] = s->owned[i].data();
        break;
      }
    }
  } catch (const std::bad_alloc &) {
    error =
        "cpu backend: out of memory for the buffers of " + bundle_->directory();
    return false;
  }
  state_ = std::move(s);
  return true;
}

bool CpuBackend::resetCache(std::string &error) {
  if (!state_) {
    error = "no bundle is loaded";
    return false;
  }
  const Manifest &m = bundle_->manifest();
  for (size_t i = 0; i < m.buffers.size(); ++i)
    if (m.buffers[i].kind == BufferKind::KVCache ||
        m.buffers[i].kind == BufferKind::KVScales)
      std::fill(state_->owned[i].begin(), state_->owned[i].end(), 0);
  return true;
}

bool CpuBackend::doStep(const int32_t *tokens, const int32_t *positions,
                        int64_t m, Sequence, const std::vector<int> &sequence,
                        std::string &error) {
  const Manifest &man = bundle_->manifest();
  std::memcpy(state_->data[man.tokens], tokens, m * sizeof(int32_t));
  std::memcpy(state_->data[man.positions], positions, m * sizeof(int32_t));
  cpu::CpuContext ctx{man, state_->data, threads_, state_->decoded};
  for (int k : sequence) {
    auto start = std::chrono::steady_clock::now();
    if (!cpu::runKernel(man.kernels[k], m, ctx, error))
      return false;
    if (timing())
      addTiming(k, std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
  }
  return true;
}

bool CpuBackend::readLogits(int64_t begin, int64_t end, float *out,
                            std::string &) {
  int64_t vocab = bundle_->manifest().model.vocabSize;
  std::memcpy(out, state_->data[bundle_->manifest().logits] + begin * vocab * 4,
              (end - begin) * vocab * 4);
  return true;
}

bool CpuBackend::readNextToken(int32_t &token, std::string &) {
  std::memcpy(&token, state_->data[bundle_->manifest().nextToken], 4);
  return true;
}

namespace {
/// The buffer `name` and the bytes it holds, or false with a message.
bool findBuffer(const Bundle *bundle, int64_t maxSeqLen,
                const std::string &name, int &index, int64_t &capacity,
                std::string &error) {
  if (!bundle) {
    error = "no bundle is loaded";
    return false;
  }
  const Manifest &m = bundle->manifest();
  index = m.findBuffer(name);
  if (index < 0) {
    error = "the bundle has no buffer '" + name + "'";
    return false;
  }
  const Buffer &b = m.buffers[index];
  bool kv = b.kind == BufferKind::KVCache || b.kind == BufferKind::KVScales;
  capacity = b.bytes(kv ? maxSeqLen : m.maxTokens);
  return true;
}
} // namespace

bool CpuBackend::readBuffer(const std::string &name, int64_t rows,
                            std::vector<uint8_t> &bytes, std::string &error) {
  int index;
  int64_t capacity;
  if (!findBuffer(bundle_, maxSeqLen_, name, index, capacity, error))
    return false;
  int64_t size = bundle_->manifest().buffers[index].bytes(rows);
  if (rows < 0 || size > capacity) {
    error = "buffer " + name + " holds " + std::to_string(capacity) +
            " bytes; " + std::to_string(rows) + " rows do not fit";
    return false;
  }
  const uint8_t *p = state_->data[index];
  bytes.assign(p, p + size);
  return true;
}

bool CpuBackend::writeBuffer(const std::string &name, const void *data,
                             size_t bytes, std::string &error) {
  int index;
  int64_t capacity;
  if (!findBuffer(bundle_, maxSeqLen_, name, index, capacity, error))
    return false;
  if (static_cast<int64_t>(bytes) > capacity) {
    error = "buffer " + name + " holds " + std::to_string(capacity) +
            " bytes; " + std::to_string(bytes) + " do not fit";
    return false;
  }
  if (bundle_->manifest().buffers[index].kind == BufferKind::Weight) {
    // The mapped file is never written: the weight gets its own copy, and
    // the weights decoded from the old bytes are dropped.
    std::vector<uint8_t> &own = state_->owned[index];
    if (own.empty()) {
      own.assign(state_->data[index], state_->data[index] + capacity);
      state_->data[index] = own.data();
    }
    state_->decoded.clear();
  }
  std::memcpy(state_->data[index], data, bytes);
  return true;
}

bool CpuBackend::doLaunch(int kernel, int64_t m, std::string &error) {
  const Manifest &man = bundle_->manifest();
  cpu::CpuContext ctx{man, state_->data, threads_, state_->decoded};
  return cpu::runKernel(man.kernels[kernel], m, ctx, error);
}

bool CpuBackend::doTimeKernel(int kernel, int64_t m, int iterations,
                              int64_t flushBytes, double &msPerLaunch,
                              std::string &error) {
  std::vector<uint8_t> flush(static_cast<size_t>(flushBytes));
  double total = 0;
  for (int i = 0; i < iterations; ++i) {
    std::fill(flush.begin(), flush.end(), static_cast<uint8_t>(i));
    auto start = std::chrono::steady_clock::now();
    if (!doLaunch(kernel, m, error))
      return false;
    total += std::chrono::duration<double, std::milli>(
                 std::chrono::steady_clock::now() - start)
                 .count();
  }
  msPerLaunch = total / iterations;
  return true;
}
