//===- Specs.cpp - Kernel specs: names and parameter lists ----------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/BundleSpecs.h"

using namespace qrt::bundle;

namespace {
struct ElemTypeName {
  ElemType type;
  const char *name;
};
constexpr ElemTypeName kElemTypes[] = {
    {ElemType::F32, "f32"},       {ElemType::BF16, "bf16"},
    {ElemType::F16, "f16"},       {ElemType::I8, "i8"},
    {ElemType::F8E4M3, "f8e4m3"}, {ElemType::I4x2, "i4x2"},
    {ElemType::I32, "i32"},
};

constexpr const char *kFamilies[] = {
    "embedding",      "rms_norm", "quantize", "gemm",     "rope_kv_append",
    "attention",      "add",      "mul",      "silu_mul", "argmax",
    "permute_columns"};
} // namespace

const char *qrt::bundle::elemTypeName(ElemType type) {
  for (const ElemTypeName &e : kElemTypes)
    if (e.type == type)
      return e.name;
  return "?";
}

bool qrt::bundle::parseElemType(const std::string &name, ElemType &type) {
  for (const ElemTypeName &e : kElemTypes)
    if (name == e.name) {
      type = e.type;
      return true;
    }
  return false;
}

int64_t qrt::bundle::storageBytes(ElemType type,
                                  const std::vector<int64_t> &shape) {
  int64_t elements = 1;
  for (int64_t d : shape)
    elements *= d;
  switch (type) {
  case ElemType::F32:
  case ElemType::I32:
    return elements * 4;
  case ElemType::BF16:
  case ElemType::F16:
    return elements * 2;
  case ElemType::I8:
  case ElemType::F8E4M3:
    return elements;
  case ElemType::I4x2: {
    if (shape.empty())
      return 1;
    int64_t cols = shape.back();
    return cols ? elements / cols * ((cols + 1) / 2) : 0;
  }
  }
  return 0;
}

bool qrt::bundle::isFloatType(ElemType type) {
  return type == ElemType::F32 || type == ElemType::BF16 ||
         type == ElemType::F16;
}

const char *qrt::bundle::gemmKindName(GemmKind kind) {
  switch (kind) {
  case GemmKind::BF16:
    return "bf16";
  case GemmKind::S8:
    return "s8";
  case GemmKind::E4M3:
    return "e4m3";
  case GemmKind::W8A16:
    return "w8a16";
  case GemmKind::W4A16:
    return "w4a16";
  }
  return "?";
}

const char *qrt::bundle::scaleKindName(ScaleKind kind) {
  switch (kind) {
  case ScaleKind::None:
    return "none";
  case ScaleKind::PerTensor:
    return "per_tensor";
  case ScaleKind::PerToken:
    return "per_token";
  case ScaleKind::PerChannel:
    return "per_channel";
  case ScaleKind::PerGroup:
    return "per_group";
  case ScaleKind::Block:
    return "block";
  }
  return "?";
}

const char *qrt::bundle::kvScaleKindName(KVScaleKind kind) {
  switch (kind) {
  case KVScaleKind::None:
    return "none";
  case KVScaleKind::PerTensor:
    return "per_tensor";
  case KVScaleKind::PerHead:
    return "per_head";
  case KVScaleKind::PerToken:
    return "per_token";
  }
  return "?";
}

const char *qrt::bundle::familyName(Family family) {
  return kFamilies[static_cast<int>(family)];
}

bool qrt::bundle::parseFamily(const std::string &name, Family &family) {
  for (size_t i = 0; i < sizeof(kFamilies) / sizeof(kFamilies[0]); ++i)
    if (name == kFamilies[i]) {
      family = static_cast<Family>(i);
      return true;
    }
  return false;
}

int64_t qrt::bundle::specMaxTokens(const KernelSpec &spec) {
  return std::visit([](const auto &s) { return s.maxTokens; }, spec);
}

//===----------------------------------------------------------------------===//
// Parameter lists
//===----------------------------------------------------------------------===//

namespace {
constexpr int64_t T = kTokensDim;
constexpr int64_t S = kCacheRowsDim;

/// Appends parameters and reports contract violations.
class ParamList {
public:
  ParamList(std::vector<Param> &params, std::string &error)
      : params(params), error(error) {}

  void in(std::string role, ElemType type, std::vector<int64_t> shape) {
    params.push_back({std::move(role), type, std::move(shape)});
  }
  void out(std::string role, ElemType type, std::vector<int64_t> shape) {
    in(std::move(role), type, std::move(shape));
    params.back().output = true;
  }
  /// A one-element f32 / i32 input.
  void scalar(std::string role, ElemType type) {
    in(std::move(role), type, {1});
    params.back().scalar = true;
  }
  void cache(std::string role, ElemType type, std::vector<int64_t> shape,
             bool output, Param::Cache what, bool keys) {
    in(std::move(role), type, std::move(shape));
    params.back().output = output;
    params.back().cache = what;
    params.back().cacheKeys = keys;
  }
  bool fail(const std::string &message) {
    error = message;
    return false;
  }

  std::vector<Param> &params;
  std::string &error;
};

bool isQuantizedOut(ElemType t) {
  return t == ElemType::I8 || t == ElemType::F8E4M3;
}

bool checkOutType(ParamList &p, const char *field, ElemType t, bool quantized) {
  if (isFloatType(t) || (quantized && isQuantizedOut(t)))
    return true;
  return p.fail(
      std::string("spec.") + field + ": " + elemTypeName(t) +
      " is not an output type of this family (" +
      (quantized ? "f32, bf16, f16, i8 or f8e4m3" : "f32, bf16 or f16") + ")");
}

/// The static-or-dynamic quantization of rms_norm and quantize outputs.
bool quantizedRows(ParamList &p, const char *family, ElemType outType,
                   bool dynamic, bool stat, bool asym, int64_t hidden) {
  bool quantized = isQuantizedOut(outType);
  if (dynamic && stat)
    return p.fail(std::string(family) +
                  ": dynamic_per_token and static_scale exclude each other");
  if (quantized && !dynamic && !stat)
    return p.fail(std::string(family) + ": an " + elemTypeName(outType) +
                  " output needs dynamic_per_token or a static scale");
  if (!quantized && (dynamic || stat))
    return p.fail(std::string(family) + ": a " + elemTypeName(outType) +
                  " output takes no quantization");
  if (asym && (!stat || outType != ElemType::I8))
    return p.fail(std::string(family) +
                  ": static_asymmetric needs a static i8 output");
  if (stat) {
    p.scalar("scale", ElemType::F32);
    if (asym)
      p.scalar("zero_point", ElemType::I32);
  }
  p.out("out", outType, {T, hidden});
  if (dynamic)
    p.out("row_scales", ElemType::F32, {T});
  return true;
}

ElemType gemmAType(GemmKind kind) {
  switch (kind) {
  case GemmKind::S8:
    return ElemType::I8;
  case GemmKind::E4M3:
    return ElemType::F8E4M3;
  default:
    return ElemType::BF16;
  }
}

ElemType gemmBType(GemmKind kind) {
  switch (kind) {
  case GemmKind::S8:
  case GemmKind::W8A16:
    return ElemType::I8;
  case GemmKind::E4M3:
    return ElemType::F8E4M3;
  case GemmKind::W4A16:
    return ElemType::I4x2;
  default:
    return ElemType::BF16;
  }
}

bool gemmParams(const GemmSpec &s, ParamList &p) {
  std::string kind = std::string("gemm ") + gemmKindName(s.kind);
  auto bad = [&](const std::string &what) {
    return p.fail(kind + ": " + what);
  };
  bool quantizedA = s.kind == GemmKind::S8 || s.kind == GemmKind::E4M3;
  if (!quantizedA && s.aScale != ScaleKind::None)
    return bad("a bf16 A takes no a_scale");
  if (s.aScale != ScaleKind::None && s.aScale != ScaleKind::PerTensor &&
      s.aScale != ScaleKind::PerToken)
    return bad(std::string("a_scale ") + scaleKindName(s.aScale) +
               " is not per_tensor or per_token");
  ScaleKind b = s.bScale;
  bool bOk = false;
  switch (s.kind) {
  case GemmKind::BF16:
    bOk = b == ScaleKind::None;
    break;
  case GemmKind::S8:
    bOk = b == ScaleKind::None || b == ScaleKind::PerTensor ||
          b == ScaleKind::PerChannel;
    break;
  case GemmKind::E4M3:
    bOk = b == ScaleKind::None || b == ScaleKind::PerTensor ||
          b == ScaleKind::PerChannel || b == ScaleKind::Block;
    break;
  case GemmKind::W8A16:
  case GemmKind::W4A16:
    bOk = b == ScaleKind::None || b == ScaleKind::PerTensor ||
          b == ScaleKind::PerChannel || b == ScaleKind::PerGroup;
    break;
  }
  if (!bOk)
    return bad(std::string("b_scale ") + scaleKindName(b) +
               " is not defined for this kind");
  if ((b == ScaleKind::PerGroup) != (s.groupSize != 0))
    return bad("group_size is set exactly for per_group b scales");
  if (b == ScaleKind::PerGroup && s.k % s.groupSize != 0)
    return bad("group_size " + std::to_string(s.groupSize) +
               " does not divide k " + std::to_string(s.k));
  if ((b == ScaleKind::Block) != (s.blockN != 0 || s.blockK != 0) ||
      (b == ScaleKind::Block && (s.blockN <= 0 || s.blockK <= 0)))
    return bad("block_n and block_k are set (positive) exactly for block b "
               "scales");
  if (s.bZeroPoints && (s.kind != GemmKind::W4A16 && s.kind != GemmKind::W8A16))
    return bad("b_zero_points needs a w4a16 or w8a16 weight");
  if (s.bZeroPoints && b == ScaleKind::None)
    return bad("b_zero_points needs b scales");
  if (s.intBias && s.kind != GemmKind::S8)
    return bad("int_bias needs an s8 GEMM");
  if (!isFloatType(s.outType) && !isQuantizedOut(s.outType))
    return bad(std::string("out_type ") + elemTypeName(s.outType) +
               " is not f32, bf16, f16, i8 or f8e4m3");
  if (s.outAsymmetric && s.outType != ElemType::I8)
    return bad("out_asymmetric needs an i8 output");

  std::vector<int64_t> bScaleShape;
  switch (b) {
  case ScaleKind::PerChannel:
    bScaleShape = {s.n};
    break;
  case ScaleKind::PerGroup:
    bScaleShape = {s.n, s.k / s.groupSize};
    break;
  case ScaleKind::Block:
    bScaleShape = {(s.n + s.blockN - 1) / s.blockN,
                   (s.k + s.blockK - 1) / s.blockK};
    break;
  default:
    break;
  }
  p.in("a", gemmAType(s.kind), {T, s.k});
  if (s.aScale == ScaleKind::PerTensor)
    p.scalar("a_scales", ElemType::F32);
  else if (s.aScale == ScaleKind::PerToken)
    p.in("a_scales", ElemType::F32, {T});
  for (int which = 0; which < (s.gated ? 2 : 1); ++which) {
    std::string bName = which ? "b2" : "b";
    std::string suffix = which ? "2" : "";
    p.in(bName, gemmBType(s.kind), {s.n, s.k});
    if (b == ScaleKind::PerTensor)
      p.scalar(bName + "_scales", ElemType::F32);
    else if (b != ScaleKind::None)
      p.in(bName + "_scales", ElemType::F32, bScaleShape);
    if (s.bZeroPoints) {
      if (b == ScaleKind::PerTensor)
        p.scalar(bName + "_zero_points", ElemType::I32);
      else
        p.in(bName + "_zero_points", ElemType::I32, bScaleShape);
    }
    if (s.intBias)
      p.in("int_bias" + suffix, ElemType::I32, {s.n});
    if (s.bias)
      p.in("bias" + suffix, ElemType::F32, {s.n});
  }
  if (s.residual)
    p.in("residual", ElemType::F32, {T, s.n});
  if (isQuantizedOut(s.outType)) {
    p.scalar("out_scale", ElemType::F32);
    if (s.outAsymmetric)
      p.scalar("out_zero_point", ElemType::I32);
  }
  p.out("out", s.outType, {T, s.n});
  return true;
}

bool checkCacheSpec(ParamList &p, const char *family, const char *side,
                    const KVCacheSpec &c, int64_t numKvHeads, int64_t headDim) {
  std::string where = std::string(family) + ": " + side + ": ";
  if (c.numKvHeads != numKvHeads || c.headDim != headDim)
    return p.fail(where + "num_kv_heads " + std::to_string(c.numKvHeads) +
                  " and head_dim " + std::to_string(c.headDim) +
                  " differ from the kernel's " + std::to_string(numKvHeads) +
                  " and " + std::to_string(headDim));
  bool floatCache = c.storage == ElemType::F32 || c.storage == ElemType::BF16;
  bool quantCache = c.storage == ElemType::I8 || c.storage == ElemType::F8E4M3;
  if (!floatCache && !quantCache)
    return p.fail(where + "storage " + elemTypeName(c.storage) +
                  " is not bf16, f32, i8 or f8e4m3");
  if (floatCache != (c.scales == KVScaleKind::None))
    return p.fail(where + "a " + elemTypeName(c.storage) + " cache " +
                  (floatCache ? "takes no scales" : "needs scales"));
  return true;
}

/// The static scale parameter of a KV side, if any.
void staticKVScale(ParamList &p, const std::string &role,
                   const KVCacheSpec &c) {
  if (c.scales == KVScaleKind::PerTensor)
    p.scalar(role, ElemType::F32);
  else if (c.scales == KVScaleKind::PerHead)
    p.in(role, ElemType::F32, {c.numKvHeads});
}

bool ropeParams(const RopeAppendSpec &s, ParamList &p) {
  if (s.numHeads % s.numKvHeads != 0)
    return p.fail("rope_kv_append: num_heads " + std::to_string(s.numHeads) +
                  " is not a multiple of num_kv_heads " +
                  std::to_string(s.numKvHeads));
  if (s.headDim % 2 != 0)
    return p.fail("rope_kv_append: head_dim " + std::to_string(s.headDim) +
                  " is odd");
  if (!checkCacheSpec(p, "rope_kv_append", "keys", s.keys, s.numKvHeads,
                      s.headDim) ||
      !checkCacheSpec(p, "rope_kv_append", "values", s.values, s.numKvHeads,
                      s.headDim))
    return false;
  int64_t qw = s.numHeads * s.headDim, kw = s.numKvHeads * s.headDim;
  p.in("q", ElemType::F32, {T, qw});
  p.in("k", ElemType::F32, {T, kw});
  p.in("v", ElemType::F32, {T, kw});
  p.in("positions", ElemType::I32, {T});
  p.in("rope_table", ElemType::F32, {s.maxPositions, s.headDim});
  staticKVScale(p, "k_scale", s.keys);
  staticKVScale(p, "v_scale", s.values);
  p.out("q_out", ElemType::F32, {T, qw});
  p.cache("k_cache", s.keys.storage, {S, kw}, true, Param::Cache::Data, true);
  p.cache("v_cache", s.values.storage, {S, kw}, true, Param::Cache::Data,
          false);
  if (s.keys.scales == KVScaleKind::PerToken)
    p.cache("k_cache_scales", ElemType::F32, {S}, true, Param::Cache::Scales,
            true);
  if (s.values.scales == KVScaleKind::PerToken)
    p.cache("v_cache_scales", ElemType::F32, {S}, true, Param::Cache::Scales,
            false);
  return true;
}

bool attentionParams(const AttentionSpec &s, ParamList &p) {
  if (s.numHeads % s.numKvHeads != 0)
    return p.fail("attention: num_heads " + std::to_string(s.numHeads) +
                  " is not a multiple of num_kv_heads " +
                  std::to_string(s.numKvHeads));
  if (!checkCacheSpec(p, "attention", "keys", s.keys, s.numKvHeads,
                      s.headDim) ||
      !checkCacheSpec(p, "attention", "values", s.values, s.numKvHeads,
                      s.headDim))
    return false;
  if (!checkOutType(p, "out_type", s.outType, false))
    return false;
  int64_t qw = s.numHeads * s.headDim, kw = s.numKvHeads * s.headDim;
  p.in("q", ElemType::F32, {T, qw});
  p.in("positions", ElemType::I32, {T});
  p.cache("k_cache", s.keys.storage, {S, kw}, false, Param::Cache::Data, true);
  p.cache("v_cache", s.values.storage, {S, kw}, false, Param::Cache::Data,
          false);
  for (bool keys : {true, false}) {
    const KVCacheSpec &c = keys ? s.keys : s.values;
    std::string role = keys ? "k_scales" : "v_scales";
    if (c.scales == KVScaleKind::PerToken)
      p.cache(role, ElemType::F32, {S}, false, Param::Cache::Scales, keys);
    else
      staticKVScale(p, role, c);
  }
  p.out("out", s.outType, {T, qw});
  return true;
}
} // namespace

bool qrt::bundle::kernelParams(const KernelSpec &spec, Family family,
                               std::vector<Param> &params, std::string &error) {
  params.clear();
  ParamList p(params, error);
  switch (family) {
  case Family::Embedding: {
    const auto &s = std::get<EmbeddingSpec>(spec);
    if (!isFloatType(s.tableType))
      return p.fail(std::string("embedding: table_type ") +
                    elemTypeName(s.tableType) + " is not f32, bf16 or f16");
    p.in("table", s.tableType, {s.vocab, s.hidden});
    p.in("tokens", ElemType::I32, {T});
    p.out("out", ElemType::F32, {T, s.hidden});
    return true;
  }
  case Family::RmsNorm: {
    const auto &s = std::get<RmsNormSpec>(spec);
    if (!isFloatType(s.weightType))
      return p.fail(std::string("rms_norm: weight_type ") +
                    elemTypeName(s.weightType) + " is not f32, bf16 or f16");
    if (!checkOutType(p, "out_type", s.outType, true))
      return false;
    p.in("x", ElemType::F32, {T, s.hidden});
    p.in("w", s.weightType, {s.hidden});
    return quantizedRows(p, "rms_norm", s.outType, s.dynamicPerToken,
                         s.staticScale, s.staticAsymmetric, s.hidden);
  }
  case Family::Quantize: {
    const auto &s = std::get<QuantizeSpec>(spec);
    if (!checkOutType(p, "out_type", s.outType, true))
      return false;
    p.in("x", ElemType::F32, {T, s.hidden});
    bool stat = isQuantizedOut(s.outType) && !s.dynamicPerToken;
    return quantizedRows(p, "quantize", s.outType, s.dynamicPerToken, stat,
                         s.staticAsymmetric, s.hidden);
  }
  case Family::Gemm:
    return gemmParams(std::get<GemmSpec>(spec), p);
  case Family::RopeKVAppend:
    return ropeParams(std::get<RopeAppendSpec>(spec), p);
  case Family::Attention:
    return attentionParams(std::get<AttentionSpec>(spec), p);
  case Family::Add:
  case Family::Mul:
  case Family::SiluMul: {
    const auto &s = std::get<ElementwiseSpec>(spec);
    if (!checkOutType(p, "out_type", s.outType, false))
      return false;
    p.in("lhs", ElemType::F32, {T, s.features});
    p.in("rhs", ElemType::F32, {T, s.features});
    p.out("out", s.outType, {T, s.features});
    return true;
  }
  case Family::Argmax: {
    const auto &s = std::get<ArgmaxSpec>(spec);
    p.in("logits", ElemType::F32, {T, s.vocab});
    p.out("out", ElemType::I32, {1});
    params.back().scalar = true;
    return true;
  }
  case Family::PermuteColumns: {
    const auto &s = std::get<PermuteColumnsSpec>(spec);
    if (!isFloatType(s.inType))
      return p.fail(std::string("permute_columns: in_type ") +
                    elemTypeName(s.inType) + " is not f32, bf16 or f16");
    if (!checkOutType(p, "out_type", s.outType, false))
      return false;
    p.in("in", s.inType, {T, s.features});
    p.in("perm", ElemType::I32, {s.features});
    p.out("out", s.outType, {T, s.features});
    return true;
  }
  }
  return p.fail("unknown family");
}
