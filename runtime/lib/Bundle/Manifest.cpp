//===- Manifest.cpp - Parsing and validating manifest.json ----------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "ManifestReader.h"

#include "qopt-runtime/Bundle.h"

#include <algorithm>

using namespace qrt::bundle;

namespace {

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += shape[i] == kCacheRowsDim ? "S" : std::to_string(shape[i]);
  }
  return s + "]";
}

/// The manifest parser: one object per parse, failing on the first problem.
class Parser {
public:
  Parser(const std::string &file, Manifest &m, std::string &error)
      : r(file, error), m(m) {}

  bool parse(const json &root);

private:
  bool fileName(const json &root, const char *key, std::string &out,
                bool optional);
  bool model(const json &root);
  bool buffers(const json &root);
  bool buffer(const std::string &name, const json &b);
  bool checkpoint(const json &root);
  bool atLoad(const json &a, const std::string &path, AtLoadWeight &out);
  bool kvCaches(const json &root);
  bool kernels(const json &root);
  bool kernel(size_t index, const json &k);
  bool launch(const json &k, const std::string &path, Launch &out);
  bool smallM(const json &k, const std::string &path, Kernel &kernel);
  bool bindArgs(Kernel &kernel, const std::string &path);
  bool sequence(const json &root, const char *key, std::vector<int> &out);
  bool endpoints(const json &root);
  bool addBuffer(Buffer b, const std::string &path);

  ManifestReader r;
  Manifest &m;
};

bool Parser::parse(const json &root) {
  if (!root.is_object())
    return r.fail("", "expected a JSON object, got " + jsonKind(root));
  // The format and version first: a newer bundle may differ in anything.
  std::string format;
  if (!r.string(root, "", "format", format))
    return false;
  if (format != kFormatName)
    return r.fail("", "not a qopt bundle (format '" + format + "', expected '" +
                          kFormatName + "')");
  const json *version = r.member(root, "", "version");
  if (!version)
    return false;
  if (!version->is_number_integer())
    return r.fail("version", "expected an integer, got " + jsonKind(*version));
  if (version->get<int64_t>() != kFormatVersion)
    return r.fail("", "bundle version " + version->dump() +
                          " is not supported by this runtime (version " +
                          std::to_string(kFormatVersion) + ")");
  if (!r.object(root, "",
                {"format",  "version",    "chip",        "model",
                 "recipe",  "max_tokens", "arena_bytes", "ptx",
                 "cubin",   "weights",    "tokenizer",   "inputs",
                 "outputs", "buffers",    "kv_caches",   "kernels",
                 "prefill", "decode",     "checkpoint",  "grid_dependency"}) ||
      !r.string(root, "", "chip", m.chip) || !model(root) ||
      (root.contains("grid_dependency") &&
       !r.boolean(root, "", "grid_dependency", m.gridDependency)) ||
      !r.string(root, "", "recipe", m.recipe) ||
      !r.positive(root, "", "max_tokens", m.maxTokens) ||
      !r.integer(root, "", "arena_bytes", m.arenaBytes, 0) ||
      !fileName(root, "ptx", m.ptx, false) ||
      !fileName(root, "cubin", m.cubin, true) ||
      !fileName(root, "weights", m.weights, true) ||
      !fileName(root, "tokenizer", m.tokenizer, true) || !checkpoint(root) ||
      !buffers(root) || !kvCaches(root) || !endpoints(root) || !kernels(root) ||
      !sequence(root, "prefill", m.prefill) ||
      !sequence(root, "decode", m.decode))
    return false;
  // Each sequence writes the outputs that are read after it.
  for (const auto &[key, seq] :
       {std::pair{"prefill", &m.prefill}, std::pair{"decode", &m.decode}})
    for (int out : {m.logits, m.nextToken}) {
      if (out < 0)
        continue;
      bool written = false;
      for (int k : *seq)
        for (size_t i = 0; i < m.kernels[k].params.size(); ++i)
          written = written || (m.kernels[k].params[i].output &&
                                m.kernels[k].argBuffers[i] == out);
      if (!written)
        return r.fail(key, "no kernel of the sequence writes the output " +
                               m.buffers[out].name);
    }
  for (int k : m.prefill)
    if (m.kernels[k].maxTokens() != m.maxTokens)
      return r.fail("prefill", "kernel " + std::to_string(k) + " (" +
                                   m.kernels[k].name + ") has max_tokens " +
                                   std::to_string(m.kernels[k].maxTokens()) +
                                   "; a prefill kernel takes the bundle's " +
                                   std::to_string(m.maxTokens));
  return true;
}

bool Parser::fileName(const json &root, const char *key, std::string &out,
                      bool optional) {
  if (optional ? !r.optionalString(root, "", key, out)
               : !r.string(root, "", key, out))
    return false;
  if (optional && out.empty() && !root.contains(key))
    return true;
  if (out.empty() || out == "." || out == ".." ||
      out.find('/') != std::string::npos)
    return r.fail(key, "'" + out +
                           "' is not the name of a file in the bundle "
                           "directory");
  return true;
}

bool Parser::model(const json &root) {
  const json *v = r.member(root, "", "model");
  if (!v)
    return false;
  ModelInfo &mi = m.model;
  auto tokenId = [&](const char *key, int64_t &out) {
    const json *id = r.member(*v, "model", key);
    if (!id)
      return false;
    if (id->is_null()) {
      out = -1;
      return true;
    }
    return r.integer(*v, "model", key, out, 0);
  };
  if (!r.object(*v, "model",
                {"architecture", "vocab_size", "max_position_embeddings",
                 "bos_token_id", "eos_token_id"}) ||
      !r.string(*v, "model", "architecture", mi.architecture) ||
      !r.positive(*v, "model", "vocab_size", mi.vocabSize) ||
      !r.positive(*v, "model", "max_position_embeddings",
                  mi.maxPositionEmbeddings) ||
      !tokenId("bos_token_id", mi.bosTokenId) ||
      !tokenId("eos_token_id", mi.eosTokenId))
    return false;
  for (auto [key, id] : {std::pair{"bos_token_id", mi.bosTokenId},
                         std::pair{"eos_token_id", mi.eosTokenId}})
    if (id >= mi.vocabSize)
      return r.fail(std::string("model.") + key,
                    std::to_string(id) + " is outside the vocabulary [0, " +
                        std::to_string(mi.vocabSize) + ")");
  return true;
}

bool Parser::addBuffer(Buffer b, const std::string &path) {
  if (m.bufferIndex.count(b.name))
    return r.fail(path, "buffer '" + b.name + "' is defined twice");
  m.bufferIndex[b.name] = static_cast<int>(m.buffers.size());
  m.buffers.push_back(std::move(b));
  return true;
}

bool Parser::buffers(const json &root) {
  const json *v = r.member(root, "", "buffers");
  if (!v)
    return false;
  if (!v->is_object())
    return r.fail("buffers", "expected an object, got " + jsonKind(*v));
  for (auto it = v->begin(); it != v->end(); ++it)
    if (!buffer(it.key(), it.value()))
      return false;
  return true;
}

bool Parser::buffer(const std::string &name, const json &b) {
  std::string path = "buffers." + name;
  if (name.empty())
    return r.fail("buffers", "a buffer has an empty name");
  std::string kind;
  Buffer buf;
  buf.name = name;
  if (!r.object(b, path, {"kind", "dtype", "shape", "offset", "at_load"}) ||
      !r.string(b, path, "kind", kind) ||
      !r.elemType(b, path, "dtype", buf.type))
    return false;
  if (kind == "input")
    buf.kind = BufferKind::Input;
  else if (kind == "weight")
    buf.kind = BufferKind::Weight;
  else if (kind == "arena")
    buf.kind = BufferKind::Arena;
  else
    return r.fail(path + ".kind",
                  "unknown buffer kind '" + kind + "' (input, weight, arena)");
  const json *shape = r.member(b, path, "shape");
  if (!shape)
    return false;
  if (!shape->is_array())
    return r.fail(path + ".shape",
                  "expected an array, got " + jsonKind(*shape));
  for (size_t i = 0; i < shape->size(); ++i) {
    const json &d = (*shape)[i];
    if (!d.is_number_integer() ||
        (d.get<int64_t>() < 1 && !(d.get<int64_t>() == -1 && i == 0)))
      return r.fail(path + ".shape",
                    "dimension " + std::to_string(i) + " is " + d.dump() +
                        "; dimensions are positive integers, or -1 (the "
                        "tokens) for the first");
    buf.shape.push_back(d.get<int64_t>());
  }
  bool dynamic = !buf.shape.empty() && buf.shape[0] == kTokensDim;
  if (buf.kind == BufferKind::Input &&
      (buf.type != ElemType::I32 || buf.shape != std::vector<int64_t>{-1}))
    return r.fail(path, "an input buffer is i32 [-1], not " + buf.describe());
  if (buf.kind == BufferKind::Weight && dynamic)
    return r.fail(path + ".shape", "a weight has no token dimension");
  if (b.contains("at_load")) {
    if (buf.kind != BufferKind::Weight)
      return r.fail(path + ".at_load", "only weight buffers are read at load");
    if (!atLoad(b["at_load"], path + ".at_load", buf.atLoad))
      return false;
  }
  if (buf.kind == BufferKind::Arena) {
    if (!r.integer(b, path, "offset", buf.offset, 0))
      return false;
    int64_t bytes = buf.bytes(m.maxTokens);
    int64_t align = buf.type == ElemType::F32 || buf.type == ElemType::I32 ? 4
                    : buf.type == ElemType::BF16 || buf.type == ElemType::F16
                        ? 2
                        : 1;
    if (buf.offset % align)
      return r.fail(path + ".offset",
                    std::to_string(buf.offset) + " is not aligned to its " +
                        std::to_string(align) + "-byte elements");
    if (buf.offset > m.arenaBytes || bytes > m.arenaBytes - buf.offset)
      return r.fail(path, std::to_string(bytes) + " bytes at offset " +
                              std::to_string(buf.offset) +
                              " do not fit arena_bytes " +
                              std::to_string(m.arenaBytes));
  } else if (b.contains("offset")) {
    return r.fail(path + ".offset", "only arena buffers have an offset");
  }
  return addBuffer(std::move(buf), path);
}

bool Parser::checkpoint(const json &root) {
  if (!root.contains("checkpoint"))
    return true;
  const json &c = root["checkpoint"];
  if (!r.object(c, "checkpoint", {"path", "tensors"}) ||
      !r.string(c, "checkpoint", "path", m.checkpoint))
    return false;
  const json *tensors = r.member(c, "checkpoint", "tensors");
  if (!tensors)
    return false;
  if (!tensors->is_object())
    return r.fail("checkpoint.tensors",
                  "expected an object, got " + jsonKind(*tensors));
  for (auto it = tensors->begin(); it != tensors->end(); ++it) {
    std::string path = "checkpoint.tensors." + it.key(), dtype;
    if (!r.object(it.value(), path, {"dtype", "shape"}) ||
        !r.string(it.value(), path, "dtype", dtype))
      return false;
    qrt::DType d;
    if (!parseDType(dtype, d))
      return r.fail(path + ".dtype", "unknown dtype '" + dtype + "'");
    const json *shape = r.member(it.value(), path, "shape");
    if (!shape)
      return false;
    std::vector<int64_t> dims;
    if (shape->is_array())
      for (const json &x : *shape)
        if (x.is_number_integer() && x.get<int64_t>() >= 0)
          dims.push_back(x.get<int64_t>());
    if (!shape->is_array() || dims.size() != shape->size())
      return r.fail(path + ".shape", "expected non-negative integers");
    m.checkpointTensors[it.key()] = {d, dims};
  }
  return true;
}

bool Parser::atLoad(const json &a, const std::string &path, AtLoadWeight &out) {
  std::string part, recipe;
  if (!r.object(a, path, {"tensor", "part", "recipe", "scale_channels"}) ||
      !r.string(a, path, "tensor", out.tensor) ||
      !r.string(a, path, "part", part))
    return false;
  if (!parseWeightPart(part, out.part))
    return r.fail(path + ".part", "unknown part '" + part +
                                      "' (copy, qweight, scales, zero_points)");
  if (!m.checkpointTensors.count(out.tensor))
    return r.fail(path + ".tensor",
                  "'" + out.tensor + "' is not among checkpoint.tensors");
  if (out.part == qrt::WeightPart::Copy)
    return !a.contains("recipe") && !a.contains("scale_channels")
               ? true
               : r.fail(path, "a copied tensor has no recipe");
  std::string why;
  if (!r.string(a, path, "recipe", recipe))
    return false;
  if (!qrt::WeightQuantRecipe::parse(recipe, out.recipe, why))
    return r.fail(path + ".recipe", why);
  if (!a.contains("scale_channels"))
    return true;
  const json &list = a["scale_channels"];
  if (!list.is_array())
    return r.fail(path + ".scale_channels",
                  "expected an array, got " + jsonKind(list));
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = path + ".scale_channels[" + std::to_string(i) + "]", t;
    int64_t axis = 0;
    if (!r.object(list[i], p, {"tensor", "axis"}) ||
        !r.string(list[i], p, "tensor", t) ||
        !r.integer(list[i], p, "axis", axis, 0, 1))
      return false;
    out.scaleChannels.push_back({t, axis});
  }
  return true;
}

bool Parser::kvCaches(const json &root) {
  const json *v = r.member(root, "", "kv_caches");
  if (!v)
    return false;
  if (!v->is_array())
    return r.fail("kv_caches", "expected an array, got " + jsonKind(*v));
  for (size_t i = 0; i < v->size(); ++i) {
    const json &c = (*v)[i];
    std::string path = "kv_caches[" + std::to_string(i) + "]";
    KVCache kv;
    if (!r.object(
            c, path,
            {"name", "layer", "num_kv_heads", "head_dim", "key", "value"}) ||
        !r.string(c, path, "name", kv.name) ||
        !r.integer(c, path, "layer", kv.layer, 0) ||
        !r.positive(c, path, "num_kv_heads", kv.numKvHeads) ||
        !r.positive(c, path, "head_dim", kv.headDim))
      return false;
    if (kv.name.empty())
      return r.fail(path + ".name", "is empty");
    for (bool keys : {true, false}) {
      const char *key = keys ? "key" : "value";
      const json *side = r.member(c, path, key);
      if (!side)
        return false;
      std::string sp = path + "." + key, scales;
      KVSide &s = keys ? kv.key : kv.value;
      if (!r.object(*side, sp, {"storage", "scales"}) ||
          !r.elemType(*side, sp, "storage", s.storage) ||
          !r.string(*side, sp, "scales", scales))
        return false;
      if (scales == "none")
        s.scales = KVScaleKind::None;
      else if (scales == "per_tensor")
        s.scales = KVScaleKind::PerTensor;
      else if (scales == "per_head")
        s.scales = KVScaleKind::PerHead;
      else if (scales == "per_token")
        s.scales = KVScaleKind::PerToken;
      else
        return r.fail(sp + ".scales", "unknown value '" + scales +
                                          "' (none, per_tensor, per_head, "
                                          "per_token)");
      bool floatCache =
          s.storage == ElemType::BF16 || s.storage == ElemType::F32;
      if (!floatCache && s.storage != ElemType::I8 &&
          s.storage != ElemType::F8E4M3)
        return r.fail(sp + ".storage", std::string(elemTypeName(s.storage)) +
                                           " is not bf16, f32, i8 or f8e4m3");
      if (floatCache != (s.scales == KVScaleKind::None))
        return r.fail(sp,
                      std::string("a ") + elemTypeName(s.storage) + " cache " +
                          (floatCache ? "takes no scales" : "needs scales"));
    }
    int index = static_cast<int>(m.kvCaches.size());
    for (bool keys : {true, false}) {
      const KVSide &s = keys ? kv.key : kv.value;
      Buffer data;
      data.name = kv.name + (keys ? ".k" : ".v");
      data.kind = BufferKind::KVCache;
      data.type = s.storage;
      data.shape = {kCacheRowsDim, kv.width()};
      data.cache = index;
      data.keys = keys;
      if (!addBuffer(data, path))
        return false;
      if (s.scales == KVScaleKind::PerToken) {
        Buffer scales;
        scales.name = kv.name + (keys ? ".k_scales" : ".v_scales");
        scales.kind = BufferKind::KVScales;
        scales.type = ElemType::F32;
        scales.shape = {kCacheRowsDim};
        scales.cache = index;
        scales.keys = keys;
        if (!addBuffer(scales, path))
          return false;
      }
    }
    m.kvCaches.push_back(std::move(kv));
  }
  return true;
}

bool Parser::endpoints(const json &root) {
  const json *in = r.member(root, "", "inputs");
  const json *out = in ? r.member(root, "", "outputs") : nullptr;
  if (!in || !out || !r.object(*in, "inputs", {"tokens", "positions"}) ||
      !r.object(*out, "outputs", {"logits", "next_token"}))
    return false;
  auto find = [&](const json &obj, const char *path, const char *key,
                  bool optional, ElemType type, std::vector<int64_t> shape,
                  bool input, int &index) {
    std::string name;
    if (optional && !obj.contains(key))
      return true;
    if (!r.string(obj, path, key, name))
      return false;
    std::string where = std::string(path) + "." + key;
    index = m.findBuffer(name);
    if (index < 0)
      return r.fail(where, "buffer '" + name + "' does not exist");
    const Buffer &b = m.buffers[index];
    if ((b.kind == BufferKind::Input) != input ||
        (!input && b.kind != BufferKind::Arena) || b.type != type ||
        b.shape != shape) {
      Buffer want;
      want.type = type;
      want.shape = shape;
      return r.fail(where, "buffer '" + name + "' is " +
                               bufferKindName(b.kind) + " " + b.describe() +
                               "; it must be " + (input ? "input" : "arena") +
                               " " + want.describe());
    }
    return true;
  };
  if (!find(*in, "inputs", "tokens", false, ElemType::I32, {-1}, true,
            m.tokens) ||
      !find(*in, "inputs", "positions", false, ElemType::I32, {-1}, true,
            m.positions) ||
      !find(*out, "outputs", "logits", false, ElemType::F32,
            {-1, m.model.vocabSize}, false, m.logits) ||
      !find(*out, "outputs", "next_token", true, ElemType::I32, {1}, false,
            m.nextToken))
    return false;
  // The runtime fills the two inputs it knows, and no other.
  for (size_t i = 0; i < m.buffers.size(); ++i)
    if (m.buffers[i].kind == BufferKind::Input &&
        static_cast<int>(i) != m.tokens && static_cast<int>(i) != m.positions)
      return r.fail("buffers." + m.buffers[i].name,
                    "an input buffer that is neither inputs.tokens nor "
                    "inputs.positions");
  return true;
}

bool Parser::kernels(const json &root) {
  const json *v = r.member(root, "", "kernels");
  if (!v)
    return false;
  if (!v->is_array())
    return r.fail("kernels", "expected an array, got " + jsonKind(*v));
  if (v->empty())
    return r.fail("kernels", "the bundle has no kernel");
  for (size_t i = 0; i < v->size(); ++i)
    if (!kernel(i, (*v)[i]))
      return false;
  return true;
}

bool Parser::launch(const json &k, const std::string &path, Launch &out) {
  const json *l = r.member(k, path, "launch");
  if (!l)
    return false;
  std::string p = path + ": launch";
  if (!r.object(*l, p,
                {"block", "token_tile", "per_tile", "grid_y", "grid_z",
                 "shared_bytes"}))
    return false;
  const json *block = r.member(*l, p, "block");
  if (!block)
    return false;
  int64_t threads = 1;
  if (!block->is_array() || block->size() != 3)
    return r.fail(p + ".block", "expected an array of 3 integers");
  for (size_t i = 0; i < 3; ++i) {
    const json &d = (*block)[i];
    if (!d.is_number_integer() || d.get<int64_t>() < 1 ||
        d.get<int64_t>() > 1024)
      return r.fail(p + ".block", "dimension " + std::to_string(i) + " is " +
                                      d.dump() + ", not in [1, 1024]");
    out.block[i] = static_cast<unsigned>(d.get<int64_t>());
    threads *= d.get<int64_t>();
  }
  if (threads > 1024)
    return r.fail(p + ".block",
                  std::to_string(threads) + " threads per block; at most 1024");
  constexpr int64_t kMaxGrid = 65535;
  return r.integer(*l, p, "token_tile", out.tokenTile, 0, INT32_MAX) &&
         r.integer(*l, p, "per_tile", out.perTile, 1, INT32_MAX) &&
         r.integer(*l, p, "grid_y", out.gridY, 1, kMaxGrid) &&
         r.integer(*l, p, "grid_z", out.gridZ, 1, kMaxGrid) &&
         r.integer(*l, p, "shared_bytes", out.sharedBytes, 0, INT32_MAX);
}

bool Parser::smallM(const json &k, const std::string &path, Kernel &kernel) {
  auto it = k.find("small_m");
  if (it == k.end())
    return true;
  std::string p = path + ": small_m";
  if (!it->is_array())
    return r.fail(p, "expected an array, got " + jsonKind(*it));
  for (size_t i = 0; i < it->size(); ++i) {
    const json &v = (*it)[i];
    std::string vp = p + "[" + std::to_string(i) + "]";
    SmallMVariant variant;
    if (!r.object(v, vp, {"name", "max_m", "launch"}) ||
        !r.string(v, vp, "name", variant.name) ||
        !r.integer(v, vp, "max_m", variant.maxM, 1, kernel.maxTokens()) ||
        !launch(v, vp, variant.launch))
      return false;
    if (variant.name.empty() || variant.name == kernel.name)
      return r.fail(vp + ".name", "must name another kernel");
    if (!kernel.smallM.empty() && variant.maxM <= kernel.smallM.back().maxM)
      return r.fail(vp + ".max_m",
                    std::to_string(variant.maxM) + " does not follow " +
                        std::to_string(kernel.smallM.back().maxM) +
                        " (variants go by ascending max_m)");
    kernel.smallM.push_back(std::move(variant));
  }
  return true;
}

bool Parser::kernel(size_t index, const json &k) {
  std::string path = "kernels[" + std::to_string(index) + "]";
  Kernel kernel;
  std::string family;
  if (!r.object(k, path,
                {"name", "family", "spec", "args", "launch", "small_m"}) ||
      !r.string(k, path, "name", kernel.name))
    return false;
  if (kernel.name.empty())
    return r.fail(path + ".name", "is empty");
  path += " (" + kernel.name + ")";
  if (!r.string(k, path, "family", family))
    return false;
  if (!parseFamily(family, kernel.family))
    return r.fail(path, "unknown kernel family '" + family + "'");
  const json *spec = r.member(k, path, "spec");
  if (!spec ||
      !parseKernelSpec(r, *spec, path + ": spec", kernel.family, kernel.spec))
    return false;
  const json *launchJson = k.find("launch") != k.end() ? &k["launch"] : nullptr;
  kernel.signature = family + " " + spec->dump() + " " +
                     (launchJson ? launchJson->dump() : std::string());
  // The variants' launches (not their names, which differ by layer).
  if (k.find("small_m") != k.end() && k["small_m"].is_array())
    for (const json &v : k["small_m"])
      if (v.is_object())
        kernel.signature += " " + v.value("max_m", json()).dump() + " " +
                            v.value("launch", json()).dump();
  const json *args = r.member(k, path, "args");
  if (!args)
    return false;
  if (!args->is_array())
    return r.fail(path + ": args", "expected an array, got " + jsonKind(*args));
  for (const json &a : *args) {
    if (!a.is_string())
      return r.fail(path + ": args",
                    "expected buffer names, got " + jsonKind(a));
    kernel.args.push_back(a.get<std::string>());
  }
  if (!launch(k, path, kernel.launch))
    return false;
  if (kernel.maxTokens() > m.maxTokens)
    return r.fail(path + ": spec.max_tokens",
                  std::to_string(kernel.maxTokens()) +
                      " is more than the bundle's max_tokens " +
                      std::to_string(m.maxTokens));
  if (!smallM(k, path, kernel))
    return false;
  std::string why;
  if (!kernelParams(kernel.spec, kernel.family, kernel.params, why))
    return r.fail(path + ": spec", why);
  if (!bindArgs(kernel, path))
    return false;
  m.kernels.push_back(std::move(kernel));
  return true;
}

bool Parser::bindArgs(Kernel &kernel, const std::string &path) {
  const std::vector<Param> &params = kernel.params;
  if (kernel.args.size() != params.size()) {
    std::string roles;
    for (const Param &p : params)
      roles += (roles.empty() ? "" : ", ") + p.role;
    return r.fail(path, std::string("a ") + familyName(kernel.family) +
                            " kernel of this spec takes " +
                            std::to_string(params.size()) +
                            " buffer arguments (" + roles + "), got " +
                            std::to_string(kernel.args.size()));
  }
  int cache = -1;
  for (size_t i = 0; i < params.size(); ++i) {
    const Param &p = params[i];
    std::string arg = "argument " + std::to_string(i) + " (" + p.role + ")";
    int index = m.findBuffer(kernel.args[i]);
    if (index < 0)
      return r.fail(path, arg + " names buffer '" + kernel.args[i] +
                              "', which does not exist");
    const Buffer &b = m.buffers[index];
    bool shapeOk = b.shape == p.shape ||
                   (p.scalar && b.shape.empty() && p.shape.size() == 1);
    if (b.type != p.type || !shapeOk) {
      Buffer want;
      want.type = p.type;
      want.shape = p.shape;
      return r.fail(path, arg + " is buffer " + b.name + ", " + b.describe() +
                              "; the spec needs " + want.describe());
    }
    bool isCacheBuffer =
        b.kind == BufferKind::KVCache || b.kind == BufferKind::KVScales;
    if (p.cache != Param::Cache::None) {
      BufferKind want = p.cache == Param::Cache::Data ? BufferKind::KVCache
                                                      : BufferKind::KVScales;
      if (b.kind != want || b.keys != p.cacheKeys)
        return r.fail(
            path, arg + " is buffer " + b.name + " (" + bufferKindName(b.kind) +
                      "), not the " + (p.cacheKeys ? "keys" : "values") +
                      (want == BufferKind::KVScales ? " scales of a KV cache"
                                                    : " of a KV cache"));
      if (cache >= 0 && cache != b.cache)
        return r.fail(path, arg + " is buffer " + b.name + " of KV cache " +
                                m.kvCaches[b.cache].name +
                                "; the kernel's other cache arguments are of " +
                                m.kvCaches[cache].name);
      cache = b.cache;
      const KVCache &kv = m.kvCaches[b.cache];
      const KVSide &side = p.cacheKeys ? kv.key : kv.value;
      const KVCacheSpec *spec = nullptr;
      if (auto *s = std::get_if<RopeAppendSpec>(&kernel.spec))
        spec = p.cacheKeys ? &s->keys : &s->values;
      else if (auto *s = std::get_if<AttentionSpec>(&kernel.spec))
        spec = p.cacheKeys ? &s->keys : &s->values;
      if (spec &&
          (spec->numKvHeads != kv.numKvHeads || spec->headDim != kv.headDim ||
           spec->storage != side.storage || spec->scales != side.scales))
        return r.fail(
            path,
            arg + ": the spec's " + (p.cacheKeys ? "keys" : "values") + " (" +
                std::to_string(spec->numKvHeads) + " heads of " +
                std::to_string(spec->headDim) + ", " +
                elemTypeName(spec->storage) + ", scales " +
                kvScaleKindName(spec->scales) + ") differ from KV cache " +
                kv.name + " (" + std::to_string(kv.numKvHeads) + " heads of " +
                std::to_string(kv.headDim) + ", " + elemTypeName(side.storage) +
                ", scales " + kvScaleKindName(side.scales) + ")");
    } else if (isCacheBuffer) {
      return r.fail(path, arg + " is buffer " + b.name +
                              " of a KV cache; only the cache parameters of "
                              "rope_kv_append and attention may be");
    } else if (p.output && b.kind != BufferKind::Arena) {
      return r.fail(path, arg + " is written by the kernel but buffer " +
                              b.name + " is " + bufferKindName(b.kind) +
                              "; kernels write arena buffers");
    }
    kernel.argBuffers.push_back(index);
  }
  return true;
}

bool Parser::sequence(const json &root, const char *key,
                      std::vector<int> &out) {
  const json *v = r.member(root, "", key);
  if (!v)
    return false;
  if (!v->is_array())
    return r.fail(key, "expected an array, got " + jsonKind(*v));
  if (v->empty())
    return r.fail(key, "launches no kernel");
  for (const json &i : *v) {
    if (!i.is_number_integer() || i.get<int64_t>() < 0 ||
        i.get<int64_t>() >= static_cast<int64_t>(m.kernels.size()))
      return r.fail(key, i.dump() + " is not a kernel index (0 to " +
                             std::to_string(m.kernels.size() - 1) + ")");
    out.push_back(static_cast<int>(i.get<int64_t>()));
  }
  return true;
}
} // namespace

//===----------------------------------------------------------------------===//
// Manifest
//===----------------------------------------------------------------------===//

const char *qrt::bundle::bufferKindName(BufferKind kind) {
  switch (kind) {
  case BufferKind::Input:
    return "input";
  case BufferKind::Weight:
    return "weight";
  case BufferKind::Arena:
    return "arena";
  case BufferKind::KVCache:
    return "kv_cache";
  case BufferKind::KVScales:
    return "kv_scales";
  }
  return "?";
}

int64_t Buffer::bytes(int64_t rows) const {
  std::vector<int64_t> s = shape;
  for (int64_t &d : s)
    if (d < 0)
      d = rows;
  return storageBytes(type, s);
}

std::string Buffer::describe() const {
  return std::string(elemTypeName(type)) + " " + shapeString(shape);
}

const SmallMVariant *Kernel::variantFor(int64_t m) const {
  for (const SmallMVariant &v : smallM)
    if (m <= v.maxM)
      return &v;
  return nullptr;
}

int64_t Launch::gridX(int64_t m) const {
  if (tokenTile == 0)
    return perTile;
  return (m + tokenTile - 1) / tokenTile * perTile;
}

int Kernel::arg(const std::string &role) const {
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].role == role)
      return argBuffers[i];
  return -1;
}

int Manifest::findBuffer(const std::string &name) const {
  auto it = bufferIndex.find(name);
  return it == bufferIndex.end() ? -1 : it->second;
}

int64_t Manifest::maxSeqLimit() const {
  int64_t limit = model.maxPositionEmbeddings;
  for (const Kernel &k : kernels) {
    if (auto *s = std::get_if<RopeAppendSpec>(&k.spec))
      limit =
          std::min({limit, s->maxPositions, s->keys.maxSeq, s->values.maxSeq});
    if (auto *s = std::get_if<AttentionSpec>(&k.spec))
      limit = std::min({limit, s->keys.maxSeq, s->values.maxSeq});
  }
  return limit;
}

bool qrt::bundle::parseManifest(const std::string &text,
                                const std::string &file, Manifest &manifest,
                                std::string &error) {
  manifest = Manifest();
  try {
    json root = json::parse(text);
    Parser parser(file, manifest, error);
    return parser.parse(root);
  } catch (const json::parse_error &e) {
    error = file + ": invalid JSON: " + e.what();
  } catch (const std::exception &e) {
    error = file + ": " + e.what();
  }
  return false;
}
