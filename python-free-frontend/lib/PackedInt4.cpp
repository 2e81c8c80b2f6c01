//===- PackedInt4.cpp - AutoAWQ and GPTQ int4 checkpoints -----------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "PackedInt4.h"

#include "QuantizedFormats.h"

#include <cstring>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::formats;

bool formats::readModuleList(const llvm::json::Object &config, StringRef key,
                             const std::string &where,
                             std::vector<std::string> &out,
                             std::string &error) {
  const llvm::json::Value *v = config.get(key);
  if (!v || v->getAsNull())
    return true;
  const llvm::json::Array *list = v->getAsArray();
  if (!list) {
    error = where + "." + key.str() + " is not a list of module names";
    return false;
  }
  for (const llvm::json::Value &e : *list) {
    std::optional<StringRef> s = e.getAsString();
    if (!s) {
      error = where + "." + key.str() + " is not a list of module names";
      return false;
    }
    out.push_back(s->str());
  }
  return true;
}

bool PackedInt4Format::isQuantized(const CheckpointLinear &linear) const {
  if (linear.role == LinearRole::LMHead)
    return false;
  StringRef p = linear.prefix;
  // A listed module is a path suffix of the layer ("q_proj",
  // "self_attn.q_proj", "model.layers.0.self_attn.q_proj").
  for (const std::string &m : notConverted)
    if (p == m || p.ends_with("." + m))
      return false;
  return true;
}

const qrt::TensorView *PackedInt4Format::expect(
    const qrt::TensorStore &store, const std::string &name,
    std::initializer_list<qrt::DType> dtypes, const std::vector<int64_t> &shape,
    std::vector<std::string> &used, std::string &error) const {
  return expectTensor(store, name, dtypes, shape, this->name(), this->name(),
                      used, error);
}

uint32_t PackedInt4Format::word(const qrt::TensorView *v, int64_t i) {
  uint32_t w;
  std::memcpy(&w, v->data + 4 * i, 4);
  return w;
}

void PackedInt4Format::unpackZerosAndScales(const qrt::TensorView *qzeros,
                                            const qrt::TensorView *scales,
                                            int64_t n, int64_t groups,
                                            const unsigned nibbleOf[8],
                                            UnpackedInt4 &out) {
  out.zeros.resize(size_t(n * groups));
  out.scales.resize(size_t(n * groups));
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t j = 0; j < n / 8; ++j) {
      uint32_t w = word(qzeros, g * (n / 8) + j);
      for (int64_t c = 0; c < 8; ++c)
        out.zeros[(8 * j + c) * groups + g] = (w >> (4 * nibbleOf[c])) & 0xF;
    }
    for (int64_t col = 0; col < n; ++col)
      out.scales[col * groups + g] = scales->getFloat(size_t(g * n + col));
  }
}

LogicalResult PackedInt4Format::relayout(const qrt::TensorStore &store,
                                         const CheckpointLinear &l,
                                         std::vector<qrt::TensorData> &out,
                                         std::string &error) const {
  UnpackedInt4 u;
  if (failed(unpack(store, l, u, error)))
    return failure();
  int64_t groups = l.in / group(l);
  if (symmetric)
    for (size_t i = 0; i < u.zeros.size(); ++i)
      if (u.zeros[i] != 8) {
        error = "layer '" + l.prefix + "' is symmetric (sym) but row " +
                std::to_string(i / groups) + " group " +
                std::to_string(i % groups) + " has zero point " +
                std::to_string(u.zeros[i]) + ", not 8";
        return failure();
      }
  if (permutesInput(l)) {
    // Store the input channels in the order of `perm` (groups contiguous);
    // the zero points and scales are per group and keep their order.
    std::vector<int32_t> perm = inputPermutation(store, l);
    std::vector<uint8_t> sorted(u.values.size());
    for (int64_t row = 0; row < l.out; ++row)
      for (int64_t j = 0; j < l.in; ++j)
        sorted[size_t(row * l.in + j)] =
            u.values[size_t(row * l.in + perm[size_t(j)])];
    u.values = std::move(sorted);
    qrt::TensorData p;
    p.name = l.prefix + ".input_permutation";
    p.dtype = qrt::DType::I32;
    p.shape = {l.in};
    p.data.resize(perm.size() * 4);
    std::memcpy(p.data.data(), perm.data(), p.data.size());
    out.push_back(std::move(p));
  }
  qrt::TensorData w;
  w.name = l.prefix + ".qweight";
  w.dtype = qrt::DType::U8;
  w.shape = {l.out, l.in / 2};
  w.data.resize(size_t(l.out * l.in / 2));
  for (size_t i = 0; i < w.data.size(); ++i)
    w.data[i] = uint8_t(((u.values[2 * i] - 8) & 0xF) |
                        (((u.values[2 * i + 1] - 8) & 0xF) << 4));
  out.push_back(std::move(w));
  qrt::TensorData s;
  s.name = l.prefix + ".scales";
  s.dtype = qrt::DType::F32;
  s.shape = {l.out, groups};
  s.data.resize(u.scales.size() * 4);
  std::memcpy(s.data.data(), u.scales.data(), s.data.size());
  out.push_back(std::move(s));
  if (!symmetric) {
    qrt::TensorData z;
    z.name = l.prefix + ".zero_points";
    z.dtype = qrt::DType::I32;
    z.shape = {l.out, groups};
    z.data.resize(u.zeros.size() * 4);
    for (size_t i = 0; i < u.zeros.size(); ++i) {
      int32_t v = int32_t(u.zeros[i]) - 8;
      std::memcpy(z.data.data() + 4 * i, &v, 4);
    }
    out.push_back(std::move(z));
  }
  return success();
}

Value PackedInt4Format::build(OpBuilder &b, Location loc, FlatSymbolRefAttr,
                              FlatSymbolRefAttr store, Value x, Value bias,
                              const CheckpointLinear &l) const {
  MLIRContext *ctx = b.getContext();
  int64_t groups = l.in / group(l);
  Type i4 = b.getIntegerType(4);
  auto ws = QuantSchemeAttr::get(
      ctx, i4, PerGroupAttr::get(ctx, 1, group(l)),
      symmetric ? Symmetry::Symmetric : Symmetry::Asymmetric, ScaleMode::Static,
      ElementsAttr(), ElementsAttr(), Packing::Int4x2);
  Value w = WeightOp::create(b, loc, RankedTensorType::get({l.out, l.in}, i4),
                             store, b.getStringAttr(l.prefix + ".qweight"),
                             PackingAttr::get(ctx, Packing::Int4x2));
  Value s =
      storedWeight(b, loc, store, l.prefix + ".scales",
                   RankedTensorType::get({l.out, groups}, b.getF32Type()));
  Value zp;
  if (!symmetric)
    zp = storedWeight(b, loc, store, l.prefix + ".zero_points",
                      RankedTensorType::get({l.out, groups}, b.getI32Type()));
  if (permutesInput(l)) {
    Value perm = storedWeight(b, loc, store, l.prefix + ".input_permutation",
                              RankedTensorType::get({l.in}, b.getI32Type()));
    x = PermuteChannelsOp::create(b, loc, x.getType(), x, perm);
  }
  auto outType =
      RankedTensorType::get({ShapedType::kDynamic, l.out}, b.getF32Type());
  return QuantizedLinearOp::create(
      b, loc, outType, x, w, bias, /*int_bias=*/Value(),
      /*input_scales=*/Value(),
      /*input_zero_points=*/Value(), s, zp, /*residual=*/Value(),
      QuantSchemeAttr(), ws, ActivationAttr::get(ctx, Activation::None),
      LinearRoleAttr::get(ctx, l.role), b.getStringAttr(l.prefix));
}
