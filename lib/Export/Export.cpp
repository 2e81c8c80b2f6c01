//===- Export.cpp - Quantized qopt IR to a Hugging Face checkpoint --------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "ExportInternal.h"

#include "qopt-runtime/QuantMath.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::exporter;
using json = llvm::json::Value;

FormatWriter::~FormatWriter() = default;

FailureOr<json> FormatWriter::finish(const Checkpoint &,
                                     const std::vector<std::string> &,
                                     std::string &error) {
  error = "the format writes no checkpoint directory";
  return failure();
}

LogicalResult FormatWriter::writeFile(Checkpoint &, const SourceCheckpoint &,
                                      StringRef, std::string &error) {
  error = "the format writes a checkpoint directory, not one file";
  return failure();
}

std::vector<uint8_t> exporter::floatBytes(const std::vector<float> &values,
                                          qrt::DType dtype, bool &exact) {
  std::vector<uint8_t> out(values.size() * qrt::dtypeSize(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    float v = values[i];
    if (dtype == qrt::DType::F32) {
      std::memcpy(out.data() + 4 * i, &v, 4);
      continue;
    }
    uint16_t h =
        dtype == qrt::DType::BF16 ? qrt::floatToBF16(v) : qrt::floatToHalf(v);
    float back = dtype == qrt::DType::BF16 ? ::qnum::bf16ToFloat(h)
                                           : ::qnum::halfToFloat(h);
    if (back != v && !(std::isnan(back) && std::isnan(v)))
      exact = false;
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

void Checkpoint::addFloat(const std::string &name, std::vector<int64_t> shape,
                          const std::vector<float> &values) {
  bool exact = true;
  std::vector<uint8_t> bytes = floatBytes(values, modelDType, exact);
  if (exact)
    return addBytes(name, modelDType, std::move(shape), std::move(bytes));
  addBytes(name, qrt::DType::F32, std::move(shape),
           floatBytes(values, qrt::DType::F32, exact));
}

LogicalResult Checkpoint::addScales(const std::string &name,
                                    std::vector<int64_t> shape,
                                    const std::vector<float> &values,
                                    const std::string &layer,
                                    std::string &error) {
  qrt::DType dtype =
      scaleType == ExportScaleType::Float32 ? qrt::DType::F32 : modelDType;
  bool exact = true;
  std::vector<uint8_t> bytes = floatBytes(values, dtype, exact);
  if (!exact) {
    error = "layer '" + layer + "': its scales are not exact in " +
            qrt::dtypeName(dtype) +
            " (the model dtype); export them as float32 (--scale-dtype=f32)";
    return failure();
  }
  addBytes(name, dtype, std::move(shape), std::move(bytes));
  return success();
}

void Checkpoint::addBytes(const std::string &name, qrt::DType dtype,
                          std::vector<int64_t> shape,
                          std::vector<uint8_t> bytes) {
  qrt::TensorData t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = std::move(bytes);
  tensors.push_back(std::move(t));
}

namespace {
/// Walks the model's forward function and fills a Checkpoint.
class Exporter {
public:
  Exporter(ModuleOp module, WeightReader &reader, FormatWriter &format,
           Checkpoint &ckpt)
      : module(module), reader(reader), format(format), ckpt(ckpt) {}

  LogicalResult run(std::vector<std::string> &ignored, std::string &error);

private:
  LogicalResult addFloatWeight(Value w, const std::string &name,
                               std::string &error);
  LogicalResult readLinear(QuantizedLinearOp op, QuantizedLinearData &d,
                           std::string &error);

  ModuleOp module;
  WeightReader &reader;
  FormatWriter &format;
  Checkpoint &ckpt;
};
} // namespace

LogicalResult Exporter::addFloatWeight(Value w, const std::string &name,
                                       std::string &error) {
  std::vector<float> values;
  if (failed(reader.evaluate(w, values, error)))
    return failure();
  auto type = cast<RankedTensorType>(w.getType());
  ckpt.addFloat(name, std::vector<int64_t>(type.getShape()), values);
  return success();
}

/// The values of a scheme's scales: inline, or the weight `operand`.
static LogicalResult schemeScales(QuantSchemeAttr scheme, Value operand,
                                  WeightReader &reader, std::vector<float> &out,
                                  std::string &error) {
  if (scheme.hasInlineScales()) {
    SmallVector<float> v = scheme.getScaleValues();
    out.assign(v.begin(), v.end());
    return success();
  }
  if (!operand) {
    error = "has no scales";
    return failure();
  }
  return reader.evaluate(operand, out, error);
}

LogicalResult Exporter::readLinear(QuantizedLinearOp op, QuantizedLinearData &d,
                                   std::string &error) {
  d.name = op.getLabel() ? op.getLabel()->str() : std::string();
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  d.out = wType.getDimSize(0);
  d.in = wType.getDimSize(1);
  d.weightScheme = op.getWeightScheme();
  auto w = op.getWeight().getDefiningOp<WeightOp>();
  if (!w) {
    error = "its weight is not a stored tensor";
    return failure();
  }
  const qrt::TensorView *view = reader.view(w, error);
  if (!view)
    return failure();
  d.weightBytes.assign(view->data, view->data + view->nbytes);
  d.packing = w.getPacking() ? *w.getPacking() : Packing::None;
  if (failed(schemeScales(d.weightScheme, op.getWeightScales(), reader,
                          d.weightScales, error)))
    return failure();
  if (!d.weightScheme.isSymmetric()) {
    if (auto zp = op.getWeightZeroPoints()) {
      auto zpOp = zp.getDefiningOp<WeightOp>();
      if (!zpOp || failed(reader.readInt32(zpOp, d.weightZeroPoints, error)))
        return failure();
    } else {
      SmallVector<int32_t> v = d.weightScheme.getZeroPointValues();
      d.weightZeroPoints.assign(v.begin(), v.end());
    }
  }
  d.inputScheme = op.getInputSchemeAttr();
  if (d.inputScheme && d.inputScheme.isStatic()) {
    if (failed(
            schemeScales(d.inputScheme, Value(), reader, d.inputScales, error)))
      return failure();
    SmallVector<int32_t> zp = d.inputScheme.getZeroPointValues();
    d.inputZeroPoints.assign(zp.begin(), zp.end());
  }
  if (Value b = op.getBias())
    if (failed(reader.evaluate(b, d.bias, error)))
      return failure();
  if (op.getResidual() || op.getActivation() != Activation::None) {
    error = "has a fused epilogue (residual or activation), which a "
            "checkpoint cannot hold";
    return failure();
  }
  return success();
}

LogicalResult Exporter::run(std::vector<std::string> &ignored,
                            std::string &error) {
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward) {
    error = "the module has no @forward function (not a qopt model)";
    return failure();
  }
  int64_t layers = 0;
  forward.walk([&](AttentionOp) { ++layers; });
  int64_t norms = 0;
  Value embedTable; // a tied LM head reads it: nothing more to write
  WalkResult walk = forward.walk([&](Operation *op) -> WalkResult {
    std::string err;
    if (auto e = dyn_cast<EmbeddingOp>(op)) {
      embedTable = e.getTable();
      if (failed(
              addFloatWeight(e.getTable(), "model.embed_tokens.weight", err)))
        return error = "the embedding: " + err, WalkResult::interrupt();
    } else if (auto n = dyn_cast<RMSNormOp>(op)) {
      std::string name =
          norms == 2 * layers
              ? "model.norm.weight"
              : "model.layers." + std::to_string(norms / 2) +
                    (norms % 2 ? ".post_attention_layernorm.weight"
                               : ".input_layernorm.weight");
      ++norms;
      if (failed(addFloatWeight(n.getWeight(), name, err)))
        return error = name + ": " + err, WalkResult::interrupt();
    } else if (auto l = dyn_cast<LinearOp>(op)) {
      std::string name = l.getLabel() ? l.getLabel()->str() : "";
      ignored.push_back(name);
      // A tied LM head reads the embedding table: nothing to write.
      bool tied = l.getWeight() == embedTable;
      if (!tied && failed(addFloatWeight(l.getWeight(), name + ".weight", err)))
        return error = "layer '" + name + "': " + err, WalkResult::interrupt();
      if (Value b = l.getBias())
        if (failed(addFloatWeight(b, name + ".bias", err)))
          return error = "layer '" + name + "': " + err,
                 WalkResult::interrupt();
    } else if (auto a = dyn_cast<AttentionOp>(op)) {
      if (failed(format.addAttention(a, ckpt, error)))
        return WalkResult::interrupt();
    } else if (auto p = dyn_cast<PermuteChannelsOp>(op)) {
      std::string user = "?";
      for (Operation *u : p.getResult().getUsers())
        if (auto label = u->getAttrOfType<StringAttr>("label"))
          user = label.str();
      error = "layer '" + user +
              "' reads its input through qopt.permute_channels (GPTQ "
              "act-order): qopt-export does not write input-channel "
              "permutations (g_idx)";
      return WalkResult::interrupt();
    } else if (auto q = dyn_cast<QuantizedLinearOp>(op)) {
      QuantizedLinearData d;
      if (failed(readLinear(q, d, err)))
        return error = "layer '" + d.name + "' " + err, WalkResult::interrupt();
      if (failed(format.addLinear(d, ckpt, error)))
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

/// Writes the tensors as shards of at most `maxBytes` with an index.
static LogicalResult writeShards(Checkpoint &ckpt, uint64_t maxBytes,
                                 const std::string &dir, std::string &error) {
  std::vector<std::vector<qrt::TensorData *>> shards(1);
  uint64_t size = 0, total = 0;
  for (qrt::TensorData &t : ckpt.tensors) {
    if (size && size + t.data.size() > maxBytes) {
      shards.emplace_back();
      size = 0;
    }
    shards.back().push_back(&t);
    size += t.data.size();
    total += t.data.size();
  }
  std::map<std::string, std::string> weightMap;
  char name[64];
  for (size_t s = 0; s < shards.size(); ++s) {
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", s + 1,
                  shards.size());
    std::vector<qrt::TensorData> tensors;
    for (qrt::TensorData *t : shards[s]) {
      weightMap[t->name] = name;
      tensors.push_back(std::move(*t));
    }
    if (!qrt::writeSafetensors(dir + "/" + name, tensors, {{"format", "pt"}},
                               error))
      return failure();
  }
  if (!qrt::writeSafetensorsIndex(dir + "/model.safetensors.index.json",
                                  weightMap, total, error))
    return failure();
  return success();
}

LogicalResult exporter::writeJsonFile(const std::string &path, const json &j,
                                      std::string &error) {
  return writeOutputFile(
      path,
      [&](llvm::raw_ostream &os) {
        os << llvm::formatv("{0:2}", j) << "\n";
        return success();
      },
      error);
}

/// Reads config.json of the checkpoint the model was imported from (its
/// config and tokenizer files are the export's).
static LogicalResult readSource(ModuleOp module, SourceCheckpoint &source,
                                qrt::DType &modelDType, std::string &error) {
  ModelAttr model = getModelAttr(module);
  if (!model) {
    error = "the module has no qopt.model attribute (not a qopt model)";
    return failure();
  }
  llvm::SmallString<256> src(model.getCheckpoint());
  if (!llvm::sys::path::is_absolute(src)) {
    llvm::SmallString<256> base(moduleDirectory(module));
    llvm::sys::path::append(base, src);
    src = base;
  }
  llvm::sys::path::remove_filename(src);
  source.dir = src.empty() ? "." : std::string(src);
  auto file = llvm::MemoryBuffer::getFile(source.dir + "/config.json");
  llvm::Expected<json> parsed =
      file ? llvm::json::parse((*file)->getBuffer())
           : llvm::Expected<json>(llvm::errorCodeToError(file.getError()));
  llvm::json::Object *config = parsed ? parsed->getAsObject() : nullptr;
  if (!config) {
    if (!parsed)
      llvm::consumeError(parsed.takeError());
    error = source.dir + "/config.json (the model's checkpoint): not "
                         "readable JSON";
    return failure();
  }
  source.config = std::move(*config);
  if (source.config.get("quantization_config")) {
    error = source.dir + "/config.json already has a quantization_config: "
                         "the model came from a pre-quantized checkpoint";
    return failure();
  }
  std::string dtype;
  for (const char *key : {"torch_dtype", "dtype"})
    if (std::optional<StringRef> d = source.config.getString(key))
      dtype = d->str();
  if (dtype == "float16")
    modelDType = qrt::DType::F16;
  else if (dtype == "float32")
    modelDType = qrt::DType::F32;
  else if (dtype == "bfloat16" || dtype.empty())
    modelDType = qrt::DType::BF16;
  else {
    error = source.dir + "/config.json: dtype \"" + dtype +
            "\" is not bfloat16, float16 or float32";
    return failure();
  }
  return success();
}

static std::unique_ptr<FormatWriter> createWriter(const ExportOptions &o) {
  switch (o.format) {
  case ExportFormat::HfFp8:
    return createHfFp8Writer();
  case ExportFormat::GGUF:
    return createGGUFWriter(o);
  case ExportFormat::AscendW8A8:
    return createAscendW8A8Writer();
  case ExportFormat::KVCacheScales:
    return createKVCacheScalesWriter();
  case ExportFormat::CompressedTensors:
    break;
  }
  return createCompressedTensorsWriter();
}

/// Reads the model into `ckpt` through `format`.
static LogicalResult collect(ModuleOp module, FormatWriter &format,
                             Checkpoint &ckpt,
                             std::vector<std::string> &ignored,
                             std::string &error) {
  std::unique_ptr<WeightReader> reader = WeightReader::open(module, error);
  if (!reader)
    return failure();
  Exporter exporter(module, *reader, format, ckpt);
  return exporter.run(ignored, error);
}

/// Writes the checkpoint directory into `tmp` (an empty directory).
static LogicalResult writeInto(Checkpoint &ckpt, SourceCheckpoint &source,
                               FormatWriter &format,
                               const std::vector<std::string> &ignored,
                               const ExportOptions &options,
                               const std::string &tmp, std::string &error) {
  FailureOr<json> quantization = format.finish(ckpt, ignored, error);
  if (failed(quantization))
    return failure();
  source.config["quantization_config"] = std::move(*quantization);
  if (failed(writeShards(ckpt, options.maxShardBytes, tmp, error)) ||
      failed(writeJsonFile(tmp + "/config.json", json(std::move(source.config)),
                           error)))
    return failure();
  for (const char *file :
       {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "generation_config.json", "tokenizer.model"}) {
    std::string from = source.dir + "/" + file;
    if (!llvm::sys::fs::exists(from))
      continue;
    if (std::error_code ec = llvm::sys::fs::copy_file(from, tmp + "/" + file)) {
      error = from + ": " + ec.message();
      return failure();
    }
  }
  return success();
}

LogicalResult mlir::qopt::exportCheckpoint(ModuleOp module,
                                           const ExportOptions &options,
                                           StringRef dirRef,
                                           std::string &error) {
  std::string dir = dirRef.str();
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  std::unique_ptr<FormatWriter> format = createWriter(options);
  if (!format->writesFile() && llvm::sys::fs::exists(dir)) {
    error = dir + " exists; qopt-export writes a new directory";
    return failure();
  }
  if (format->writesFile() && llvm::sys::fs::is_directory(dir)) {
    error = dir + " is a directory; this format writes one file";
    return failure();
  }
  SourceCheckpoint source;
  Checkpoint ckpt;
  ckpt.scaleType = options.scales;
  std::vector<std::string> ignored;
  if (failed(readSource(module, source, ckpt.modelDType, error)) ||
      failed(collect(module, *format, ckpt, ignored, error)))
    return failure();
  if (format->writesFile())
    return format->writeFile(ckpt, source, dir, error);
  std::string tmp;
  if (failed(createDirectoryBeside(dir, tmp, error)))
    return failure();
  if (failed(writeInto(ckpt, source, *format, ignored, options, tmp, error))) {
    llvm::sys::fs::remove_directories(tmp);
    return failure();
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, dir)) {
    llvm::sys::fs::remove_directories(tmp);
    error = dir + ": " + ec.message();
    return failure();
  }
  return success();
}
