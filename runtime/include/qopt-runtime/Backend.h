//===- Backend.h - Running a compiled-model bundle --------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A Backend runs a loaded Bundle (Bundle.h) step by step: a step of m
// tokens at their positions fills the bundle's `tokens` and `positions`
// inputs and launches the prefill or decode sequence; afterwards the logits
// of the step's rows and the greedy next token can be read.
//
//   CpuBackend   the kernels computed on the host (the GPU's oracle), with
//                every buffer in its storage type
//   CudaBackend  the bundle's PTX / cubin launched through the CUDA driver
//                (CudaDriver.h): one allocation each for the weights
//                (uploaded once), the arena, the KV caches (with their
//                per-token scales) and the inputs
//
// Usage:
//   CpuBackend cpu(threads);
//   if (!cpu.load(*bundle, maxSeqLen, error) ||
//       !cpu.step(tokens, positions, m, Sequence::Prefill, error) ||
//       !cpu.logits(0, m, rows, error)) ...
//
// Errors: nothing throws; a call that fails returns false with one message.
// step() checks what the kernels cannot: m in [1, max_tokens] (1 for a
// decode step), token ids inside the vocabulary, positions inside the KV
// cache. A backend is not thread-safe.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_BACKEND_H
#define QOPT_RUNTIME_BACKEND_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qrt {

class Bundle;
namespace bundle {
struct SmallMVariant;
} // namespace bundle

/// Which launch sequence of the bundle a step runs.
enum class Sequence { Prefill, Decode };

/// Time spent in one kernel (index into the manifest's kernels).
struct KernelTiming {
  int kernel = 0;
  std::string name, family;
  int64_t launches = 0;
  double totalMs = 0;
};

class Backend {
public:
  virtual ~Backend();

  /// "cpu" or "cuda".
  virtual const char *name() const = 0;

  /// Prepares to run `bundle` (which must outlive the backend) with KV
  /// caches of `maxSeqLen` rows, at least 1 and at most the bundle's
  /// Manifest::maxSeqLimit(). The caches start zeroed.
  bool load(const Bundle &bundle, int64_t maxSeqLen, std::string &error);

  /// One step of `m` tokens (`tokens[i]` at position `positions[i]`).
  bool step(const int32_t *tokens, const int32_t *positions, int64_t m,
            Sequence sequence, std::string &error);

  /// The logits of rows [begin, end) of the last step, row-major
  /// [end - begin, vocab].
  bool logits(int64_t begin, int64_t end, std::vector<float> &out,
              std::string &error);

  /// The greedy next token of the last step (the argmax of its last row):
  /// the bundle's `next_token` output when it has one, else computed here
  /// from the logits. Checked against the vocabulary.
  bool nextToken(int32_t &token, std::string &error);

  /// Zeroes the KV caches and their scales: the next step starts a new
  /// sequence.
  virtual bool resetCache(std::string &error) = 0;

  /// The kernel a launch of kernel `kernel` for `m` tokens runs: its name,
  /// or that of the small-M variant this backend picks.
  virtual std::string launchedName(int kernel, int64_t m) const;

  /// Runs kernel `kernel` (an index into the manifest's kernels) alone, for
  /// `m` tokens (1 to its max_tokens), on the buffers as they are, and
  /// waits for it: what the kernel checks (KernelCheck.h) run.
  bool launch(int kernel, int64_t m, std::string &error);

  /// The mean time of one launch of kernel `kernel` for `m` tokens over
  /// `iterations` launches, each after `flushBytes` of other memory are
  /// written (0: none), so that a kernel streaming its weights finds none
  /// of them in the L2. Only the kernels are timed.
  bool timeKernel(int kernel, int64_t m, int iterations, int64_t flushBytes,
                  double &msPerLaunch, std::string &error);

  /// The bytes of buffer `name` (its first `rows` rows when it has a token
  /// or cache-row dimension), and writes to it: for tests, the kernel checks
  /// and debugging. A weight written here replaces the bundle's in this
  /// backend only.
  virtual bool readBuffer(const std::string &name, int64_t rows,
                          std::vector<uint8_t> &bytes, std::string &error) = 0;
  virtual bool writeBuffer(const std::string &name, const void *data,
                           size_t bytes, std::string &error) = 0;

  /// Per-kernel timing of the following steps (off by default; on a GPU it
  /// records events around every launch).
  void setTiming(bool enabled) { timing_ = enabled; }
  bool timing() const { return timing_; }
  /// The kernels launched since the last clearTimings(), with their times.
  std::vector<KernelTiming> timings() const;
  void clearTimings();

  const Bundle *bundle() const { return bundle_; }
  int64_t maxSeqLen() const { return maxSeqLen_; }
  /// Rows of the last step (0 before the first).
  int64_t lastRows() const { return lastRows_; }

protected:
  virtual bool doLoad(std::string &error) = 0;
  /// launch() and timeKernel() after their checks.
  virtual bool doLaunch(int kernel, int64_t m, std::string &error) = 0;
  virtual bool doTimeKernel(int kernel, int64_t m, int iterations,
                            int64_t flushBytes, double &msPerLaunch,
                            std::string &error) = 0;
  /// Runs the kernels of `sequence` (the manifest's `kind` sequence) for a
  /// step of m tokens, already checked; the inputs are to be filled from
  /// `tokens` and `positions`.
  virtual bool doStep(const int32_t *tokens, const int32_t *positions,
                      int64_t m, Sequence kind,
                      const std::vector<int> &sequence, std::string &error) = 0;
  /// The f32 bytes of rows [begin, end) of the logits buffer.
  virtual bool readLogits(int64_t begin, int64_t end, float *out,
                          std::string &error) = 0;
  /// The i32 of the next_token buffer.
  virtual bool readNextToken(int32_t &token, std::string &error) = 0;

  /// Adds one launch of kernel `kernel` taking `ms`.
  void addTiming(int kernel, double ms);

  const Bundle *bundle_ = nullptr;
  int64_t maxSeqLen_ = 0;

private:
  int64_t lastRows_ = 0;
  bool timing_ = false;
  std::vector<KernelTiming> timings_;
};

/// The kernels on the host, with `threads` worker threads (0: every core).
class CpuBackend : public Backend {
public:
  explicit CpuBackend(unsigned threads = 0);
  ~CpuBackend() override;
  const char *name() const override { return "cpu"; }
  bool resetCache(std::string &error) override;
  bool readBuffer(const std::string &name, int64_t rows,
                  std::vector<uint8_t> &bytes, std::string &error) override;
  bool writeBuffer(const std::string &name, const void *data, size_t bytes,
                   std::string &error) override;

  struct State;

protected:
  bool doLoad(std::string &error) override;
  bool doLaunch(int kernel, int64_t m, std::string &error) override;
  bool doTimeKernel(int kernel, int64_t m, int iterations, int64_t flushBytes,
                    double &msPerLaunch, std::string &error) override;
  bool doStep(const int32_t *tokens, const int32_t *positions, int64_t m,
              Sequence kind, const std::vector<int> &sequence,
              std::string &error) override;
  bool readLogits(int64_t begin, int64_t end, float *out,
                  std::string &error) override;
  bool readNextToken(int32_t &token, std::string &error) override;

private:
  unsigned threads_;
  std::unique_ptr<State> state_;
};

struct CudaBackendOptions {
  /// The driver library ("" : QOPT_LIBCUDA, else libcuda.so.1).
  std::string libcuda;
  int device = 0;
  /// Synchronizes after every kernel, so that a fault names its kernel
  /// exactly (otherwise a step synchronizes once, at its end).
  bool syncEachKernel = false;
  /// Load kernels.ptx even when the bundle has a cubin.
  bool forcePtx = false;
  /// Replays decode steps from a CUDA graph captured at the first one (one
  /// cuGraphLaunch instead of a launch per kernel). Steps that time their
  /// kernels, or synchronize after each, launch one by one.
  bool graphs = true;
  /// Launches of few tokens run a kernel's small-M variant (the GEMMs'
  /// weight-streaming kernels) where the bundle has one.
  bool smallMKernels = true;
  /// Launches the decode steps' kernels of a bundle built with grid
  /// dependency control (Manifest::gridDependency) programmatically on
  /// sm_90 and later: each may start, and stream its first weights, while
  /// the one before it finishes (in CUDA graphs too). Prefill steps and
  /// single launches go one after the other.
  bool programmaticLaunch = true;
};

/// The bundle's kernels on a GPU.
class CudaBackend : public Backend {
public:
  explicit CudaBackend(CudaBackendOptions options = {});
  ~CudaBackend() override;
  const char *name() const override { return "cuda"; }
  bool resetCache(std::string &error) override;
  std::string launchedName(int kernel, int64_t m) const override;
  bool readBuffer(const std::string &name, int64_t rows,
                  std::vector<uint8_t> &bytes, std::string &error) override;
  bool writeBuffer(const std::string &name, const void *data, size_t bytes,
                   std::string &error) override;

  /// After load(): the device ("Fake H200, sm_90") and the image the
  /// kernels came from (its path), and why a cubin was not used ("" if it
  /// was, or there is none).
  std::string deviceDescription() const;
  std::string moduleSource() const;
  std::string cubinSkipped() const;
  /// After load(): whether decode kernels are launched programmatically
  /// (CudaBackendOptions::programmaticLaunch, the bundle's grid dependency
  /// control and a driver and device that have it).
  bool programmaticLaunches() const;

  struct State;

protected:
  bool doLoad(std::string &error) override;
  bool doLaunch(int kernel, int64_t m, std::string &error) override;
  bool doTimeKernel(int kernel, int64_t m, int iterations, int64_t flushBytes,
                    double &msPerLaunch, std::string &error) override;
  bool doStep(const int32_t *tokens, const int32_t *positions, int64_t m,
              Sequence kind, const std::vector<int> &sequence,
              std::string &error) override;
  bool readLogits(int64_t begin, int64_t end, float *out,
                  std::string &error) override;
  bool readNextToken(int32_t &token, std::string &error) override;

private:
  /// Launches kernel `k` for m tokens without waiting (programmatically:
  /// Function::launch).
  bool enqueue(int k, int64_t m, std::string &error, bool programmatic = false);
  /// The small-M variant a launch of m tokens runs, or null.
  const bundle::SmallMVariant *variant(int k, int64_t m) const;

  CudaBackendOptions options_;
  std::unique_ptr<State> state_;
};

} // namespace qrt

#endif // QOPT_RUNTIME_BACKEND_H
