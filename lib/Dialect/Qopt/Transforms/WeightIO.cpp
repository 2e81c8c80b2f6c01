//===- WeightIO.cpp - Weight reading and writing for passes ---------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt-runtime/Parallel.h"
#include "qopt-runtime/QuantMath.h"
#include "qopt/Dialect/Qopt/Transforms/AtLoadWeights.h"

#include "qopt-runtime/Kernels.h"
#include "qopt-runtime/Safetensors.h"
#include "qopt-runtime/WeightRecipe.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sys/mman.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::qopt;

namespace {
std::string typeString(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// Shards are flushed when this many bytes are buffered.
constexpr size_t kShardBytes = size_t(1) << 30;
} // namespace

std::string mlir::qopt::moduleDirectory(ModuleOp module) {
  std::string dir = ".";
  module->getLoc()->walk([&](Location loc) {
    if (auto file = dyn_cast<FileLineColLoc>(loc)) {
      StringRef name = file.getFilename().getValue();
      if (!name.empty() && name != "-" && name != "<stdin>") {
        llvm::SmallString<256> d(name);
        llvm::sys::path::remove_filename(d);
        dir = d.empty() ? "." : std::string(d);
      }
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return dir;
}

/// `path` made absolute and normalized lexically, without a trailing
/// separator. Symbolic links are kept: a path through a Hugging Face cache
/// snapshot (files linked into ../../blobs) must stay one, or the names the
/// loader looks up beside it are lost.
static std::filesystem::path normalPath(const std::string &path) {
  std::filesystem::path p =
      std::filesystem::absolute(path.empty() ? "." : path).lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p != p.root_path())
    p = p.parent_path();
  return p;
}

/// `target` relative to the directory `base` (both made absolute and normal
/// lexically), or absolute when they share no root.
static std::string relativePath(const std::string &target,
                                const std::string &base) {
  std::filesystem::path t = normalPath(target);
  std::filesystem::path rel = t.lexically_relative(normalPath(base));
  return rel.empty() ? t.string() : rel.string();
}

static std::string rebasePath(const std::string &path, const std::string &from,
                              const std::string &to) {
  if (path.empty() || std::filesystem::path(path).is_absolute())
    return path;
  return relativePath((normalPath(from) / path).string(), to);
}

void mlir::qopt::rebaseWeightStorePaths(ModuleOp module,
                                        const std::string &from,
                                        const std::string &to) {
  for (WeightStoreOp store : module.getOps<WeightStoreOp>())
    store.setPath(rebasePath(store.getPath().str(), from, to));
  if (ModelAttr model = getModelAttr(module))
    setModelAttr(module, model.mapPaths([&](StringRef p) {
      return rebasePath(p.str(), from, to);
    }));
}

LogicalResult mlir::qopt::createDirectoryBeside(StringRef path,
                                                std::string &tmp,
                                                std::string &error) {
  SmallString<256> name;
  std::error_code ec;
  for (int attempt = 0; attempt < 16; ++attempt) {
    llvm::sys::fs::createUniquePath(path + ".tmp-%%%%%%", name,
                                    /*MakeAbsolute=*/false);
    ec = llvm::sys::fs::create_directory(name, /*IgnoreExisting=*/false);
    if (ec != std::errc::file_exists)
      break;
  }
  if (ec) {
    error = std::string(name) + ": " + ec.message();
    return failure();
  }
  tmp = std::string(name);
  return success();
}

LogicalResult
mlir::qopt::writeOutputFile(StringRef path,
                            function_ref<LogicalResult(raw_ostream &)> write,
                            std::string &error) {
  if (path == "-" || path.starts_with("/dev/")) {
    std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(path, &error);
    if (!out || failed(write(out->os())))
      return failure();
    out->os().flush();
    if (out->os().has_error()) {
      error = "cannot write " + path.str() + ": " + out->os().error().message();
      out->os().clear_error();
      return failure();
    }
    out->keep();
    return success();
  }
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(path + ".tmp-%%%%%%");
  if (!temp) {
    error = "cannot create a temporary file beside " + path.str() + ": " +
            llvm::toString(temp.takeError());
    return failure();
  }
  bool ok;
  {
    llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    ok = succeeded(write(os));
    os.flush();
    if (os.has_error()) {
      if (ok)
        error = "cannot write " + path.str() + ": " + os.error().message();
      ok = false;
      os.clear_error();
    }
  }
  if (!ok) {
    llvm::consumeError(temp->discard());
    return failure();
  }
  if (llvm::Error e = temp->keep(path)) {
    error = "cannot rename the output into " + path.str() + ": " +
            llvm::toString(std::move(e));
    return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// WeightOutputCleanup
//===----------------------------------------------------------------------===//

void WeightOutputCleanup::Record::add(ModuleOp module) {
  auto list = module->getAttrOfType<ArrayAttr>(kCreatedWeightFilesAttrName);
  if (!list)
    return;
  std::lock_guard<std::mutex> lock(mutex);
  for (Attribute a : list)
    if (auto path = dyn_cast<StringAttr>(a))
      files.insert(path.str());
}

void WeightOutputCleanup::Record::removeFiles() {
  std::lock_guard<std::mutex> lock(mutex);
  std::set<std::string> dirs;
  for (const std::string &path : files) {
    std::remove(path.c_str());
    dirs.insert(std::filesystem::path(path).parent_path().string());
  }
  // Only removes a directory when nothing else is in it.
  for (const std::string &dir : dirs)
    ::rmdir(dir.c_str());
  files.clear();
}

static ModuleOp enclosingModule(Operation *op) {
  if (auto module = dyn_cast<ModuleOp>(op))
    return module;
  return op ? op->getParentOfType<ModuleOp>() : ModuleOp();
}

void WeightOutputCleanup::runAfterPass(Pass *, Operation *op) {
  if (ModuleOp module = enclosingModule(op))
    record->add(module);
}

void WeightOutputCleanup::runAfterPassFailed(Pass *, Operation *op) {
  if (ModuleOp module = enclosingModule(op)) {
    record->add(module);
    module->removeAttr(kCreatedWeightFilesAttrName);
  }
  record->removeFiles();
}

//===----------------------------------------------------------------------===//
// WeightReader
//===----------------------------------------------------------------------===//

WeightReader::~WeightReader() = default;

/// Fails when `values`, tensor `name` of store `store`, holds a NaN or an
/// infinity: such a weight poisons every result it reaches, silently.
static LogicalResult checkFinite(const std::vector<float> &values,
                                 StringRef store, StringRef name,
                                 std::string &error) {
  for (size_t i = 0, e = values.size(); i < e; ++i) {
    if (std::isfinite(values[i]))
      continue;
    error = "tensor '" + name.str() + "' of store @" + store.str() + " holds " +
            (std::isnan(values[i]) ? "NaN"
             : values[i] > 0       ? "+Inf"
                                   : "-Inf") +
            " at index " + std::to_string(i);
    return failure();
  }
  return success();
}

std::unique_ptr<WeightReader> WeightReader::open(ModuleOp module,
                                                 std::string &error,
                                                 const std::string &baseDir) {
  std::unique_ptr<WeightReader> reader(new WeightReader());
  std::string base = baseDir.empty() ? moduleDirectory(module) : baseDir;
  for (WeightStoreOp store : module.getOps<WeightStoreOp>()) {
    std::string irPath = store.getPath().str();
    std::string path = irPath;
    if (std::filesystem::path(irPath).is_relative())
      path = (std::filesystem::path(base) / irPath).string();
    std::string symbol = store.getSymName().str();
    reader->paths[symbol] = path;
    if (isAtLoadStorePath(path)) {
      std::unique_ptr<AtLoadStore> opened = AtLoadStore::open(path, error);
      if (!opened) {
        error = "weight store @" + symbol + ": " + error;
        return nullptr;
      }
      reader->atLoadStores[symbol] = std::move(opened);
      continue;
    }
    std::unique_ptr<qrt::TensorStore> opened =
        qrt::TensorStore::open(path, error);
    if (!opened) {
      error = "weight store @" + symbol + ": " + error;
      return nullptr;
    }
    reader->stores[symbol] = std::move(opened);
  }
  return reader;
}

const AtLoadTensor *WeightReader::atLoadTensor(WeightOp op) const {
  auto it = atLoadStores.find(op.getStore().str());
  return it == atLoadStores.end() ? nullptr
                                  : it->second->find(op.getName().str());
}

std::string WeightReader::storePath(StringRef symbol) const {
  auto it = paths.find(symbol.str());
  return it == paths.end() ? "" : it->second;
}

const qrt::TensorView *WeightReader::find(const std::string &symbol,
                                          const std::string &name,
                                          std::string &error) {
  if (auto a = atLoadStores.find(symbol); a != atLoadStores.end()) {
    // A source is a float tensor of another store: never this one.
    const qrt::TensorView *view = a->second->materialize(
        name,
        [&](const std::string &store, const std::string &tensor,
            std::string &err) -> const qrt::TensorView * {
          if (atLoadStores.count(store)) {
            err = "at-load store @" + symbol + " reads tensor '" + tensor +
                  "' of at-load store @" + store;
            return nullptr;
          }
          return find(store, tensor, err);
        },
        error);
    if (!view)
      error = "weight store @" + symbol + " (at load): " + error;
    return view;
  }
  auto it = stores.find(symbol);
  if (it == stores.end()) {
    error = "weight store @" + symbol + " is not declared";
    return nullptr;
  }
  const qrt::TensorView *view = it->second->find(name);
  if (!view)
    error = "weight store @" + symbol + " has no tensor '" + name + "'";
  return view;
}

bool WeightReader::isWeightExpression(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !isa<FloatType>(type.getElementType()) ||
      type.getElementType().getIntOrFloatBitWidth() < 16)
    return false;
  if (value.getDefiningOp<WeightOp>())
    return true;
  if (auto sc = value.getDefiningOp<ScaleChannelsOp>())
    return isWeightExpression(sc.getInput()) &&
           isWeightExpression(sc.getScales());
  return false;
}

const qrt::TensorView *WeightReader::lookup(WeightOp op, std::string &error) {
  return find(op.getStore().str(), op.getName().str(), error);
}

/// view.toFloat() for the float dtypes of weights, converted in parallel
/// (element by element, so the values are the same).
static void toFloats(const qrt::TensorView &view, std::vector<float> &out) {
  int64_t n = view.numElements();
  out.resize(static_cast<size_t>(n));
  constexpr int64_t kGrain = int64_t(1) << 16;
  qrt::parallelForChunks(n, kGrain, 4.0, 0, [&](int64_t b, int64_t e) {
    if (view.dtype == qrt::DType::F32) {
      std::memcpy(out.data() + b, view.data + 4 * b, 4 * (e - b));
    } else if (view.dtype == qrt::DType::BF16) {
      // qnum::bf16ToFloat, inline so that the loop vectorizes.
      for (int64_t i = b; i < e; ++i) {
        uint16_t bits;
        std::memcpy(&bits, view.data + 2 * i, 2);
        uint32_t u = static_cast<uint32_t>(bits) << 16;
        std::memcpy(&out[i], &u, 4);
      }
    } else {
      for (int64_t i = b; i < e; ++i)
        out[i] = view.getFloat(i);
    }
  });
}

/// Whether a stored shape holds the IR's elements in the same order: equal
/// once dimensions of size 1 are dropped ([N, 1] for [N], [1] for []).
static bool sameElements(ArrayRef<int64_t> stored, ArrayRef<int64_t> ir) {
  auto squeeze = [](ArrayRef<int64_t> s) {
    SmallVector<int64_t> out;
    for (int64_t d : s)
      if (d != 1)
        out.push_back(d);
    return out;
  };
  return squeeze(stored) == squeeze(ir);
}

LogicalResult WeightReader::evaluate(Value value, std::vector<float> &out,
                                     std::string &error) {
  if (auto w = value.getDefiningOp<WeightOp>()) {
    const qrt::TensorView *t = lookup(w, error);
    if (!t)
      return failure();
    RankedTensorType type = w.getResult().getType();
    if (!sameElements(t->shape, type.getShape())) {
      error = "tensor '" + w.getName().str() + "' has shape " +
              ::qnum::shapeToString(t->shape) + " in the store but " +
              ::qnum::shapeToString(
                  {type.getShape().begin(), type.getShape().end()}) +
              " in the IR";
      return failure();
    }
    Type e = type.getElementType();
    qrt::DType d = t->dtype;
    if (!((e.isBF16() && d == qrt::DType::BF16) ||
          (e.isF16() && d == qrt::DType::F16) ||
          (e.isF32() && d == qrt::DType::F32))) {
      error = "tensor '" + w.getName().str() + "' is " + qrt::dtypeName(d) +
              " in the store but " + typeString(e) + " in the IR";
      return failure();
    }
    toFloats(*t, out);
    return checkFinite(out, w.getStore(), w.getName(), error);
  }
  if (auto sc = value.getDefiningOp<ScaleChannelsOp>()) {
    std::vector<float> scales;
    if (failed(evaluate(sc.getInput(), out, error)) ||
        failed(evaluate(sc.getScales(), scales, error)))
      return failure();
    ArrayRef<int64_t> shape = sc.getInput().getType().getShape();
    qrt::kernels::scaleChannels(out.data(), {shape.begin(), shape.end()},
                                scales.data(), sc.getAxis());
    return success();
  }
  error = "value is not a weight expression (qopt.weight, or "
          "qopt.scale_channels of weights)";
  return failure();
}

LogicalResult WeightReader::readStorage(WeightOp op, std::vector<float> &out,
                                        std::string &error) {
  const qrt::TensorView *t = lookup(op, error);
  if (!t)
    return failure();
  const qrt::TensorView &v = *t;
  RankedTensorType type = op.getResult().getType();
  Type e = type.getElementType();
  std::vector<int64_t> logical(type.getShape().begin(), type.getShape().end());
  int64_t count = 1;
  for (int64_t d : logical)
    count *= d;
  std::vector<int64_t> expected = logical;
  qrt::DType want;
  Packing packing = op.getPacking() ? *op.getPacking() : Packing::None;
  if (e.isSignlessInteger(8))
    want = qrt::DType::I8;
  else if (isa<Float8E4M3FNType>(e))
    want = qrt::DType::F8_E4M3;
  else if (isa<Float8E5M2Type>(e))
    want = qrt::DType::F8_E5M2;
  else if (e.isSignlessInteger(4) && packing == Packing::Int4x2) {
    want = qrt::DType::U8;
    expected.back() = (expected.back() + 1) / 2;
  } else if (e.isSignlessInteger(4) && packing == Packing::Int4x8Offset) {
    want = qrt::DType::I32;
    expected.back() = expected.back() / 8;
  } else {
    error = "tensor '" + op.getName().str() + "' has element type " +
            typeString(e) + ", which is not a storage type this reader knows";
    return failure();
  }
  if (v.dtype != want || v.shape != expected) {
    error = "tensor '" + op.getName().str() + "' is " +
            qrt::dtypeName(v.dtype) + " " + ::qnum::shapeToString(v.shape) +
            " in the store but the IR needs " + qrt::dtypeName(want) + " " +
            ::qnum::shapeToString(expected);
    return failure();
  }
  out.resize(count);
  if (want == qrt::DType::U8) {
    // Rows are packed independently (an odd row length pads its last byte).
    int64_t cols = logical.back(), rows = count / cols;
    int64_t bytesPerRow = expected.back();
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<uint8_t> packed(v.data + r * bytesPerRow,
                                  v.data + (r + 1) * bytesPerRow);
      std::vector<int8_t> vals = ::qnum::unpackInt4x2(packed, cols);
      for (int64_t c = 0; c < cols; ++c)
        out[r * cols + c] = vals[c];
    }
    return success();
  }
  if (want == qrt::DType::I32) {
    std::vector<int32_t> packed(count / 8);
    std::memcpy(packed.data(), v.data, packed.size() * 4);
    std::vector<int8_t> vals = ::qnum::unpackInt4x8Offset(packed, count);
    for (int64_t i = 0; i < count; ++i)
      out[i] = vals[i];
    return success();
  }
  for (int64_t i = 0; i < count; ++i) {
    uint8_t byte = v.data[i];
    out[i] = want == qrt::DType::I8        ? static_cast<int8_t>(byte)
             : want == qrt::DType::F8_E4M3 ? ::qnum::e4m3fnToFloat(byte)
                                           : ::qnum::e5m2ToFloat(byte);
  }
  if (want == qrt::DType::I8)
    return success();
  return checkFinite(out, op.getStore(), op.getName(), error);
}

LogicalResult WeightReader::readTensor(StringRef store, StringRef name,
                                       std::vector<float> &out,
                                       std::vector<int64_t> &shape,
                                       std::string &error) {
  if (!stores.count(store.str()) && !atLoadStores.count(store.str())) {
    error = "the module has no weight store @" + store.str();
    return failure();
  }
  const qrt::TensorView *view = find(store.str(), name.str(), error);
  if (!view)
    return failure();
  shape = view->shape;
  out = view->toFloat();
  return checkFinite(out, store, name, error);
}

LogicalResult WeightReader::readInt32(WeightOp op, std::vector<int32_t> &out,
                                      std::string &error) {
  const qrt::TensorView *t = lookup(op, error);
  if (!t)
    return failure();
  RankedTensorType type = op.getResult().getType();
  // Zero points stored as int8 (as other tools store them) widen exactly.
  if (!type.getElementType().isSignlessInteger(32) ||
      (t->dtype != qrt::DType::I32 && t->dtype != qrt::DType::I8) ||
      !sameElements(t->shape, type.getShape())) {
    error =
        "tensor '" + op.getName().str() + "' is " + qrt::dtypeName(t->dtype) +
        " " + ::qnum::shapeToString(t->shape) +
        " in the store but the IR needs I32 " +
        ::qnum::shapeToString({type.getShape().begin(), type.getShape().end()});
    return failure();
  }
  out.resize(t->numElements());
  if (t->dtype == qrt::DType::I8) {
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<int8_t>(t->data[i]);
    return success();
  }
  std::memcpy(out.data(), t->data, out.size() * 4);
  return success();
}

void WeightReader::pageSpans(Value value, std::vector<PageSpan> &spans) {
  if (auto w = value.getDefiningOp<WeightOp>()) {
    if (atLoadStores.count(w.getStore().str()))
      return; // computed, not mapped
    std::string ignored;
    if (const qrt::TensorView *t = lookup(w, ignored))
      spans.push_back({t->data, t->nbytes});
    return;
  }
  if (auto sc = value.getDefiningOp<ScaleChannelsOp>()) {
    pageSpans(sc.getInput(), spans);
    pageSpans(sc.getScales(), spans);
  }
}

void WeightReader::release(Value value) {
  if (auto w = value.getDefiningOp<WeightOp>()) {
    if (atLoadStores.count(w.getStore().str()))
      return; // computed into memory the reader owns: not file pages
    std::string ignored;
    if (const qrt::TensorView *t = lookup(w, ignored))
      qrt::releasePages(*t);
    return;
  }
  if (auto sc = value.getDefiningOp<ScaleChannelsOp>()) {
    release(sc.getInput());
    release(sc.getScales());
  }
}

//===----------------------------------------------------------------------===//
// WeightWriter
//===----------------------------------------------------------------------===//

std::unique_ptr<WeightWriter>
WeightWriter::create(ModuleOp module, const std::string &directory,
                     const std::string &name, std::string &error, bool atLoad) {
  std::unique_ptr<WeightWriter> w(new WeightWriter());
  w->module = module;
  w->name = name;
  w->atLoad = atLoad;
  if (!directory.empty()) {
    w->directory = normalPath(directory).string();
    w->irDirectory = w->directory;
  } else if (auto attr =
                 module->getAttrOfType<StringAttr>(kWeightsOutputAttrName)) {
    w->directory = normalPath(attr.str()).string();
    w->irDirectory = relativePath(w->directory, moduleDirectory(module));
  } else {
    error = "no directory for the weights this pass writes: give the pass "
            "option weights-out=DIR, or run qopt with -o FILE (the weights "
            "then go to FILE.weights/)";
    return nullptr;
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(w->directory)) {
    error = "cannot create the weights directory " + w->directory + ": " +
            ec.message();
    return nullptr;
  }
  // A store symbol not used yet: @name, @name_1, ...
  SymbolTable symbols(module);
  w->symbol = name;
  for (int i = 1; symbols.lookup(w->symbol); ++i)
    w->symbol = name + "_" + std::to_string(i);
  // Files are named after the symbol and their content.
  w->name = w->symbol;
  return w;
}

WeightWriter::~WeightWriter() {
  std::string ignored;
  (void)waitForShard(ignored);
  if (finished)
    return;
  for (const std::string &path : written)
    std::remove(path.c_str());
  // Only removes the directory when nothing else is in it.
  ::rmdir(directory.c_str());
}

LogicalResult WeightWriter::addAtLoad(const std::string &tensorName,
                                      const AtLoadTensor &tensor,
                                      std::string &error) {
  if (!atLoad || atLoadTensors.count(tensorName)) {
    error = atLoad ? "the at-load store '" + name + "' already has a tensor '" +
                         tensorName + "'"
                   : "the side store '" + name + "' is not an at-load store";
    return failure();
  }
  atLoadTensors[tensorName] = tensor;
  return success();
}

LogicalResult WeightWriter::add(qrt::TensorData &&tensor, std::string &error) {
  if (atLoad) {
    error = "the at-load store '" + name + "' takes no data (tensor '" +
            tensor.name + "')";
    return failure();
  }
  if (weightMap.count(tensor.name)) {
    error = "the side store '" + name + "' already has a tensor '" +
            tensor.name + "'";
    return failure();
  }
  weightMap[tensor.name] = "";
  pendingBytes += tensor.data.size();
  pending.push_back(std::move(tensor));
  if (pendingBytes >= kShardBytes)
    return flush(error);
  return success();
}

LogicalResult WeightWriter::waitForShard(std::string &error) {
  if (writer.joinable())
    writer.join();
  if (!writing.empty() && !writeFailed) {
    if (writtenShard.created)
      written.push_back(directory + "/" + writtenShard.fileName);
    for (const qrt::TensorData &t : writing)
      weightMap[t.name] = writtenShard.fileName;
  }
  writing.clear();
  if (writeFailed) {
    error = writeError;
    return failure();
  }
  return success();
}

LogicalResult WeightWriter::flush(std::string &error) {
  if (failed(waitForShard(error)))
    return failure();
  if (pending.empty())
    return success();
  // The shard is named by its content, so its name is known once it is
  // written: waitForShard records it.
  totalBytes += pendingBytes;
  writing = std::move(pending);
  pending.clear();
  pendingBytes = 0;
  writer = std::thread([this] {
    writeFailed = !qrt::writeSafetensorsByContent(
        directory, name, writing, {{"format", "pt"}}, writtenShard, writeError);
  });
  return success();
}

LogicalResult WeightWriter::addFloat(const std::string &tensorName,
                                     std::vector<int64_t> shape,
                                     const std::vector<float> &values,
                                     std::string &error) {
  return add(qrt::TensorData::fromFloats(tensorName, std::move(shape), values),
             error);
}

LogicalResult WeightWriter::addInt32(const std::string &tensorName,
                                     std::vector<int64_t> shape,
                                     const std::vector<int32_t> &values,
                                     std::string &error) {
  return add(qrt::TensorData::fromInt32(tensorName, std::move(shape), values),
             error);
}

/// Calls fn(begin, end) over [0, n) in parallel chunks of about 64K
/// elements (a multiple of `multiple`).
template <typename Fn>
static void encodeChunks(int64_t n, int64_t multiple, const Fn &fn) {
  int64_t grain = ((int64_t(1) << 16) + multiple - 1) / multiple * multiple;
  qrt::parallelForChunks(n, grain, 4.0, 0, fn);
}

LogicalResult WeightWriter::addStorage(const std::string &tensorName,
                                       std::vector<int64_t> shape,
                                       const std::vector<float> &values,
                                       Type storage, Packing packing,
                                       std::string &error) {
  qrt::TensorData t;
  t.name = tensorName;
  t.shape = shape;
  int64_t count = static_cast<int64_t>(values.size());
  if (storage.isSignlessInteger(8) ||
      isa<Float8E4M3FNType, Float8E5M2Type>(storage) ||
      (storage.isSignlessInteger(4) && packing == Packing::Int4x2)) {
    // The encoding the runtime's loader uses for weights quantized at load.
    ::qnum::StorageKind kind =
        storage.isSignlessInteger(8)     ? ::qnum::StorageKind::Int8
        : storage.isSignlessInteger(4)   ? ::qnum::StorageKind::Int4
        : isa<Float8E4M3FNType>(storage) ? ::qnum::StorageKind::Float8E4M3FN
                                         : ::qnum::StorageKind::Float8E5M2;
    t = qrt::encodeStorage(tensorName, shape, values, kind);
  } else if (storage.isSignlessInteger(4) && packing == Packing::Int4x8Offset) {
    if (shape.back() % 8 != 0) {
      error = "int4x8_offset packing needs an innermost size divisible by 8";
      return failure();
    }
    t.dtype = qrt::DType::I32;
    t.shape.back() /= 8;
    t.data.resize(values.size() / 8 * 4);
    // Every eight values make one word, whatever chunk they are packed in.
    encodeChunks(count, 8, [&](int64_t b, int64_t e) {
      std::vector<int8_t> vals(values.begin() + b, values.begin() + e);
      std::vector<int32_t> packed = ::qnum::packInt4x8Offset(vals);
      std::memcpy(t.data.data() + b / 2, packed.data(), packed.size() * 4);
    });
  } else {
    error = "cannot store values of type " + typeString(storage) +
            (storage.isSignlessInteger(4) ? " without a packing" : "");
    return failure();
  }
  return add(std::move(t), error);
}

Value WeightWriter::reference(OpBuilder &b, Location loc,
                              const std::string &tensorName,
                              RankedTensorType type, Packing packing) {
  if (!storeOp) {
    OpBuilder::InsertionGuard guard(b);
    // After the last existing store, or at the start of the module.
    Block *body = module.getBody();
    auto stores = module.getOps<WeightStoreOp>();
    if (stores.empty())
      b.setInsertionPointToStart(body);
    else {
      WeightStoreOp last;
      for (WeightStoreOp s : stores)
        last = s;
      b.setInsertionPointAfter(last);
    }
    // finish() names the index (after its content).
    std::string irPath = irDirectory + "/" + name + ".safetensors.index.json";
    storeOp = WeightStoreOp::create(b, module.getLoc(), symbol, irPath);
  }
  return WeightOp::create(
      b, loc, type, FlatSymbolRefAttr::get(b.getContext(), symbol),
      b.getStringAttr(tensorName),
      packing == Packing::None ? PackingAttr()
                               : PackingAttr::get(b.getContext(), packing));
}

LogicalResult WeightWriter::finish(std::string &error) {
  if (failed(flush(error)) || failed(waitForShard(error)))
    return failure();
  qrt::ContentNamedFile index;
  if (atLoad) {
    if (failed(writeAtLoadStore(directory, name, atLoadTensors, index.fileName,
                                index.created, error)))
      return failure();
  } else if (!qrt::writeSafetensorsIndexByContent(directory, name, weightMap,
                                                  totalBytes, index, error)) {
    return failure();
  }
  if (index.created)
    written.push_back(directory + "/" + index.fileName);
  if (storeOp)
    storeOp.setPath(irDirectory + "/" + index.fileName);
  // The files this run created, for WeightOutputCleanup when it fails.
  MLIRContext *ctx = module.getContext();
  SmallVector<Attribute> created;
  if (auto list = module->getAttrOfType<ArrayAttr>(kCreatedWeightFilesAttrName))
    created.append(list.begin(), list.end());
  for (const std::string &path : written)
    created.push_back(StringAttr::get(ctx, path));
  if (!created.empty())
    module->setAttr(kCreatedWeightFilesAttrName, ArrayAttr::get(ctx, created));
  finished = true;
  return success();
}
