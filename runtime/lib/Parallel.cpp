//===- Parallel.cpp - Splitting loops over threads ------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

unsigned qrt::resolveThreads(unsigned requested) {
  if (requested)
    return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

void qrt::parallelFor(int64_t n, unsigned threads,
                      const std::function<void(int64_t, int64_t)> &fn) {
  if (n <= 0)
    return;
  int64_t t = std::min<int64_t>(resolveThreads(threads), n);
  if (t == 1) {
    fn(0, n);
    return;
  }
  int64_t chunk = (n + t - 1) / t;
  std::vector<std::thread> pool;
  for (int64_t b = chunk; b < n; b += chunk)
    pool.emplace_back(fn, b, std::min(n, b + chunk));
  fn(0, std::min(n, chunk));
  for (std::thread &th : pool)
    th.join();
}
