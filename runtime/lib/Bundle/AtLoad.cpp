//===- AtLoad.cpp - Weights a bundle reads from the checkpoint ------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A bundle built with `qopt-bundle --weights-at-load` holds no copy of the
// model's weights: its weight buffers name checkpoint tensors, copied as
// they are or quantized with a calibration-free recipe while loading (the
// compiler's `at-load` weight passes describe them). The quantization is the
// compiler's own (WeightRecipe.h), on all the host's threads, one weight at
// a time; copies point into the mapped checkpoint.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Bundle.h"
#include "qopt-runtime/Kernels.h"
#include "qopt-runtime/Safetensors.h"

#include <chrono>

using namespace qrt;
using namespace qrt::bundle;

bool Bundle::loadAtLoad(const std::string &checkpoint, std::string &error) {
  const Manifest &m = manifest_;
  bool any = false;
  for (const Buffer &buf : m.buffers)
    any = any || !buf.atLoad.tensor.empty();
  if (!any)
    return true;
  auto start = std::chrono::steady_clock::now();
  checkpointPath_ = checkpoint.empty() ? m.checkpoint : checkpoint;
  std::string why;
  checkpoint_ = TensorStore::open(checkpointPath_, why);
  if (!checkpoint_) {
    error = path("manifest.json") +
            ": the bundle reads its weights from the checkpoint " +
            checkpointPath_ + ", which cannot be opened (" + why + ")" +
            (checkpoint.empty() ? "; give the checkpoint's directory with "
                                  "--checkpoint DIR"
                                : "");
    return false;
  }
  // The checkpoint must be the one the bundle was compiled for.
  for (const auto &[name, info] : m.checkpointTensors) {
    const TensorView *v = checkpoint_->find(name);
    if (!v) {
      error = checkpointPath_ + ": no tensor '" + name +
              "', which the bundle reads at load";
      return false;
    }
    if (v->dtype != info.first || v->shape != info.second) {
      error = checkpointPath_ + ": tensor '" + name + "' is " +
              dtypeName(v->dtype) + " " + qnum::shapeToString(v->shape) +
              "; the bundle was compiled for " + dtypeName(info.first) + " " +
              qnum::shapeToString(info.second);
      return false;
    }
  }
  for (size_t i = 0; i < m.buffers.size(); ++i) {
    const Buffer &buf = m.buffers[i];
    const AtLoadWeight &a = buf.atLoad;
    if (a.tensor.empty())
      continue;
    ++atLoadWeights_;
    const TensorView *src = checkpoint_->find(a.tensor);
    if (a.part == WeightPart::Copy) {
      weightViews_[i] = src;
      continue;
    }
    std::string key = a.tensor;
    for (const auto &[t, axis] : a.scaleChannels)
      key += "*" + t + "@" + std::to_string(axis);
    key += "|" + a.recipe.str();
    auto it = computed_.find(key);
    if (it == computed_.end()) {
      std::string where = checkpointPath_ + ": tensor '" + a.tensor + "'";
      std::vector<float> w;
      if (src->shape.size() != 2) {
        error = where + " is " + qnum::shapeToString(src->shape) +
                "; a weight quantized at load is [n, k]";
        return false;
      }
      if (!weightToFloats(*src, w, why)) {
        error = where + ": " + why;
        return false;
      }
      for (const auto &[t, axis] : a.scaleChannels) {
        const TensorView *f = weights_->find(t);
        std::vector<float> factors;
        if (!f || f->numElements() != src->shape[axis] ||
            !weightToFloats(*f, factors, why)) {
          error = path(m.weights) + ": tensor '" + t +
                  "' (the per-channel factors of " + a.tensor +
                  (f ? ") " + (why.empty() ? "has the wrong size" : why)
                     : ") is missing");
          return false;
        }
        kernels::scaleChannels(w.data(), src->shape, factors.data(), axis);
      }
      QuantizedWeight q;
      if (!quantizeWeight(a.tensor, w, src->shape[0], src->shape[1], a.recipe,
                          q, why)) {
        error = where + ": " + why;
        return false;
      }
      it = computed_.emplace(key, std::move(q)).first;
    }
    if (a.part == WeightPart::ZeroPoints && a.recipe.symmetric) {
      error = path("manifest.json") + ": buffer " + buf.name +
              " reads the zero points of symmetric recipe " + a.recipe.str();
      return false;
    }
    TensorData &d = it->second.part(a.part);
    TensorView &view = computedViews_[int(i)];
    view.name = d.name;
    view.dtype = d.dtype;
    view.shape = d.shape;
    view.data = d.data.data();
    view.nbytes = d.data.size();
    view.file = checkpointPath_;
    weightViews_[i] = &view;
  }
  atLoadSeconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return true;
}
