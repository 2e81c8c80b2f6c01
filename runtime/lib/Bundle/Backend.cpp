//===- Backend.cpp - What every backend checks ----------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Backend.h"
#include "qopt-runtime/Bundle.h"

#include <algorithm>
#include <cmath>

using namespace qrt;
using namespace qrt::bundle;

Backend::~Backend() = default;

bool Backend::load(const Bundle &bundle, int64_t maxSeqLen,
                   std::string &error) {
  int64_t limit = bundle.manifest().maxSeqLimit();
  if (maxSeqLen < 1 || maxSeqLen > limit) {
    error = "a KV cache of " + std::to_string(maxSeqLen) +
            " rows is outside what " + bundle.directory() + " allows: 1 to " +
            std::to_string(limit);
    return false;
  }
  bundle_ = &bundle;
  maxSeqLen_ = maxSeqLen;
  lastRows_ = 0;
  timings_.clear();
  if (!doLoad(error)) {
    bundle_ = nullptr;
    return false;
  }
  return true;
}

bool Backend::step(const int32_t *tokens, const int32_t *positions, int64_t m,
                   Sequence sequence, std::string &error) {
  if (!bundle_) {
    error = "no bundle is loaded";
    return false;
  }
  const Manifest &man = bundle_->manifest();
  bool decode = sequence == Sequence::Decode;
  if (decode && m != 1) {
    error = "a decode step is one token, not " + std::to_string(m);
    return false;
  }
  if (m < 1 || m > man.maxTokens) {
    error = "a step of " + std::to_string(m) + " tokens is outside 1 to " +
            std::to_string(man.maxTokens) + " (the bundle's max_tokens)";
    return false;
  }
  const std::vector<int> &seq = decode ? man.decode : man.prefill;
  for (int k : seq)
    if (m > man.kernels[k].maxTokens()) {
      error = "a step of " + std::to_string(m) +
              " tokens is more than kernel " + man.kernels[k].name +
              " takes (max_tokens " +
              std::to_string(man.kernels[k].maxTokens()) + ")";
      return false;
    }
  int64_t vocab = man.model.vocabSize;
  for (int64_t i = 0; i < m; ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      error = "token " + std::to_string(tokens[i]) + " (row " +
              std::to_string(i) +
              " of the step) is outside the vocabulary [0, " +
              std::to_string(vocab) + ")";
      return false;
    }
    if (positions[i] < 0 || positions[i] >= maxSeqLen_) {
      error = "position " + std::to_string(positions[i]) + " (row " +
              std::to_string(i) + " of the step) is outside the KV cache of " +
              std::to_string(maxSeqLen_) + " rows";
      return false;
    }
  }
  lastRows_ = 0;
  if (!doStep(tokens, positions, m, sequence, seq, error))
    return false;
  lastRows_ = m;
  return true;
}

/// The checks launch() and timeKernel() share.
static bool checkLaunch(const Bundle *bundle, int kernel, int64_t m,
                        std::string &error) {
  if (!bundle) {
    error = "no bundle is loaded";
    return false;
  }
  const Manifest &man = bundle->manifest();
  if (kernel < 0 || kernel >= static_cast<int>(man.kernels.size())) {
    error = "the bundle has no kernel " + std::to_string(kernel);
    return false;
  }
  int64_t most = std::min(man.maxTokens, man.kernels[kernel].maxTokens());
  if (m < 1 || m > most) {
    error = "kernel " + man.kernels[kernel].name + " runs 1 to " +
            std::to_string(most) + " tokens, not " + std::to_string(m);
    return false;
  }
  return true;
}

std::string Backend::launchedName(int kernel, int64_t) const {
  if (!bundle_ || kernel < 0 ||
      kernel >= static_cast<int>(bundle_->manifest().kernels.size()))
    return "";
  return bundle_->manifest().kernels[kernel].name;
}

bool Backend::launch(int kernel, int64_t m, std::string &error) {
  if (!checkLaunch(bundle_, kernel, m, error))
    return false;
  lastRows_ = 0;
  return doLaunch(kernel, m, error);
}

bool Backend::timeKernel(int kernel, int64_t m, int iterations,
                         int64_t flushBytes, double &msPerLaunch,
                         std::string &error) {
  if (!checkLaunch(bundle_, kernel, m, error))
    return false;
  if (iterations < 1 || flushBytes < 0) {
    error = "timing needs at least one launch and no negative flush size";
    return false;
  }
  lastRows_ = 0;
  return doTimeKernel(kernel, m, iterations, flushBytes, msPerLaunch, error);
}

bool Backend::logits(int64_t begin, int64_t end, std::vector<float> &out,
                     std::string &error) {
  if (begin < 0 || end > lastRows_ || begin >= end) {
    error = "logits rows [" + std::to_string(begin) + ", " +
            std::to_string(end) + ") are not rows of the last step (" +
            std::to_string(lastRows_) + " rows)";
    return false;
  }
  int64_t vocab = bundle_->manifest().model.vocabSize;
  out.resize((end - begin) * vocab);
  return readLogits(begin, end, out.data(), error);
}

bool Backend::nextToken(int32_t &token, std::string &error) {
  if (lastRows_ == 0) {
    error = "no step has run";
    return false;
  }
  const Manifest &man = bundle_->manifest();
  int64_t vocab = man.model.vocabSize;
  if (man.nextToken >= 0) {
    if (!readNextToken(token, error))
      return false;
    if (token < 0 || token >= vocab) {
      error = "the bundle's next_token is " + std::to_string(token) +
              ", outside the vocabulary [0, " + std::to_string(vocab) + ")";
      return false;
    }
    return true;
  }
  std::vector<float> row;
  if (!logits(lastRows_ - 1, lastRows_, row, error))
    return false;
  int64_t best = 0;
  for (int64_t v = 1; v < vocab; ++v)
    if (row[v] > row[best] || (std::isnan(row[best]) && !std::isnan(row[v])))
      best = v;
  token = static_cast<int32_t>(best);
  return true;
}

std::vector<KernelTiming> Backend::timings() const {
  std::vector<KernelTiming> out;
  for (const KernelTiming &t : timings_)
    if (t.launches)
      out.push_back(t);
  return out;
}

void Backend::clearTimings() {
  for (KernelTiming &t : timings_) {
    t.launches = 0;
    t.totalMs = 0;
  }
}

void Backend::addTiming(int kernel, double ms) {
  if (timings_.empty() && bundle_) {
    const Manifest &man = bundle_->manifest();
    timings_.resize(man.kernels.size());
    for (size_t i = 0; i < man.kernels.size(); ++i) {
      timings_[i].kernel = static_cast<int>(i);
      timings_[i].name = man.kernels[i].name;
      timings_[i].family = familyName(man.kernels[i].family);
    }
  }
  if (kernel < 0 || kernel >= static_cast<int>(timings_.size()))
    return;
  timings_[kernel].launches += 1;
  timings_[kernel].totalMs += ms;
}
