//===- Importer.cpp - Hugging Face checkpoint to qopt IR ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-frontend/Importer.h"
#include "qopt-frontend/CheckpointQuantization.h"

#include "qopt-runtime/ModelConfig.h"
#include "qopt-runtime/Safetensors.h"
#include "qopt-runtime/Tokenizer.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <filesystem>

using namespace mlir;
using namespace mlir::qopt;
namespace fs = std::filesystem;

namespace {
class Importer {
public:
  Importer(MLIRContext *context, const qrt::ModelConfig &config,
           const qrt::TensorStore &store, const CheckpointQuantization *quant)
      : ctx(context), b(context), loc(UnknownLoc::get(context)), config(config),
        store(store), quant(quant) {}

  /// Checks that the store holds every tensor the config implies, with the
  /// right shape and a float dtype, and nothing else; sets `error` naming the
  /// first tensor that is missing, wrong or unexpected.
  bool checkTensors(std::string &error);
  /// Writes the re-laid tensors of the quantized linears to `path` (formats
  /// that relayOut()); only called once checkTensors succeeded.
  bool writeRelaid(const std::string &path, std::string &error);
  /// Builds the module; only called once checkTensors succeeded.
  /// `relaidPath` is the store writeRelaid wrote (empty: none).
  OwningOpRef<ModuleOp> run(StringRef storePath, StringRef tokenizerPath,
                            StringRef relaidPath);

private:
  /// Fails on store tensors the config does not imply (see checkTensors).
  bool checkUnexpectedTensors(std::string &error);
  /// A `qopt.weight` of the (checked) checkpoint tensor `name`.
  Value weight(const std::string &name);
  Value linear(Value x, const std::string &prefix, bool bias, LinearRole role);
  Value rmsNorm(Value x, const std::string &weightName);
  RankedTensorType act(int64_t features) {
    return RankedTensorType::get({ShapedType::kDynamic, features},
                                 b.getF32Type());
  }

  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  const qrt::ModelConfig &config;
  const qrt::TensorStore &store;
  /// The checkpoint's quantization format, null for a float checkpoint.
  const CheckpointQuantization *quant;
  FlatSymbolRefAttr storeRef;
  /// The store of the re-laid tensors (null: none).
  FlatSymbolRefAttr relaidRef;
  /// Weight types by tensor name, filled by checkTensors.
  llvm::StringMap<RankedTensorType> weightTypes;
  /// Tensors of quantized linears (checked by `quant`), and those linears by
  /// prefix, filled by checkTensors.
  llvm::StringSet<> quantizedTensors;
  llvm::StringMap<CheckpointLinear> quantizedLinears;
};
} // namespace

/// The linear layer whose weight is `name` ("<prefix>.weight" of a
/// projection or the lm_head), if it is one.
static std::optional<CheckpointLinear>
linearOfWeight(StringRef name, const std::vector<int64_t> &shape) {
  static const std::pair<const char *, LinearRole> roles[] = {
      {".self_attn.q_proj", LinearRole::QProj},
      {".self_attn.k_proj", LinearRole::KProj},
      {".self_attn.v_proj", LinearRole::VProj},
      {".self_attn.o_proj", LinearRole::OProj},
      {".mlp.gate_proj", LinearRole::GateProj},
      {".mlp.up_proj", LinearRole::UpProj},
      {".mlp.down_proj", LinearRole::DownProj}};
  if (!name.consume_back(".weight") || shape.size() != 2)
    return std::nullopt;
  std::optional<LinearRole> role;
  if (name == "lm_head")
    role = LinearRole::LMHead;
  for (const auto &[suffix, r] : roles)
    if (name.ends_with(suffix))
      role = r;
  if (!role)
    return std::nullopt;
  return CheckpointLinear{name.str(), shape[0], shape[1], *role};
}

bool Importer::checkTensors(std::string &error) {
  for (const auto &[name, shape] : config.checkpointTensors()) {
    if (quant) {
      std::optional<CheckpointLinear> linear = linearOfWeight(name, shape);
      if (linear && quant->isQuantized(*linear)) {
        std::vector<std::string> used;
        if (failed(quant->check(store, *linear, used, error)))
          return false;
        for (const std::string &u : used)
          quantizedTensors.insert(u);
        quantizedLinears[linear->prefix] = *linear;
        continue;
      }
    }
    const qrt::TensorView *view = store.find(name);
    if (!view) {
      error = "checkpoint is missing tensor '" + name + "'";
      return false;
    }
    if (view->shape != shape) {
      error = "tensor '" + name + "' has shape " +
              ::qnum::shapeToString(view->shape) + " but the config implies " +
              ::qnum::shapeToString(shape);
      return false;
    }
    Type element;
    if (view->dtype == qrt::DType::BF16)
      element = b.getBF16Type();
    else if (view->dtype == qrt::DType::F16)
      element = b.getF16Type();
    else if (view->dtype == qrt::DType::F32)
      element = b.getF32Type();
    else {
      error = "tensor '" + name + "' has dtype " + qrt::dtypeName(view->dtype) +
              "; expected BF16, F16 or F32";
      return false;
    }
    weightTypes[name] = RankedTensorType::get(shape, element);
  }
  if (quant) {
    for (int64_t l = 0; l < config.numLayers; ++l) {
      std::vector<std::string> used;
      if (failed(quant->checkKVCache(store, l, config.numKvHeads, used, error)))
        return false;
      for (const std::string &u : used)
        quantizedTensors.insert(u);
    }
  }
  return checkUnexpectedTensors(error);
}

/// N of a tensor named "model.layers.N.*", else -1.
static int64_t layerOf(StringRef name) {
  int64_t layer;
  if (!name.consume_front("model.layers.") || name.consumeInteger(10, layer) ||
      !name.starts_with("."))
    return -1;
  return layer;
}

/// Buffers some checkpoints carry that hold no parameters: RoPE's inverse
/// frequencies, which qopt (like transformers) computes from the config.
static bool isDerivedBuffer(StringRef name) {
  return name.ends_with(".rotary_emb.inv_freq");
}

// A tensor the config does not imply is an error, never dropped silently:
// it is a layer beyond num_hidden_layers (a config that lies about the
// depth), or a parameter qopt would not apply (a bias the config does not
// declare, a quantization scale, a module of another architecture), and
// importing without it gives a model that computes something else. Only the
// derived rotary_emb.inv_freq buffers are skipped.
bool Importer::checkUnexpectedTensors(std::string &error) {
  int64_t extraLayer = -1;
  std::vector<std::string> unexpected;
  for (const std::string &name : store.names()) {
    if (weightTypes.count(name) || quantizedTensors.contains(name) ||
        isDerivedBuffer(name))
      continue;
    int64_t layer = layerOf(name);
    if (layer >= config.numLayers)
      extraLayer = extraLayer < 0 ? layer : std::min(extraLayer, layer);
    else
      unexpected.push_back(name);
  }
  if (extraLayer >= 0) {
    // Name the layer's first tensor in state-dict order (q_proj first).
    std::string prefix = "model.layers." + std::to_string(extraLayer) + ".";
    qrt::ModelConfig deeper = config;
    deeper.numLayers = extraLayer + 1;
    std::string first;
    for (const qrt::TensorSpec &spec : deeper.checkpointTensors())
      if (StringRef(spec.name).starts_with(prefix) && store.find(spec.name)) {
        first = spec.name;
        break;
      }
    for (const std::string &name : store.names())
      if (first.empty() && StringRef(name).starts_with(prefix))
        first = name;
    error = "checkpoint has tensor '" + first + "' of layer " +
            std::to_string(extraLayer) +
            " but config.json's num_hidden_layers is " +
            std::to_string(config.numLayers);
    return false;
  }
  if (!unexpected.empty()) {
    error = "checkpoint has tensor '" + unexpected.front() + "'";
    if (unexpected.size() > 1)
      error += " (and " + std::to_string(unexpected.size() - 1) + " more)";
    error += " that config.json does not imply; qopt does not drop weights "
             "it cannot place";
    return false;
  }
  return true;
}

Value Importer::weight(const std::string &name) {
  RankedTensorType type = weightTypes.lookup(name);
  assert(type && "weight not listed by ModelConfig::checkpointTensors");
  return WeightOp::create(b, loc, type, storeRef, b.getStringAttr(name),
                          PackingAttr());
}

Value Importer::linear(Value x, const std::string &prefix, bool bias,
                       LinearRole role) {
  Value bv = bias ? weight(prefix + ".bias") : Value();
  auto q = quantizedLinears.find(prefix);
  if (q != quantizedLinears.end())
    return quant->build(b, loc, storeRef, relaidRef, x, bv, q->second);
  Value w = weight(prefix + ".weight");
  int64_t out = cast<RankedTensorType>(w.getType()).getDimSize(0);
  return LinearOp::create(b, loc, act(out), x, w, bv,
                          LinearRoleAttr::get(ctx, role),
                          b.getStringAttr(prefix));
}

Value Importer::rmsNorm(Value x, const std::string &weightName) {
  return RMSNormOp::create(b, loc, x.getType(), x, weight(weightName),
                           b.getF64FloatAttr(config.rmsNormEps));
}

bool Importer::writeRelaid(const std::string &path, std::string &error) {
  std::vector<qrt::TensorData> tensors;
  std::vector<std::string> prefixes;
  for (const auto &entry : quantizedLinears)
    prefixes.push_back(entry.getKey().str());
  std::sort(prefixes.begin(), prefixes.end());
  for (const std::string &p : prefixes)
    if (failed(
            quant->relayout(store, quantizedLinears.lookup(p), tensors, error)))
      return false;
  return qrt::writeSafetensors(
      path, tensors,
      {{"format", "qopt"},
       {"qopt.source", quant->name() + " checkpoint, "
                                       "re-laid out by qopt-import"}},
      error);
}

OwningOpRef<ModuleOp> Importer::run(StringRef storePath,
                                    StringRef tokenizerPath,
                                    StringRef relaidPath) {
  const qrt::ModelConfig &c = config;
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  setModelAttr(*module,
               ModelAttr::get(ctx, c.modelType, storePath, tokenizerPath,
                              c.vocabSize, c.maxPositionEmbeddings,
                              c.bosTokenId, c.eosTokenId, c.slidingWindow));

  b.setInsertionPointToEnd(module->getBody());
  WeightStoreOp::create(b, loc, "ckpt", storePath);
  storeRef = FlatSymbolRefAttr::get(ctx, "ckpt");
  if (!relaidPath.empty()) {
    WeightStoreOp::create(b, loc, "relaid", relaidPath);
    relaidRef = FlatSymbolRefAttr::get(ctx, "relaid");
  }

  auto idsType = RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
  auto func = func::FuncOp::create(
      b, loc, "forward",
      b.getFunctionType({idsType, idsType}, {act(c.vocabSize)}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  Value ids = body->getArgument(0), positions = body->getArgument(1);

  int64_t qDim = c.numHeads * c.headDim;
  Value embedTable = weight("model.embed_tokens.weight");
  Value x = EmbeddingOp::create(b, loc, act(c.hiddenSize), embedTable, ids);
  FloatAttr theta = b.getF64FloatAttr(c.ropeTheta);
  RopeScalingAttr scaling;
  if (c.ropeScaling == qrt::RopeScaling::Linear)
    scaling = RopeScalingAttr::get(ctx, RopeScalingKind::Linear,
                                   b.getF64FloatAttr(c.ropeFactor), {}, {},
                                   std::nullopt);
  else if (c.ropeScaling == qrt::RopeScaling::Llama3)
    scaling = RopeScalingAttr::get(
        ctx, RopeScalingKind::Llama3, b.getF64FloatAttr(c.ropeFactor),
        b.getF64FloatAttr(c.ropeLowFreqFactor),
        b.getF64FloatAttr(c.ropeHighFreqFactor), c.ropeOriginalMaxPosition);
  auto rope = [&](Value v, int64_t heads) -> Value {
    return RopeOp::create(b, loc, v.getType(), v, positions,
                          b.getI64IntegerAttr(heads),
                          b.getI64IntegerAttr(c.headDim), theta, scaling);
  };

  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string p = "model.layers." + std::to_string(l);
    Value ln1 = rmsNorm(x, p + ".input_layernorm.weight");
    Value q =
        linear(ln1, p + ".self_attn.q_proj", c.qkvBias, LinearRole::QProj);
    Value k =
        linear(ln1, p + ".self_attn.k_proj", c.qkvBias, LinearRole::KProj);
    Value v =
        linear(ln1, p + ".self_attn.v_proj", c.qkvBias, LinearRole::VProj);
    std::pair<QuantSchemeAttr, QuantSchemeAttr> kv =
        quant ? quant->kvCacheSchemes(ctx, l)
              : std::pair<QuantSchemeAttr, QuantSchemeAttr>();
    Value attn = AttentionOp::create(
        b, loc, act(qDim), rope(q, c.numHeads), rope(k, c.numKvHeads), v,
        b.getI64IntegerAttr(l), b.getI64IntegerAttr(c.numHeads),
        b.getI64IntegerAttr(c.numKvHeads), b.getI64IntegerAttr(c.headDim),
        b.getBoolAttr(true), FloatAttr(),
        c.slidingWindowOfLayer(l) > 0
            ? b.getI64IntegerAttr(c.slidingWindowOfLayer(l))
            : IntegerAttr(),
        kv.first, kv.second);
    Value o = linear(attn, p + ".self_attn.o_proj", c.oBias, LinearRole::OProj);
    Value res1 = AddOp::create(b, loc, x, o);
    Value ln2 = rmsNorm(res1, p + ".post_attention_layernorm.weight");
    Value gate =
        linear(ln2, p + ".mlp.gate_proj", c.mlpBias, LinearRole::GateProj);
    Value up = linear(ln2, p + ".mlp.up_proj", c.mlpBias, LinearRole::UpProj);
    Value mlp = MulOp::create(b, loc, SiluOp::create(b, loc, gate), up);
    Value down =
        linear(mlp, p + ".mlp.down_proj", c.mlpBias, LinearRole::DownProj);
    x = AddOp::create(b, loc, res1, down);
  }
  Value fin = rmsNorm(x, "model.norm.weight");
  Value logits =
      c.tieWordEmbeddings
          ? LinearOp::create(b, loc, act(c.vocabSize), fin, embedTable, Value(),
                             LinearRoleAttr::get(ctx, LinearRole::LMHead),
                             b.getStringAttr("lm_head"))
          : linear(fin, "lm_head", false, LinearRole::LMHead);
  func::ReturnOp::create(b, loc, logits);
  return module;
}

/// `target` relative to `baseDir` when `baseDir` is given, else absolute.
/// Lexically: symbolic links are kept as the user named them (a Hugging Face
/// cache snapshot links each file into ../../blobs/<hash>, and resolving the
/// link loses the file names the loader looks for beside it).
static std::string recordedPath(const fs::path &target,
                                const std::string &baseDir) {
  auto normal = [](const fs::path &p) {
    fs::path n = fs::absolute(p).lexically_normal();
    if (!n.has_filename() && n.has_parent_path() && n != n.root_path())
      n = n.parent_path();
    return n;
  };
  fs::path abs = normal(target);
  if (baseDir.empty())
    return abs.string();
  fs::path rel = abs.lexically_relative(normal(baseDir));
  return rel.empty() ? abs.string() : rel.string();
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
  std::optional<qrt::ModelConfig> config =
      qrt::ModelConfig::fromFile((dir / "config.json").string(), error);
  if (!config)
    return nullptr;
  std::unique_ptr<qrt::TensorStore> store =
      qrt::TensorStore::open(dir.string(), error);
  if (!store)
    return nullptr;
  fs::path storeFile = fs::exists(dir / "model.safetensors.index.json")
                           ? dir / "model.safetensors.index.json"
                           : dir / "model.safetensors";
  // The tokenizer the model records is loaded here, so that a broken one
  // fails the import rather than a later qopt-run --generate.
  fs::path tokenizer = dir / "tokenizer.json";
  std::string tokenizerPath;
  if (fs::exists(tokenizer)) {
    if (!qrt::Tokenizer::fromFile(tokenizer.string(), error))
      return nullptr;
    tokenizerPath = recordedPath(tokenizer, options.outputDir);
  }
  FailureOr<std::unique_ptr<CheckpointQuantization>> quant =
      parseCheckpointQuantization((dir / "config.json").string(),
                                  options.activations, error);
  if (failed(quant))
    return nullptr;
  Importer importer(context, *config, *store, quant->get());
  if (!importer.checkTensors(error)) {
    error = checkpointDir + ": " + error;
    return nullptr;
  }
  std::string relaid;
  if (quant->get() && (*quant)->relaysOut()) {
    if (options.sideStorePath.empty()) {
      error = checkpointDir + ": a " + (*quant)->name() +
              " checkpoint is re-laid out into a weight store beside the "
              "output; give an output file (-o FILE), not stdout";
      return nullptr;
    }
    if (!importer.writeRelaid(options.sideStorePath, error)) {
      error = checkpointDir + ": " + error;
      return nullptr;
    }
    relaid = recordedPath(options.sideStorePath, options.outputDir);
  }
  return importer.run(recordedPath(storeFile, options.outputDir), tokenizerPath,
                      relaid);
}
