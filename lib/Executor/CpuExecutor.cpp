//===- CpuExecutor.cpp - Reference execution of qopt IR on the CPU --------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A thin interpreter: ops run in program order on float32 buffers, each
// buffer freed after its last use, and every op's arithmetic is the runtime's
// reference kernel (qopt-runtime/Kernels.h) that the compiled model's CPU
// backend runs too. Observer statistics are accumulated by ObserverStats.
//
//===----------------------------------------------------------------------===//

#include "qopt/Executor/CpuExecutor.h"
#include "qopt/Executor/ObserverStats.h"

#include "qopt-runtime/Kernels.h"
#include "qopt-runtime/Parallel.h"
#include "qopt-runtime/QuantMath.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// A float32 (or, for ids, int32) tensor with its runtime shape.
struct Buffer {
  std::vector<int64_t> shape;
  std::vector<float> f;
  std::vector<int32_t> i;
  int64_t rows() const {
    int64_t r = 1;
    for (size_t d = 0; d + 1 < shape.size(); ++d)
      r *= shape[d];
    return r;
  }
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
};

} // namespace

struct CpuExecutor::Impl {
  ModuleOp module;
  func::FuncOp func;
  CpuExecutorOptions options;
  std::unique_ptr<WeightReader> reader;
  /// Weights converted to float32 on first use.
  llvm::DenseMap<Operation *, std::shared_ptr<Buffer>> weights;
  /// KV cache per attention layer slot.
  std::map<int64_t, qrt::kernels::KVCache> cache;
  int64_t cached = 0;
  int64_t vocab = 0;
  /// Observer statistics when collecting them.
  std::map<Operation *, ObservedStats> stats;
  /// Seconds per op name when profiling.
  std::map<std::string, double> opSeconds;
  /// Index of the last op using each value, to free buffers early.
  llvm::DenseMap<Value, Operation *> lastUse;

  bool prepare(std::string &error);
  std::shared_ptr<Buffer> loadWeight(WeightOp op, std::string &error);
  bool run(Operation *op, llvm::DenseMap<Value, std::shared_ptr<Buffer>> &env,
           int64_t start, std::string &error);
  bool runQuantizedLinear(QuantizedLinearOp op,
                          llvm::DenseMap<Value, std::shared_ptr<Buffer>> &env,
                          std::string &error);
  unsigned threads() const { return qrt::resolveThreads(options.threads); }
};

OwningOpRef<ModuleOp> mlir::qopt::parseModelFile(const std::string &path,
                                                 MLIRContext &context,
                                                 std::string &error) {
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(path, &error);
  if (!file)
    return nullptr;
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  return parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
}

std::string mlir::qopt::modelDirectory(const std::string &path) {
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  return dir.empty() ? "." : std::string(dir);
}

CpuExecutor::CpuExecutor() : impl(std::make_unique<Impl>()) {}
CpuExecutor::~CpuExecutor() = default;

std::unique_ptr<CpuExecutor>
CpuExecutor::create(ModuleOp module, const CpuExecutorOptions &options,
                    std::string &error) {
  std::unique_ptr<CpuExecutor> exec(new CpuExecutor());
  exec->impl->module = module;
  exec->impl->options = options;
  if (!exec->impl->prepare(error))
    return nullptr;
  // Parallelism comes from the executor's own threads, each running
  // single-threaded BLAS calls: nesting OpenBLAS's threads inside them
  // oversubscribes the cores.
  openblas_set_num_threads(1);
  return exec;
}

bool CpuExecutor::Impl::prepare(std::string &error) {
  SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
  for (func::FuncOp f : funcs)
    if (f.getSymName() == "forward")
      func = f;
  if (!func && funcs.size() == 1)
    func = funcs.front();
  if (!func) {
    error = "module has no @forward function";
    return false;
  }
  FunctionType type = func.getFunctionType();
  auto isIds = [](Type t) {
    auto r = dyn_cast<RankedTensorType>(t);
    return r && r.getRank() == 1 && r.getElementType().isSignlessInteger(32);
  };
  auto result = type.getNumResults() == 1
                    ? dyn_cast<RankedTensorType>(type.getResult(0))
                    : RankedTensorType();
  if (type.getNumInputs() != 2 || !isIds(type.getInput(0)) ||
      !isIds(type.getInput(1)) || !result || result.getRank() != 2 ||
      !result.getElementType().isF32() ||
      ShapedType::isDynamic(result.getDimSize(1))) {
    error = "@" + func.getSymName().str() +
            " must have the signature (tensor<?xi32>, tensor<?xi32>) -> "
            "tensor<?xVxf32>";
    return false;
  }
  vocab = result.getDimSize(1);

  // Check every op is one this executor implements, and open the stores.
  bool ok = true;
  func.walk([&](Operation *op) {
    if (!ok || op == func.getOperation())
      return;
    // Keep in sync with the cases of Impl::run.
    bool known =
        isa<EmbeddingOp, RMSNormOp, LayerNormOp, LinearOp, RopeOp, AttentionOp,
            SiluOp, GeluOp, MulOp, AddOp, WeightOp, ObserveOp, QuantizeOp,
            DequantizeOp, RequantizeOp, ScaleChannelsOp, PermuteChannelsOp,
            QuantizedLinearOp, func::ReturnOp, arith::ConstantOp>(op);
    if (!known) {
      error = "the CPU executor does not implement '" +
              op->getName().getStringRef().str() + "'";
      ok = false;
      return;
    }
    for (Value operand : op->getOperands())
      lastUse[operand] = op;
  });
  if (!ok)
    return false;
  reader = WeightReader::open(module, error, options.baseDir);
  if (!reader)
    return false;
  return true;
}

std::shared_ptr<Buffer> CpuExecutor::Impl::loadWeight(WeightOp op,
                                                      std::string &error) {
  auto it = weights.find(op.getOperation());
  if (it != weights.end())
    return it->second;
  RankedTensorType type = op.getResult().getType();
  auto buf = std::make_shared<Buffer>();
  buf->shape.assign(type.getShape().begin(), type.getShape().end());
  Type element = type.getElementType();
  LogicalResult read =
      element.isSignlessInteger(32) ? reader->readInt32(op, buf->i, error)
      : isa<FloatType>(element) && element.getIntOrFloatBitWidth() >= 16
          ? reader->evaluate(op.getResult(), buf->f, error)
          : reader->readStorage(op, buf->f, error);
  if (failed(read))
    return nullptr;
  weights[op.getOperation()] = buf;
  return buf;
}

void CpuExecutor::resetCache() {
  impl->cache.clear();
  impl->cached = 0;
}

int64_t CpuExecutor::cachedPositions() const { return impl->cached; }
int64_t CpuExecutor::vocabSize() const { return impl->vocab; }

const std::map<Operation *, ObservedStats> &CpuExecutor::observedStats() const {
  return impl->stats;
}

std::string CpuExecutor::profile() const {
  std::vector<std::pair<double, std::string>> rows;
  for (const auto &[name, secs] : impl->opSeconds)
    rows.emplace_back(secs, name);
  std::sort(rows.rbegin(), rows.rend());
  std::string out;
  for (const auto &[secs, name] : rows)
    out += name + ": " + std::to_string(secs) + " s\n";
  return out;
}

bool CpuExecutor::forward(const std::vector<int32_t> &ids, int64_t start,
                          std::vector<float> &logits, std::string &error) {
  if (start != impl->cached) {
    error = "forward at position " + std::to_string(start) +
            " but the KV cache holds " + std::to_string(impl->cached) +
            " positions";
    return false;
  }
  if (ids.empty()) {
    error = "no tokens to run";
    return false;
  }
  int64_t n = static_cast<int64_t>(ids.size());
  llvm::DenseMap<Value, std::shared_ptr<Buffer>> env;
  auto idsBuf = std::make_shared<Buffer>();
  idsBuf->shape = {n};
  idsBuf->i = ids;
  auto posBuf = std::make_shared<Buffer>();
  posBuf->shape = {n};
  for (int64_t t = 0; t < n; ++t)
    posBuf->i.push_back(static_cast<int32_t>(start + t));
  env[impl->func.getArgument(0)] = idsBuf;
  env[impl->func.getArgument(1)] = posBuf;

  for (Operation &op : impl->func.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      logits = std::move(env[ret.getOperand(0)]->f);
      break;
    }
    auto t0 = std::chrono::steady_clock::now();
    if (!impl->run(&op, env, start, error))
      return false;
    if (impl->options.profile)
      impl->opSeconds[op.getName().getStringRef().str()] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count();
    for (Value operand : op.getOperands())
      if (impl->lastUse.lookup(operand) == &op)
        env.erase(operand);
  }
  impl->cached += n;
  return true;
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

static qrt::kernels::RopeScaling ropeScaling(RopeScalingAttr attr) {
  qrt::kernels::RopeScaling s;
  if (!attr)
    return s;
  s.factor = attr.getFactor().getValueAsDouble();
  if (attr.getKind() == RopeScalingKind::Linear) {
    s.kind = qrt::kernels::RopeScaling::Kind::Linear;
    return s;
  }
  s.kind = qrt::kernels::RopeScaling::Kind::Llama3;
  s.lowFreqFactor = attr.getLowFreqFactor().getValueAsDouble();
  s.highFreqFactor = attr.getHighFreqFactor().getValueAsDouble();
  s.originalMaxPosition = *attr.getOriginalMaxPosition();
  return s;
}

static qrt::kernels::Activation activation(Activation act) {
  switch (act) {
  case Activation::Silu:
    return qrt::kernels::Activation::Silu;
  case Activation::Gelu:
    return qrt::kernels::Activation::Gelu;
  case Activation::GeluTanh:
    return qrt::kernels::Activation::GeluTanh;
  case Activation::None:
    break;
  }
  return qrt::kernels::Activation::None;
}

bool CpuExecutor::Impl::run(Operation *op,
                            llvm::DenseMap<Value, std::shared_ptr<Buffer>> &env,
                            int64_t start, std::string &error) {
  namespace k = qrt::kernels;
  auto in = [&](Value v) -> Buffer & { return *env[v]; };
  auto define = [&](Value v, std::vector<int64_t> shape) -> Buffer & {
    auto buf = std::make_shared<Buffer>();
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    buf->shape = std::move(shape);
    buf->f.assign(n, 0.0f);
    env[v] = buf;
    return *buf;
  };
  auto size = [](const Buffer &b) { return static_cast<int64_t>(b.f.size()); };
  unsigned nthreads = threads();

  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](WeightOp w) {
        std::shared_ptr<Buffer> buf = loadWeight(w, error);
        if (!buf)
          return false;
        env[w.getResult()] = buf;
        return true;
      })
      .Case([&](arith::ConstantOp c) {
        auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
        auto type = dyn_cast<RankedTensorType>(c.getType());
        if (!dense || !type || !isa<FloatType>(type.getElementType())) {
          error = "the CPU executor only evaluates float tensor constants";
          return false;
        }
        Buffer &out = define(c.getResult(),
                             {type.getShape().begin(), type.getShape().end()});
        int64_t i = 0;
        for (APFloat v : dense.getValues<APFloat>()) {
          bool loses;
          v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                    &loses);
          out.f[i++] = v.convertToFloat();
        }
        return true;
      })
      .Case([&](EmbeddingOp e) {
        Buffer &table = in(e.getTable()), &ids = in(e.getIds());
        std::vector<int64_t> shape = ids.shape;
        shape.push_back(table.shape[1]);
        Buffer &out = define(e.getResult(), shape);
        return k::embedding(table.f.data(), table.shape[0], table.shape[1],
                            ids.i.data(), static_cast<int64_t>(ids.i.size()),
                            out.f.data(), error);
      })
      .Case([&](RMSNormOp r) {
        Buffer &x = in(r.getInput()), &w = in(r.getWeight());
        Buffer &out = define(r.getResult(), x.shape);
        k::rmsNorm(x.f.data(), w.f.data(), x.rows(), x.cols(),
                   static_cast<float>(r.getEpsilon().convertToDouble()),
                   out.f.data(), nthreads);
        return true;
      })
      .Case([&](LayerNormOp r) {
        Buffer &x = in(r.getInput()), &w = in(r.getWeight());
        Buffer *bias = r.getBias() ? &in(r.getBias()) : nullptr;
        Buffer &out = define(r.getResult(), x.shape);
        k::layerNorm(x.f.data(), w.f.data(), bias ? bias->f.data() : nullptr,
                     x.rows(), x.cols(), r.getEpsilon().convertToDouble(),
                     out.f.data());
        return true;
      })
      .Case([&](LinearOp l) {
        Buffer &x = in(l.getInput()), &w = in(l.getWeight());
        Buffer *bias = l.getBias() ? &in(l.getBias()) : nullptr;
        int64_t outF = w.shape[0], inF = w.shape[1];
        std::vector<int64_t> shape = x.shape;
        shape.back() = outF;
        Buffer &out = define(l.getResult(), shape);
        k::linear(x.f.data(), w.f.data(), bias ? bias->f.data() : nullptr,
                  out.f.data(), x.rows(), outF, inF, nthreads);
        return true;
      })
      .Case([&](RopeOp r) {
        Buffer &x = in(r.getInput()), &pos = in(r.getPositions());
        Buffer &out = define(r.getResult(), x.shape);
        std::vector<float> inv =
            k::ropeInvFreq(r.getHeadDim(), r.getTheta().convertToDouble(),
                           ropeScaling(r.getScalingAttr()));
        k::rope(x.f.data(), pos.i.data(), x.rows(), r.getNumHeads(),
                r.getHeadDim(), inv, out.f.data());
        return true;
      })
      .Case([&](AttentionOp a) {
        Buffer &q = in(a.getQuery()), &key = in(a.getKey()),
               &v = in(a.getValue());
        k::AttentionShape shape;
        shape.numHeads = a.getNumHeads();
        shape.numKvHeads = a.getNumKvHeads();
        shape.headDim = a.getHeadDim();
        shape.causal = a.getCausal();
        shape.scale = a.getScale()
                          ? static_cast<float>(a.getScale()->convertToDouble())
                          : 1.0f / std::sqrt(static_cast<float>(shape.headDim));
        shape.slidingWindow = a.getSlidingWindow().value_or(0);
        int64_t kvDim = shape.numKvHeads * shape.headDim;
        k::KVCache &slot = cache[a.getLayer()];
        int64_t before = slot.positions(kvDim);
        if (before != start) {
          error = "attention slot " + std::to_string(a.getLayer()) + " holds " +
                  std::to_string(before) +
                  " positions but the call starts at " + std::to_string(start);
          return false;
        }
        auto append = [&](std::vector<float> &c, const Buffer &x,
                          QuantSchemeAttr scheme) {
          ::qnum::TensorScheme ts;
          if (scheme)
            ts = scheme.getTensorScheme();
          k::appendToCache(c, x.f.data(), x.rows(), x.cols(),
                           scheme ? &ts : nullptr);
        };
        append(slot.keys, key, a.getKeySchemeAttr());
        append(slot.values, v, a.getValueSchemeAttr());
        Buffer &out = define(a.getResult(), q.shape);
        k::attention(q.f.data(), q.rows(), start, slot.keys.data(),
                     slot.values.data(), slot.positions(kvDim), shape,
                     out.f.data(), nthreads);
        return true;
      })
      .Case([&](SiluOp s) {
        Buffer &x = in(s.getInput());
        Buffer &out = define(s.getResult(), x.shape);
        k::silu(x.f.data(), size(x), out.f.data(), nthreads);
        return true;
      })
      .Case([&](GeluOp g) {
        Buffer &x = in(g.getInput());
        Buffer &out = define(g.getResult(), x.shape);
        k::gelu(x.f.data(), size(x), g.getApproximate(), out.f.data());
        return true;
      })
      .Case([&](MulOp m) {
        Buffer &a = in(m.getLhs()), &b = in(m.getRhs());
        Buffer &out = define(m.getResult(), a.shape);
        k::mul(a.f.data(), b.f.data(), size(a), out.f.data());
        return true;
      })
      .Case([&](AddOp m) {
        Buffer &a = in(m.getLhs()), &b = in(m.getRhs());
        Buffer &out = define(m.getResult(), a.shape);
        k::add(a.f.data(), b.f.data(), size(a), out.f.data());
        return true;
      })
      // Storage tensors hold their values as floats: the integers of i8 /
      // i4, the float8 values themselves (all exact in float32).
      .Case([&](QuantizeOp qop) {
        Buffer &x = in(qop.getInput());
        ::qnum::TensorScheme ts = qop.getScheme().getTensorScheme();
        if (ts.dynamic)
          ::qnum::computeDynamicParams(x.f.data(), x.shape, ts);
        Buffer &q = define(qop.getOutput(), x.shape);
        ::qnum::quantizeTensor(x.f.data(), x.shape, ts, q.f.data());
        std::vector<int64_t> sshape =
            ::qnum::scaleShape(ts.granularity, x.shape);
        if (qop.getScales())
          define(qop.getScales(), sshape).f = ts.scales;
        if (qop.getZeroPoints()) {
          Buffer &zp = define(qop.getZeroPoints(), sshape);
          zp.i = ts.zeroPoints;
        }
        return true;
      })
      .Case([&](DequantizeOp dq) {
        Buffer &q = in(dq.getInput());
        ::qnum::TensorScheme ts = dq.getScheme().getTensorScheme();
        if (dq.getScales())
          ts.scales = in(dq.getScales()).f;
        if (dq.getZeroPoints())
          ts.zeroPoints = in(dq.getZeroPoints()).i;
        Buffer &x = define(dq.getOutput(), q.shape);
        ::qnum::dequantizeTensor(q.f.data(), q.shape, ts, x.f.data());
        return true;
      })
      .Case([&](RequantizeOp rq) {
        Buffer &q = in(rq.getInput());
        std::vector<float> x(q.f.size());
        ::qnum::dequantizeTensor(q.f.data(), q.shape,
                                 rq.getInScheme().getTensorScheme(), x.data());
        Buffer &out = define(rq.getOutput(), q.shape);
        ::qnum::quantizeTensor(x.data(), q.shape,
                               rq.getOutScheme().getTensorScheme(),
                               out.f.data());
        return true;
      })
      .Case([&](ScaleChannelsOp sc) {
        Buffer &x = in(sc.getInput()), &f = in(sc.getScales());
        Buffer &out = define(sc.getResult(), x.shape);
        out.f = x.f;
        k::scaleChannels(out.f.data(), x.shape, f.f.data(), sc.getAxis());
        return true;
      })
      .Case([&](PermuteChannelsOp pc) {
        Buffer &x = in(pc.getInput()), &perm = in(pc.getPermutation());
        if (!k::checkPermutation(perm.i.data(), x.cols(), error)) {
          error = "'" + pc->getName().getStringRef().str() + "': " + error;
          return false;
        }
        Buffer &out = define(pc.getResult(), x.shape);
        k::permuteChannels(x.f.data(), x.rows(), x.cols(), perm.i.data(),
                           out.f.data());
        return true;
      })
      .Case([&](QuantizedLinearOp ql) {
        return runQuantizedLinear(ql, env, error);
      })
      .Case([&](ObserveOp o) {
        // Copy the pointer before inserting: inserting may rehash `env`.
        std::shared_ptr<Buffer> input = env.lookup(o.getInput());
        env[o.getResult()] = input;
        if (!options.collectStats)
          return true;
        bool feedsLinears =
            !o.getResult().use_empty() &&
            llvm::all_of(o.getResult().getUsers(), [](Operation *u) {
              return isa<LinearLikeOpInterface>(u);
            });
        accumulateStats(stats[o.getOperation()], input->f.data(), input->rows(),
                        input->cols(), o.getObserver() != ObserverKind::MinMax,
                        options.collectHessians && feedsLinears);
        return true;
      })
      .Default([&](Operation *other) {
        error = "the CPU executor does not implement '" +
                other->getName().getStringRef().str() + "'";
        return false;
      });
}

/// qopt.quantized_linear on the runtime's exact kernel (see the op's
/// description).
bool CpuExecutor::Impl::runQuantizedLinear(
    QuantizedLinearOp op, llvm::DenseMap<Value, std::shared_ptr<Buffer>> &env,
    std::string &error) {
  auto in = [&](Value v) -> Buffer & { return *env[v]; };
  Buffer &x = in(op.getInput()), &w = in(op.getWeight());
  qrt::kernels::QuantizedLinearArgs args;
  args.x = x.f.data();
  args.w = w.f.data();
  args.m = x.rows();
  args.n = w.shape[0];
  args.k = w.shape[1];
  args.weightScheme = op.getWeightScheme().getTensorScheme();
  if (op.getWeightScales())
    args.weightScheme.scales = in(op.getWeightScales()).f;
  if (op.getWeightZeroPoints())
    args.weightScheme.zeroPoints = in(op.getWeightZeroPoints()).i;
  ::qnum::TensorScheme inputScheme;
  if (QuantSchemeAttr xScheme = op.getInputSchemeAttr()) {
    inputScheme = xScheme.getTensorScheme();
    if (op.getInputScales())
      inputScheme.scales = in(op.getInputScales()).f;
    args.inputScheme = &inputScheme;
  }
  if (op.getIntBias())
    args.intBias = in(op.getIntBias()).i.data();
  if (op.getBias())
    args.bias = in(op.getBias()).f.data();
  if (op.getResidual())
    args.residual = in(op.getResidual()).f.data();
  args.activation = activation(op.getActivation());

  auto out = std::make_shared<Buffer>();
  out->shape = x.shape;
  out->shape.back() = args.n;
  out->f.assign(args.m * args.n, 0.0f);
  qrt::kernels::quantizedLinear(args, out->f.data(), threads());
  env[op.getOutput()] = out;
  return true;
}
