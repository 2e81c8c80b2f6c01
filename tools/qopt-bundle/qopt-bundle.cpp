//===- qopt-bundle.cpp - write a runtime bundle from compiled IR ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qopt-bundle MODEL.nvptx.mlir -o DIR [--kernels-only]
//
// Reads the output of `qopt --lower-to-nvptx` and writes the directory the
// runtime runs with no MLIR (docs/bundle.md): manifest.json, kernels.ptx,
// kernels.<chip>.cubin (when ptxas is found), weights.safetensors (every
// weight, scale, constant and RoPE table in the layout the kernels read) and
// tokenizer.json; with --kernels-only no weights (manifest and kernels
// alone, for qopt-kernel-check). The directory is built under a temporary name
// beside DIR and renamed into place only when complete; an existing bundle at
// DIR is replaced only then, and anything else at DIR is left alone with an
// error.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt/InitAllDialects.h"

#include "qopt-runtime/Kernels.h"
#include "qopt-runtime/QuantMath.h"
#include "qopt-runtime/Safetensors.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <map>

using namespace mlir;
namespace qk = mlir::qopt::kernel;
namespace cl = llvm::cl;

namespace {
/// Collects the bundle's buffers, weights and kernels from the function.
class BundleBuilder {
public:
  /// `reader` null: a kernels-only bundle (weights described, not written).
  /// A non-empty `checkpointStore`: weights of that store, and those the
  /// at-load stores compute from it, are read from the checkpoint when the
  /// bundle loads (the manifest's `at_load`) instead of being copied.
  BundleBuilder(ModuleOp module, func::FuncOp func, qopt::WeightReader *reader,
                std::string checkpointStore = "")
      : module(module), func(func), reader(reader),
        checkpointStore(std::move(checkpointStore)) {}

  LogicalResult build(std::string &error);
  llvm::json::Object takeManifest() { return std::move(manifest); }
  std::vector<qrt::TensorData> takeWeights() { return std::move(weights); }

private:
  FailureOr<std::string> bufferOf(Value v, std::string &error);
  LogicalResult addWeight(Value v, const std::string &name, std::string &error);
  /// Describes weight `w` as read at load into `atLoad`; leaves it empty
  /// when `w` is not read from the checkpoint.
  LogicalResult describeAtLoad(qopt::WeightOp w, llvm::json::Object &atLoad,
                               std::string &error);
  /// Records checkpoint tensor `name` (its dtype and shape) in the manifest.
  LogicalResult useCheckpointTensor(const std::string &name,
                                    std::string &error);
  static std::string dtypeName(Type t);
  static llvm::json::Value toJson(Attribute attr);

  ModuleOp module;
  func::FuncOp func;
  qopt::WeightReader *reader;
  std::string checkpointStore;
  llvm::json::Object checkpointTensors;
  /// Per-channel factors of at-load weights, by store/tensor: their name in
  /// weights.safetensors.
  std::map<std::string, std::string> factors;
  llvm::DenseMap<Value, std::string> names;
  llvm::json::Object buffers;
  std::vector<qrt::TensorData> weights;
  llvm::json::Object manifest;
  int weightCount = 0, arenaCount = 0;
};
} // namespace

std::string BundleBuilder::dtypeName(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isBF16())
    return "bf16";
  if (t.isF16())
    return "f16";
  if (t.isSignlessInteger(8))
    return "i8";
  if (isa<Float8E4M3FNType>(t))
    return "f8e4m3";
  if (t.isInteger(4))
    return "i4x2";
  if (t.isSignlessInteger(32))
    return "i32";
  return "";
}

llvm::json::Value BundleBuilder::toJson(Attribute attr) {
  if (auto b = dyn_cast<BoolAttr>(attr))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getInt();
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto s = dyn_cast<StringAttr>(attr))
    return s.getValue().str();
  if (auto d = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object o;
    for (NamedAttribute n : d)
      o[n.getName().getValue()] = toJson(n.getValue());
    return o;
  }
  if (auto a = dyn_cast<DenseI64ArrayAttr>(attr)) {
    llvm::json::Array arr;
    for (int64_t v : a.asArrayRef())
      arr.push_back(v);
    return arr;
  }
  return nullptr;
}

static llvm::json::Array shapeJson(RankedTensorType t) {
  llvm::json::Array shape;
  for (int64_t d : t.getShape())
    shape.push_back(ShapedType::isDynamic(d) ? int64_t(-1) : d);
  return shape;
}

LogicalResult BundleBuilder::useCheckpointTensor(const std::string &name,
                                                 std::string &error) {
  if (checkpointTensors.find(name) != checkpointTensors.end())
    return success();
  const qrt::TensorView *view = reader->find(checkpointStore, name, error);
  if (!view)
    return failure();
  llvm::json::Array shape;
  for (int64_t d : view->shape)
    shape.push_back(d);
  checkpointTensors[name] = llvm::json::Object{
      {"dtype", qrt::dtypeName(view->dtype)}, {"shape", std::move(shape)}};
  return success();
}

/// The safetensors dtype of a weight of element type `e` stored as it is.
static std::optional<qrt::DType> plainDType(Type e) {
  if (e.isF32())
    return qrt::DType::F32;
  if (e.isBF16())
    return qrt::DType::BF16;
  if (e.isF16())
    return qrt::DType::F16;
  if (e.isSignlessInteger(8))
    return qrt::DType::I8;
  if (isa<Float8E4M3FNType>(e))
    return qrt::DType::F8_E4M3;
  return std::nullopt;
}

LogicalResult BundleBuilder::describeAtLoad(qopt::WeightOp w,
                                            llvm::json::Object &atLoad,
                                            std::string &error) {
  if (checkpointStore.empty() || !reader)
    return success();
  if (const qopt::AtLoadTensor *t = reader->atLoadTensor(w)) {
    if (t->store != checkpointStore) {
      error = "tensor '" + w.getName().str() + "' of at-load store @" +
              w.getStore().str() + " is computed from store @" + t->store +
              ", not from the checkpoint @" + checkpointStore +
              " (--checkpoint-store)";
      return failure();
    }
    if (failed(useCheckpointTensor(t->tensor, error)))
      return failure();
    llvm::json::Array scales;
    for (const qopt::AtLoadScale &f : t->scales) {
      std::string key = f.store + "/" + f.tensor;
      auto it = factors.find(key);
      if (it == factors.end()) {
        const qrt::TensorView *view = reader->find(f.store, f.tensor, error);
        if (!view)
          return failure();
        qrt::TensorData d;
        d.name = "at_load.f" + std::to_string(factors.size());
        d.dtype = view->dtype;
        d.shape = view->shape;
        d.data.assign(view->data, view->data + view->nbytes);
        weights.push_back(std::move(d));
        it = factors.emplace(key, weights.back().name).first;
      }
      scales.push_back(
          llvm::json::Object{{"tensor", it->second}, {"axis", f.axis}});
    }
    atLoad["tensor"] = t->tensor;
    atLoad["recipe"] = t->recipe.str();
    atLoad["part"] = qrt::weightPartName(t->part);
    if (!scales.empty())
      atLoad["scale_channels"] = std::move(scales);
    return success();
  }
  if (w.getStore() != checkpointStore || w.getPacking())
    return success();
  const qrt::TensorView *view = reader->view(w, error);
  if (!view)
    return failure();
  RankedTensorType type = w.getResult().getType();
  std::optional<qrt::DType> dtype = plainDType(type.getElementType());
  if (!dtype || *dtype != view->dtype ||
      ArrayRef<int64_t>(view->shape) != type.getShape())
    return success(); // converted when copied: kept in the bundle
  if (failed(useCheckpointTensor(w.getName().str(), error)))
    return failure();
  atLoad["tensor"] = w.getName().str();
  atLoad["part"] = "copy";
  return success();
}

LogicalResult BundleBuilder::addWeight(Value v, const std::string &name,
                                       std::string &error) {
  auto type = cast<RankedTensorType>(v.getType());
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  Operation *def = v.getDefiningOp();
  qrt::TensorData t;
  t.name = name;
  t.shape = shape;
  llvm::json::Object atLoad;
  if (auto w = dyn_cast_or_null<qopt::WeightOp>(def))
    if (failed(describeAtLoad(w, atLoad, error)))
      return failure();
  bool fromCheckpoint = !atLoad.empty();
  if (!reader || fromCheckpoint) {
    // Kernels only: the buffer is described below, its data not read.
  } else if (auto w = dyn_cast_or_null<qopt::WeightOp>(def)) {
    const qrt::TensorView *view = reader->view(w, error);
    if (!view)
      return failure();
    Type e = type.getElementType();
    bool sameShape = ArrayRef<int64_t>(view->shape) == type.getShape();
    if (w.getPacking() && *w.getPacking() == qopt::Packing::Int4x8Offset) {
      // compressed-tensors' int32 words become the int4 pairs the kernels
      // read.
      std::vector<float> q;
      if (failed(reader->readStorage(w, q, error)))
        return failure();
      std::vector<int8_t> values(q.begin(), q.end());
      t.dtype = qrt::DType::U8;
      t.shape = {shape[0], (shape[1] + 1) / 2};
      t.data = ::qnum::packInt4x2(values);
    } else if (e.isF32() && !sameShape) {
      // Other tools' [N, 1] scales for [N].
      std::vector<float> vals;
      if (failed(reader->evaluate(v, vals, error)))
        return failure();
      t = qrt::TensorData::fromFloats(name, shape, vals);
    } else if (e.isSignlessInteger(32) &&
               (view->dtype != qrt::DType::I32 || !sameShape)) {
      std::vector<int32_t> vals;
      if (failed(reader->readInt32(w, vals, error)))
        return failure();
      t = qrt::TensorData::fromInt32(name, shape, vals);
    } else {
      t.dtype = view->dtype;
      t.shape = view->shape;
      t.data.assign(view->data, view->data + view->nbytes);
    }
  } else if (auto c = dyn_cast_or_null<arith::ConstantOp>(def)) {
    auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense)
      return (error = "a constant kernel operand is not dense", failure());
    if (type.getElementType().isF32()) {
      std::vector<float> vals(dense.getValues<float>().begin(),
                              dense.getValues<float>().end());
      t = qrt::TensorData::fromFloats(name, shape, vals);
    } else if (type.getElementType().isSignlessInteger(32)) {
      t.dtype = qrt::DType::I32;
      for (int32_t x : dense.getValues<int32_t>()) {
        uint8_t bytes[4];
        std::memcpy(bytes, &x, 4);
        t.data.insert(t.data.end(), bytes, bytes + 4);
      }
    } else {
      return (error = "constants are f32 or i32", failure());
    }
  } else if (auto table = dyn_cast_or_null<qk::RopeTableOp>(def)) {
    qrt::kernels::RopeScaling scaling;
    if (qopt::RopeScalingAttr s = table.getScalingAttr()) {
      scaling.factor = s.getFactor().getValueAsDouble();
      if (s.getKind() == qopt::RopeScalingKind::Linear) {
        scaling.kind = qrt::kernels::RopeScaling::Kind::Linear;
      } else {
        scaling.kind = qrt::kernels::RopeScaling::Kind::Llama3;
        if (s.getLowFreqFactor())
          scaling.lowFreqFactor = s.getLowFreqFactor().getValueAsDouble();
        if (s.getHighFreqFactor())
          scaling.highFreqFactor = s.getHighFreqFactor().getValueAsDouble();
        scaling.originalMaxPosition = s.getOriginalMaxPosition().value_or(0);
      }
    }
    int64_t headDim = table.getHeadDim();
    std::vector<float> inv = qrt::kernels::ropeInvFreq(
        headDim, table.getTheta().convertToDouble(), scaling);
    t = qrt::TensorData::fromFloats(
        name, shape, qrt::kernels::ropeTable(shape[0], headDim, inv));
  } else if (def && qopt::WeightReader::isWeightExpression(v)) {
    std::vector<float> vals;
    if (failed(reader->evaluate(v, vals, error)))
      return failure();
    t = qrt::TensorData::fromFloats(name, shape, vals);
  } else {
    error = "a kernel reads a value that is neither a kernel result, a "
            "weight, a constant nor a RoPE table";
    return failure();
  }
  if (reader && !fromCheckpoint)
    weights.push_back(std::move(t));
  llvm::json::Object b;
  b["kind"] = "weight";
  b["dtype"] = dtypeName(type.getElementType());
  b["shape"] = shapeJson(type);
  if (fromCheckpoint)
    b["at_load"] = std::move(atLoad);
  buffers[name] = std::move(b);
  return success();
}

FailureOr<std::string> BundleBuilder::bufferOf(Value v, std::string &error) {
  auto it = names.find(v);
  if (it != names.end())
    return it->second;
  std::string name;
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    name = arg.getArgNumber() == 0 ? "tokens" : "positions";
    llvm::json::Object b;
    b["kind"] = "input";
    b["dtype"] = "i32";
    b["shape"] = llvm::json::Array{int64_t(-1)};
    buffers[name] = std::move(b);
  } else if (Operation *def = v.getDefiningOp();
             def && isa<qk::KernelOpInterface>(def)) {
    auto slots = def->getAttrOfType<DenseI64ArrayAttr>(qk::kBuffersAttrName);
    unsigned index = cast<OpResult>(v).getResultNumber();
    if (!slots || index >= slots.size()) {
      error = "a kernel result has no planned buffer";
      return failure();
    }
    name = "b" + std::to_string(arenaCount++);
    auto type = cast<RankedTensorType>(v.getType());
    llvm::json::Object b;
    b["kind"] = "arena";
    b["dtype"] = dtypeName(type.getElementType());
    b["shape"] = shapeJson(type);
    b["offset"] = slots[index];
    buffers[name] = std::move(b);
  } else {
    name = "w" + std::to_string(weightCount++);
    if (failed(addWeight(v, name, error)))
      return failure();
  }
  names[v] = name;
  return name;
}

LogicalResult BundleBuilder::build(std::string &error) {
  llvm::json::Array kernels, sequence;
  int64_t index = 0;
  bool bad = false;
  func.walk([&](qk::KernelOpInterface kernel) {
    if (bad)
      return;
    Operation *op = kernel.getOperation();
    auto params = op->getAttrOfType<ArrayAttr>("qk.params");
    auto spec = op->getAttrOfType<DictionaryAttr>("qk.spec");
    if (!params || !spec || !kernel.getKernelSymbol() || !kernel.getLaunch()) {
      error = "a kernel op has no generated kernel (run --lower-to-nvptx)";
      bad = true;
      return;
    }
    StringRef cache;
    if (auto ref = op->getAttrOfType<FlatSymbolRefAttr>("cache"))
      cache = ref.getValue();
    llvm::json::Array args;
    for (Attribute p : params) {
      StringRef param = cast<StringAttr>(p).getValue();
      auto [kind, number] = param.split(':');
      if (kind == "cache") {
        args.push_back((cache + "." + number).str());
        continue;
      }
      unsigned n = 0;
      number.getAsInteger(10, n);
      Value v = kind == "operand" ? op->getOperand(n) : op->getResult(n);
      FailureOr<std::string> name = bufferOf(v, error);
      if (failed(name)) {
        error = "kernel " + std::to_string(index) + ": " + error;
        bad = true;
        return;
      }
      args.push_back(*name);
    }
    auto launchJson = [](qk::LaunchAttr launch) {
      llvm::json::Object l;
      l["block"] = toJson(launch.getBlock());
      l["token_tile"] = launch.getTokenTile();
      l["per_tile"] = launch.getPerTile();
      l["grid_y"] = launch.getGridY();
      l["grid_z"] = launch.getGridZ();
      l["shared_bytes"] = launch.getSharedBytes();
      return l;
    };
    llvm::json::Object k;
    k["name"] = kernel.getKernelSymbol().getLeafReference().getValue().str();
    k["family"] = kernel.getKernelFamily().str();
    k["spec"] = toJson(spec);
    k["args"] = std::move(args);
    k["launch"] = launchJson(kernel.getLaunch());
    // Kernels for launches of few tokens (a GEMM's weight-streaming ones,
    // attention's split decode kernel).
    auto smallKernels = op->getAttrOfType<ArrayAttr>("qk.small_m_kernels");
    auto smallLaunches = op->getAttrOfType<ArrayAttr>("qk.small_m_launches");
    auto smallRows = op->getAttrOfType<DenseI64ArrayAttr>("qk.small_m_rows");
    if (smallKernels && smallLaunches && smallRows &&
        smallKernels.size() == smallLaunches.size() &&
        static_cast<int64_t>(smallKernels.size()) == smallRows.size() &&
        !smallKernels.empty()) {
      llvm::json::Array variants;
      ArrayRef<int64_t> rows = smallRows.asArrayRef();
      for (auto [i, sym] : llvm::enumerate(smallKernels)) {
        llvm::json::Object v;
        v["name"] =
            cast<SymbolRefAttr>(sym).getLeafReference().getValue().str();
        v["max_m"] = rows[i];
        v["launch"] = launchJson(cast<qk::LaunchAttr>(smallLaunches[i]));
        variants.push_back(std::move(v));
      }
      k["small_m"] = std::move(variants);
    }
    kernels.push_back(std::move(k));
    sequence.push_back(index++);
  });
  if (bad)
    return failure();

  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  if (ret.getNumOperands() != 2)
    return (error = "the model function must return (logits, next token)",
            failure());
  llvm::json::Object outputs;
  const char *keys[] = {"logits", "next_token"};
  for (unsigned i = 0; i < 2; ++i) {
    const char *key = keys[i];
    FailureOr<std::string> name = bufferOf(ret.getOperand(i), error);
    if (failed(name))
      return failure();
    outputs[key] = *name;
  }
  llvm::json::Array caches;
  for (auto cache : module.getOps<qk::KVCacheOp>()) {
    auto side = [](Type storage, qopt::QuantSchemeAttr scheme) {
      llvm::json::Object o;
      o["storage"] = dtypeName(storage);
      std::string scales = "none";
      if (scheme)
        scales = isa<qopt::PerTokenAttr>(scheme.getGranularity()) ? "per_token"
                 : isa<qopt::PerHeadAttr>(scheme.getGranularity())
                     ? "per_head"
                     : "per_tensor";
      o["scales"] = scales;
      return o;
    };
    llvm::json::Object c;
    c["name"] = cache.getSymName().str();
    c["layer"] = int64_t(cache.getLayer());
    c["num_kv_heads"] = int64_t(cache.getNumKvHeads());
    c["head_dim"] = int64_t(cache.getHeadDim());
    c["key"] = side(cache.getKeyType(), cache.getKeySchemeAttr());
    c["value"] = side(cache.getValueType(), cache.getValueSchemeAttr());
    caches.push_back(std::move(c));
  }
  if (!checkpointTensors.empty()) {
    SmallString<256> path(reader->storePath(checkpointStore));
    llvm::sys::fs::make_absolute(path);
    llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
    manifest["checkpoint"] = llvm::json::Object{
        {"path", std::string(path)}, {"tensors", std::move(checkpointTensors)}};
  }
  manifest["buffers"] = std::move(buffers);
  manifest["kv_caches"] = std::move(caches);
  manifest["inputs"] =
      llvm::json::Object{{"tokens", "tokens"}, {"positions", "positions"}};
  manifest["outputs"] = std::move(outputs);
  manifest["kernels"] = std::move(kernels);
  manifest["prefill"] = llvm::json::Array(sequence);
  manifest["decode"] = std::move(sequence);
  return success();
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

static bool writeFile(const std::string &path, StringRef bytes,
                      std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return (error = path + ": " + ec.message(), false);
  os << bytes;
  os.close();
  if (os.has_error())
    return (error = path + ": write failed", false);
  return true;
}

/// ptxas from PATH, else the CUDA toolkit's default place; empty if none.
static std::string findPtxas() {
  if (llvm::ErrorOr<std::string> p = llvm::sys::findProgramByName("ptxas"))
    return *p;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  return "";
}

/// Writes every file of the bundle into `dir` (which exists and is empty).
static bool writeBundle(ModuleOp module, const std::string &input,
                        const std::string &dir, bool kernelsOnly,
                        const std::string &checkpointStore, bool cubin,
                        std::string &error) {
  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  if (funcs.size() != 1)
    return (error = "expected one model function", false);
  func::FuncOp func = funcs.front();
  auto maxTokens = func->getAttrOfType<IntegerAttr>("qk.max_tokens");
  auto arena = func->getAttrOfType<IntegerAttr>("qk.arena_bytes");
  auto chip = module->getAttrOfType<StringAttr>("qk.chip");
  if (!maxTokens || !arena || !chip)
    return (error = "the module is not compiled (run qopt --lower-to-nvptx)",
            false);
  std::string ptx;
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute o : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(o))
        if (object.getFormat() == gpu::CompilationTarget::Assembly)
          ptx = object.getObject().getValue().str();
  if (ptx.empty())
    return (error = "the module holds no PTX (a gpu.binary in assembly "
                    "format, as --lower-to-nvptx makes)",
            false);

  std::unique_ptr<qopt::WeightReader> reader;
  if (!kernelsOnly) {
    reader = qopt::WeightReader::open(module, error);
    if (!reader)
      return false;
  }
  if (!checkpointStore.empty() && reader &&
      reader->storePath(checkpointStore).empty())
    return (error = "--weights-at-load: the model has no weight store @" +
                    checkpointStore +
                    " (--checkpoint-store names the "
                    "checkpoint's)",
            false);
  BundleBuilder builder(module, func, reader.get(), checkpointStore);
  if (failed(builder.build(error)))
    return false;
  llvm::json::Object manifest = builder.takeManifest();
  std::vector<qrt::TensorData> weights = builder.takeWeights();

  qopt::ModelAttr model = qopt::getModelAttr(module);
  llvm::json::Object m;
  if (model) {
    m["architecture"] = model.getArchitecture().str();
    m["vocab_size"] = model.getVocabSize();
    m["max_position_embeddings"] = model.getMaxPositionEmbeddings();
    m["bos_token_id"] = model.getBosTokenId();
    m["eos_token_id"] = model.getEosTokenId();
  }
  std::string stores;
  for (auto store : module.getOps<qopt::WeightStoreOp>())
    stores += (stores.empty() ? "@" : ", @") + store.getSymName().str();
  manifest["format"] = "qopt-bundle";
  manifest["version"] = 1;
  manifest["chip"] = chip.getValue().str();
  manifest["model"] = std::move(m);
  // What made the bundle: the compiled IR, its lowering and the weight
  // stores (the quantization passes) it reads.
  manifest["recipe"] = input +
                       " (--lower-to-nvptx=chip=" + chip.getValue().str() +
                       "; weight stores " + stores + ")";
  manifest["max_tokens"] = maxTokens.getInt();
  manifest["arena_bytes"] = arena.getInt();
  // The kernels wait for their grid dependencies themselves
  // (convert-kernels-to-gpu grid-dependency): they may be launched
  // programmatically.
  if (module->hasAttr("qk.grid_dependency"))
    manifest["grid_dependency"] = true;
  manifest["ptx"] = "kernels.ptx";
  if (!kernelsOnly)
    manifest["weights"] = "weights.safetensors";

  if (!writeFile(dir + "/kernels.ptx", ptx, error))
    return false;
  if (std::string ptxas = cubin ? findPtxas() : ""; !ptxas.empty()) {
    std::string cubin = "kernels." + chip.getValue().str() + ".cubin";
    std::string log = dir + "/ptxas.log";
    std::string arch = "-arch=" + chip.getValue().str();
    std::string in = dir + "/kernels.ptx", out = dir + "/" + cubin;
    SmallVector<StringRef> args = {ptxas, arch, in, "-o", out};
    std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log),
                                            StringRef(log)};
    std::string execError;
    int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects, 0,
                                       0, &execError);
    auto logText = llvm::MemoryBuffer::getFile(log);
    llvm::sys::fs::remove(log);
    if (rc != 0)
      return (error = "ptxas rejected the PTX: " +
                      (logText ? (*logText)->getBuffer().str() : execError),
              false);
    manifest["cubin"] = cubin;
  }
  if (model && !model.getTokenizer().empty()) {
    SmallString<256> tok(qopt::moduleDirectory(module));
    llvm::sys::path::append(tok, model.getTokenizer());
    if (model.getTokenizer().starts_with("/"))
      tok = model.getTokenizer();
    if (std::error_code ec =
            llvm::sys::fs::copy_file(tok, dir + "/tokenizer.json"))
      return (error = std::string(tok) + ": " + ec.message(), false);
    manifest["tokenizer"] = "tokenizer.json";
  }
  if (!kernelsOnly &&
      !qrt::writeSafetensors(dir + "/weights.safetensors", weights, {}, error))
    return false;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest)));
  return writeFile(dir + "/manifest.json", text + "\n", error);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::opt<std::string> input(cl::Positional, cl::desc("<compiled model.mlir>"),
                             cl::Required);
  cl::opt<std::string> output("o", cl::desc("Bundle directory to write"),
                              cl::value_desc("DIR"), cl::Required);
  cl::opt<bool> kernelsOnly(
      "kernels-only",
      cl::desc("Write no weights: a bundle for qopt-kernel-check, which "
               "runs each kernel on random inputs (e.g. at the shapes of a "
               "model too large to copy)"));
  cl::opt<bool> weightsAtLoad(
      "weights-at-load",
      cl::desc("Copy no checkpoint weights into the bundle: the runtime "
               "reads them from the checkpoint when it loads the bundle, "
               "quantizing those of at-load stores (qopt --...=at-load); "
               "qopt-run --checkpoint DIR gives the checkpoint elsewhere"));
  cl::opt<std::string> checkpointStore(
      "checkpoint-store",
      cl::desc("The weight store of the checkpoint (default: ckpt, as "
               "qopt-import names it)"),
      cl::value_desc("SYMBOL"), cl::init("ckpt"));
  cl::opt<bool> noCubin(
      "no-cubin",
      cl::desc("Do not assemble the PTX with ptxas (the CUDA driver then "
               "compiles the PTX when the bundle loads)"));
  cl::ParseCommandLineOptions(
      argc, argv,
      "qopt-bundle: writes the runtime bundle of a model compiled with "
      "qopt --lower-to-nvptx\n");
  auto fail = [](const std::string &msg) {
    llvm::errs() << "qopt-bundle: error: " << msg << "\n";
    return 1;
  };

  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(input, sourceMgr, &context);
  if (!module)
    return 1;

  // An existing non-bundle path is never replaced.
  std::string out = output;
  while (out.size() > 1 && out.back() == '/')
    out.pop_back();
  if (llvm::sys::fs::exists(out) &&
      !llvm::sys::fs::exists(out + "/manifest.json"))
    return fail(out + " exists and is not a qopt bundle; not replacing it");

  // The temporary directory sits beside DIR (same file system, so the final
  // rename is atomic).
  std::string tmp, error;
  if (failed(qopt::createDirectoryBeside(out, tmp, error)))
    return fail(error);
  if (weightsAtLoad && kernelsOnly)
    return fail("--weights-at-load and --kernels-only exclude each other "
                "(a kernels-only bundle has no weights)");
  bool ok = writeBundle(*module, input, tmp, kernelsOnly,
                        weightsAtLoad ? checkpointStore.getValue() : "",
                        !noCubin, error);
  if (ok) {
    // Replace an older bundle only once the new one is complete.
    std::string old;
    if (llvm::sys::fs::exists(out)) {
      old = out + ".old";
      llvm::sys::fs::remove_directories(old);
      if (std::error_code ec = llvm::sys::fs::rename(out, old)) {
        error = out + ": " + ec.message();
        ok = false;
      }
    }
    if (ok) {
      if (std::error_code ec = llvm::sys::fs::rename(tmp, out)) {
        error = out + ": " + ec.message();
        ok = false;
        if (!old.empty())
          llvm::sys::fs::rename(old, out);
      } else if (!old.empty()) {
        llvm::sys::fs::remove_directories(old);
      }
    }
  }
  if (!ok) {
    llvm::sys::fs::remove_directories(tmp);
    return fail(error);
  }
  return 0;
}
