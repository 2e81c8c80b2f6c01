//===- CompressedTensors.cpp - vLLM's compressed-tensors checkpoints ------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// compressed-tensors (`quant_method` "compressed-tensors", written by
// llm-compressor and by qopt-export), in its "compressed" state: one config
// group targeting "Linear" with QuantizationArgs for the weights and the
// input activations, `ignore` naming float modules. Per layer:
//   weight             int8 / float8_e4m3fn [N, K]   (int- / float-quantized)
//   weight_packed      int32 [N, K / 8], element j in bits 4 (j % 8) of word
//                      j / 8, stored as value + 8, with weight_shape
//                      int64 [2]                       (pack-quantized)
//   weight_scale       [1] / [N, 1] / [N, K / g] / [ceil(N/br), ceil(K/bc)]
//   weight_zero_point  int8, as weight_scale (asymmetric int8 weights);
//                      int32 [N / 8, K / g] for asymmetric pack-quantized:
//                      row 8r + i in bits 4i of word (r, g), as value + 8
//   input_scale        [1] (static activations)
//   input_zero_point   [1] int8 (static asymmetric activations)
//   self_attn.k_scale / v_scale
//                      [1] (tensor) or [kv heads] (attn_head): the static
//                      KV-cache scales of kv_cache_scheme
// The tensors are read as stored; only the static input scale and zero
// point (one number each) are read from their data, to become the scheme's
// inline values. Two are re-laid out into a store beside the IR: packed
// zero points, unpacked to int32 [N, K / g], and a static asymmetric input's
// zero point, folded into an int_bias (-zp * sum_k w[n, k]) as qopt's IR
// holds it. Scales in bf16 / fp16 (llm-compressor's default, the model
// dtype) are widened to float32 there, exactly.
//
//===----------------------------------------------------------------------===//

#include "QuantizedFormats.h"

#include "qopt-runtime/Safetensors.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Regex.h"

#include <map>

using namespace mlir;
using namespace mlir::qopt;

namespace {
enum class Strategy { Tensor, Channel, Group, Block, Token, AttnHead };

/// The QuantizationArgs qopt reads.
struct Args {
  int64_t bits = 8;
  bool isFloat = false, symmetric = true, dynamic = false;
  Strategy strategy = Strategy::Channel;
  int64_t groupSize = 0, blockRows = 0, blockCols = 0;
};

class CompressedTensors : public CheckpointQuantization {
public:
  CompressedTensors(std::string format, Args weights, std::optional<Args> input,
                    std::optional<Args> kv, std::vector<std::string> ignore)
      : format(std::move(format)), weights(weights), input(input), kv(kv),
        ignore(std::move(ignore)) {}

  std::string name() const override { return "compressed-tensors"; }

  bool isQuantized(const CheckpointLinear &linear) const override {
    for (const std::string &i : ignore) {
      StringRef entry(i);
      if (entry.consume_front("re:")) {
        if (llvm::Regex(entry).match(linear.prefix))
          return false;
      } else if (entry == linear.prefix) {
        return false;
      }
    }
    return true;
  }

  LogicalResult check(const qrt::TensorStore &store,
                      const CheckpointLinear &linear,
                      std::vector<std::string> &used,
                      std::string &error) const override;
  Value build(OpBuilder &b, Location loc, FlatSymbolRefAttr store,
              FlatSymbolRefAttr relaid, Value x, Value bias,
              const CheckpointLinear &linear) const override;
  /// Asymmetric int4 weights (zero points packed along N), static
  /// asymmetric activations (their zero point folded into an int_bias) and
  /// scales in a 16-bit float (widened to float32) are re-laid out.
  bool relaysOut() const override {
    return packedZeroPoints() || asymmetricInput() || !widenedScales.empty();
  }
  LogicalResult relayout(const qrt::TensorStore &store,
                         const CheckpointLinear &linear,
                         std::vector<qrt::TensorData> &out,
                         std::string &error) const override;
  LogicalResult checkKVCache(const qrt::TensorStore &store, int64_t layer,
                             int64_t kvHeads, std::vector<std::string> &used,
                             std::string &error) const override;
  std::pair<QuantSchemeAttr, QuantSchemeAttr>
  kvCacheSchemes(MLIRContext *ctx, int64_t layer) const override;

private:
  bool packed() const { return format == "pack-quantized"; }
  bool packedZeroPoints() const { return packed() && !weights.symmetric; }
  bool asymmetricInput() const {
    return input && !input->dynamic && !input->symmetric;
  }
  /// The scale tensor's shape as the format stores it.
  std::vector<int64_t> storedScaleShape(const CheckpointLinear &l) const;
  /// ... and as qopt's scheme wants it.
  SmallVector<int64_t> scaleShape(const CheckpointLinear &l) const;
  QuantSchemeAttr weightScheme(MLIRContext *ctx) const;
  Type storageType(MLIRContext *ctx, const Args &a) const;

  std::string format;
  Args weights;
  std::optional<Args> input, kv;
  std::vector<std::string> ignore;
  /// KV-cache scales by layer: keys, values (read by checkKVCache).
  mutable std::map<int64_t, std::pair<std::vector<float>, std::vector<float>>>
      kvScales;
  /// Static input scales by layer (read by check), and the quantize ops
  /// built per (input, scheme), so that layers reading one input share one.
  mutable llvm::StringMap<float> inputScales;
  mutable llvm::StringMap<int32_t> inputZeroPoints;
  /// Layers whose weight scales are stored as bf16 / fp16 (read by check).
  mutable llvm::StringSet<> widenedScales;
  mutable llvm::DenseMap<std::pair<const void *, const void *>, QuantizeOp>
      quantized;
};
} // namespace

std::vector<int64_t>
CompressedTensors::storedScaleShape(const CheckpointLinear &l) const {
  switch (weights.strategy) {
  case Strategy::Tensor:
    return {1};
  case Strategy::Channel:
    return {l.out, 1};
  case Strategy::Group:
    return {l.out, l.in / weights.groupSize};
  case Strategy::Block:
    return {(l.out + weights.blockRows - 1) / weights.blockRows,
            (l.in + weights.blockCols - 1) / weights.blockCols};
  case Strategy::Token:
  case Strategy::AttnHead:
    break;
  }
  return {};
}

SmallVector<int64_t>
CompressedTensors::scaleShape(const CheckpointLinear &l) const {
  std::vector<int64_t> s = storedScaleShape(l);
  if (weights.strategy == Strategy::Tensor)
    return {};
  if (weights.strategy == Strategy::Channel)
    return {l.out};
  return SmallVector<int64_t>(s.begin(), s.end());
}

Type CompressedTensors::storageType(MLIRContext *ctx, const Args &a) const {
  if (a.isFloat)
    return Float8E4M3FNType::get(ctx);
  return IntegerType::get(ctx, a.bits);
}

QuantSchemeAttr CompressedTensors::weightScheme(MLIRContext *ctx) const {
  GranularityAttrInterface g;
  switch (weights.strategy) {
  case Strategy::Tensor:
    g = PerTensorAttr::get(ctx);
    break;
  case Strategy::Channel:
    g = PerChannelAttr::get(ctx, 0);
    break;
  case Strategy::Group:
    g = PerGroupAttr::get(ctx, 1, weights.groupSize);
    break;
  default:
    g = BlockAttr::get(ctx, weights.blockRows, weights.blockCols);
    break;
  }
  return QuantSchemeAttr::get(ctx, storageType(ctx, weights), g,
                              weights.symmetric ? Symmetry::Symmetric
                                                : Symmetry::Asymmetric,
                              ScaleMode::Static, ElementsAttr(), ElementsAttr(),
                              packed() ? Packing::Int4x8Offset : Packing::None);
}

LogicalResult CompressedTensors::check(const qrt::TensorStore &store,
                                       const CheckpointLinear &l,
                                       std::vector<std::string> &used,
                                       std::string &error) const {
  auto expect = [&](const std::string &name,
                    std::initializer_list<qrt::DType> dtypes,
                    std::vector<int64_t> shape) -> const qrt::TensorView * {
    return formats::expectTensor(store, name, dtypes, shape,
                                 "compressed-tensors", format, used, error);
  };
  // Scales in the model dtype (llm-compressor's default) are widened to
  // float32 (exactly) in the re-laid store; float32 ones are read as stored.
  std::initializer_list<qrt::DType> floats = {qrt::DType::F32, qrt::DType::BF16,
                                              qrt::DType::F16};
  const std::string &p = l.prefix;
  if (packed()) {
    if (l.in % 8) {
      error = "layer '" + p + "': pack-quantized needs the input dimension " +
              std::to_string(l.in) + " to be a multiple of 8";
      return failure();
    }
    const qrt::TensorView *shape =
        expect(p + ".weight_shape", {qrt::DType::I64}, {2});
    if (!expect(p + ".weight_packed", {qrt::DType::I32}, {l.out, l.in / 8}) ||
        !shape)
      return failure();
    int64_t dims[2];
    std::memcpy(dims, shape->data, sizeof(dims));
    if (dims[0] != l.out || dims[1] != l.in) {
      error = "tensor '" + p + ".weight_shape' is [" + std::to_string(dims[0]) +
              ", " + std::to_string(dims[1]) + "] but the config implies [" +
              std::to_string(l.out) + ", " + std::to_string(l.in) + "]";
      return failure();
    }
  } else if (!expect(p + ".weight",
                     {weights.isFloat ? qrt::DType::F8_E4M3 : qrt::DType::I8},
                     {l.out, l.in})) {
    return failure();
  }
  if (weights.strategy == Strategy::Group && l.in % weights.groupSize) {
    error = "layer '" + p + "': group_size " +
            std::to_string(weights.groupSize) +
            " does not divide its input dimension " + std::to_string(l.in);
    return failure();
  }
  const qrt::TensorView *scale =
      expect(p + ".weight_scale", floats, storedScaleShape(l));
  if (!scale)
    return failure();
  if (scale->dtype != qrt::DType::F32)
    widenedScales.insert(p);
  if (packedZeroPoints()) {
    if (l.out % 8) {
      error = "layer '" + p +
              "': asymmetric pack-quantized needs the output "
              "dimension " +
              std::to_string(l.out) + " to be a multiple of 8";
      return failure();
    }
    std::vector<int64_t> shape = storedScaleShape(l);
    if (!expect(p + ".weight_zero_point", {qrt::DType::I32},
                {l.out / 8, shape[1]}))
      return failure();
  } else if (!weights.symmetric &&
             !expect(p + ".weight_zero_point", {qrt::DType::I8},
                     storedScaleShape(l))) {
    return failure();
  }
  if (input && !input->dynamic) {
    const qrt::TensorView *s = expect(p + ".input_scale", floats, {1});
    if (!s)
      return failure();
    inputScales[p] = s->getFloat(0);
  }
  if (asymmetricInput()) {
    const qrt::TensorView *z =
        expect(p + ".input_zero_point", {qrt::DType::I8}, {1});
    if (!z)
      return failure();
    inputZeroPoints[p] = static_cast<int8_t>(z->data[0]);
  }
  return success();
}

Value CompressedTensors::build(OpBuilder &b, Location loc,
                               FlatSymbolRefAttr store,
                               FlatSymbolRefAttr relaid, Value x, Value bias,
                               const CheckpointLinear &l) const {
  MLIRContext *ctx = b.getContext();
  QuantSchemeAttr ws = weightScheme(ctx);
  Type f32 = b.getF32Type();
  Value w = WeightOp::create(
      b, loc, RankedTensorType::get({l.out, l.in}, storageType(ctx, weights)),
      store,
      b.getStringAttr(l.prefix + (packed() ? ".weight_packed" : ".weight")),
      packed() ? PackingAttr::get(ctx, Packing::Int4x8Offset) : PackingAttr());
  Value s = formats::storedWeight(
      b, loc, widenedScales.contains(l.prefix) ? relaid : store,
      l.prefix + ".weight_scale", RankedTensorType::get(scaleShape(l), f32));
  Value zp, intBias;
  if (!weights.symmetric)
    zp = formats::storedWeight(
        b, loc, packedZeroPoints() ? relaid : store,
        l.prefix + ".weight_zero_point",
        RankedTensorType::get(scaleShape(l), b.getI32Type()));
  if (asymmetricInput())
    intBias =
        formats::storedWeight(b, loc, relaid, l.prefix + ".int_bias",
                              RankedTensorType::get({l.out}, b.getI32Type()));
  QuantSchemeAttr xs;
  Value in = x, inScales;
  if (input) {
    Type storage = storageType(ctx, *input);
    if (input->dynamic) {
      xs = QuantSchemeAttr::get(ctx, storage, PerTokenAttr::get(ctx),
                                Symmetry::Symmetric, ScaleMode::Dynamic,
                                ElementsAttr(), ElementsAttr(), Packing::None);
    } else {
      auto scalar = RankedTensorType::get({}, f32);
      ElementsAttr zeroPoint;
      if (asymmetricInput())
        zeroPoint =
            DenseElementsAttr::get(RankedTensorType::get({}, b.getI32Type()),
                                   inputZeroPoints.lookup(l.prefix));
      xs = QuantSchemeAttr::get(
          ctx, storage, PerTensorAttr::get(ctx),
          asymmetricInput() ? Symmetry::Asymmetric : Symmetry::Symmetric,
          ScaleMode::Static,
          DenseElementsAttr::get(scalar, inputScales.lookup(l.prefix)),
          zeroPoint, Packing::None);
    }
    QuantizeOp &q = quantized[std::make_pair(x.getAsOpaquePointer(),
                                             xs.getAsOpaquePointer())];
    if (!q) {
      auto xType = cast<RankedTensorType>(x.getType());
      Type scalesType =
          input->dynamic
              ? Type(RankedTensorType::get(xType.getShape().drop_back(), f32))
              : Type();
      q = QuantizeOp::create(b, loc,
                             RankedTensorType::get(xType.getShape(), storage),
                             scalesType, Type(), x, xs);
    }
    in = q.getOutput();
    inScales = q.getScales();
  }
  auto outType = RankedTensorType::get({ShapedType::kDynamic, l.out}, f32);
  return QuantizedLinearOp::create(
      b, loc, outType, in, w, bias, intBias, inScales,
      /*input_zero_points=*/Value(), s, zp, /*residual=*/Value(), xs, ws,
      ActivationAttr::get(ctx, Activation::None),
      LinearRoleAttr::get(ctx, l.role), b.getStringAttr(l.prefix));
}

LogicalResult CompressedTensors::relayout(const qrt::TensorStore &store,
                                          const CheckpointLinear &l,
                                          std::vector<qrt::TensorData> &out,
                                          std::string &error) const {
  const std::string &p = l.prefix;
  if (widenedScales.contains(p)) {
    const qrt::TensorView *v = store.find(p + ".weight_scale");
    qrt::TensorData t;
    t.name = p + ".weight_scale";
    t.dtype = qrt::DType::F32;
    t.shape = v->shape;
    size_t count = v->nbytes / qrt::dtypeSize(v->dtype);
    t.data.resize(count * 4);
    for (size_t i = 0; i < count; ++i) {
      float f = v->getFloat(i);
      std::memcpy(t.data.data() + 4 * i, &f, 4);
    }
    out.push_back(std::move(t));
  }
  if (packedZeroPoints()) {
    // int32 [N / 8, G]: row 8r + i of group g in bits 4i of word (r, g), as
    // zero point + 8 -> int32 [N, G].
    const qrt::TensorView *v = store.find(p + ".weight_zero_point");
    int64_t groups = v->shape[1];
    qrt::TensorData z;
    z.name = p + ".weight_zero_point";
    z.dtype = qrt::DType::I32;
    z.shape = {l.out, groups};
    z.data.resize(size_t(l.out * groups * 4));
    for (int64_t r = 0; r < l.out / 8; ++r)
      for (int64_t g = 0; g < groups; ++g) {
        uint32_t word;
        std::memcpy(&word, v->data + 4 * (r * groups + g), 4);
        for (int64_t i = 0; i < 8; ++i) {
          int32_t zp = int32_t((word >> (4 * i)) & 0xF) - 8;
          std::memcpy(z.data.data() + 4 * ((8 * r + i) * groups + g), &zp, 4);
        }
      }
    out.push_back(std::move(z));
  }
  if (asymmetricInput()) {
    // The input zero point folded into an int_bias, as qopt's IR holds it:
    // -zp * sum_k w[n, k].
    const qrt::TensorView *w = store.find(p + ".weight");
    if (!w || w->dtype != qrt::DType::I8) {
      error = "layer '" + p +
              "': static asymmetric activations need int8 "
              "weights";
      return failure();
    }
    int32_t zp = inputZeroPoints.lookup(p);
    qrt::TensorData bias;
    bias.name = p + ".int_bias";
    bias.dtype = qrt::DType::I32;
    bias.shape = {l.out};
    bias.data.resize(size_t(l.out * 4));
    const int8_t *q = reinterpret_cast<const int8_t *>(w->data);
    for (int64_t n = 0; n < l.out; ++n) {
      int64_t sum = 0;
      for (int64_t k = 0; k < l.in; ++k)
        sum += q[n * l.in + k];
      int32_t v = static_cast<int32_t>(-int64_t(zp) * sum);
      std::memcpy(bias.data.data() + 4 * n, &v, 4);
    }
    out.push_back(std::move(bias));
  }
  return success();
}

LogicalResult CompressedTensors::checkKVCache(const qrt::TensorStore &store,
                                              int64_t layer, int64_t kvHeads,
                                              std::vector<std::string> &used,
                                              std::string &error) const {
  if (!kv)
    return success();
  std::string p = "model.layers." + std::to_string(layer) + ".self_attn.";
  std::vector<int64_t> shape = {kv->strategy == Strategy::AttnHead ? kvHeads
                                                                   : 1};
  std::vector<float> *out[2] = {&kvScales[layer].first,
                                &kvScales[layer].second};
  const char *names[2] = {"k_scale", "v_scale"};
  for (int i = 0; i < 2; ++i) {
    std::string name = p + names[i];
    const qrt::TensorView *v = store.find(name);
    if (!v) {
      error = "compressed-tensors checkpoint with a kv_cache_scheme is "
              "missing tensor '" +
              name + "'";
      return failure();
    }
    bool isFloat = v->dtype == qrt::DType::F32 ||
                   v->dtype == qrt::DType::BF16 || v->dtype == qrt::DType::F16;
    if (!isFloat || v->shape != shape) {
      error = "tensor '" + name + "' is " + qrt::dtypeName(v->dtype) + " " +
              ::qnum::shapeToString(v->shape) +
              "; the kv_cache_scheme stores float " +
              ::qnum::shapeToString(shape);
      return failure();
    }
    for (int64_t j = 0; j < shape[0]; ++j)
      out[i]->push_back(v->getFloat(j));
    used.push_back(name);
  }
  return success();
}

std::pair<QuantSchemeAttr, QuantSchemeAttr>
CompressedTensors::kvCacheSchemes(MLIRContext *ctx, int64_t layer) const {
  if (!kv)
    return {};
  auto it = kvScales.find(layer);
  if (it == kvScales.end())
    return {};
  bool perHead = kv->strategy == Strategy::AttnHead;
  int64_t heads = static_cast<int64_t>(it->second.first.size());
  GranularityAttrInterface g =
      perHead ? GranularityAttrInterface(PerHeadAttr::get(ctx, 1, heads))
              : GranularityAttrInterface(PerTensorAttr::get(ctx));
  auto type = perHead ? RankedTensorType::get({heads}, Float32Type::get(ctx))
                      : RankedTensorType::get({}, Float32Type::get(ctx));
  auto scheme = [&](const std::vector<float> &scales) {
    return QuantSchemeAttr::get(
        ctx, storageType(ctx, *kv), g, Symmetry::Symmetric, ScaleMode::Static,
        DenseElementsAttr::get(type, ArrayRef<float>(scales)), ElementsAttr(),
        Packing::None);
  };
  return {scheme(it->second.first), scheme(it->second.second)};
}

/// A present, non-null value of `o` at `key`, or null.
static const llvm::json::Value *present(const llvm::json::Object &o,
                                        StringRef key) {
  const llvm::json::Value *v = o.get(key);
  return v && !v->getAsNull() ? v : nullptr;
}

/// Reads QuantizationArgs `a` (at `where`); `weights` says which role.
static bool parseArgs(const llvm::json::Value &value, bool weights,
                      const std::string &format, const std::string &where,
                      Args &out, std::string &error, bool kvCache = false) {
  auto bad = [&](const std::string &what) {
    error = where + " " + what;
    return false;
  };
  const llvm::json::Object *obj = value.getAsObject();
  if (!obj)
    return bad("is not an object");
  const llvm::json::Object &a = *obj;
  static const char *known[] = {
      "num_bits",        "type",    "symmetric", "strategy", "group_size",
      "block_structure", "dynamic", "actorder",  "observer", "observer_kwargs"};
  for (const auto &entry : a) {
    StringRef key = entry.first;
    if (llvm::none_of(known, [&](const char *k) { return key == k; }))
      return bad("has \"" + key.str() + "\", which qopt-import does not know");
  }
  std::optional<int64_t> num = a.getInteger("num_bits");
  std::optional<StringRef> type = a.getString("type");
  if (!num || !type)
    return bad("needs integer num_bits and string type");
  out.bits = *num;
  out.isFloat = *type == "float";
  if (!out.isFloat && *type != "int")
    return bad(".type is " + formats::dump(*a.get("type")) +
               "; qopt reads \"int\" and \"float\"");
  bool int4 =
      !out.isFloat && out.bits == 4 && weights && format == "pack-quantized";
  if (out.bits != 8 && !int4)
    return bad("has num_bits " + std::to_string(out.bits) +
               (out.isFloat ? " float" : " int") +
               "; qopt reads 8-bit int and float8 (e4m3), and 4-bit int "
               "weights in pack-quantized");
  if (const llvm::json::Value *sym = a.get("symmetric")) {
    if (!sym->getAsBoolean())
      return bad(".symmetric is " + formats::dump(*sym) +
                 "; expected true or false");
    out.symmetric = *sym->getAsBoolean();
  }
  if (const llvm::json::Value *dyn = a.get("dynamic")) {
    if (!dyn->getAsBoolean())
      return bad(".dynamic is " + formats::dump(*dyn) +
                 "; qopt reads true and false");
    out.dynamic = *dyn->getAsBoolean();
  }
  if (const llvm::json::Value *order = present(a, "actorder"))
    if (order->getAsBoolean() != std::optional<bool>(false))
      return bad(".actorder is " + formats::dump(*order) +
                 "; activation reordering (g_idx) is not read");
  std::optional<StringRef> strategy = a.getString("strategy");
  if (!strategy)
    return bad("has no string strategy");
  StringRef s = *strategy;
  if (s == "tensor") {
    out.strategy = Strategy::Tensor;
  } else if (s == "channel" && weights) {
    out.strategy = Strategy::Channel;
  } else if (s == "group" && weights) {
    out.strategy = Strategy::Group;
    std::optional<int64_t> g = a.getInteger("group_size");
    if (!g || *g <= 0)
      return bad("has strategy \"group\" without a positive group_size");
    out.groupSize = *g;
  } else if (s == "block" && weights) {
    out.strategy = Strategy::Block;
    const llvm::json::Array *bs = a.getArray("block_structure");
    std::optional<int64_t> rows, cols;
    if (bs && bs->size() == 2) {
      rows = (*bs)[0].getAsInteger();
      cols = (*bs)[1].getAsInteger();
    }
    if (!rows || !cols || *rows <= 0 || *cols <= 0)
      return bad("has strategy \"block\" without a block_structure of two "
                 "positive integers");
    out.blockRows = *rows;
    out.blockCols = *cols;
  } else if (s == "token" && !weights && !kvCache) {
    out.strategy = Strategy::Token;
  } else if (s == "attn_head" && kvCache) {
    out.strategy = Strategy::AttnHead;
  } else {
    return bad(".strategy \"" + s.str() + "\" is not one qopt reads for " +
               (weights   ? "weights (tensor, channel, group, block)"
                : kvCache ? "the KV cache (tensor, attn_head)"
                          : "activations (token, tensor)"));
  }
  if (weights && out.dynamic)
    return bad("has dynamic weights");
  if (kvCache && (out.dynamic || !out.symmetric))
    return bad("is not static and symmetric, which is the KV-cache scheme "
               "qopt-import reads");
  if (!weights && !kvCache) {
    if (out.strategy == Strategy::Token && !out.dynamic)
      return bad("has static per-token activations");
    if (out.strategy == Strategy::Tensor && out.dynamic)
      return bad("has dynamic per-tensor activations, which qopt runs as "
                 "per-token; not read");
    if (!out.symmetric &&
        (out.dynamic || out.isFloat || out.strategy != Strategy::Tensor))
      return bad("has asymmetric activations that are not static per-tensor "
                 "int8, which is what qopt reads");
  }
  if (weights && !out.symmetric && out.isFloat)
    return bad("has asymmetric float8 weights, which qopt-import does not "
               "read");
  return true;
}

std::unique_ptr<CheckpointQuantization>
formats::parseCompressedTensors(const llvm::json::Object &q,
                                const std::string &where, std::string &error) {
  auto str = [&](StringRef key) { return q.getString(key).value_or("").str(); };
  std::string format = str("format");
  if (format != "int-quantized" && format != "float-quantized" &&
      format != "pack-quantized") {
    error = where + ".format is \"" + format +
            "\"; qopt-import reads int-quantized, float-quantized and "
            "pack-quantized";
    return nullptr;
  }
  if (str("quantization_status") != "compressed") {
    error = where + ".quantization_status is \"" + str("quantization_status") +
            "\"; qopt-import reads \"compressed\" checkpoints";
    return nullptr;
  }
  std::optional<Args> kv;
  if (const llvm::json::Value *k = present(q, "kv_cache_scheme")) {
    kv.emplace();
    if (!parseArgs(*k, false, format, where + ".kv_cache_scheme", *kv, error,
                   /*kvCache=*/true))
      return nullptr;
  }
  const llvm::json::Object *groups = q.getObject("config_groups");
  if (!groups || groups->size() != 1) {
    error = where + ".config_groups must hold one group (qopt-import reads "
                    "one scheme for every linear layer)";
    return nullptr;
  }
  std::string gwhere = where + ".config_groups." + groups->begin()->first.str();
  const llvm::json::Object *g = groups->begin()->second.getAsObject();
  if (!g) {
    error = gwhere + " is not an object";
    return nullptr;
  }
  const llvm::json::Value *targets = g->get("targets");
  if (!targets || *targets != llvm::json::Value(llvm::json::Array{"Linear"})) {
    error = gwhere + ".targets must be [\"Linear\"]";
    return nullptr;
  }
  if (present(*g, "output_activations")) {
    error = gwhere + ".output_activations: quantized outputs are not read";
    return nullptr;
  }
  const llvm::json::Value *w = present(*g, "weights");
  if (!w) {
    error = gwhere + " has no weights";
    return nullptr;
  }
  Args weights;
  if (!parseArgs(*w, true, format, gwhere + ".weights", weights, error))
    return nullptr;
  if ((format == "float-quantized") != weights.isFloat ||
      (format == "pack-quantized") != (weights.bits == 4)) {
    error = gwhere + ".weights do not match format \"" + format + "\"";
    return nullptr;
  }
  std::optional<Args> input;
  if (const llvm::json::Value *x = present(*g, "input_activations")) {
    input.emplace();
    if (!parseArgs(*x, false, format, gwhere + ".input_activations", *input,
                   error))
      return nullptr;
    if (input->isFloat != weights.isFloat) {
      error = gwhere + ": int and float operands in one layer are not read";
      return nullptr;
    }
    if (!input->isFloat && !weights.symmetric) {
      error = gwhere + ": integer activations with asymmetric weights are "
                       "not read (qopt's W8A8 weights are symmetric)";
      return nullptr;
    }
  }
  std::vector<std::string> ignore;
  if (const llvm::json::Value *ig = present(q, "ignore")) {
    const llvm::json::Array *list = ig->getAsArray();
    if (!list) {
      error = where + ".ignore must be a list of module names";
      return nullptr;
    }
    for (const llvm::json::Value &m : *list) {
      std::optional<StringRef> name = m.getAsString();
      if (!name) {
        error = where + ".ignore has a non-string entry " + formats::dump(m);
        return nullptr;
      }
      ignore.push_back(name->str());
      StringRef e(ignore.back());
      std::string regexError;
      if (e.consume_front("re:") && !llvm::Regex(e).isValid(regexError)) {
        error = where + ".ignore entry \"" + ignore.back() +
                "\" is not a valid regular expression: " + regexError;
        return nullptr;
      }
    }
  }
  return std::make_unique<CompressedTensors>(format, weights, input, kv,
                                             std::move(ignore));
}
