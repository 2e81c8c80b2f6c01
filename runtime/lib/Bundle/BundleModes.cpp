//===- BundleModes.cpp - qopt-run for bundles: perplexity, logits, ... ----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "BundleRun.h"

#include "qopt-runtime/QuantMath.h"
#include "qopt-runtime/Safetensors.h"
#include "qopt-runtime/Tokenizer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

using namespace qrt;
using namespace qrt::run;

int run::fail(const std::string &message) {
  std::fprintf(stderr, "qopt-run: error: %s\n", message.c_str());
  return 1;
}

double run::seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

bool run::checkVocab(const std::string &what,
                     const std::vector<int32_t> &tokens,
                     const std::vector<int64_t> &shape, int64_t vocab,
                     std::string &error) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] >= 0 && tokens[i] < vocab)
      continue;
    std::string index = std::to_string(i);
    if (shape.size() > 1) {
      std::vector<int64_t> at(shape.size());
      int64_t rest = static_cast<int64_t>(i);
      for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        at[d] = shape[d] ? rest % shape[d] : 0;
        rest = shape[d] ? rest / shape[d] : 0;
      }
      index = qnum::shapeToString(at);
    }
    error = what + ": token at index " + index + " is " +
            std::to_string(tokens[i]) +
            ", outside the model's vocabulary [0, " + std::to_string(vocab) +
            ")";
    return false;
  }
  return true;
}

bool run::prefill(Backend &backend, const int32_t *tokens, int64_t n,
                  int64_t start,
                  const std::function<bool(int64_t, int64_t)> &chunk,
                  std::string &error) {
  int64_t maxTokens = backend.bundle()->manifest().maxTokens;
  std::vector<int32_t> positions;
  for (int64_t first = 0; first < n; first += maxTokens) {
    int64_t rows = std::min(maxTokens, n - first);
    positions.resize(rows);
    std::iota(positions.begin(), positions.end(),
              static_cast<int32_t>(start + first));
    if (!backend.step(tokens + first, positions.data(), rows, Sequence::Prefill,
                      error) ||
        (chunk && !chunk(first, rows)))
      return false;
  }
  return true;
}

namespace {

/// log p(target) under the logits row.
double logProb(const float *row, int64_t vocab, int32_t target) {
  float m = -INFINITY;
  for (int64_t v = 0; v < vocab; ++v)
    m = std::max(m, row[v]);
  double sum = 0;
  for (int64_t v = 0; v < vocab; ++v)
    sum += std::exp(double(row[v]) - m);
  return double(row[target]) - m - std::log(sum);
}

/// A token drawn from softmax(row / temperature), restricted to the
/// smallest set of most likely tokens whose probability reaches topP.
int32_t sample(const float *row, int64_t vocab, double temperature, double topP,
               std::mt19937_64 &rng) {
  double best = -INFINITY;
  for (int64_t v = 0; v < vocab; ++v)
    if (std::isfinite(row[v]))
      best = std::max(best, double(row[v]));
  std::vector<double> p(vocab);
  double total = 0;
  for (int64_t v = 0; v < vocab; ++v) {
    p[v] = std::isfinite(row[v]) ? std::exp((row[v] - best) / temperature) : 0;
    total += p[v];
  }
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return p[a] > p[b] || (p[a] == p[b] && a < b);
  });
  double kept = 0;
  size_t count = 0;
  while (count < order.size() && (count == 0 || kept < topP * total))
    kept += p[order[count++]];
  // A uniform double in [0, kept) from 53 random bits: the same draws on
  // every platform for one seed.
  double u = double(rng() >> 11) * (1.0 / 9007199254740992.0) * kept;
  for (size_t i = 0; i < count; ++i) {
    u -= p[order[i]];
    if (u < 0)
      return order[i];
  }
  return order[count - 1];
}

} // namespace

int run::runPpl(Run &run, const std::vector<int32_t> &tokens) {
  const Options &o = run.options;
  int64_t seqLen = o.seqLen, vocab = run.vocab();
  int64_t windows = (static_cast<int64_t>(tokens.size()) - 1) / seqLen;
  if (o.maxWindows > 0)
    windows = std::min<int64_t>(windows, o.maxWindows);
  if (windows < 1)
    return fail(
        "--ppl needs at least seq-len + 1 = " + std::to_string(seqLen + 1) +
        " tokens, got " + std::to_string(tokens.size()));
  std::string error;
  double nll = 0;
  std::vector<float> logits;
  for (int64_t w = 0; w < windows; ++w) {
    const int32_t *window = tokens.data() + w * seqLen;
    if (!run.backend.resetCache(error))
      return fail(error);
    auto score = [&](int64_t first, int64_t rows) {
      if (!run.backend.logits(0, rows, logits, error))
        return false;
      for (int64_t t = 0; t < rows; ++t)
        nll -= logProb(logits.data() + t * vocab, vocab, window[first + t + 1]);
      return true;
    };
    if (o.pplDecode) {
      // The first token by a prefill step, every later one by a decode
      // step, each step's logits scored before the next.
      if (!prefill(run.backend, window, 1, 0, score, error))
        return fail(error);
      for (int64_t t = 1; t < seqLen; ++t) {
        int32_t position = static_cast<int32_t>(t);
        if (!run.backend.step(window + t, &position, 1, Sequence::Decode,
                              error) ||
            !score(t, 1))
          return fail(error);
      }
    } else if (!prefill(run.backend, window, seqLen, 0, score, error)) {
      return fail(error);
    }
    std::fprintf(stderr, "\rwindow %lld/%lld", static_cast<long long>(w + 1),
                 static_cast<long long>(windows));
  }
  std::fprintf(stderr, "\n");
  int64_t scored = windows * seqLen;
  std::printf("perplexity: %.4f\n", std::exp(nll / double(scored)));
  std::printf("tokens scored: %lld in %lld windows of %lld%s\n",
              static_cast<long long>(scored), static_cast<long long>(windows),
              static_cast<long long>(seqLen),
              o.pplDecode ? " (decode steps)" : "");
  std::printf("time: %.2f s\n", seconds(run.start));
  return 0;
}

int run::runLogits(Run &run, const std::vector<int32_t> &tokens,
                   const std::vector<int64_t> &shape) {
  int64_t seqs = shape.size() == 2 ? shape[0] : 1, len = shape.back();
  int64_t vocab = run.vocab();
  std::string error;
  std::vector<float> all, rows;
  all.reserve(static_cast<size_t>(seqs * len * vocab));
  for (int64_t s = 0; s < seqs; ++s) {
    if (!run.backend.resetCache(error))
      return fail(error);
    auto gather = [&](int64_t, int64_t n) {
      if (!run.backend.logits(0, n, rows, error))
        return false;
      all.insert(all.end(), rows.begin(), rows.end());
      return true;
    };
    if (!prefill(run.backend, tokens.data() + s * len, len, 0, gather, error))
      return fail(error);
    std::fprintf(stderr, "\rsequence %lld/%lld", static_cast<long long>(s + 1),
                 static_cast<long long>(seqs));
  }
  std::fprintf(stderr, "\n");
  std::vector<int64_t> outShape = shape;
  outShape.push_back(vocab);
  if (!writeSafetensors(run.options.output,
                        {TensorData::fromFloats("logits", outShape, all)}, {},
                        error))
    return fail(error);
  std::printf("logits: %s -> %s\n", qnum::shapeToString(outShape).c_str(),
              run.options.output.c_str());
  return 0;
}

int run::runGenerate(Run &run, const std::vector<int32_t> &prompt,
                     const Tokenizer *tokenizer) {
  const Options &o = run.options;
  const bundle::Manifest &m = run.bundle.manifest();
  int64_t vocab = run.vocab(), limit = run.backend.maxSeqLen();
  std::string error;
  std::vector<int32_t> all = prompt;
  std::vector<float> row;
  std::mt19937_64 rng(o.seed);
  if (!run.backend.resetCache(error) ||
      !prefill(run.backend, prompt.data(), static_cast<int64_t>(prompt.size()),
               0, nullptr, error))
    return fail(error);
  for (int64_t step = 0; step < o.maxNewTokens; ++step) {
    if (static_cast<int64_t>(all.size()) >= limit) {
      std::fprintf(stderr,
                   "qopt-run: warning: stopped after %lld of --max-new-tokens "
                   "%lld: the sequence filled the KV cache of %lld rows\n",
                   static_cast<long long>(step),
                   static_cast<long long>(o.maxNewTokens),
                   static_cast<long long>(limit));
      break;
    }
    int32_t next = 0;
    if (o.temperature > 0) {
      int64_t last = run.backend.lastRows();
      if (!run.backend.logits(last - 1, last, row, error))
        return fail(error);
      next = sample(row.data(), vocab, o.temperature, o.topP, rng);
    } else if (!run.backend.nextToken(next, error)) {
      return fail(error);
    }
    all.push_back(next);
    if (next == m.model.eosTokenId)
      break;
    if (step + 1 < o.maxNewTokens && static_cast<int64_t>(all.size()) < limit) {
      int32_t position = static_cast<int32_t>(all.size() - 1);
      if (!run.backend.step(&next, &position, 1, Sequence::Decode, error))
        return fail(error);
    }
  }
  std::printf("tokens:");
  for (int32_t id : all)
    std::printf(" %d", id);
  std::printf("\n");
  if (tokenizer) {
    bool bos =
        m.model.bosTokenId >= 0 && !all.empty() && all[0] == m.model.bosTokenId;
    std::printf(
        "text: %s\n",
        tokenizer->decode(std::vector<int32_t>(all.begin() + bos, all.end()))
            .c_str());
  }
  std::printf("time: %.2f s\n", seconds(run.start));
  return 0;
}

namespace {

void printKernels(const char *title, std::vector<KernelTiming> timings) {
  double total = 0;
  for (const KernelTiming &t : timings)
    total += t.totalMs;
  std::sort(timings.begin(), timings.end(),
            [](const KernelTiming &a, const KernelTiming &b) {
              return a.totalMs > b.totalMs;
            });
  std::printf("%s: %.3f ms in %zu kernels\n", title, total, timings.size());
  for (const KernelTiming &t : timings)
    std::printf("  %10.3f ms %5.1f%% %6lld x  %s (%s)\n", t.totalMs,
                total > 0 ? 100.0 * t.totalMs / total : 0.0,
                static_cast<long long>(t.launches), t.name.c_str(),
                t.family.c_str());
}

} // namespace

int run::runBench(Run &run) {
  const Options &o = run.options;
  Backend &backend = run.backend;
  std::string error;
  std::mt19937_64 rng(o.seed);
  std::vector<int32_t> tokens(o.seqLen);
  for (int32_t &t : tokens)
    t = static_cast<int32_t>(rng() % static_cast<uint64_t>(run.vocab()));
  auto prefillAll = [&]() {
    return backend.resetCache(error) &&
           prefill(backend, tokens.data(), o.seqLen, 0, nullptr, error);
  };
  auto decodeAll = [&](int64_t steps) {
    for (int64_t i = 0; i < steps; ++i) {
      int32_t next = 0, position = static_cast<int32_t>(o.seqLen + i);
      if (!backend.nextToken(next, error) ||
          !backend.step(&next, &position, 1, Sequence::Decode, error))
        return false;
    }
    return true;
  };
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point since) { return seconds(since) * 1000.0; };
  // A warm-up pass, a timed one, then one with per-kernel timing.
  std::fprintf(stderr, "bench: warm-up\n");
  if (!prefillAll() || !decodeAll(std::min<int64_t>(o.maxNewTokens, 1)))
    return fail(error);
  std::fprintf(stderr, "bench: timing\n");
  auto t0 = Clock::now();
  if (!prefillAll())
    return fail(error);
  double prefillMs = ms(t0);
  auto t1 = Clock::now();
  if (!decodeAll(o.maxNewTokens))
    return fail(error);
  double decodeMs = ms(t1);
  std::fprintf(stderr, "bench: kernel times\n");
  backend.setTiming(true);
  backend.clearTimings();
  if (!prefillAll())
    return fail(error);
  std::vector<KernelTiming> prefillKernels = backend.timings();
  backend.clearTimings();
  if (!decodeAll(o.maxNewTokens))
    return fail(error);
  std::vector<KernelTiming> decodeKernels = backend.timings();
  backend.setTiming(false);

  std::printf("prefill: %lld tokens in %.3f ms: %.1f tokens/s\n",
              static_cast<long long>(o.seqLen), prefillMs,
              prefillMs > 0 ? o.seqLen * 1000.0 / prefillMs : 0.0);
  if (o.maxNewTokens > 0)
    std::printf("decode: %lld tokens in %.3f ms: %.1f tokens/s (%.3f "
                "ms/token)\n",
                static_cast<long long>(o.maxNewTokens), decodeMs,
                decodeMs > 0 ? o.maxNewTokens * 1000.0 / decodeMs : 0.0,
                decodeMs / double(o.maxNewTokens));
  printKernels("prefill kernels", prefillKernels);
  if (o.maxNewTokens > 0)
    printKernels("decode kernels", decodeKernels);
  return 0;
}
