//===- BundleTestSupport.h - Bundles built by hand for tests ----*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// BundleBuilder writes a bundle directory (manifest.json, weights written
// with the runtime's safetensors writer, a kernels.ptx naming every kernel
// entry) from buffers and kernels added one by one, so that a test can run
// one kernel family on inputs of its own; plus random data in each storage
// type and float64 reference helpers.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_UNITTESTS_RUNTIME_BUNDLETESTSUPPORT_H
#define QOPT_UNITTESTS_RUNTIME_BUNDLETESTSUPPORT_H

#include "qopt-runtime/Backend.h"
#include "qopt-runtime/Bundle.h"
#include "qopt-runtime/QuantMath.h"
#include "qopt-runtime/Safetensors.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace qrt {
namespace test {

using json = nlohmann::json;

/// A fresh empty directory under the test temporary directory.
inline std::string makeTempDir() {
  std::string templ = ::testing::TempDir() + "qopt-bundle-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  const char *dir = mkdtemp(buf.data());
  EXPECT_NE(dir, nullptr);
  return dir ? std::string(dir) : std::string();
}

inline void writeText(const std::string &path, const std::string &text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// Storage bytes of values, by element type.
inline std::vector<uint8_t> bytesOfF32(const std::vector<float> &v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
inline std::vector<uint8_t> bytesOfI32(const std::vector<int32_t> &v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
inline std::vector<uint8_t> bytesOfBF16(const std::vector<float> &v) {
  std::vector<uint8_t> b(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    uint16_t bits = floatToBF16(v[i]);
    std::memcpy(b.data() + 2 * i, &bits, 2);
  }
  return b;
}
inline std::vector<uint8_t> bytesOfI8(const std::vector<int32_t> &v) {
  std::vector<uint8_t> b(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    b[i] = static_cast<uint8_t>(static_cast<int8_t>(v[i]));
  return b;
}
inline std::vector<uint8_t> bytesOfE4M3(const std::vector<float> &v) {
  std::vector<uint8_t> b(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    b[i] = qnum::floatToE4M3FN(v[i]);
  return b;
}
/// Int4 values [rows, cols] packed two per byte per row.
inline std::vector<uint8_t> bytesOfI4(const std::vector<int32_t> &v,
                                      int64_t cols) {
  std::vector<uint8_t> out;
  for (size_t r = 0; r * cols < v.size(); ++r) {
    std::vector<int8_t> row(v.begin() + r * cols, v.begin() + (r + 1) * cols);
    std::vector<uint8_t> packed = qnum::packInt4x2(row);
    out.insert(out.end(), packed.begin(), packed.end());
  }
  return out;
}

inline std::vector<float> f32Of(const std::vector<uint8_t> &b) {
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}
inline std::vector<int32_t> i32Of(const std::vector<uint8_t> &b) {
  std::vector<int32_t> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}
inline std::vector<float> bf16Of(const std::vector<uint8_t> &b) {
  std::vector<float> v(b.size() / 2);
  for (size_t i = 0; i < v.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, b.data() + 2 * i, 2);
    v[i] = qnum::bf16ToFloat(bits);
  }
  return v;
}
inline std::vector<int32_t> i8Of(const std::vector<uint8_t> &b) {
  std::vector<int32_t> v(b.size());
  for (size_t i = 0; i < b.size(); ++i)
    v[i] = static_cast<int8_t>(b[i]);
  return v;
}
inline std::vector<float> e4m3Of(const std::vector<uint8_t> &b) {
  std::vector<float> v(b.size());
  for (size_t i = 0; i < b.size(); ++i)
    v[i] = qnum::e4m3fnToFloat(b[i]);
  return v;
}

/// Random data of a fixed seed.
class Random {
public:
  explicit Random(uint64_t seed) : rng(seed) {}
  std::vector<float> uniform(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float &x : v)
      x = d(rng);
    return v;
  }
  /// Values exactly representable in bf16.
  std::vector<float> bf16(size_t n, float lo, float hi) {
    std::vector<float> v = uniform(n, lo, hi);
    for (float &x : v)
      x = qnum::bf16ToFloat(floatToBF16(x));
    return v;
  }
  /// Values exactly representable in e4m3.
  std::vector<float> e4m3(size_t n, float lo, float hi) {
    std::vector<float> v = uniform(n, lo, hi);
    for (float &x : v)
      x = qnum::e4m3fnToFloat(qnum::floatToE4M3FN(x));
    return v;
  }
  std::vector<int32_t> ints(size_t n, int32_t lo, int32_t hi) {
    std::uniform_int_distribution<int32_t> d(lo, hi);
    std::vector<int32_t> v(n);
    for (int32_t &x : v)
      x = d(rng);
    return v;
  }

  std::mt19937_64 rng;
};

/// A bundle under construction: a manifest with tokens / positions inputs
/// and a logits output ([-1, vocab] f32 arena buffer "logits"); buffers and
/// kernels are added by the test. The prefill and decode sequences launch
/// every kernel in order unless set.
class BundleBuilder {
public:
  explicit BundleBuilder(int64_t maxTokens = 8, int64_t vocab = 16,
                         int64_t maxPositions = 64)
      : maxTokens(maxTokens), vocab(vocab) {
    manifest = {{"format", "qopt-bundle"},
                {"version", 1},
                {"chip", "sm_90a"},
                {"model",
                 {{"architecture", "llama"},
                  {"vocab_size", vocab},
                  {"max_position_embeddings", maxPositions},
                  {"bos_token_id", 1},
                  {"eos_token_id", 2}}},
                {"recipe", "hand-made test bundle"},
                {"max_tokens", maxTokens},
                {"arena_bytes", 0},
                {"ptx", "kernels.ptx"},
                {"weights", "weights.safetensors"},
                {"inputs", {{"tokens", "tokens"}, {"positions", "positions"}}},
                {"outputs", {{"logits", "logits"}}},
                {"buffers", json::object()},
                {"kv_caches", json::array()},
                {"kernels", json::array()}};
    manifest["buffers"]["tokens"] = {
        {"kind", "input"}, {"dtype", "i32"}, {"shape", {-1}}};
    manifest["buffers"]["positions"] = {
        {"kind", "input"}, {"dtype", "i32"}, {"shape", {-1}}};
    arena("logits", "f32", {-1, vocab});
  }

  /// An arena buffer at the next 256-byte boundary.
  std::string arena(const std::string &name, const std::string &dtype,
                    std::vector<int64_t> shape) {
    bundle::ElemType type;
    EXPECT_TRUE(bundle::parseElemType(dtype, type)) << dtype;
    std::vector<int64_t> rows = shape;
    for (int64_t &d : rows)
      if (d < 0)
        d = maxTokens;
    int64_t bytes = bundle::storageBytes(type, rows);
    manifest["buffers"][name] = {{"kind", "arena"},
                                 {"dtype", dtype},
                                 {"shape", shape},
                                 {"offset", arenaBytes}};
    arenaBytes += (bytes + 255) / 256 * 256;
    manifest["arena_bytes"] = arenaBytes;
    return name;
  }

  /// A weight buffer and its tensor (bytes in the safetensors dtype).
  std::string weight(const std::string &name, const std::string &dtype,
                     std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
    manifest["buffers"][name] = {
        {"kind", "weight"}, {"dtype", dtype}, {"shape", shape}};
    TensorData t;
    t.name = name;
    t.shape = shape;
    t.data = std::move(bytes);
    if (dtype == "f32")
      t.dtype = DType::F32;
    else if (dtype == "bf16")
      t.dtype = DType::BF16;
    else if (dtype == "i8")
      t.dtype = DType::I8;
    else if (dtype == "f8e4m3")
      t.dtype = DType::F8_E4M3;
    else if (dtype == "i32")
      t.dtype = DType::I32;
    else if (dtype == "i4x2") {
      t.dtype = DType::U8;
      t.shape.back() = (t.shape.back() + 1) / 2;
    }
    weights.push_back(std::move(t));
    return name;
  }
  std::string weightF32(const std::string &name, std::vector<int64_t> shape,
                        const std::vector<float> &v) {
    return weight(name, "f32", std::move(shape), bytesOfF32(v));
  }

  void kvCache(const std::string &name, int64_t heads, int64_t headDim,
               const std::string &keyStorage, const std::string &keyScales,
               const std::string &valueStorage,
               const std::string &valueScales) {
    manifest["kv_caches"].push_back(
        {{"name", name},
         {"layer", manifest["kv_caches"].size()},
         {"num_kv_heads", heads},
         {"head_dim", headDim},
         {"key", {{"storage", keyStorage}, {"scales", keyScales}}},
         {"value", {{"storage", valueStorage}, {"scales", valueScales}}}});
  }

  /// A kernel; returns its index. `launch` defaults to one block of 128
  /// threads per token.
  int kernel(const std::string &name, const std::string &family,
             const json &spec, const std::vector<std::string> &args,
             json launch = json()) {
    if (launch.is_null())
      launch = {{"block", {128, 1, 1}}, {"token_tile", 1}, {"per_tile", 1},
                {"grid_y", 1},          {"grid_z", 1},     {"shared_bytes", 0}};
    manifest["kernels"].push_back({{"name", name},
                                   {"family", family},
                                   {"spec", spec},
                                   {"args", args},
                                   {"launch", launch}});
    return static_cast<int>(manifest["kernels"].size()) - 1;
  }

  /// Writes the bundle into `dir` (created when missing); returns it. A
  /// bundle none of whose kernels names the logits gets a last kernel
  /// k_logits writing zeros there (each launch sequence must write them).
  std::string write(const std::string &dir) {
    json m = manifest;
    bool logits = false;
    for (const json &k : m["kernels"])
      for (const json &a : k.value("args", json::array()))
        logits = logits || a == "logits";
    if (!logits && m["outputs"]["logits"] == "logits") {
      m["buffers"]["zeros"] = {{"kind", "arena"},
                               {"dtype", "f32"},
                               {"shape", {-1, vocab}},
                               {"offset", arenaBytes}};
      m["arena_bytes"] = arenaBytes + maxTokens * vocab * 4;
      m["kernels"].push_back({{"name", "k_logits"},
                              {"family", "add"},
                              {"spec",
                               {{"max_tokens", maxTokens},
                                {"features", vocab},
                                {"out_type", "f32"}}},
                              {"args", {"zeros", "zeros", "logits"}},
                              {"launch",
                               {{"block", {128, 1, 1}},
                                {"token_tile", 1},
                                {"per_tile", 1},
                                {"grid_y", 1},
                                {"grid_z", 1},
                                {"shared_bytes", 0}}}});
    }
    if (!m.contains("prefill") || !m.contains("decode")) {
      json all = json::array();
      for (size_t i = 0; i < m["kernels"].size(); ++i)
        all.push_back(i);
      if (!m.contains("prefill"))
        m["prefill"] = all;
      if (!m.contains("decode"))
        m["decode"] = all;
    }
    writeText(dir + "/manifest.json", m.dump(2));
    std::string ptx = ".version 8.4\n.target sm_90a\n";
    auto entry = [&](const json &k) {
      if (k.is_object() && k.contains("name") && k["name"].is_string())
        ptx += ".visible .entry " + k["name"].get<std::string>() + "()\n{}\n";
    };
    for (const json &k : m["kernels"]) {
      entry(k);
      if (k.is_object() && k.contains("small_m") && k["small_m"].is_array())
        for (const json &v : k["small_m"])
          entry(v);
    }
    writeText(dir + "/kernels.ptx", ptx);
    std::string error;
    EXPECT_TRUE(
        writeSafetensors(dir + "/weights.safetensors", weights, {}, error))
        << error;
    return dir;
  }
  std::string write() { return write(makeTempDir()); }

  json manifest;
  std::vector<TensorData> weights;
  int64_t maxTokens, vocab;
  int64_t arenaBytes = 0;
};

/// The tile object every gemm spec carries.
inline json defaultTile() {
  return {{"bm", 64},     {"bn", 64},     {"bk", 64},
          {"warps_m", 2}, {"warps_n", 2}, {"stages", 2}};
}

/// A bf16 GEMM spec of n x k with the given fields changed.
inline json gemmSpec(const std::string &kind, int64_t n, int64_t k,
                     json overrides = json::object()) {
  json s = {{"kind", kind},
            {"max_tokens", 8},
            {"n", n},
            {"k", k},
            {"a_scale", "none"},
            {"b_scale", "none"},
            {"group_size", 0},
            {"block_n", 0},
            {"block_k", 0},
            {"b_zero_points", false},
            {"int_bias", false},
            {"bias", false},
            {"gated", false},
            {"residual", false},
            {"out_type", "f32"},
            {"out_asymmetric", false},
            {"tile", defaultTile()}};
  s.update(overrides);
  return s;
}

/// A small model: k_embed (embedding of a bf16 table) -> k_norm (rms_norm
/// to bf16) -> k_head (bf16 GEMM to the logits) -> k_argmax (next_token),
/// with random weights.
inline BundleBuilder smallModel(int64_t vocab = 16, int64_t hidden = 64,
                                uint64_t seed = 1) {
  Random rnd(seed);
  BundleBuilder bb(8, vocab);
  bb.weight("table", "bf16", {vocab, hidden},
            bytesOfBF16(rnd.bf16(vocab * hidden, -1, 1)));
  bb.weight("norm", "bf16", {hidden}, bytesOfBF16(rnd.bf16(hidden, 0.5, 1.5)));
  bb.weight("head", "bf16", {vocab, hidden},
            bytesOfBF16(rnd.bf16(vocab * hidden, -1, 1)));
  bb.arena("h", "f32", {-1, hidden});
  bb.arena("n", "bf16", {-1, hidden});
  bb.arena("next", "i32", {1});
  bb.manifest["outputs"]["next_token"] = "next";
  bb.kernel("k_embed", "embedding",
            {{"max_tokens", 8},
             {"vocab", vocab},
             {"hidden", hidden},
             {"table_type", "bf16"}},
            {"table", "tokens", "h"});
  bb.kernel("k_norm", "rms_norm",
            {{"max_tokens", 8},
             {"hidden", hidden},
             {"epsilon", 1e-5},
             {"weight_type", "bf16"},
             {"out_type", "bf16"},
             {"dynamic_per_token", false},
             {"static_scale", false},
             {"static_asymmetric", false}},
            {"h", "norm", "n"});
  bb.kernel("k_head", "gemm", gemmSpec("bf16", vocab, hidden),
            {"n", "head", "logits"});
  bb.kernel("k_argmax", "argmax", {{"max_tokens", 8}, {"vocab", vocab}},
            {"logits", "next"});
  return bb;
}

/// Loads `dir` and a CPU backend for it, failing the test on an error.
struct Loaded {
  std::unique_ptr<Bundle> bundle;
  std::unique_ptr<Backend> backend;
};
inline Loaded loadCpu(const std::string &dir, int64_t maxSeqLen = 16,
                      unsigned threads = 2) {
  Loaded l;
  std::string error;
  l.bundle = Bundle::load(dir, error);
  EXPECT_TRUE(l.bundle) << error;
  if (!l.bundle)
    return l;
  l.backend = std::make_unique<CpuBackend>(threads);
  EXPECT_TRUE(l.backend->load(*l.bundle, maxSeqLen, error)) << error;
  return l;
}

/// Runs the prefill sequence for `m` tokens (ids 0) at positions start..
inline bool runStep(Backend &backend, int64_t m, int64_t start = 0,
                    Sequence sequence = Sequence::Prefill) {
  std::vector<int32_t> tokens(m, 0), positions(m);
  for (int64_t i = 0; i < m; ++i)
    positions[i] = static_cast<int32_t>(start + i);
  std::string error;
  bool ok = backend.step(tokens.data(), positions.data(), m, sequence, error);
  EXPECT_TRUE(ok) << error;
  return ok;
}

inline std::vector<uint8_t> read(Backend &backend, const std::string &name,
                                 int64_t rows) {
  std::vector<uint8_t> bytes;
  std::string error;
  EXPECT_TRUE(backend.readBuffer(name, rows, bytes, error)) << error;
  return bytes;
}

inline void write(Backend &backend, const std::string &name,
                  const std::vector<uint8_t> &bytes) {
  std::string error;
  EXPECT_TRUE(backend.writeBuffer(name, bytes.data(), bytes.size(), error))
      << error;
}

inline double silu(double x) { return x / (1.0 + std::exp(-x)); }

} // namespace test
} // namespace qrt

#endif // QOPT_UNITTESTS_RUNTIME_BUNDLETESTSUPPORT_H
