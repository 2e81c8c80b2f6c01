//===- Parallel.h - Splitting loops over threads ----------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The one way qopt splits work over cores, in the compiler and the runtime.
// Work is split by index only (never by reduction order), so a result does
// not depend on the number of threads.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_PARALLEL_H
#define QOPT_RUNTIME_PARALLEL_H

#include <cstdint>
#include <functional>

namespace qrt {

/// `requested`, or every hardware thread when it is 0 (at least 1).
unsigned resolveThreads(unsigned requested);

/// Runs fn(begin, end) over [0, n) cut into at most `threads` contiguous
/// chunks (0: resolveThreads(0)), one thread each, the calling thread
/// included; returns when all are done. n <= 0 does nothing.
void parallelFor(int64_t n, unsigned threads,
                 const std::function<void(int64_t, int64_t)> &fn);

/// Runs fn(i) for every i in [0, n), handing indices out one at a time to
/// `threads` threads (for work items of uneven cost).
void parallelForEach(int64_t n, unsigned threads,
                     const std::function<void(int64_t)> &fn);

} // namespace qrt

#endif // QOPT_RUNTIME_PARALLEL_H
