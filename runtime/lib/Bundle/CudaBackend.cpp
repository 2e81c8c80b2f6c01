//===- CudaBackend.cpp - Bundles run on a GPU -----------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Four device allocations: "weights" (every weight buffer, 256-byte
// aligned, uploaded once), "arena" (arena_bytes, buffers at their
// offsets), "kv_caches" (every KV cache and per-token scale buffer, for
// maxSeqLen rows) and "inputs" (tokens and positions, max_tokens each).
// A kernel's parameters are its buffers' device pointers, in `args` order,
// then the i32 m; its grid is ceil(m / token_tile) * per_tile blocks in x
// (per_tile when token_tile is 0), grid_y, grid_z. Decode steps replay a
// CUDA graph of the decode sequence, captured at the first one (their
// kernels' arguments never change), unless the step is timed or
// synchronizes after each kernel.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Backend.h"
#include "qopt-runtime/Bundle.h"
#include "qopt-runtime/CudaDriver.h"
#include "qopt-runtime/Safetensors.h"

#include <cstdio>
#include <optional>
#include <sys/stat.h>

using namespace qrt;
using namespace qrt::bundle;
using namespace qrt::cuda;

namespace {
constexpr size_t kAlign = 256;
/// Above this, a kernel must opt in to its dynamic shared memory.

size_t alignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

std::string kernelWhat(const Manifest &m, int k) {
  return "kernels[" + std::to_string(k) + "] (" + m.kernels[k].name + ", " +
         familyName(m.kernels[k].family) + ")";
}
} // namespace

struct CudaBackend::State {
  std::unique_ptr<Driver> driver;
  std::unique_ptr<Context> context;
  std::unique_ptr<Module> module;
  std::string moduleSource, cubinSkipped;
  std::vector<std::optional<Function>> functions;
  /// Per kernel, the functions of its small-M variants (in order).
  std::vector<std::vector<Function>> variantFunctions;
  std::unique_ptr<DeviceBuffer> weights, arena, kv, inputs;

  /// Where each buffer lives.
  struct Slot {
    DeviceBuffer *parent = nullptr;
    size_t offset = 0;
    int64_t capacity = 0;
  };
  std::vector<Slot> slots;
  /// Each kernel's pointer arguments.
  std::vector<std::vector<CUdeviceptr>> args;
  /// Events around the launches of a timed step: events[i], events[i + 1]
  /// enclose the i-th launch.
  std::vector<std::unique_ptr<Event>> events;
  /// The decode sequence, captured at the first decode step.
  std::unique_ptr<Graph> decodeGraph;
};

CudaBackend::CudaBackend(CudaBackendOptions options)
    : options_(std::move(options)) {}
// State's members go in reverse order: device objects before the context,
// the context before the driver.
CudaBackend::~CudaBackend() = default;

std::string CudaBackend::deviceDescription() const {
  if (!state_)
    return "";
  const DeviceInfo &d = state_->context->device();
  char memory[32];
  std::snprintf(memory, sizeof(memory), "%.1f GiB",
                double(d.totalMemory) / (1024.0 * 1024.0 * 1024.0));
  return d.name + " (" + d.smName() + ", " + memory + ")";
}

bool CudaBackend::programmaticLaunches() const {
  return state_ && options_.programmaticLaunch &&
         bundle_->manifest().gridDependency &&
         state_->context->programmaticLaunch();
}

std::string CudaBackend::moduleSource() const {
  return state_ ? state_->moduleSource : "";
}

std::string CudaBackend::cubinSkipped() const {
  return state_ ? state_->cubinSkipped : "";
}

bool CudaBackend::doLoad(std::string &error) {
  const Manifest &m = bundle_->manifest();
  auto s = std::make_unique<State>();
  s->driver = Driver::open(options_.libcuda, error);
  if (!s->driver)
    return false;
  s->context = Context::create(*s->driver, options_.device, error);
  if (!s->context)
    return false;

  // The cubin when there is one and the driver takes it, else the PTX.
  std::string cubin = bundle_->path(m.cubin);
  struct stat st;
  if (!cubin.empty() && !options_.forcePtx && ::stat(cubin.c_str(), &st) == 0) {
    std::string why;
    s->module = Module::loadFile(*s->context, cubin, why);
    if (s->module)
      s->moduleSource = cubin;
    else
      s->cubinSkipped = why;
  }
  if (!s->module) {
    std::string ptx = bundle_->path(m.ptx);
    s->module = Module::loadFile(*s->context, ptx, error);
    if (!s->module) {
      if (!s->cubinSkipped.empty())
        error += " (after the cubin failed: " + s->cubinSkipped + ")";
      return false;
    }
    s->moduleSource = ptx;
  }
  for (size_t k = 0; k < m.kernels.size(); ++k) {
    const Kernel &kernel = m.kernels[k];
    std::optional<Function> f = s->module->function(kernel.name, error);
    if (!f)
      return false;
    // The kernel's static shared memory counts against the 48 KiB default
    // too (codegen's dynamic area follows a small static variable), so any
    // dynamic shared memory gets its limit raised explicitly.
    if (kernel.launch.sharedBytes > 0 &&
        !f->setMaxDynamicSharedMemory(
            static_cast<int>(kernel.launch.sharedBytes), error))
      return false;
    s->functions.push_back(std::move(f));
    std::vector<Function> variants;
    for (const SmallMVariant &v : kernel.smallM) {
      std::optional<Function> vf = s->module->function(v.name, error);
      if (!vf)
        return false;
      if (v.launch.sharedBytes > 0 &&
          !vf->setMaxDynamicSharedMemory(static_cast<int>(v.launch.sharedBytes),
                                         error))
        return false;
      variants.push_back(std::move(*vf));
    }
    s->variantFunctions.push_back(std::move(variants));
  }

  // Where every buffer goes, then the allocations.
  s->slots.resize(m.buffers.size());
  size_t weightBytes = 0, kvBytes = 0, inputBytes = 0;
  for (size_t i = 0; i < m.buffers.size(); ++i) {
    const Buffer &b = m.buffers[i];
    State::Slot &slot = s->slots[i];
    switch (b.kind) {
    case BufferKind::Weight:
      slot.offset = weightBytes;
      slot.capacity = b.bytes(0);
      weightBytes += alignUp(slot.capacity);
      break;
    case BufferKind::Arena:
      slot.offset = static_cast<size_t>(b.offset);
      slot.capacity = b.bytes(m.maxTokens);
      break;
    case BufferKind::KVCache:
    case BufferKind::KVScales:
      slot.offset = kvBytes;
      slot.capacity = b.bytes(maxSeqLen_);
      kvBytes += alignUp(slot.capacity);
      break;
    case BufferKind::Input:
      slot.offset = inputBytes;
      slot.capacity = b.bytes(m.maxTokens);
      inputBytes += alignUp(slot.capacity);
      break;
    }
  }
  auto allocate = [&](std::unique_ptr<DeviceBuffer> &buffer, size_t bytes,
                      const char *name) {
    buffer = DeviceBuffer::allocate(*s->context, std::max<size_t>(bytes, 1),
                                    name, error);
    return buffer && buffer->fill(0, error);
  };
  if (!allocate(s->weights, weightBytes, "weights") ||
      !allocate(s->arena, static_cast<size_t>(m.arenaBytes), "arena") ||
      !allocate(s->kv, kvBytes, "kv_caches") ||
      !allocate(s->inputs, inputBytes, "inputs"))
    return false;
  for (size_t i = 0; i < m.buffers.size(); ++i) {
    const Buffer &b = m.buffers[i];
    State::Slot &slot = s->slots[i];
    slot.parent = b.kind == BufferKind::Weight  ? s->weights.get()
                  : b.kind == BufferKind::Arena ? s->arena.get()
                  : b.kind == BufferKind::Input ? s->inputs.get()
                                                : s->kv.get();
    // A kernels-only bundle has no weight file: its weights stay zeroed
    // until written.
    if (b.kind == BufferKind::Weight)
      if (const TensorView *view = bundle_->weight(static_cast<int>(i)))
        if (!slot.parent->upload(view->data, view->nbytes, slot.offset, error))
          return false;
  }
  for (const Kernel &kernel : m.kernels) {
    std::vector<CUdeviceptr> ptrs;
    for (int b : kernel.argBuffers)
      ptrs.push_back(s->slots[b].parent->ptr() + s->slots[b].offset);
    s->args.push_back(std::move(ptrs));
  }
  state_ = std::move(s);
  return true;
}

bool CudaBackend::resetCache(std::string &error) {
  if (!state_) {
    error = "no bundle is loaded";
    return false;
  }
  return state_->kv->fill(0, error);
}

bool CudaBackend::enqueue(int k, int64_t m, std::string &error,
                          bool programmatic) {
  const Manifest &man = bundle_->manifest();
  State &s = *state_;
  const Kernel &kernel = man.kernels[k];
  int32_t m32 = static_cast<int32_t>(m);
  std::vector<void *> params;
  for (CUdeviceptr &p : s.args[k])
    params.push_back(&p);
  params.push_back(&m32);
  const Launch *launch = &kernel.launch;
  Function *function = &*s.functions[k];
  if (const SmallMVariant *v = variant(k, m)) {
    launch = &v->launch;
    function = &s.variantFunctions[k][v - kernel.smallM.data()];
  }
  Dim3 grid{static_cast<unsigned>(launch->gridX(m)),
            static_cast<unsigned>(launch->gridY),
            static_cast<unsigned>(launch->gridZ)};
  Dim3 block{launch->block[0], launch->block[1], launch->block[2]};
  std::string why;
  if (!function->launch(grid, block, static_cast<unsigned>(launch->sharedBytes),
                        params.data(), why, programmatic)) {
    error = kernelWhat(man, k) + ": " + launchedName(k, m) + ": " + why;
    return false;
  }
  return true;
}

const SmallMVariant *CudaBackend::variant(int k, int64_t m) const {
  if (!options_.smallMKernels)
    return nullptr;
  return bundle_->manifest().kernels[k].variantFor(m);
}

std::string CudaBackend::launchedName(int k, int64_t m) const {
  if (!bundle_ || !state_ || k < 0 ||
      k >= static_cast<int>(bundle_->manifest().kernels.size()))
    return Backend::launchedName(k, m);
  const SmallMVariant *v = variant(k, m);
  return v ? v->name : bundle_->manifest().kernels[k].name;
}

bool CudaBackend::doLaunch(int kernel, int64_t m, std::string &error) {
  std::string why;
  if (!enqueue(kernel, m, error))
    return false;
  if (!state_->context->synchronize(why)) {
    error = kernelWhat(bundle_->manifest(), kernel) + " failed: " + why;
    return false;
  }
  return true;
}

bool CudaBackend::doTimeKernel(int kernel, int64_t m, int iterations,
                               int64_t flushBytes, double &msPerLaunch,
                               std::string &error) {
  State &s = *state_;
  std::unique_ptr<DeviceBuffer> flush;
  if (flushBytes > 0) {
    flush = DeviceBuffer::allocate(*s.context, static_cast<size_t>(flushBytes),
                                   "L2 flush", error);
    if (!flush)
      return false;
  }
  auto before = Event::create(*s.context, "timing event", error);
  auto after =
      before ? Event::create(*s.context, "timing event", error) : nullptr;
  if (!after)
    return false;
  // One untimed launch first: the module's first launch of a kernel pays
  // for its loading.
  if (!doLaunch(kernel, m, error))
    return false;
  double total = 0;
  for (int i = 0; i < iterations; ++i) {
    if (flush && !flush->fill(static_cast<unsigned char>(i), error))
      return false;
    if (!before->record(error) || !enqueue(kernel, m, error) ||
        !after->record(error))
      return false;
    if (!after->synchronize(error))
      return false;
    std::optional<float> ms = after->elapsedMsSince(*before, error);
    if (!ms)
      return false;
    total += *ms;
  }
  msPerLaunch = total / iterations;
  return true;
}

bool CudaBackend::doStep(const int32_t *tokens, const int32_t *positions,
                         int64_t m, Sequence kind,
                         const std::vector<int> &sequence, std::string &error) {
  const Manifest &man = bundle_->manifest();
  State &s = *state_;
  const State::Slot &tok = s.slots[man.tokens], &pos = s.slots[man.positions];
  if (!tok.parent->upload(tokens, m * 4, tok.offset, error) ||
      !pos.parent->upload(positions, m * 4, pos.offset, error))
    return false;
  bool timed = timing();
  // Decode steps launch programmatically: their kernels are short, so
  // overlapping each one's launch and start with the end of the one before
  // pays (1.25x on the tiny model's decode on an H200), where the prefill
  // GEMMs of an 8B model ran 17 % slower launched so.
  bool programmatic = kind == Sequence::Decode && programmaticLaunches();
  // A decode step is always one token, and its kernels' arguments never
  // change: the first one is captured, later ones replay the graph.
  if (kind == Sequence::Decode && options_.graphs && !timed &&
      !options_.syncEachKernel) {
    if (!s.decodeGraph) {
      s.decodeGraph = Graph::capture(
          *s.context, "the decode step",
          [&](std::string &why) {
            for (int k : sequence)
              if (!enqueue(k, m, why, programmatic))
                return false;
            return true;
          },
          error);
      if (!s.decodeGraph)
        return false;
    }
    std::string why;
    if (!s.decodeGraph->launch(error))
      return false;
    if (!s.context->synchronize(why)) {
      error = "a kernel of the decode step (a CUDA graph) failed: " + why +
              " (synchronizing after every kernel, which launches them one "
              "by one, names it)";
      return false;
    }
    return true;
  }
  if (timed)
    while (s.events.size() < sequence.size() + 1) {
      auto event = Event::create(
          *s.context, "step event " + std::to_string(s.events.size()), error);
      if (!event)
        return false;
      s.events.push_back(std::move(event));
    }
  if (timed && !s.events[0]->record(error))
    return false;
  for (size_t i = 0; i < sequence.size(); ++i) {
    int k = sequence[i];
    if (!enqueue(k, m, error, programmatic))
      return false;
    if (timed && !s.events[i + 1]->record(error))
      return false;
    std::string why;
    if (options_.syncEachKernel && !s.context->synchronize(why)) {
      error = kernelWhat(man, k) + " failed: " + why;
      return false;
    }
  }
  std::string why;
  if (!s.context->synchronize(why)) {
    error = "a kernel of the step failed: " + why +
            " (the first kernel that failed may be an earlier one; "
            "synchronizing after every kernel names it)";
    return false;
  }
  if (timed)
    for (size_t i = 0; i < sequence.size(); ++i) {
      std::optional<float> ms =
          s.events[i + 1]->elapsedMsSince(*s.events[i], error);
      if (!ms)
        return false;
      addTiming(sequence[i], *ms);
    }
  return true;
}

bool CudaBackend::readLogits(int64_t begin, int64_t end, float *out,
                             std::string &error) {
  const Manifest &man = bundle_->manifest();
  const State::Slot &slot = state_->slots[man.logits];
  size_t row = static_cast<size_t>(man.model.vocabSize) * 4;
  return slot.parent->download(out, (end - begin) * row,
                               slot.offset + begin * row, error);
}

bool CudaBackend::readNextToken(int32_t &token, std::string &error) {
  const State::Slot &slot = state_->slots[bundle_->manifest().nextToken];
  return slot.parent->download(&token, 4, slot.offset, error);
}

bool CudaBackend::readBuffer(const std::string &name, int64_t rows,
                             std::vector<uint8_t> &bytes, std::string &error) {
  if (!state_) {
    error = "no bundle is loaded";
    return false;
  }
  int index = bundle_->manifest().findBuffer(name);
  if (index < 0) {
    error = "the bundle has no buffer '" + name + "'";
    return false;
  }
  const State::Slot &slot = state_->slots[index];
  int64_t size = bundle_->manifest().buffers[index].bytes(rows);
  if (rows < 0 || size > slot.capacity) {
    error = "buffer " + name + " holds " + std::to_string(slot.capacity) +
            " bytes; " + std::to_string(rows) + " rows do not fit";
    return false;
  }
  bytes.resize(size);
  return slot.parent->download(bytes.data(), size, slot.offset, error);
}

bool CudaBackend::writeBuffer(const std::string &name, const void *data,
                              size_t bytes, std::string &error) {
  if (!state_) {
    error = "no bundle is loaded";
    return false;
  }
  int index = bundle_->manifest().findBuffer(name);
  if (index < 0) {
    error = "the bundle has no buffer '" + name + "'";
    return false;
  }
  const State::Slot &slot = state_->slots[index];
  if (static_cast<int64_t>(bytes) > slot.capacity) {
    error = "buffer " + name + " holds " + std::to_string(slot.capacity) +
            " bytes; " + std::to_string(bytes) + " do not fit";
    return false;
  }
  return slot.parent->upload(data, bytes, slot.offset, error);
}
