//===- BundleRun.h - qopt-run's bundle modes --------------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The pieces of runBundleMain (BundleMain.h): its options, and one function
// per mode. Internal to the bundle library.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_LIB_BUNDLE_BUNDLERUN_H
#define QOPT_RUNTIME_LIB_BUNDLE_BUNDLERUN_H

#include "qopt-runtime/Backend.h"
#include "qopt-runtime/Bundle.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qrt {
class Tokenizer;
namespace run {

struct Options {
  std::string bundleDir;
  std::string backend = "cpu";
  std::string ppl, logits, output, generate, generateIds;
  /// Where the weights quantized at load come from ("": the manifest's).
  std::string checkpoint;
  bool generating = false, bench = false;
  int64_t seqLen = 512, maxWindows = 0, maxNewTokens = 32;
  double temperature = 0.0, topP = 1.0;
  uint64_t seed = 0;
  /// 0: what the run needs.
  int64_t maxSeqLen = 0;
  unsigned threads = 0;
  int device = 0;
  bool syncKernels = false, forcePtx = false, cudaGraphs = true,
       smallMKernels = true, programmaticLaunch = true;
  /// --ppl scores each window one token at a time through decode steps
  /// (the decode kernels and CUDA graph) instead of prefill steps.
  bool pplDecode = false;
};

/// Everything a mode needs.
struct Run {
  const Options &options;
  const Bundle &bundle;
  Backend &backend;
  std::chrono::steady_clock::time_point start;

  int64_t vocab() const { return bundle.manifest().model.vocabSize; }
};

/// Prints "qopt-run: error: MESSAGE" and returns 1.
int fail(const std::string &message);
/// Seconds since `since`.
double seconds(std::chrono::steady_clock::time_point since);

/// Checks every token against [0, vocab), naming `what` (FILE:TENSOR), the
/// first bad token's index (a multi-index for tensors of rank > 1) and its
/// value, as qopt's qopt-run does.
bool checkVocab(const std::string &what, const std::vector<int32_t> &tokens,
                const std::vector<int64_t> &shape, int64_t vocab,
                std::string &error);

/// Runs the `n` tokens at positions start.. as prefill steps of at most
/// max_tokens tokens, calling `chunk(first, rows)` after each (its rows'
/// logits are then readable).
bool prefill(Backend &backend, const int32_t *tokens, int64_t n, int64_t start,
             const std::function<bool(int64_t, int64_t)> &chunk,
             std::string &error);

int runPpl(Run &run, const std::vector<int32_t> &tokens);
int runLogits(Run &run, const std::vector<int32_t> &tokens,
              const std::vector<int64_t> &shape);
/// `prompt` is the whole prompt (BOS included); with a tokenizer, the result
/// is also printed as text.
int runGenerate(Run &run, const std::vector<int32_t> &prompt,
                const Tokenizer *tokenizer);
int runBench(Run &run);

} // namespace run
} // namespace qrt

#endif // QOPT_RUNTIME_LIB_BUNDLE_BUNDLERUN_H
