//===- CpuExecutor.cpp - Reference execution of qopt IR on the CPU --------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A straightforward interpreter: ops run in program order on float32 buffers,
// each buffer freed after its last use. Linear layers and attention use
// OpenBLAS sgemm; everything else is plain loops, split over threads where
// the work is large.
//
//===----------------------------------------------------------------------===//

#include "qopt/Executor/CpuExecutor.h"

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt/Support/QuantMath.h"

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
#include <functional>
#include <map>
#include <thread>

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

/// Runs fn(begin, end) over [0, n) split across `threads` threads.
void parallelFor(int64_t n, unsigned threads,
                 const std::function<void(int64_t, int64_t)> &fn) {
  unsigned t = std::max<unsigned>(1, std::min<int64_t>(threads, n));
  if (t == 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> pool;
  int64_t chunk = (n + t - 1) / t;
  for (unsigned k = 0; k < t; ++k) {
    int64_t b = k * chunk, e = std::min<int64_t>(n, b + chunk);
    if (b < e)
      pool.emplace_back(fn, b, e);
  }
  for (std::thread &th : pool)
    th.join();
}

/// Y[m, n] = X[m, k] W[n, k]^T (+ bias[n]), the output columns split over
/// threads (each thread runs a single-threaded sgemm on its slice of W).
void linearF32(const float *x, const float *w, const float *bias, float *y,
               int64_t m, int64_t n, int64_t k, unsigned threads) {
  int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(threads, n / 64));
  parallelFor(blocks, blocks, [&](int64_t bb, int64_t be) {
    for (int64_t blk = bb; blk < be; ++blk) {
      int64_t n0 = n * blk / blocks, n1 = n * (blk + 1) / blocks;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n1 - n0, k, 1.0f,
                  x, k, w + n0 * k, k, 0.0f, y + n0, n);
      if (bias)
        for (int64_t r = 0; r < m; ++r)
          for (int64_t c = n0; c < n1; ++c)
            y[r * n + c] += bias[c];
    }
  });
}

} // namespace

struct CpuExecutor::Impl {
  ModuleOp module;
  func::FuncOp func;
  CpuExecutorOptions options;
  std::unique_ptr<WeightReader> reader;
  /// Weights converted to float32 on first use.
  llvm::DenseMap<Operation *, std::shared_ptr<Buffer>> weights;
  /// KV cache per attention layer slot: keys and values [positions, kvDim].
  std::map<int64_t, std::pair<std::vector<float>, std::vector<float>>> cache;
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
  unsigned threads() const {
    return options.threads ? options.threads
                           : std::max(1u, std::thread::hardware_concurrency());
  }
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
            DequantizeOp, RequantizeOp, ScaleChannelsOp, QuantizedLinearOp,
            func::ReturnOp, arith::ConstantOp>(op);
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
// Kernels
//===----------------------------------------------------------------------===//

/// Inverse RoPE frequencies, computed like Hugging Face (float32).
static std::vector<float> ropeInvFreq(int64_t headDim, double theta,
                                      RopeScalingAttr scaling) {
  std::vector<float> inv(headDim / 2);
  for (int64_t i = 0; i < headDim / 2; ++i) {
    float exponent = static_cast<float>(2 * i) / static_cast<float>(headDim);
    inv[i] = static_cast<float>(1.0 / std::pow(theta, double(exponent)));
  }
  if (!scaling)
    return inv;
  double factor = scaling.getFactor().getValueAsDouble();
  if (scaling.getKind() == RopeScalingKind::Linear) {
    for (float &f : inv)
      f = static_cast<float>(f / factor);
    return inv;
  }
  // Llama 3: scale low frequencies, keep high ones, interpolate between.
  double low = scaling.getLowFreqFactor().getValueAsDouble();
  double high = scaling.getHighFreqFactor().getValueAsDouble();
  double oldLen = static_cast<double>(*scaling.getOriginalMaxPosition());
  double lowWavelen = oldLen / low, highWavelen = oldLen / high;
  for (float &f : inv) {
    double wavelen = 2 * M_PI / f;
    double scaled = f;
    if (wavelen > lowWavelen)
      scaled = f / factor;
    else if (wavelen >= highWavelen) {
      double smooth = (oldLen / wavelen - low) / (high - low);
      scaled = (1 - smooth) * f / factor + smooth * f;
    }
    f = static_cast<float>(scaled);
  }
  return inv;
}

/// Adds |x| of rows x cols values to per-channel histograms whose range
/// doubles (merging bin pairs, which is exact) whenever a value exceeds it.
static void accumulateHistogram(ObservedStats &st, const float *x, int64_t rows,
                                int64_t cols) {
  const int bins = ObservedStats::kHistogramBins;
  if (st.histogram.empty()) {
    st.histogram.assign(cols * bins, 0);
    st.histogramRange.assign(cols, 0.0f);
  }
  for (int64_t c = 0; c < cols; ++c) {
    float m = 0;
    for (int64_t r = 0; r < rows; ++r)
      m = std::max(m, std::fabs(x[r * cols + c]));
    uint32_t *h = st.histogram.data() + c * bins;
    float &range = st.histogramRange[c];
    if (range == 0.0f && m > 0.0f)
      range = std::exp2(std::ceil(std::log2(m)) + 1e-6f);
    while (m >= range && range > 0.0f) {
      for (int b = 0; b < bins / 2; ++b)
        h[b] = h[2 * b] + h[2 * b + 1];
      std::fill(h + bins / 2, h + bins, 0u);
      range *= 2;
    }
    for (int64_t r = 0; r < rows; ++r) {
      float v = std::fabs(x[r * cols + c]);
      int b = range > 0 ? static_cast<int>(v / range * bins) : 0;
      h[std::min(b, bins - 1)] += 1;
    }
  }
}

std::vector<float> mlir::qopt::clippedAbsmax(const ObservedStats &st, bool mse,
                                             double percentile) {
  const int bins = ObservedStats::kHistogramBins;
  std::vector<float> out = st.absmax;
  if (st.histogram.empty())
    return out;
  for (size_t c = 0; c < out.size(); ++c) {
    const uint32_t *h = st.histogram.data() + c * bins;
    double width = st.histogramRange[c] / bins;
    uint64_t total = 0;
    for (int b = 0; b < bins; ++b)
      total += h[b];
    if (total == 0 || width == 0)
      continue;
    double threshold = out[c];
    if (!mse) {
      double need = percentile / 100.0 * total, cum = 0;
      for (int b = 0; b < bins; ++b) {
        cum += h[b];
        if (cum >= need) {
          threshold = (b + 1) * width;
          break;
        }
      }
    } else {
      // Expected squared error of int8 (127 levels) with threshold t: values
      // above t clip, the rest round with error variance (t/127)^2 / 12.
      // Suffix sums over the bins above the threshold make it O(bins).
      std::vector<double> s0(bins + 1, 0.0), s1(bins + 1, 0.0),
          s2(bins + 1, 0.0);
      for (int b = bins - 1; b >= 0; --b) {
        double v = (b + 0.5) * width;
        s0[b] = s0[b + 1] + h[b];
        s1[b] = s1[b + 1] + h[b] * v;
        s2[b] = s2[b + 1] + h[b] * v * v;
      }
      double best = INFINITY;
      for (int tb = 1; tb <= bins; ++tb) {
        double t = tb * width, step = t / 127.0;
        double clip = s2[tb] - 2 * t * s1[tb] + t * t * s0[tb];
        double err = clip + (total - s0[tb]) * step * step / 12.0;
        if (err < best) {
          best = err;
          threshold = t;
        }
      }
    }
    out[c] = std::min<float>(out[c], static_cast<float>(threshold));
  }
  return out;
}

bool CpuExecutor::Impl::run(Operation *op,
                            llvm::DenseMap<Value, std::shared_ptr<Buffer>> &env,
                            int64_t start, std::string &error) {
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
        int64_t k = 0;
        for (APFloat v : dense.getValues<APFloat>()) {
          bool loses;
          v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                    &loses);
          out.f[k++] = v.convertToFloat();
        }
        return true;
      })
      .Case([&](EmbeddingOp e) {
        Buffer &table = in(e.getTable()), &ids = in(e.getIds());
        int64_t vocabRows = table.shape[0], h = table.shape[1];
        std::vector<int64_t> shape = ids.shape;
        shape.push_back(h);
        Buffer &out = define(e.getResult(), shape);
        for (size_t t = 0; t < ids.i.size(); ++t) {
          int32_t id = ids.i[t];
          if (id < 0 || id >= vocabRows) {
            error = "token id " + std::to_string(id) +
                    " is out of range for an embedding table of " +
                    std::to_string(vocabRows) + " rows";
            return false;
          }
          std::copy_n(table.f.data() + id * h, h, out.f.data() + t * h);
        }
        return true;
      })
      .Case([&](RMSNormOp r) {
        Buffer &x = in(r.getInput()), &w = in(r.getWeight());
        Buffer &out = define(r.getResult(), x.shape);
        int64_t rows = x.rows(), h = x.cols();
        float eps = static_cast<float>(r.getEpsilon().convertToDouble());
        parallelFor(rows, nthreads, [&](int64_t b, int64_t e) {
          for (int64_t row = b; row < e; ++row) {
            const float *xr = x.f.data() + row * h;
            double ss = 0;
            for (int64_t c = 0; c < h; ++c)
              ss += double(xr[c]) * xr[c];
            float var = static_cast<float>(ss / h);
            float inv = 1.0f / std::sqrt(var + eps);
            for (int64_t c = 0; c < h; ++c)
              out.f[row * h + c] = w.f[c] * (xr[c] * inv);
          }
        });
        return true;
      })
      .Case([&](LayerNormOp r) {
        Buffer &x = in(r.getInput()), &w = in(r.getWeight());
        Buffer *bias = r.getBias() ? &in(r.getBias()) : nullptr;
        Buffer &out = define(r.getResult(), x.shape);
        int64_t rows = x.rows(), h = x.cols();
        double eps = r.getEpsilon().convertToDouble();
        for (int64_t row = 0; row < rows; ++row) {
          const float *xr = x.f.data() + row * h;
          double mean = 0, var = 0;
          for (int64_t c = 0; c < h; ++c)
            mean += xr[c];
          mean /= h;
          for (int64_t c = 0; c < h; ++c)
            var += (xr[c] - mean) * (xr[c] - mean);
          var /= h;
          double inv = 1.0 / std::sqrt(var + eps);
          for (int64_t c = 0; c < h; ++c)
            out.f[row * h + c] =
                static_cast<float>((xr[c] - mean) * inv) * w.f[c] +
                (bias ? bias->f[c] : 0.0f);
        }
        return true;
      })
      .Case([&](LinearOp l) {
        Buffer &x = in(l.getInput()), &w = in(l.getWeight());
        Buffer *bias = l.getBias() ? &in(l.getBias()) : nullptr;
        int64_t outF = w.shape[0], inF = w.shape[1];
        std::vector<int64_t> shape = x.shape;
        shape.back() = outF;
        Buffer &out = define(l.getResult(), shape);
        linearF32(x.f.data(), w.f.data(), bias ? bias->f.data() : nullptr,
                  out.f.data(), x.rows(), outF, inF, nthreads);
        return true;
      })
      .Case([&](RopeOp r) {
        Buffer &x = in(r.getInput()), &pos = in(r.getPositions());
        Buffer &out = define(r.getResult(), x.shape);
        int64_t heads = r.getNumHeads(), d = r.getHeadDim(), half = d / 2;
        std::vector<float> inv =
            ropeInvFreq(d, r.getTheta().convertToDouble(), r.getScalingAttr());
        int64_t rows = x.rows();
        for (int64_t t = 0; t < rows; ++t) {
          float p = static_cast<float>(pos.i[t]);
          for (int64_t i = 0; i < half; ++i) {
            float angle = p * inv[i];
            float c = static_cast<float>(std::cos(double(angle)));
            float s = static_cast<float>(std::sin(double(angle)));
            for (int64_t hh = 0; hh < heads; ++hh) {
              const float *xr = x.f.data() + t * heads * d + hh * d;
              float *yr = out.f.data() + t * heads * d + hh * d;
              float x1 = xr[i], x2 = xr[i + half];
              yr[i] = x1 * c - x2 * s;
              yr[i + half] = x2 * c + x1 * s;
            }
          }
        }
        return true;
      })
      .Case([&](AttentionOp a) {
        Buffer &q = in(a.getQuery()), &k = in(a.getKey()),
               &v = in(a.getValue());
        int64_t heads = a.getNumHeads(), kvHeads = a.getNumKvHeads(),
                d = a.getHeadDim(), n = q.rows();
        int64_t qDim = heads * d, kvDim = kvHeads * d, group = heads / kvHeads;
        auto &slot = cache[a.getLayer()];
        std::vector<float> &kc = slot.first, &vc = slot.second;
        int64_t before = static_cast<int64_t>(kc.size()) / kvDim;
        if (before != start) {
          error = "attention slot " + std::to_string(a.getLayer()) + " holds " +
                  std::to_string(before) +
                  " positions but the call starts at " + std::to_string(start);
          return false;
        }
        // A quantized cache holds what the kernels will read back: the
        // dequantized storage values.
        auto append = [&](std::vector<float> &cacheVec, const Buffer &x,
                          QuantSchemeAttr scheme) {
          if (!scheme) {
            cacheVec.insert(cacheVec.end(), x.f.begin(), x.f.end());
            return;
          }
          std::vector<int64_t> shape = {x.rows(), x.cols()};
          ::qnum::TensorScheme ts = scheme.getTensorScheme();
          if (scheme.isDynamic())
            ::qnum::computeDynamicParams(x.f.data(), shape, ts);
          std::vector<float> q(x.f.size()), deq(x.f.size());
          ::qnum::quantizeTensor(x.f.data(), shape, ts, q.data());
          ::qnum::dequantizeTensor(q.data(), shape, ts, deq.data());
          cacheVec.insert(cacheVec.end(), deq.begin(), deq.end());
        };
        append(kc, k, a.getKeySchemeAttr());
        append(vc, v, a.getValueSchemeAttr());
        int64_t total = before + n;
        float scale = a.getScale()
                          ? static_cast<float>(a.getScale()->convertToDouble())
                          : 1.0f / std::sqrt(static_cast<float>(d));
        bool causal = a.getCausal();
        Buffer &out = define(a.getResult(), q.shape);
        // Heads are split over threads; each runs single-threaded sgemms.
        parallelFor(heads, nthreads, [&](int64_t hb, int64_t he) {
          std::vector<float> scores(n * total);
          for (int64_t h = hb; h < he; ++h) {
            int64_t kvh = h / group;
            // scores [n, total] = Q_h [n, d] K_kvh [total, d]^T
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, total, d,
                        scale, q.f.data() + h * d, qDim, kc.data() + kvh * d,
                        kvDim, 0.0f, scores.data(), total);
            for (int64_t i = 0; i < n; ++i) {
              float *row = scores.data() + i * total;
              int64_t limit = causal ? before + i + 1 : total;
              float m = -INFINITY;
              for (int64_t j = 0; j < limit; ++j)
                m = std::max(m, row[j]);
              float sum = 0;
              for (int64_t j = 0; j < limit; ++j) {
                row[j] = std::exp(row[j] - m);
                sum += row[j];
              }
              float invSum = 1.0f / sum;
              for (int64_t j = 0; j < limit; ++j)
                row[j] *= invSum;
              std::fill(row + limit, row + total, 0.0f);
            }
            // out_h [n, d] = P [n, total] V_kvh [total, d]
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, total,
                        1.0f, scores.data(), total, vc.data() + kvh * d, kvDim,
                        0.0f, out.f.data() + h * d, qDim);
          }
        });
        return true;
      })
      .Case([&](SiluOp s) {
        Buffer &x = in(s.getInput());
        Buffer &out = define(s.getResult(), x.shape);
        parallelFor(x.f.size(), nthreads, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i)
            out.f[i] = x.f[i] / (1.0f + std::exp(-x.f[i]));
        });
        return true;
      })
      .Case([&](GeluOp g) {
        Buffer &x = in(g.getInput());
        Buffer &out = define(g.getResult(), x.shape);
        for (size_t i = 0; i < x.f.size(); ++i) {
          double v = x.f[i];
          double r = g.getApproximate()
                         ? 0.5 * v *
                               (1 + std::tanh(std::sqrt(2 / M_PI) *
                                              (v + 0.044715 * v * v * v)))
                         : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
          out.f[i] = static_cast<float>(r);
        }
        return true;
      })
      .Case([&](MulOp m) {
        Buffer &a = in(m.getLhs()), &b = in(m.getRhs());
        Buffer &out = define(m.getResult(), a.shape);
        for (size_t i = 0; i < a.f.size(); ++i)
          out.f[i] = a.f[i] * b.f[i];
        return true;
      })
      .Case([&](AddOp m) {
        Buffer &a = in(m.getLhs()), &b = in(m.getRhs());
        Buffer &out = define(m.getResult(), a.shape);
        for (size_t i = 0; i < a.f.size(); ++i)
          out.f[i] = a.f[i] + b.f[i];
        return true;
      })
      // Storage tensors hold their values as floats: the integers of i8 /
      // i4, the float8 values themselves (all exact in float32).
      .Case([&](QuantizeOp qop) {
        Buffer &x = in(qop.getInput());
        ::qnum::TensorScheme ts = qop.getScheme().getTensorScheme();
        if (qop.getScheme().isDynamic())
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
        scaleAlongAxis(out.f.data(), x.shape, f.f.data(), sc.getAxis());
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
        Buffer &x = in(o.getInput());
        int64_t rows = x.rows(), cols = x.cols();
        ObservedStats &st = stats[o.getOperation()];
        if (st.absmax.empty()) {
          st.absmax.assign(cols, 0.0f);
          st.min.assign(cols, INFINITY);
          st.max.assign(cols, -INFINITY);
        }
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) {
            float v = x.f[r * cols + c];
            st.absmax[c] = std::max(st.absmax[c], std::fabs(v));
            st.min[c] = std::min(st.min[c], v);
            st.max[c] = std::max(st.max[c], v);
          }
        if (o.getObserver() != ObserverKind::MinMax)
          accumulateHistogram(st, x.f.data(), rows, cols);
        bool feedsLinears =
            !o.getResult().use_empty() &&
            llvm::all_of(o.getResult().getUsers(), [](Operation *u) {
              return isa<LinearLikeOpInterface>(u);
            });
        if (options.collectHessians && feedsLinears) {
          if (st.hessian.empty())
            st.hessian.assign(cols * cols, 0.0);
          std::vector<double> xd(x.f.begin(), x.f.end());
          cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, cols, rows, 1.0,
                      xd.data(), cols, 1.0, st.hessian.data(), cols);
        }
        st.numTokens += rows;
        return true;
      })
      .Default([&](Operation *other) {
        error = "the CPU executor does not implement '" +
                other->getName().getStringRef().str() + "'";
        return false;
      });
}

/// Exact simulation of quantized_linear (see the op's description): integer
/// inputs and weights accumulate in int32 (here in double, exact for every
/// sum an int32 accumulator holds), float8 ones in float32; scales apply per
/// K-segment (a weight group or block column), then bias, activation and
/// residual.
bool CpuExecutor::Impl::runQuantizedLinear(
    QuantizedLinearOp op, llvm::DenseMap<Value, std::shared_ptr<Buffer>> &env,
    std::string &error) {
  auto in = [&](Value v) -> Buffer & { return *env[v]; };
  Buffer &x = in(op.getInput()), &w = in(op.getWeight());
  int64_t m = x.rows(), n = w.shape[0], k = w.shape[1];
  unsigned nthreads = threads();
  QuantSchemeAttr wScheme = op.getWeightScheme();
  ::qnum::TensorScheme tw = wScheme.getTensorScheme();
  if (op.getWeightScales())
    tw.scales = in(op.getWeightScales()).f;
  if (op.getWeightZeroPoints())
    tw.zeroPoints = in(op.getWeightZeroPoints()).i;
  std::vector<int64_t> wShape = {n, k};

  auto out = std::make_shared<Buffer>();
  out->shape = x.shape;
  out->shape.back() = n;
  out->f.assign(m * n, 0.0f);
  float *y = out->f.data();

  QuantSchemeAttr xScheme = op.getInputSchemeAttr();
  if (!xScheme) {
    // Weight-only: dequantize the weight, float32 GEMM.
    std::vector<float> wd(n * k);
    ::qnum::dequantizeTensor(w.f.data(), wShape, tw, wd.data());
    linearF32(x.f.data(), wd.data(), nullptr, y, m, n, k, nthreads);
  } else {
    ::qnum::TensorScheme tx = xScheme.getTensorScheme();
    if (op.getInputScales())
      tx.scales = in(op.getInputScales()).f;
    std::vector<int64_t> xShape = {m, k};
    // K-segments sharing one weight scale along the input dimension.
    int64_t seg = k;
    if (tw.granularity.kind == ::qnum::GranularityKind::PerGroup)
      seg = tw.granularity.size;
    else if (tw.granularity.kind == ::qnum::GranularityKind::Block)
      seg = tw.granularity.cols;
    bool integer = xScheme.isInteger();
    std::vector<int32_t> intBias;
    if (op.getIntBias())
      intBias = in(op.getIntBias()).i;
    std::vector<double> xd, wdd, accd;
    std::vector<float> accf;
    for (int64_t k0 = 0; k0 < k; k0 += seg) {
      int64_t len = std::min(seg, k - k0);
      if (integer) {
        xd.assign(m * len, 0.0);
        wdd.assign(n * len, 0.0);
        for (int64_t r = 0; r < m; ++r)
          for (int64_t c = 0; c < len; ++c)
            xd[r * len + c] = x.f[r * k + k0 + c];
        for (int64_t r = 0; r < n; ++r)
          for (int64_t c = 0; c < len; ++c)
            wdd[r * len + c] = w.f[r * k + k0 + c];
        accd.assign(m * n, 0.0);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, len, 1.0,
                    xd.data(), len, wdd.data(), len, 0.0, accd.data(), n);
      } else {
        accf.assign(m * n, 0.0f);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, len, 1.0f,
                    x.f.data() + k0, k, w.f.data() + k0, k, 0.0f, accf.data(),
                    n);
      }
      std::vector<float> sxRow(m), swCol(n);
      for (int64_t r = 0; r < m; ++r)
        sxRow[r] =
            tx.scales[::qnum::scaleIndex(tx.granularity, xShape, {r, k0})];
      for (int64_t c = 0; c < n; ++c)
        swCol[c] =
            tw.scales[::qnum::scaleIndex(tw.granularity, wShape, {c, k0})];
      parallelFor(m, nthreads, [&](int64_t rb, int64_t re) {
        for (int64_t r = rb; r < re; ++r) {
          float sx = sxRow[r];
          for (int64_t c = 0; c < n; ++c) {
            float sw = swCol[c];
            float acc;
            if (integer) {
              double a = accd[r * n + c];
              if (!intBias.empty() && k0 == 0)
                a += intBias[c];
              acc = static_cast<float>(a);
            } else {
              acc = accf[r * n + c];
            }
            y[r * n + c] += acc * (sx * sw);
          }
        }
      });
    }
  }
  // Epilogue: bias, activation, residual.
  const float *bias = op.getBias() ? in(op.getBias()).f.data() : nullptr;
  const float *res = op.getResidual() ? in(op.getResidual()).f.data() : nullptr;
  Activation act = op.getActivation();
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < n; ++c) {
      float v = y[r * n + c] + (bias ? bias[c] : 0.0f);
      if (act == Activation::Silu)
        v = v / (1.0f + std::exp(-v));
      else if (act == Activation::Gelu)
        v = static_cast<float>(0.5 * v * (1 + std::erf(v / std::sqrt(2.0))));
      else if (act == Activation::GeluTanh)
        v = static_cast<float>(
            0.5 * v *
            (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
      y[r * n + c] = v + (res ? res[r * n + c] : 0.0f);
    }
  env[op.getOutput()] = out;
  return true;
}
