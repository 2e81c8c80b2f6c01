//===- AtLoadWeights.cpp - Weights quantized when a bundle loads ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/AtLoadWeights.h"
#include "qopt-runtime/Kernels.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <filesystem>

using namespace mlir;
using namespace mlir::qopt;

static constexpr const char *kFormat = "qopt-at-load-weights";

std::string AtLoadTensor::sourceKey() const {
  std::string key = store + "/" + tensor;
  for (const AtLoadScale &s : scales)
    key += "*" + s.store + "/" + s.tensor + "@" + std::to_string(s.axis);
  return key + "|" + recipe.str();
}

LogicalResult mlir::qopt::describeAtLoadSource(Value weight, AtLoadTensor &out,
                                               std::string &error) {
  if (auto w = weight.getDefiningOp<WeightOp>()) {
    out.store = w.getStore().str();
    out.tensor = w.getName().str();
    return success();
  }
  auto sc = weight.getDefiningOp<ScaleChannelsOp>();
  if (!sc) {
    error = "the weight is not a checkpoint tensor (qopt.weight, possibly "
            "under qopt.scale_channels)";
    return failure();
  }
  auto s = sc.getScales().getDefiningOp<WeightOp>();
  if (!s) {
    error = "its per-channel factors are not a stored tensor";
    return failure();
  }
  if (failed(describeAtLoadSource(sc.getInput(), out, error)))
    return failure();
  out.scales.push_back(
      {s.getStore().str(), s.getName().str(), int64_t(sc.getAxis())});
  return success();
}

LogicalResult mlir::qopt::evaluateAtLoadSource(const AtLoadTensor &t,
                                               TensorLookup lookup,
                                               std::vector<float> &out,
                                               std::vector<int64_t> &shape,
                                               std::string &error) {
  const qrt::TensorView *src = lookup(t.store, t.tensor, error);
  if (!src)
    return failure();
  if (src->shape.size() != 2) {
    error = "tensor '" + t.tensor + "' is " +
            ::qnum::shapeToString(src->shape) + "; a weight is [n, k]";
    return failure();
  }
  shape = src->shape;
  if (!qrt::weightToFloats(*src, out, error))
    return failure();
  for (const AtLoadScale &s : t.scales) {
    const qrt::TensorView *v = lookup(s.store, s.tensor, error);
    if (!v)
      return failure();
    if (s.axis < 0 || s.axis > 1 || v->numElements() != shape[s.axis]) {
      error = "tensor '" + s.tensor + "' has " +
              std::to_string(v->numElements()) + " factors for axis " +
              std::to_string(s.axis) + " of '" + t.tensor + "' " +
              ::qnum::shapeToString(shape);
      return failure();
    }
    std::vector<float> f;
    if (!qrt::weightToFloats(*v, f, error))
      return failure();
    qrt::kernels::scaleChannels(out.data(), shape, f.data(), s.axis);
  }
  return success();
}

std::unique_ptr<AtLoadStore> AtLoadStore::open(const std::string &path,
                                               std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = path + ": " + buffer.getError().message();
    return nullptr;
  }
  llvm::Expected<llvm::json::Value> parsed =
      llvm::json::parse((*buffer)->getBuffer());
  if (!parsed) {
    error = path + ": " + llvm::toString(parsed.takeError());
    return nullptr;
  }
  auto bad = [&](const std::string &why) {
    error = path + ": " + why;
    return nullptr;
  };
  const llvm::json::Object *root = parsed->getAsObject();
  if (!root || root->getString("format") != kFormat)
    return bad(std::string("not an at-load store (format is not ") + kFormat +
               ")");
  if (root->getInteger("version") != 1)
    return bad("unsupported version (this qopt reads version 1)");
  const llvm::json::Object *list = root->getObject("tensors");
  if (!list)
    return bad("no 'tensors' object");
  std::unique_ptr<AtLoadStore> store(new AtLoadStore());
  store->path = path;
  for (const auto &[key, value] : *list) {
    std::string name = key.str();
    const llvm::json::Object *o = value.getAsObject();
    auto field = [&](llvm::StringRef f) -> std::string {
      if (!o)
        return "";
      std::optional<llvm::StringRef> s = o->getString(f);
      return s ? s->str() : "";
    };
    AtLoadTensor t;
    t.store = field("store");
    t.tensor = field("tensor");
    if (t.store.empty() || t.tensor.empty())
      return bad("tensor '" + name + "' has no source store and tensor");
    std::string why;
    if (!qrt::WeightQuantRecipe::parse(field("recipe"), t.recipe, why))
      return bad("tensor '" + name + "': " + why);
    if (!qrt::parseWeightPart(field("part"), t.part) ||
        t.part == qrt::WeightPart::Copy)
      return bad("tensor '" + name + "' has part '" + field("part") +
                 "' (qweight, scales or zero_points)");
    if (const llvm::json::Array *scales = o->getArray("scale_channels")) {
      for (const llvm::json::Value &sv : *scales) {
        const llvm::json::Object *so = sv.getAsObject();
        std::optional<llvm::StringRef> st =
            so ? so->getString("store") : std::nullopt;
        std::optional<llvm::StringRef> tt =
            so ? so->getString("tensor") : std::nullopt;
        std::optional<int64_t> axis =
            so ? so->getInteger("axis") : std::nullopt;
        if (!st || !tt || !axis)
          return bad("tensor '" + name +
                     "': each scale_channels entry needs store, tensor and "
                     "axis");
        t.scales.push_back({st->str(), tt->str(), *axis});
      }
    }
    store->tensors[name] = std::move(t);
  }
  return store;
}

const AtLoadTensor *AtLoadStore::find(const std::string &name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

const qrt::TensorView *AtLoadStore::materialize(const std::string &name,
                                                TensorLookup lookup,
                                                std::string &error) {
  auto v = views.find(name);
  if (v != views.end())
    return &v->second;
  const AtLoadTensor *t = find(name);
  if (!t) {
    error = "has no tensor '" + name + "'";
    return nullptr;
  }
  std::string key = t->sourceKey();
  auto it = computed.find(key);
  if (it == computed.end()) {
    std::vector<float> w;
    std::vector<int64_t> shape;
    if (failed(evaluateAtLoadSource(*t, lookup, w, shape, error)))
      return nullptr;
    qrt::QuantizedWeight q;
    if (!qrt::quantizeWeight(t->tensor, w, shape[0], shape[1], t->recipe, q,
                             error))
      return nullptr;
    it = computed.emplace(key, std::move(q)).first;
  }
  qrt::TensorData &d = it->second.part(t->part);
  if (t->part == qrt::WeightPart::ZeroPoints && t->recipe.symmetric) {
    error = "tensor '" + name + "': a symmetric recipe has no zero points";
    return nullptr;
  }
  qrt::TensorView view;
  view.name = name;
  view.dtype = d.dtype;
  view.shape = d.shape;
  view.data = d.data.data();
  view.nbytes = d.data.size();
  view.file = path;
  return &views.emplace(name, std::move(view)).first->second;
}

LogicalResult mlir::qopt::writeAtLoadStore(
    const std::string &directory, const std::string &name,
    const std::map<std::string, AtLoadTensor> &tensors, std::string &fileName,
    bool &created, std::string &error) {
  llvm::json::Object list;
  for (const auto &[tensorName, t] : tensors) {
    llvm::json::Object o{{"store", t.store},
                         {"tensor", t.tensor},
                         {"recipe", t.recipe.str()},
                         {"part", qrt::weightPartName(t.part)}};
    if (!t.scales.empty()) {
      llvm::json::Array scales;
      for (const AtLoadScale &s : t.scales)
        scales.push_back(llvm::json::Object{
            {"store", s.store}, {"tensor", s.tensor}, {"axis", s.axis}});
      o["scale_channels"] = std::move(scales);
    }
    list[tensorName] = std::move(o);
  }
  llvm::json::Object root{
      {"format", kFormat}, {"version", 1}, {"tensors", std::move(list)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  os.flush();
  qrt::ContentHash hash;
  hash.update(text.data(), text.size());
  fileName = name + "-" + hash.hex() + kAtLoadStoreSuffix.str();
  std::string path = directory + "/" + fileName;
  created = !std::filesystem::exists(path);
  if (!created)
    return success();
  return writeOutputFile(
      path,
      [&](llvm::raw_ostream &out) {
        out << text;
        return success();
      },
      error);
}
