//===- qopt-kernel-check.cpp - The kernel test driver and GEMM timings ----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qopt-kernel-check BUNDLE_DIR... [--backend=cuda|cpu] [--rows=1,7,64]
//                   [--seed=N] [--tolerance=X] [--max-seq-len=N] [--device=N]
//   Runs every distinct kernel of the bundles (one per family, spec and
//   launch: a model's layers repeat theirs, and so do bundles of one model)
//   on fresh random inputs on the backend under test (default cuda) and on
//   the CPU backend (the reference) and compares them (KernelCheck.h): one
//   line per check, then a summary; exit 1 when any check fails.
//
// qopt-kernel-check BUNDLE_DIR... --bench=1,16,512,4096 [--iterations=N]
//                   [--flush-mb=N] [--family=gemm]
//   Times each distinct kernel of the family (default gemm) of the bundles
//   on the backend at each token count, with `flush-mb` MB written between
//   launches so that weights are not found in the L2; prints CSV
//   (kernel,kind,n,k,gated,b_scale,group,m,us,seq; `kernel` is the bundle's
//   name and the kernel that ran, e.g. sq/k2_gemm_gemv1: a GEMM's
//   weight-streaming or mma.sync variant or attention's split kernel for
//   few tokens). The tokens are the last `seq` positions of the KV cache
//   (--max-seq-len), so an attention reads all of it; rms_norm rows give the
//   output type, the row length and the output's scale, attention rows the
//   key cache's storage and scales, the heads, kv heads and head dimension.
//   With --no-small-m-kernels (checks and timings) every launch runs the
//   tiled / unsplit kernel.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Backend.h"
#include "qopt-runtime/Bundle.h"
#include "qopt-runtime/FlagValues.h"
#include "qopt-runtime/KernelCheck.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

using namespace qrt;
using namespace qrt::bundle;

namespace {

const char *const kUsage =
    "usage: qopt-kernel-check BUNDLE_DIR... [--backend=cuda|cpu] "
    "[--rows=M,...] [--seed=N]\n"
    "                         [--tolerance=X] [--max-seq-len=N] "
    "[--device=N]\n"
    "       qopt-kernel-check BUNDLE_DIR... --bench=M,... [--iterations=N] "
    "[--flush-mb=N]\n"
    "                         [--family=NAME]\n"
    "       either: [--no-small-m-kernels]\n";

int fail(const std::string &message) {
  std::fprintf(stderr, "qopt-kernel-check: error: %s\n", message.c_str());
  return 1;
}

bool parseList(const std::string &flag, const std::string &text,
               std::vector<int64_t> &out, std::string &error) {
  out.clear();
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t comma = text.find(',', begin);
    std::string item = text.substr(
        begin, comma == std::string::npos ? std::string::npos : comma - begin);
    int64_t v = 0;
    if (!parseIntFlag(flag, item, v, error))
      return false;
    if (v < 1) {
      error = flag + ": token counts are positive, not " + item;
      return false;
    }
    out.push_back(v);
    if (comma == std::string::npos)
      break;
    begin = comma + 1;
  }
  return true;
}

struct Options {
  std::vector<std::string> bundles;
  std::string backend = "cuda", family = "gemm";
  KernelCheckOptions check;
  std::vector<int64_t> bench;
  int64_t maxSeqLen = 0, iterations = 20, flushMb = 256, device = 0;
  bool smallM = true;
};

bool parseOptions(int argc, char **argv, Options &o, bool &help,
                  std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      help = true;
      continue;
    }
    if (arg == "--no-small-m-kernels") {
      o.smallM = false;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      o.bundles.push_back(arg);
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1), value;
    size_t eq = name.find('=');
    if (eq == std::string::npos) {
      if (i + 1 >= argc) {
        error = "--" + name + " needs a value";
        return false;
      }
      value = argv[++i];
    } else {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    std::string flag = "--" + name;
    int64_t n = 0;
    if (name == "backend") {
      if (!parseBackendFlag(value, o.backend, error))
        return false;
    } else if (name == "rows") {
      if (!parseList(flag, value, o.check.rows, error))
        return false;
    } else if (name == "bench") {
      if (!parseList(flag, value, o.bench, error))
        return false;
    } else if (name == "family") {
      Family f;
      if (!parseFamily(value, f)) {
        error = "--family: unknown kernel family '" + value + "'";
        return false;
      }
      o.family = value;
    } else if (name == "tolerance") {
      if (!parseDoubleFlag(flag, value, o.check.tolerance, error))
        return false;
      if (!(o.check.tolerance >= 0)) {
        error = "--tolerance must be non-negative, got " + value;
        return false;
      }
    } else if (name == "seed" || name == "max-seq-len" ||
               name == "iterations" || name == "flush-mb" || name == "device") {
      if (!parseIntFlag(flag, value, n, error))
        return false;
      if (n <
          (name == "seed" || name == "flush-mb" || name == "device" ? 0 : 1)) {
        error = flag + ": " + value + " is out of range";
        return false;
      }
      if (name == "seed")
        o.check.seed = static_cast<uint64_t>(n);
      else if (name == "max-seq-len")
        o.maxSeqLen = n;
      else if (name == "iterations")
        o.iterations = n;
      else if (name == "flush-mb")
        o.flushMb = n;
      else
        o.device = n;
    } else {
      error = "unknown option '" + arg + "'";
      return false;
    }
  }
  if (!help && o.bundles.empty())
    error = "no bundle directory given";
  return error.empty();
}

std::unique_ptr<Backend> makeBackend(const Options &o) {
  if (o.backend == "cpu")
    return std::make_unique<CpuBackend>(0);
  CudaBackendOptions co;
  co.device = static_cast<int>(o.device);
  co.smallMKernels = o.smallM;
  return std::make_unique<CudaBackend>(co);
}

/// KV cache rows: --max-seq-len, else enough for the largest launch.
int64_t cacheRows(const Options &o, const Manifest &m,
                  const std::vector<int64_t> &rows) {
  int64_t limit = m.maxSeqLimit();
  if (o.maxSeqLen)
    return o.maxSeqLen;
  int64_t most = 1;
  for (int64_t r : rows)
    most = std::max(most, r);
  return std::min(limit, std::max<int64_t>(most + 64, 256));
}

int checkBundle(const Options &o, const std::string &dir,
                std::set<std::string> &seen, int64_t &checks, int64_t &failed) {
  std::string error;
  std::unique_ptr<Bundle> bundle = Bundle::load(dir, error);
  if (!bundle)
    return fail(error);
  int64_t rows = cacheRows(o, bundle->manifest(), o.check.rows);
  CpuBackend reference(0);
  std::unique_ptr<Backend> test = makeBackend(o);
  if (!reference.load(*bundle, rows, error) ||
      !test->load(*bundle, rows, error))
    return fail(dir + ": " + error);
  std::vector<KernelCheckResult> results;
  if (!checkKernels(*bundle, reference, *test, o.check, results, seen, error))
    return fail(dir + ": " + error);
  for (const KernelCheckResult &r : results) {
    ++checks;
    failed += !r.ok;
    std::printf("%s  %-28s %-15s m=%-5lld %s rel %.2e", r.ok ? "ok  " : "FAIL",
                r.name.c_str(), r.family.c_str(), static_cast<long long>(r.m),
                r.exact ? "exact" : "     ", r.relError);
    if (r.offByOne || r.mismatches)
      std::printf("  8-bit/int: %lld one step, %lld further of %lld",
                  static_cast<long long>(r.offByOne),
                  static_cast<long long>(r.mismatches),
                  static_cast<long long>(r.elements));
    if (!r.ok)
      std::printf("  -- %s", r.detail.c_str());
    std::printf("\n");
  }
  return 0;
}

/// The name of a bundle directory: its last path component without
/// ".bundle".
static std::string bundleName(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos)
    dir = dir.substr(slash + 1);
  const std::string suffix = ".bundle";
  if (dir.size() > suffix.size() &&
      dir.compare(dir.size() - suffix.size(), suffix.size(), suffix) == 0)
    dir.resize(dir.size() - suffix.size());
  return dir;
}

int bench(const Options &o) {
  std::printf("kernel,kind,n,k,gated,b_scale,group,m,us,seq\n");
  // A kernel timed in an earlier bundle (same signature) is not timed again.
  std::set<std::string> seen;
  for (const std::string &dir : o.bundles) {
    std::string error;
    std::unique_ptr<Bundle> bundle = Bundle::load(dir, error);
    if (!bundle)
      return fail(error);
    const Manifest &m = bundle->manifest();
    std::unique_ptr<Backend> backend = makeBackend(o);
    if (!backend->load(*bundle, cacheRows(o, m, o.bench), error))
      return fail(dir + ": " + error);
    for (size_t k = 0; k < m.kernels.size(); ++k) {
      const Kernel &kernel = m.kernels[k];
      if (familyName(kernel.family) != o.family ||
          !seen.insert(kernel.signature).second)
        continue;
      for (int64_t rows : o.bench) {
        if (rows > std::min(m.maxTokens, kernel.maxTokens()))
          continue;
        double ms = 0;
        if (!randomizeKernelInputs(*bundle, *backend, static_cast<int>(k), rows,
                                   o.check.seed, error) ||
            !backend->timeKernel(static_cast<int>(k), rows,
                                 static_cast<int>(o.iterations),
                                 o.flushMb << 20, ms, error))
          return fail(dir + ": " + kernel.name + ": " + error);
        std::string kind = "-", scale = "-";
        int64_t n = 0, kk = 0, group = 0;
        bool gated = false;
        if (auto *g = std::get_if<GemmSpec>(&kernel.spec)) {
          kind = gemmKindName(g->kind);
          scale = scaleKindName(g->bScale);
          n = g->n;
          kk = g->k;
          group = g->bScale == ScaleKind::Block ? g->blockK : g->groupSize;
          gated = g->gated;
        } else if (auto *r = std::get_if<RmsNormSpec>(&kernel.spec)) {
          // kind: the output type; n: the row length; b_scale: the
          // output's scale (per_token, static or -).
          kind = elemTypeName(r->outType);
          n = r->hidden;
          scale = r->dynamicPerToken ? "per_token"
                  : r->staticScale   ? "static"
                                     : "-";
        } else if (auto *a = std::get_if<AttentionSpec>(&kernel.spec)) {
          // kind: the key cache's storage; n / k: query / kv heads; group:
          // the head dimension; b_scale: the key cache's scales.
          kind = elemTypeName(a->keys.storage);
          n = a->numHeads;
          kk = a->numKvHeads;
          group = a->headDim;
          scale = kvScaleKindName(a->keys.scales);
        }
        std::printf("%s/%s,%s,%lld,%lld,%d,%s,%lld,%lld,%.3f,%lld\n",
                    bundleName(dir).c_str(),
                    backend->launchedName(static_cast<int>(k), rows).c_str(),
                    kind.c_str(), static_cast<long long>(n),
                    static_cast<long long>(kk), gated ? 1 : 0, scale.c_str(),
                    static_cast<long long>(group), static_cast<long long>(rows),
                    ms * 1000, static_cast<long long>(backend->maxSeqLen()));
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  bool help = false;
  std::string error;
  if (!parseOptions(argc, argv, o, help, error)) {
    std::fprintf(stderr, "qopt-kernel-check: error: %s\n%s", error.c_str(),
                 kUsage);
    return 1;
  }
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!o.bench.empty())
    return bench(o);
  int64_t checks = 0, failed = 0;
  // A kernel already checked in an earlier bundle (same family, spec and
  // launch) is not checked again.
  std::set<std::string> seen;
  for (const std::string &dir : o.bundles) {
    std::printf("== %s (%s against cpu)\n", dir.c_str(), o.backend.c_str());
    if (int rc = checkBundle(o, dir, seen, checks, failed))
      return rc;
  }
  std::printf("%lld checks, %lld failed\n", static_cast<long long>(checks),
              static_cast<long long>(failed));
  if (failed)
    return fail(std::to_string(failed) + " of " + std::to_string(checks) +
                " kernel checks failed");
  return 0;
}
