//===- SpecParser.cpp - Checked reads of manifest fields and kernel specs -===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "ManifestReader.h"

#include <cmath>

using namespace qrt::bundle;

//===----------------------------------------------------------------------===//
// ManifestReader
//===----------------------------------------------------------------------===//

std::string qrt::bundle::jsonKind(const json &value) {
  switch (value.type()) {
  case json::value_t::null:
    return "null";
  case json::value_t::object:
    return "an object";
  case json::value_t::array:
    return "an array";
  case json::value_t::string:
    return "a string";
  case json::value_t::boolean:
    return "a boolean";
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
    return "an integer";
  case json::value_t::number_float:
    return "a number";
  default:
    return "an unsupported value";
  }
}

bool ManifestReader::fail(const std::string &path, const std::string &message) {
  error = file + ": " + (path.empty() ? "" : path + ": ") + message;
  return false;
}

bool ManifestReader::object(const json &value, const std::string &path,
                            std::initializer_list<const char *> allowed) {
  if (!value.is_object())
    return fail(path, "expected an object, got " + jsonKind(value));
  for (auto it = value.begin(); it != value.end(); ++it) {
    bool known = false;
    for (const char *a : allowed)
      known = known || it.key() == a;
    if (!known)
      return fail(path, "unknown field '" + it.key() + "'");
  }
  return true;
}

const json *ManifestReader::member(const json &obj, const std::string &path,
                                   const char *key) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    fail(path, std::string("missing field '") + key + "'");
    return nullptr;
  }
  return &*it;
}

bool ManifestReader::integer(const json &obj, const std::string &path,
                             const char *key, int64_t &out, int64_t min,
                             int64_t max) {
  const json *v = member(obj, path, key);
  if (!v)
    return false;
  std::string where = join(path, key);
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX))
      return fail(where, "integer " + v->dump() + " is too large");
    out = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    out = v->get<int64_t>();
  } else {
    return fail(where, "expected an integer, got " + jsonKind(*v));
  }
  if (out < min)
    return fail(where, "must be at least " + std::to_string(min) + ", got " +
                           std::to_string(out));
  if (out > max)
    return fail(where, "must be at most " + std::to_string(max) + ", got " +
                           std::to_string(out));
  return true;
}

bool ManifestReader::boolean(const json &obj, const std::string &path,
                             const char *key, bool &out) {
  const json *v = member(obj, path, key);
  if (!v)
    return false;
  if (!v->is_boolean())
    return fail(join(path, key), "expected a boolean, got " + jsonKind(*v));
  out = v->get<bool>();
  return true;
}

bool ManifestReader::number(const json &obj, const std::string &path,
                            const char *key, double &out) {
  const json *v = member(obj, path, key);
  if (!v)
    return false;
  if (!v->is_number())
    return fail(join(path, key), "expected a number, got " + jsonKind(*v));
  out = v->get<double>();
  if (!std::isfinite(out))
    return fail(join(path, key), "must be finite");
  return true;
}

bool ManifestReader::string(const json &obj, const std::string &path,
                            const char *key, std::string &out) {
  const json *v = member(obj, path, key);
  if (!v)
    return false;
  if (!v->is_string())
    return fail(join(path, key), "expected a string, got " + jsonKind(*v));
  out = v->get<std::string>();
  return true;
}

bool ManifestReader::optionalString(const json &obj, const std::string &path,
                                    const char *key, std::string &out) {
  out.clear();
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return true;
  return string(obj, path, key, out);
}

bool ManifestReader::elemType(const json &obj, const std::string &path,
                              const char *key, ElemType &out) {
  std::string name;
  if (!string(obj, path, key, name))
    return false;
  if (!parseElemType(name, out))
    return fail(join(path, key), "unknown element type '" + name +
                                     "' (f32, bf16, f16, i8, f8e4m3, i4x2, "
                                     "i32)");
  return true;
}

//===----------------------------------------------------------------------===//
// Kernel specs
//===----------------------------------------------------------------------===//

namespace {
/// Parses a string field against a list of (name, value) choices.
template <typename E>
bool choice(ManifestReader &r, const json &obj, const std::string &path,
            const char *key,
            std::initializer_list<std::pair<const char *, E>> choices, E &out) {
  std::string name;
  if (!r.string(obj, path, key, name))
    return false;
  std::string names;
  for (const auto &[n, v] : choices) {
    if (name == n) {
      out = v;
      return true;
    }
    names += std::string(names.empty() ? "" : ", ") + n;
  }
  return r.fail(ManifestReader::join(path, key),
                "unknown value '" + name + "' (" + names + ")");
}

bool scaleKind(ManifestReader &r, const json &obj, const std::string &path,
               const char *key, ScaleKind &out) {
  return choice<ScaleKind>(r, obj, path, key,
                           {{"none", ScaleKind::None},
                            {"per_tensor", ScaleKind::PerTensor},
                            {"per_token", ScaleKind::PerToken},
                            {"per_channel", ScaleKind::PerChannel},
                            {"per_group", ScaleKind::PerGroup},
                            {"block", ScaleKind::Block}},
                           out);
}

bool kvSpec(ManifestReader &r, const json &obj, const std::string &path,
            const char *key, KVCacheSpec &out) {
  const json *v = r.member(obj, path, key);
  if (!v)
    return false;
  std::string p = ManifestReader::join(path, key);
  return r.object(
             *v, p,
             {"max_seq", "num_kv_heads", "head_dim", "storage", "scales"}) &&
         r.positive(*v, p, "max_seq", out.maxSeq) &&
         r.positive(*v, p, "num_kv_heads", out.numKvHeads) &&
         r.positive(*v, p, "head_dim", out.headDim) &&
         r.elemType(*v, p, "storage", out.storage) &&
         choice<KVScaleKind>(r, *v, p, "scales",
                             {{"none", KVScaleKind::None},
                              {"per_tensor", KVScaleKind::PerTensor},
                              {"per_head", KVScaleKind::PerHead},
                              {"per_token", KVScaleKind::PerToken}},
                             out.scales);
}

bool tile(ManifestReader &r, const json &obj, const std::string &path,
          GemmTile &out) {
  const json *v = r.member(obj, path, "tile");
  if (!v)
    return false;
  std::string p = ManifestReader::join(path, "tile");
  return r.object(*v, p, {"bm", "bn", "bk", "warps_m", "warps_n", "stages"}) &&
         r.positive(*v, p, "bm", out.bm) && r.positive(*v, p, "bn", out.bn) &&
         r.positive(*v, p, "bk", out.bk) &&
         r.positive(*v, p, "warps_m", out.warpsM) &&
         r.positive(*v, p, "warps_n", out.warpsN) &&
         r.positive(*v, p, "stages", out.stages);
}

bool gemm(ManifestReader &r, const json &s, const std::string &p, GemmSpec &g) {
  return r.object(s, p,
                  {"kind", "max_tokens", "n", "k", "a_scale", "b_scale",
                   "group_size", "block_n", "block_k", "b_zero_points",
                   "int_bias", "bias", "gated", "residual", "out_type",
                   "out_asymmetric", "tile"}) &&
         choice<GemmKind>(r, s, p, "kind",
                          {{"bf16", GemmKind::BF16},
                           {"s8", GemmKind::S8},
                           {"e4m3", GemmKind::E4M3},
                           {"w8a16", GemmKind::W8A16},
                           {"w4a16", GemmKind::W4A16}},
                          g.kind) &&
         r.positive(s, p, "max_tokens", g.maxTokens) &&
         r.positive(s, p, "n", g.n) && r.positive(s, p, "k", g.k) &&
         scaleKind(r, s, p, "a_scale", g.aScale) &&
         scaleKind(r, s, p, "b_scale", g.bScale) &&
         r.integer(s, p, "group_size", g.groupSize, 0) &&
         r.integer(s, p, "block_n", g.blockN, 0) &&
         r.integer(s, p, "block_k", g.blockK, 0) &&
         r.boolean(s, p, "b_zero_points", g.bZeroPoints) &&
         r.boolean(s, p, "int_bias", g.intBias) &&
         r.boolean(s, p, "bias", g.bias) && r.boolean(s, p, "gated", g.gated) &&
         r.boolean(s, p, "residual", g.residual) &&
         r.elemType(s, p, "out_type", g.outType) &&
         r.boolean(s, p, "out_asymmetric", g.outAsymmetric) &&
         tile(r, s, p, g.tile);
}
} // namespace

bool qrt::bundle::parseKernelSpec(ManifestReader &r, const json &s,
                                  const std::string &p, Family family,
                                  KernelSpec &out) {
  switch (family) {
  case Family::Embedding: {
    EmbeddingSpec e;
    if (!r.object(s, p, {"max_tokens", "vocab", "hidden", "table_type"}) ||
        !r.positive(s, p, "max_tokens", e.maxTokens) ||
        !r.positive(s, p, "vocab", e.vocab) ||
        !r.positive(s, p, "hidden", e.hidden) ||
        !r.elemType(s, p, "table_type", e.tableType))
      return false;
    out = e;
    return true;
  }
  case Family::RmsNorm: {
    RmsNormSpec n;
    if (!r.object(s, p,
                  {"max_tokens", "hidden", "epsilon", "weight_type", "out_type",
                   "dynamic_per_token", "static_scale", "static_asymmetric"}) ||
        !r.positive(s, p, "max_tokens", n.maxTokens) ||
        !r.positive(s, p, "hidden", n.hidden) ||
        !r.number(s, p, "epsilon", n.epsilon) ||
        !r.elemType(s, p, "weight_type", n.weightType) ||
        !r.elemType(s, p, "out_type", n.outType) ||
        !r.boolean(s, p, "dynamic_per_token", n.dynamicPerToken) ||
        !r.boolean(s, p, "static_scale", n.staticScale) ||
        !r.boolean(s, p, "static_asymmetric", n.staticAsymmetric))
      return false;
    if (n.epsilon < 0)
      return r.fail(ManifestReader::join(p, "epsilon"), "must not be negative");
    out = n;
    return true;
  }
  case Family::Quantize: {
    QuantizeSpec q;
    if (!r.object(s, p,
                  {"max_tokens", "hidden", "out_type", "dynamic_per_token",
                   "static_asymmetric"}) ||
        !r.positive(s, p, "max_tokens", q.maxTokens) ||
        !r.positive(s, p, "hidden", q.hidden) ||
        !r.elemType(s, p, "out_type", q.outType) ||
        !r.boolean(s, p, "dynamic_per_token", q.dynamicPerToken) ||
        !r.boolean(s, p, "static_asymmetric", q.staticAsymmetric))
      return false;
    out = q;
    return true;
  }
  case Family::Gemm: {
    GemmSpec g;
    if (!gemm(r, s, p, g))
      return false;
    out = g;
    return true;
  }
  case Family::RopeKVAppend: {
    RopeAppendSpec a;
    if (!r.object(s, p,
                  {"max_tokens", "num_heads", "num_kv_heads", "head_dim",
                   "max_positions", "keys", "values"}) ||
        !r.positive(s, p, "max_tokens", a.maxTokens) ||
        !r.positive(s, p, "num_heads", a.numHeads) ||
        !r.positive(s, p, "num_kv_heads", a.numKvHeads) ||
        !r.positive(s, p, "head_dim", a.headDim) ||
        !r.positive(s, p, "max_positions", a.maxPositions) ||
        !kvSpec(r, s, p, "keys", a.keys) ||
        !kvSpec(r, s, p, "values", a.values))
      return false;
    out = a;
    return true;
  }
  case Family::Attention: {
    AttentionSpec a;
    if (!r.object(s, p,
                  {"max_tokens", "num_heads", "num_kv_heads", "head_dim",
                   "causal", "scale", "sliding_window", "keys", "values",
                   "out_type"}) ||
        !r.positive(s, p, "max_tokens", a.maxTokens) ||
        !r.positive(s, p, "num_heads", a.numHeads) ||
        !r.positive(s, p, "num_kv_heads", a.numKvHeads) ||
        !r.positive(s, p, "head_dim", a.headDim) ||
        !r.boolean(s, p, "causal", a.causal) ||
        !r.number(s, p, "scale", a.scale) ||
        !r.integer(s, p, "sliding_window", a.slidingWindow, 0) ||
        !kvSpec(r, s, p, "keys", a.keys) ||
        !kvSpec(r, s, p, "values", a.values) ||
        !r.elemType(s, p, "out_type", a.outType))
      return false;
    if (!(a.scale > 0))
      return r.fail(ManifestReader::join(p, "scale"), "must be positive");
    out = a;
    return true;
  }
  case Family::Add:
  case Family::Mul:
  case Family::SiluMul: {
    ElementwiseSpec e;
    e.kind = family == Family::Add   ? ElementwiseKind::Add
             : family == Family::Mul ? ElementwiseKind::Mul
                                     : ElementwiseKind::SiluMul;
    if (!r.object(s, p, {"max_tokens", "features", "out_type"}) ||
        !r.positive(s, p, "max_tokens", e.maxTokens) ||
        !r.positive(s, p, "features", e.features) ||
        !r.elemType(s, p, "out_type", e.outType))
      return false;
    out = e;
    return true;
  }
  case Family::Argmax: {
    ArgmaxSpec a;
    if (!r.object(s, p, {"max_tokens", "vocab"}) ||
        !r.positive(s, p, "max_tokens", a.maxTokens) ||
        !r.positive(s, p, "vocab", a.vocab))
      return false;
    out = a;
    return true;
  }
  case Family::PermuteColumns: {
    PermuteColumnsSpec a;
    if (!r.object(s, p, {"max_tokens", "features", "in_type", "out_type"}) ||
        !r.positive(s, p, "max_tokens", a.maxTokens) ||
        !r.positive(s, p, "features", a.features) ||
        !r.elemType(s, p, "in_type", a.inType) ||
        !r.elemType(s, p, "out_type", a.outType))
      return false;
    out = a;
    return true;
  }
  }
  return r.fail(p, "unknown family");
}
