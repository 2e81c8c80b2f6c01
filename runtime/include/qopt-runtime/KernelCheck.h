//===- KernelCheck.h - Each kernel of a bundle against its reference -*- C++
//-*-=//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The kernel test driver: every distinct kernel of a loaded bundle run
// alone on fresh random inputs, on a backend under test (the GPU) and on a
// reference backend (the CPU backend, whose kernels keep the GPU kernels'
// intermediate precisions), and their outputs compared. Both backends get
// the same inputs: every parameter the kernel reads, weights included, is
// written with seeded random values of realistic size for its role (8-bit
// operands over their range, scales that keep the results near 1, token
// ids inside the vocabulary, consecutive positions inside the KV cache);
// outputs the kernel only writes start as zeros on the reference and as
// 0xFF bytes under test, so an element the kernel fails to write differs.
//
// Comparison, per output:
//   float (f32, bf16, f16)  max |test - ref| / max |ref| <= tolerance, and
//                           no NaN or infinity where the reference has none
//   i8, f8e4m3              equal, or one step apart (a rounding tie the
//                           float arithmetic before it resolves either way)
//                           in at most 0.1 % of the elements
//   i32                     equal
// 8-bit integer GEMMs (without gating) get a second, exact run: every scale
// 1, bias and residual 0, so that the output is the integer accumulation
// (plus int_bias) converted once, and must be bit-identical.
//
// Kernels-only bundles (no weights file) are checked the same way: their
// weights are written like every other input.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_KERNELCHECK_H
#define QOPT_RUNTIME_KERNELCHECK_H

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace qrt {

class Backend;
class Bundle;

struct KernelCheckOptions {
  /// Token counts to launch each kernel with; those above a kernel's
  /// max_tokens are skipped for it.
  std::vector<int64_t> rows = {1, 7};
  uint64_t seed = 1;
  /// Float outputs: the largest error relative to the reference's largest
  /// magnitude.
  double tolerance = 1e-2;
};

struct KernelCheckResult {
  int kernel = 0;
  std::string name, family;
  int64_t m = 0;
  /// The exact integer run of an 8-bit GEMM.
  bool exact = false;
  /// The output with the largest error, and that error (float outputs).
  std::string worstOutput;
  double relError = 0;
  /// 8-bit and i32 elements: one step apart, and further apart.
  int64_t offByOne = 0, mismatches = 0, elements = 0;
  bool ok = true;
  /// Why it failed ("" when it passed).
  std::string detail;
};

/// Checks every distinct kernel of `bundle` (one per Kernel::signature:
/// the layers of a model repeat theirs), loaded into both backends with
/// the same KV cache rows, at each of options.rows. `seen` holds the
/// signatures already checked (e.g. in other bundles): those are skipped,
/// and the new ones added. Returns false only when a launch or a buffer
/// access fails (`error`); kernels whose outputs differ are results with
/// ok = false.
bool checkKernels(const Bundle &bundle, Backend &reference, Backend &test,
                  const KernelCheckOptions &options,
                  std::vector<KernelCheckResult> &results,
                  std::set<std::string> &seen, std::string &error);

/// Writes seeded random inputs (as checkKernels does) for kernel `kernel`
/// at m tokens into `backend`: what a benchmark of one kernel runs on. The
/// m tokens are the last positions of the KV cache, so an attention reads
/// every cached row (a decode step at context maxSeqLen()).
bool randomizeKernelInputs(const Bundle &bundle, Backend &backend, int kernel,
                           int64_t m, uint64_t seed, std::string &error);

} // namespace qrt

#endif // QOPT_RUNTIME_KERNELCHECK_H
