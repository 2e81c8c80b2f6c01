//===- QuantizeKVCache.cpp - KV-cache quantization ------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/QuantMath.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTQUANTIZEKVCACHE
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Reads a vLLM kv_cache_scales.json: layer -> scales for TP rank 0 (one
/// number per layer, or with `perHead` a list of one per KV head).
LogicalResult readVllmScales(const std::string &path, StringRef wantDtype,
                             bool perHead,
                             std::map<int64_t, std::vector<float>> &scales,
                             std::string &error) {
  auto file = llvm::MemoryBuffer::getFile(path);
  if (!file) {
    error = path + ": cannot read: " + file.getError().message();
    return failure();
  }
  llvm::Expected<llvm::json::Value> parsed =
      llvm::json::parse((*file)->getBuffer());
  if (!parsed) {
    error = path + ": not valid JSON: " + llvm::toString(parsed.takeError());
    return failure();
  }
  const llvm::json::Object *root = parsed->getAsObject();
  const llvm::json::Object *kv = root ? root->getObject("kv_cache") : nullptr;
  if (!kv) {
    error = path + ": no \"kv_cache\" object";
    return failure();
  }
  std::optional<StringRef> dtype = kv->getString("dtype");
  if (!dtype || *dtype != wantDtype) {
    error = path + ": kv_cache.dtype is " +
            (dtype ? "\"" + dtype->str() + "\"" : std::string("missing")) +
            " but the pass quantizes to \"" + wantDtype.str() + "\"";
    return failure();
  }
  const llvm::json::Object *factors = kv->getObject("scaling_factor");
  if (!factors) {
    error = path + ": no kv_cache.scaling_factor object";
    return failure();
  }
  if (factors->size() != 1 || !factors->getObject("0")) {
    error = path + ": scaling_factor must hold exactly tensor-parallel rank "
                   "\"0\" (qopt compiles for one GPU)";
    return failure();
  }
  for (const auto &[key, value] : *factors->getObject("0")) {
    int64_t layer = -1;
    std::vector<float> out;
    bool ok = !StringRef(key).getAsInteger(10, layer) && layer >= 0;
    auto add = [&](const llvm::json::Value &v) {
      std::optional<double> scale = v.getAsNumber();
      ok &= scale && *scale > 0.0 && std::isfinite(*scale);
      if (ok)
        out.push_back(static_cast<float>(*scale));
    };
    if (const llvm::json::Array *list = value.getAsArray()) {
      ok &= perHead && !list->empty();
      for (const llvm::json::Value &v : *list)
        add(v);
    } else {
      ok &= !perHead;
      add(value);
    }
    if (!ok) {
      error = path + ": scaling_factor[\"0\"] entry \"" + key.str() +
              "\" must map a layer index to " +
              (perHead ? "a list of positive scales, one per KV head "
                         "(granularity=head)"
                       : "a positive scale (granularity=tensor; a list of "
                         "per-head scales needs granularity=head)");
      return failure();
    }
    scales[layer] = std::move(out);
  }
  return success();
}

struct QoptQuantizeKVCachePass
    : public mlir::qopt::impl::QoptQuantizeKVCacheBase<
          QoptQuantizeKVCachePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    Builder b(ctx);
    auto fail = [&](Operation *at, const Twine &msg) {
      emitPassError(at) << "qopt-quantize-kv-cache: " << msg;
      signalPassFailure();
    };
    ::qnum::StorageKind kind = dtype;
    Type storage = getStorageType(ctx, kind);
    StringRef vllmDtype = ::qnum::isFloat8(kind) ? "float8_e4m3fn" : "int8";
    bool perHead = granularity == ::qnum::GranularityKind::PerHead;
    if (!scales.empty() && granularity == ::qnum::GranularityKind::PerToken)
      return fail(module, "scales= gives static scales; use "
                          "granularity=tensor (or head, for per-head lists)");

    SmallVector<AttentionOp> attns;
    module.walk([&](AttentionOp a) { attns.push_back(a); });
    std::map<int64_t, std::vector<float>> fileScales;
    if (!scales.empty()) {
      std::string error;
      if (failed(readVllmScales(scales, vllmDtype, perHead, fileScales, error)))
        return fail(module, error);
      std::set<int64_t> layers;
      for (AttentionOp a : attns)
        layers.insert(a.getLayer());
      for (int64_t l : layers)
        if (!fileScales.count(l))
          return fail(module, scales + ": no scale for layer " +
                                  std::to_string(l) + " (the model has " +
                                  std::to_string(layers.size()) + " layers)");
      for (AttentionOp a : attns)
        if (perHead && static_cast<int64_t>(fileScales[a.getLayer()].size()) !=
                           static_cast<int64_t>(a.getNumKvHeads()))
          return fail(a, scales + ": layer " + std::to_string(a.getLayer()) +
                             " has " +
                             std::to_string(fileScales[a.getLayer()].size()) +
                             " scales but " +
                             std::to_string(a.getNumKvHeads()) + " KV heads");
      for (const auto &[l, s] : fileScales)
        if (!layers.count(l))
          return fail(module, scales + ": has a scale for layer " +
                                  std::to_string(l) +
                                  ", which the model does not have (it has " +
                                  std::to_string(layers.size()) + " layers)");
    }

    double qmax = ::qnum::storageRange(kind, true).max;
    for (AttentionOp a : attns) {
      int64_t kvHeads = a.getNumKvHeads(), d = a.getHeadDim();
      auto schemeFor = [&](Value kvValue) -> QuantSchemeAttr {
        if (granularity == ::qnum::GranularityKind::PerToken)
          return QuantSchemeAttr::get(ctx, storage, PerTokenAttr::get(ctx),
                                      Symmetry::Symmetric, ScaleMode::Dynamic,
                                      ElementsAttr(), ElementsAttr(),
                                      Packing::None);
        std::vector<float> s;
        if (!fileScales.empty()) {
          s = fileScales[a.getLayer()];
        } else {
          ActStatsAttr st = findStats(kvValue);
          if (!st)
            return {};
          std::vector<float> absmax = statValues(st.getAbsmax());
          int64_t groups = perHead ? kvHeads : 1;
          int64_t per = static_cast<int64_t>(absmax.size()) / groups;
          for (int64_t g = 0; g < groups; ++g) {
            float m = 0;
            for (int64_t c = g * per; c < (g + 1) * per; ++c)
              m = std::max(m, absmax[c]);
            s.push_back(::qnum::symmetricScale(m, qmax));
          }
        }
        auto rank = cast<RankedTensorType>(kvValue.getType()).getRank();
        GranularityAttrInterface g =
            perHead ? GranularityAttrInterface(
                          PerHeadAttr::get(ctx, rank - 1, kvHeads))
                    : GranularityAttrInterface(PerTensorAttr::get(ctx));
        auto sType = perHead ? RankedTensorType::get({kvHeads}, b.getF32Type())
                             : RankedTensorType::get({}, b.getF32Type());
        return QuantSchemeAttr::get(
            ctx, storage, g, Symmetry::Symmetric, ScaleMode::Static,
            DenseElementsAttr::get(sType, ArrayRef<float>(s)), ElementsAttr(),
            Packing::None);
      };
      (void)d;
      QuantSchemeAttr ks = schemeFor(a.getKey());
      QuantSchemeAttr vs = schemeFor(a.getValue());
      if (!ks || !vs)
        return fail(a, "attention layer " + std::to_string(a.getLayer()) +
                           " has no calibration statistics for its keys and "
                           "values; run qopt-calibrate on the model first (or "
                           "use granularity=token, or scales=FILE); pipelines "
                           "that quantize weights remove the observers, so "
                           "run --kv-cache before them");
      a.setKeySchemeAttr(ks);
      a.setValueSchemeAttr(vs);
    }
  }
};
} // namespace
