//===- KernelCheck.cpp - Each kernel of a bundle against its reference ----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include "qopt-runtime/Backend.h"
#include "qopt-runtime/Bundle.h"
#include "qopt-runtime/KernelCheck.h"
#include "qopt-runtime/Parallel.h"
#include "qopt-runtime/QuantMath.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

using namespace qrt;
using namespace qrt::bundle;

namespace {

/// The size of an operand's values: what its dequantized magnitude should
/// be for results near 1.
struct Magnitudes {
  double aScale = 1, bScale = 1;
};

Magnitudes gemmMagnitudes(const GemmSpec &s) {
  double rootK = std::sqrt(static_cast<double>(s.k));
  Magnitudes mag;
  switch (s.kind) {
  case GemmKind::S8:
    mag.aScale = 1.0 / 127;
    mag.bScale = 1.0 / (127 * rootK);
    break;
  case GemmKind::E4M3:
    mag.aScale = 1.0 / 32;
    mag.bScale = 1.0 / (32 * rootK);
    break;
  case GemmKind::W8A16:
    mag.bScale = 1.0 / (127 * rootK);
    break;
  case GemmKind::W4A16:
    mag.bScale = 1.0 / (8 * rootK);
    break;
  case GemmKind::BF16:
    mag.bScale = 1.0 / rootK;
    break;
  }
  return mag;
}

bool endsWith(const std::string &s, const std::string &tail) {
  return s.size() >= tail.size() &&
         s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
bool startsWith(const std::string &s, const std::string &head) {
  return s.compare(0, head.size(), head) == 0;
}

/// The bytes of one element (an i4x2 byte holds two).
int64_t elementBytes(ElemType t) { return storageBytes(t, {1}); }

/// splitmix64: fast enough for the weights of a Llama-3-8B layer and its
/// 128256-row embedding and lm_head, regenerated for every check.
class Rng {
public:
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi].
  int64_t integer(int64_t lo, int64_t hi) {
    return lo +
           static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  /// Uniform with mean `mean` and standard deviation `sd`.
  float spread(double mean, double sd) {
    return static_cast<float>(mean +
                              sd * 1.7320508075688772 * (2 * unit() - 1));
  }

private:
  uint64_t state;
};

/// Seeded random bytes for one parameter.
class InputMaker {
public:
  /// Positions start at random in the cache, or with `atEnd` at its last m
  /// rows.
  InputMaker(const Kernel &kernel, int64_t m, int64_t cacheRows, uint64_t seed,
             bool atEnd = false)
      : kernel(kernel), rng(seed) {
    if (auto *g = std::get_if<GemmSpec>(&kernel.spec))
      mag = gemmMagnitudes(*g);
    int64_t last = std::max<int64_t>(0, cacheRows - m);
    firstPosition = atEnd ? last : rng.integer(0, last);
  }

  /// The bytes of parameter `p` (of buffer `buf`) with `rows` rows.
  std::vector<uint8_t> make(const Param &p, const Buffer &buf, int64_t rows,
                            bool exact) {
    int64_t bytes = buf.bytes(rows);
    std::vector<uint8_t> out(static_cast<size_t>(bytes));
    int64_t n = bytes / elementBytes(buf.type);
    const std::string &r = p.role;
    if (r == "tokens") {
      int64_t vocab = std::get<EmbeddingSpec>(kernel.spec).vocab;
      fillI32(out, n, [&](Rng &g) { return int32_t(g.integer(0, vocab - 1)); });
    } else if (r == "perm") {
      // A random permutation (Fisher-Yates).
      std::vector<int32_t> perm(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        perm[i] = static_cast<int32_t>(i);
      for (int64_t i = n - 1; i > 0; --i)
        std::swap(perm[i], perm[rng.integer(0, i)]);
      std::memcpy(out.data(), perm.data(), 4 * n);
    } else if (r == "positions") {
      for (int64_t i = 0; i < n; ++i) {
        int32_t pos = static_cast<int32_t>(firstPosition + i);
        std::memcpy(out.data() + 4 * i, &pos, 4);
      }
    } else if (startsWith(r, "int_bias")) {
      fillI32(out, n, [&](Rng &g) { return int32_t(g.integer(-2000, 2000)); });
    } else if (endsWith(r, "zero_points") || endsWith(r, "zero_point")) {
      bool int4 = std::holds_alternative<GemmSpec>(kernel.spec) &&
                  std::get<GemmSpec>(kernel.spec).kind == GemmKind::W4A16 &&
                  startsWith(r, "b");
      int32_t most = int4 ? 3 : 10;
      fillI32(out, n, [&](Rng &g) { return int32_t(g.integer(-most, most)); });
    } else if (p.cache == Param::Cache::Scales || endsWith(r, "scale") ||
               endsWith(r, "scales")) {
      double base = scaleBase(r);
      bool unit = exact && std::holds_alternative<GemmSpec>(kernel.spec);
      fillFloat(out, buf.type, n, [&](Rng &g) {
        return unit ? 1.0f : static_cast<float>(base * (0.5 + g.unit()));
      });
    } else if (buf.type == ElemType::I8) {
      fill(n, [&](int64_t i, Rng &g) {
        out[i] =
            static_cast<uint8_t>(static_cast<int8_t>(g.integer(-127, 127)));
      });
    } else if (buf.type == ElemType::I4x2) {
      fill(static_cast<int64_t>(out.size()), [&](int64_t i, Rng &g) {
        out[i] = static_cast<uint8_t>(g.next() >> 56);
      });
    } else if (buf.type == ElemType::F8E4M3) {
      fill(n, [&](int64_t i, Rng &g) {
        out[i] = qnum::floatToE4M3FN(g.spread(0, 32));
      });
    } else if (buf.type == ElemType::I32) {
      fillI32(out, n, [&](Rng &g) { return int32_t(g.integer(-100, 100)); });
    } else {
      // Float data: mean 0, deviation 1 (uniform), but weights of a bf16 GEMM
      // scaled by 1 / sqrt(K), norm weights near 1, biases and residuals zero
      // in the exact run.
      double mean = 0, sd = 1;
      if (std::holds_alternative<GemmSpec>(kernel.spec) &&
          (r == "b" || r == "b2"))
        sd = mag.bScale;
      if (std::holds_alternative<RmsNormSpec>(kernel.spec) && r == "w")
        mean = 1, sd = 0.1;
      if (r == "rope_table")
        sd = 0.5;
      if (startsWith(r, "bias"))
        sd = 0.1;
      if (exact && (startsWith(r, "bias") || r == "residual"))
        sd = 0;
      fillFloat(out, buf.type, n, [&](Rng &g) { return g.spread(mean, sd); });
    }
    return out;
  }

private:
  double scaleBase(const std::string &r) {
    if (startsWith(r, "a_"))
      return mag.aScale;
    if (startsWith(r, "b_") || startsWith(r, "b2_"))
      return mag.bScale;
    // Scales that quantize a result (output, KV cache, norm output): a
    // range of about +-4 over 127 or 448 steps.
    bool f8 = false;
    if (auto *a = std::get_if<RopeAppendSpec>(&kernel.spec))
      f8 = (startsWith(r, "k") ? a->keys : a->values).storage ==
           ElemType::F8E4M3;
    if (auto *a = std::get_if<AttentionSpec>(&kernel.spec))
      f8 = (startsWith(r, "k") ? a->keys : a->values).storage ==
           ElemType::F8E4M3;
    if (auto *g = std::get_if<GemmSpec>(&kernel.spec))
      f8 = g->outType == ElemType::F8E4M3;
    if (auto *q = std::get_if<RmsNormSpec>(&kernel.spec))
      f8 = q->outType == ElemType::F8E4M3;
    return 4.0 / (f8 ? 448 : 127);
  }

  /// f(i, g) for every element i < n, in parallel: g is element i's own
  /// generator (of this parameter's stream), so the values do not depend on
  /// the threads.
  template <class F> void fill(int64_t n, F f) {
    uint64_t stream = rng.next();
    parallelForChunks(n, int64_t(1) << 16, 8.0, 0, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        Rng g(stream ^ (static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ull));
        f(i, g);
      }
    });
  }
  template <class F> void fillI32(std::vector<uint8_t> &out, int64_t n, F f) {
    fill(n, [&](int64_t i, Rng &g) {
      int32_t v = f(g);
      std::memcpy(out.data() + 4 * i, &v, 4);
    });
  }
  template <class F>
  void fillFloat(std::vector<uint8_t> &out, ElemType type, int64_t n, F f) {
    std::vector<float> vals(static_cast<size_t>(n));
    fill(n, [&](int64_t i, Rng &g) { vals[i] = f(g); });
    int64_t bytes = elementBytes(type);
    parallelForChunks(n, int64_t(1) << 16, 4.0, 0, [&](int64_t b, int64_t e) {
      cpu::storeFloats(type, vals.data() + b, e - b, out.data() + b * bytes);
    });
  }

  const Kernel &kernel;
  Rng rng;
  Magnitudes mag;
  int64_t firstPosition = 0;
};

/// Rows of buffer `buf` for a launch of m tokens.
int64_t rowsOf(const Buffer &buf, int64_t m, int64_t cacheRows) {
  bool kv = buf.kind == BufferKind::KVCache || buf.kind == BufferKind::KVScales;
  return kv ? cacheRows : m;
}

/// Whether kernel `k` gets the exact integer run.
bool exactCandidate(const Kernel &k) {
  auto *g = std::get_if<GemmSpec>(&k.spec);
  return g && g->kind == GemmKind::S8 && !g->gated;
}

/// Compares one output; folds the outcome into `r`.
void compare(const std::string &name, ElemType type,
             const std::vector<uint8_t> &ref, const std::vector<uint8_t> &test,
             double tolerance, bool exact, KernelCheckResult &r) {
  int64_t n = static_cast<int64_t>(ref.size()) / elementBytes(type);
  r.elements += n;
  if (type == ElemType::I32 || type == ElemType::I4x2) {
    int64_t bad = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(ref.size()); i += 4)
      bad += std::memcmp(ref.data() + i, test.data() + i, 4) != 0;
    r.mismatches += bad;
    if (bad && r.ok) {
      r.ok = false;
      r.detail = name + ": " + std::to_string(bad) + " of " +
                 std::to_string(n) + " integers differ";
    }
    return;
  }
  if (type == ElemType::I8 || type == ElemType::F8E4M3) {
    int64_t one = 0, far = 0;
    for (int64_t i = 0; i < n; ++i) {
      int d;
      if (type == ElemType::I8) {
        d = std::abs(int(int8_t(ref[i])) - int(int8_t(test[i])));
      } else {
        // e4m3 codes are ordered by magnitude within a sign.
        bool sameSign = (ref[i] & 0x80) == (test[i] & 0x80);
        d = sameSign ? std::abs(int(ref[i] & 0x7F) - int(test[i] & 0x7F))
                     : (ref[i] & 0x7F) + (test[i] & 0x7F);
      }
      one += d == 1;
      far += d > 1;
    }
    r.offByOne += one;
    r.mismatches += far;
    bool bad = far > 0 || (exact ? one > 0 : one * 1000 > n);
    if (bad && r.ok) {
      r.ok = false;
      r.detail = name + ": " + std::to_string(far) + " of " +
                 std::to_string(n) + " values differ by more than one step, " +
                 std::to_string(one) + " by one";
    }
    return;
  }
  std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
  cpu::loadFloats(type, ref.data(), n, a.data());
  cpu::loadFloats(type, test.data(), n, b.data());
  double maxRef = 0, maxErr = 0;
  int64_t nonFinite = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(a[i]))
      continue;
    maxRef = std::max(maxRef, std::fabs(double(a[i])));
    if (!std::isfinite(b[i])) {
      ++nonFinite;
      continue;
    }
    maxErr = std::max(maxErr, std::fabs(double(a[i]) - double(b[i])));
  }
  double rel = maxRef > 0 ? maxErr / maxRef : maxErr;
  if (rel >= r.relError) {
    r.relError = rel;
    r.worstOutput = name;
  }
  bool bad = nonFinite > 0 || (exact ? maxErr != 0 : !(rel <= tolerance));
  if (bad && r.ok) {
    r.ok = false;
    r.detail =
        name + ": " +
        (nonFinite ? std::to_string(nonFinite) +
                         " values are not finite where the reference's "
                         "are; "
                   : std::string()) +
        "max |test - reference| / max |reference| = " + std::to_string(rel) +
        (exact ? " (the exact run needs 0)"
               : " (tolerance " + std::to_string(tolerance) + ")");
  }
}

/// Checks kernel `k` at each of `rows` (ascending) with one set of inputs,
/// made for the largest: a launch of m tokens reads their first m rows.
/// Outputs get their sentinels, and buffers the kernel reads and writes
/// (KV caches) their inputs, again before each launch.
bool runRows(const Bundle &bundle, Backend &ref, Backend &test, int k,
             const std::vector<int64_t> &rows, bool exact, uint64_t seed,
             double tolerance, std::vector<KernelCheckResult> &results,
             std::string &error) {
  const Manifest &man = bundle.manifest();
  const Kernel &kernel = man.kernels[k];
  int64_t cacheRows = ref.maxSeqLen(), most = rows.back();
  InputMaker maker(kernel, most, cacheRows, seed);
  std::set<int> inputs;
  for (size_t i = 0; i < kernel.params.size(); ++i)
    if (!kernel.params[i].output ||
        kernel.params[i].cache != Param::Cache::None)
      inputs.insert(kernel.argBuffers[i]);
  // What is written again before each launch: (buffer, reference bytes,
  // bytes under test).
  struct Rewrite {
    std::string name;
    std::vector<uint8_t> ref, test;
  };
  std::vector<Rewrite> rewrites;
  std::set<int> written;
  for (size_t i = 0; i < kernel.params.size(); ++i) {
    const Param &p = kernel.params[i];
    int b = kernel.argBuffers[i];
    if (!written.insert(b).second)
      continue;
    const Buffer &buf = man.buffers[b];
    int64_t n = rowsOf(buf, most, cacheRows);
    if (!inputs.count(b)) {
      rewrites.push_back({buf.name, std::vector<uint8_t>(buf.bytes(n), 0),
                          std::vector<uint8_t>(buf.bytes(n), 0xFF)});
      continue;
    }
    std::vector<uint8_t> bytes = maker.make(p, buf, n, exact);
    if (p.output) {
      rewrites.push_back({buf.name, bytes, bytes});
      continue;
    }
    if (!ref.writeBuffer(buf.name, bytes.data(), bytes.size(), error) ||
        !test.writeBuffer(buf.name, bytes.data(), bytes.size(), error))
      return false;
  }
  for (int64_t m : rows) {
    KernelCheckResult r;
    r.kernel = k;
    r.name = test.launchedName(k, m);
    r.family = familyName(kernel.family);
    r.m = m;
    r.exact = exact;
    for (const Rewrite &w : rewrites)
      if (!ref.writeBuffer(w.name, w.ref.data(), w.ref.size(), error) ||
          !test.writeBuffer(w.name, w.test.data(), w.test.size(), error))
        return false;
    if (!ref.launch(k, m, error) || !test.launch(k, m, error)) {
      error = "m = " + std::to_string(m) + ": " + error;
      return false;
    }
    std::set<int> compared;
    for (size_t i = 0; i < kernel.params.size(); ++i) {
      const Param &p = kernel.params[i];
      int b = kernel.argBuffers[i];
      if (!p.output || !compared.insert(b).second)
        continue;
      const Buffer &buf = man.buffers[b];
      int64_t n = rowsOf(buf, m, cacheRows);
      std::vector<uint8_t> a, t;
      if (!ref.readBuffer(buf.name, n, a, error) ||
          !test.readBuffer(buf.name, n, t, error))
        return false;
      // A one-element output ([1], argmax) holds the last row's result.
      compare(p.role + " (" + buf.name + ")", buf.type, a, t, tolerance, exact,
              r);
    }
    results.push_back(std::move(r));
  }
  return true;
}

} // namespace

bool qrt::randomizeKernelInputs(const Bundle &bundle, Backend &backend,
                                int kernel, int64_t m, uint64_t seed,
                                std::string &error) {
  const Manifest &man = bundle.manifest();
  if (kernel < 0 || kernel >= static_cast<int>(man.kernels.size())) {
    error = "the bundle has no kernel " + std::to_string(kernel);
    return false;
  }
  const Kernel &k = man.kernels[kernel];
  InputMaker maker(k, m, backend.maxSeqLen(), seed, /*atEnd=*/true);
  for (size_t i = 0; i < k.params.size(); ++i) {
    const Buffer &buf = man.buffers[k.argBuffers[i]];
    int64_t rows = rowsOf(buf, m, backend.maxSeqLen());
    std::vector<uint8_t> bytes = maker.make(k.params[i], buf, rows, false);
    if (!backend.writeBuffer(buf.name, bytes.data(), bytes.size(), error))
      return false;
  }
  return true;
}

bool qrt::checkKernels(const Bundle &bundle, Backend &reference, Backend &test,
                       const KernelCheckOptions &options,
                       std::vector<KernelCheckResult> &results,
                       std::set<std::string> &seen, std::string &error) {
  const Manifest &man = bundle.manifest();
  if (reference.bundle() != &bundle || test.bundle() != &bundle) {
    error = "both backends must have the bundle loaded";
    return false;
  }
  if (reference.maxSeqLen() != test.maxSeqLen()) {
    error = "the backends' KV caches differ in rows";
    return false;
  }
  std::vector<int> order(man.prefill);
  order.insert(order.end(), man.decode.begin(), man.decode.end());
  uint64_t seed = options.seed;
  for (int k : order) {
    const Kernel &kernel = man.kernels[k];
    if (!seen.insert(kernel.signature).second)
      continue;
    int64_t most = std::min(man.maxTokens, kernel.maxTokens());
    std::vector<int64_t> rows;
    for (int64_t m : options.rows)
      if (m >= 1 && m <= most && m <= reference.maxSeqLen() &&
          std::find(rows.begin(), rows.end(), m) == rows.end())
        rows.push_back(m);
    std::sort(rows.begin(), rows.end());
    if (rows.empty())
      continue;
    for (bool exact : {false, true}) {
      if (exact && !exactCandidate(kernel))
        continue;
      if (!runRows(bundle, reference, test, k, rows, exact, seed++,
                   options.tolerance, results, error)) {
        error = kernel.name + ": " + error;
        return false;
      }
    }
  }
  return true;
}
