//===- Importer.cpp - Hugging Face checkpoint to qopt IR ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-frontend/Importer.h"

#include "qopt-frontend/ModelConfig.h"
#include "qopt-frontend/Safetensors.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <filesystem>

using namespace mlir;
using namespace mlir::qopt;
namespace fs = std::filesystem;

namespace {
class Importer {
public:
  Importer(MLIRContext *context, const qfe::ModelConfig &config,
           const qfe::TensorStore &store, std::string &error)
      : ctx(context), b(context), loc(UnknownLoc::get(context)), config(config),
        store(store), error(error) {}

  OwningOpRef<ModuleOp> run(StringRef storePath, StringRef tokenizerPath);

private:
  /// A `qopt.weight` of the checkpoint tensor `name`, checked to have
  /// `shape`; null (with `error` set) otherwise.
  Value weight(const std::string &name, ArrayRef<int64_t> shape);
  Value linear(Value x, const std::string &prefix, int64_t out, int64_t in,
               bool bias, LinearRole role);
  RankedTensorType act(int64_t features) {
    return RankedTensorType::get({ShapedType::kDynamic, features},
                                 b.getF32Type());
  }
  bool failed() const { return !error.empty(); }

  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  const qfe::ModelConfig &config;
  const qfe::TensorStore &store;
  std::string &error;
  FlatSymbolRefAttr storeRef;
};
} // namespace

Value Importer::weight(const std::string &name, ArrayRef<int64_t> shape) {
  if (failed())
    return {};
  const qfe::TensorView *view = store.find(name);
  if (!view) {
    error = "checkpoint is missing tensor '" + name + "'";
    return {};
  }
  if (ArrayRef<int64_t>(view->shape) != shape) {
    error = "tensor '" + name + "' has shape " +
            ::qnum::shapeToString(view->shape) + " but the config implies " +
            ::qnum::shapeToString({shape.begin(), shape.end()});
    return {};
  }
  Type element;
  switch (view->dtype) {
  case qfe::DType::BF16:
    element = b.getBF16Type();
    break;
  case qfe::DType::F16:
    element = b.getF16Type();
    break;
  case qfe::DType::F32:
    element = b.getF32Type();
    break;
  default:
    error = "tensor '" + name + "' has dtype " + qfe::dtypeName(view->dtype) +
            "; expected BF16, F16 or F32";
    return {};
  }
  return WeightOp::create(b, loc, RankedTensorType::get(shape, element),
                          storeRef, b.getStringAttr(name), PackingAttr());
}

Value Importer::linear(Value x, const std::string &prefix, int64_t out,
                       int64_t in, bool bias, LinearRole role) {
  Value w = weight(prefix + ".weight", {out, in});
  Value bv = bias ? weight(prefix + ".bias", {out}) : Value();
  if (failed())
    return {};
  return LinearOp::create(b, loc, act(out), x, w, bv,
                          LinearRoleAttr::get(ctx, role),
                          b.getStringAttr(prefix));
}

OwningOpRef<ModuleOp> Importer::run(StringRef storePath,
                                    StringRef tokenizerPath) {
  const qfe::ModelConfig &c = config;
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  SmallVector<NamedAttribute> info = {
      b.getNamedAttr("architecture", b.getStringAttr(c.modelType)),
      b.getNamedAttr("vocab_size", b.getI64IntegerAttr(c.vocabSize)),
      b.getNamedAttr("bos_token_id", b.getI64IntegerAttr(c.bosTokenId)),
      b.getNamedAttr("eos_token_id", b.getI64IntegerAttr(c.eosTokenId)),
      b.getNamedAttr("max_position_embeddings",
                     b.getI64IntegerAttr(c.maxPositionEmbeddings)),
      b.getNamedAttr("checkpoint", b.getStringAttr(storePath))};
  if (!tokenizerPath.empty())
    info.push_back(b.getNamedAttr("tokenizer", b.getStringAttr(tokenizerPath)));
  if (c.slidingWindow > 0)
    info.push_back(
        b.getNamedAttr("sliding_window", b.getI64IntegerAttr(c.slidingWindow)));
  (*module)->setAttr("qopt.model", b.getDictionaryAttr(info));

  b.setInsertionPointToEnd(module->getBody());
  WeightStoreOp::create(b, loc, "ckpt", storePath);
  storeRef = FlatSymbolRefAttr::get(ctx, "ckpt");

  auto idsType = RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
  auto func = func::FuncOp::create(
      b, loc, "forward",
      b.getFunctionType({idsType, idsType}, {act(c.vocabSize)}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  Value ids = body->getArgument(0), positions = body->getArgument(1);

  int64_t h = c.hiddenSize, qDim = c.numHeads * c.headDim,
          kvDim = c.numKvHeads * c.headDim, inter = c.intermediateSize;
  Value embedTable = weight("model.embed_tokens.weight", {c.vocabSize, h});
  if (failed())
    return nullptr;
  Value x = EmbeddingOp::create(b, loc, act(h), embedTable, ids);
  FloatAttr eps = b.getF64FloatAttr(c.rmsNormEps);
  FloatAttr theta = b.getF64FloatAttr(c.ropeTheta);
  RopeScalingAttr scaling;
  if (c.ropeScaling == qfe::RopeScaling::Linear)
    scaling = RopeScalingAttr::get(ctx, RopeScalingKind::Linear,
                                   b.getF64FloatAttr(c.ropeFactor), {}, {},
                                   std::nullopt);
  else if (c.ropeScaling == qfe::RopeScaling::Llama3)
    scaling = RopeScalingAttr::get(
        ctx, RopeScalingKind::Llama3, b.getF64FloatAttr(c.ropeFactor),
        b.getF64FloatAttr(c.ropeLowFreqFactor),
        b.getF64FloatAttr(c.ropeHighFreqFactor), c.ropeOriginalMaxPosition);

  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string p = "model.layers." + std::to_string(l);
    Value ln1w = weight(p + ".input_layernorm.weight", {h});
    if (failed())
      return nullptr;
    Value ln1 = RMSNormOp::create(b, loc, act(h), x, ln1w, eps);
    Value q = linear(ln1, p + ".self_attn.q_proj", qDim, h, c.qkvBias,
                     LinearRole::QProj);
    Value k = linear(ln1, p + ".self_attn.k_proj", kvDim, h, c.qkvBias,
                     LinearRole::KProj);
    Value v = linear(ln1, p + ".self_attn.v_proj", kvDim, h, c.qkvBias,
                     LinearRole::VProj);
    if (failed())
      return nullptr;
    Value qr = RopeOp::create(b, loc, act(qDim), q, positions,
                              b.getI64IntegerAttr(c.numHeads),
                              b.getI64IntegerAttr(c.headDim), theta, scaling);
    Value kr = RopeOp::create(b, loc, act(kvDim), k, positions,
                              b.getI64IntegerAttr(c.numKvHeads),
                              b.getI64IntegerAttr(c.headDim), theta, scaling);
    Value attn = AttentionOp::create(
        b, loc, act(qDim), qr, kr, v, b.getI64IntegerAttr(l),
        b.getI64IntegerAttr(c.numHeads), b.getI64IntegerAttr(c.numKvHeads),
        b.getI64IntegerAttr(c.headDim), b.getBoolAttr(true), FloatAttr(),
        QuantSchemeAttr());
    Value o = linear(attn, p + ".self_attn.o_proj", h, qDim, c.oBias,
                     LinearRole::OProj);
    if (failed())
      return nullptr;
    Value res1 = AddOp::create(b, loc, x, o);
    Value ln2w = weight(p + ".post_attention_layernorm.weight", {h});
    if (failed())
      return nullptr;
    Value ln2 = RMSNormOp::create(b, loc, act(h), res1, ln2w, eps);
    Value gate = linear(ln2, p + ".mlp.gate_proj", inter, h, c.mlpBias,
                        LinearRole::GateProj);
    Value up = linear(ln2, p + ".mlp.up_proj", inter, h, c.mlpBias,
                      LinearRole::UpProj);
    if (failed())
      return nullptr;
    Value mlp = MulOp::create(b, loc, SiluOp::create(b, loc, gate), up);
    Value down = linear(mlp, p + ".mlp.down_proj", h, inter, c.mlpBias,
                        LinearRole::DownProj);
    if (failed())
      return nullptr;
    x = AddOp::create(b, loc, res1, down);
  }
  Value norm = weight("model.norm.weight", {h});
  Value headWeight = c.tieWordEmbeddings
                         ? embedTable
                         : weight("lm_head.weight", {c.vocabSize, h});
  if (failed())
    return nullptr;
  Value fin = RMSNormOp::create(b, loc, act(h), x, norm, eps);
  Value logits = LinearOp::create(
      b, loc, act(c.vocabSize), fin, headWeight, Value(),
      LinearRoleAttr::get(ctx, LinearRole::LMHead), b.getStringAttr("lm_head"));
  func::ReturnOp::create(b, loc, logits);
  return module;
}

/// `target` relative to `baseDir` when `baseDir` is given, else absolute.
static std::string recordedPath(const fs::path &target,
                                const std::string &baseDir) {
  std::error_code ec;
  fs::path abs = fs::weakly_canonical(target, ec);
  if (ec)
    abs = fs::absolute(target);
  if (baseDir.empty())
    return abs.string();
  fs::path base = fs::weakly_canonical(fs::absolute(baseDir), ec);
  fs::path rel = fs::relative(abs, base, ec);
  return ec || rel.empty() ? abs.string() : rel.string();
}

OwningOpRef<ModuleOp> mlir::qopt::importHuggingFaceCheckpoint(
    MLIRContext *context, const std::string &checkpointDir,
    const ImportOptions &options, std::string &error) {
  context->getOrLoadDialect<QoptDialect>();
  context->getOrLoadDialect<func::FuncDialect>();
  fs::path dir(checkpointDir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    error = checkpointDir + ": not a checkpoint directory";
    return nullptr;
  }
  std::optional<qfe::ModelConfig> config =
      qfe::ModelConfig::fromFile((dir / "config.json").string(), error);
  if (!config)
    return nullptr;
  std::unique_ptr<qfe::TensorStore> store =
      qfe::TensorStore::open(dir.string(), error);
  if (!store)
    return nullptr;
  fs::path storeFile = fs::exists(dir / "model.safetensors.index.json")
                           ? dir / "model.safetensors.index.json"
                           : dir / "model.safetensors";
  fs::path tokenizer = dir / "tokenizer.json";
  std::string tokenizerPath =
      fs::exists(tokenizer) ? recordedPath(tokenizer, options.outputDir) : "";
  Importer importer(context, *config, *store, error);
  OwningOpRef<ModuleOp> module =
      importer.run(recordedPath(storeFile, options.outputDir), tokenizerPath);
  if (!module && error.empty())
    error = "import failed";
  if (!module)
    error = checkpointDir + ": " + error;
  return module;
}
