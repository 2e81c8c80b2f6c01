//===- Parallel.h - Splitting loops over threads ----------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The one way qopt splits work over cores, in the compiler's numerics
// (quantization, smoothing, weight evaluation and encoding, GPTQ / AWQ) and
// in the runtime's kernels. Plain C++: threads are started per call and
// joined before it returns, nothing is global. Work is split by index only
// (rows, blocks, heads), never by reduction order, and every element is
// computed by the same operations whatever the split, so results do not
// depend on the number of threads.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_PARALLEL_H
#define QOPT_RUNTIME_PARALLEL_H

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace qrt {

/// `requested`, or every hardware thread when it is 0 (at least 1).
unsigned resolveThreads(unsigned requested);

/// Runs fn(begin, end) over [0, n) cut into at most `threads` contiguous
/// chunks (0: resolveThreads(0)), one thread each, the calling thread
/// included; returns when all are done. n <= 0 does nothing.
void parallelFor(int64_t n, unsigned threads,
                 const std::function<void(int64_t, int64_t)> &fn);

/// std::thread::hardware_concurrency(), at least 1.
inline int hardwareThreads() {
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? static_cast<int>(hc) : 1;
}

/// The number of threads to use for `work` units of work (multiply-adds,
/// elements, ...): `requested` (0: all hardware threads), but one per
/// `workPerThread` units at most, so small problems stay on the calling
/// thread.
inline int threadsFor(int requested, double work,
                      double workPerThread = 4.0e6) {
  int t = requested > 0 ? requested : hardwareThreads();
  double byWork = std::floor(work / workPerThread);
  if (byWork < t)
    t = std::max(1, static_cast<int>(byWork));
  return t;
}

/// Calls fn(i) for every i in [0, count), spread dynamically over `threads`
/// threads (the calling thread included).
template <typename Fn>
void parallelForEach(int64_t count, int threads, const Fn &fn) {
  if (count <= 0)
    return;
  int64_t t = std::min<int64_t>(std::max(threads, 1), count);
  if (t == 1) {
    for (int64_t i = 0; i < count; ++i)
      fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  auto worker = [&]() {
    for (int64_t i = next.fetch_add(1); i < count; i = next.fetch_add(1))
      fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (int64_t i = 1; i < t; ++i)
    pool.emplace_back(worker);
  worker();
  for (std::thread &th : pool)
    th.join();
}

/// Calls fn(begin, end) over [0, n) in consecutive chunks of `grain` items
/// (the last one shorter), spread over `threads` threads (0: all hardware
/// threads; fewer when there are fewer than about `workPerThread` / `cost`
/// items per thread, `cost` being the work of one item).
template <typename Fn>
void parallelForChunks(int64_t n, int64_t grain, double cost, int threads,
                       const Fn &fn) {
  if (n <= 0)
    return;
  grain = std::max<int64_t>(grain, 1);
  int t = threadsFor(threads, double(n) * cost);
  int64_t chunks = (n + grain - 1) / grain;
  parallelForEach(chunks, t, [&](int64_t c) {
    int64_t b = c * grain;
    fn(b, std::min(b + grain, n));
  });
}

} // namespace qrt

#endif // QOPT_RUNTIME_PARALLEL_H
