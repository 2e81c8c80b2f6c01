//===- QuantizedOpsTest.cpp - Executor's quantize / dequantize ------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Runs a small model with dynamic per-token INT8 activations and static
// per-channel FP8 weights through the CPU executor, on fresh random weights,
// and compares it with a float64 reference written here.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Safetensors.h"
#include "qopt/Executor/CpuExecutor.h"
#include "qopt/InitAllDialects.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>

using namespace mlir;

namespace {

constexpr int kVocab = 8, kHidden = 16, kOut = 6;

/// float64 reference: nearest E4M3FN value to v (|v| <= 448), ties to even.
double nearestE4M3(double v) {
  double best = 0, bestErr = INFINITY;
  int bestMant = 0;
  for (int e = -6; e <= 8; ++e)
    for (int m = 0; m < 8; ++m) {
      // Normal values 2^e * (1 + m/8), subnormals 2^-6 * m/8.
      for (int sub = 0; sub < 2; ++sub) {
        double mag = sub ? std::ldexp(m / 8.0, -6) : std::ldexp(1 + m / 8.0, e);
        if (mag > 448.0)
          continue;
        double cand = v < 0 ? -mag : mag;
        double err = std::fabs(cand - v);
        if (err < bestErr || (err == bestErr && m % 2 == 0 && bestMant % 2)) {
          best = cand;
          bestErr = err;
          bestMant = m;
        }
      }
    }
  return best;
}

TEST(QuantizedOps, DynamicInt8ActivationsStaticFp8Weights) {
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> embed(kVocab * kHidden), w(kOut * kHidden), wScale(kOut);
  for (float &v : embed)
    v = dist(rng);
  for (float &v : w)
    v = dist(rng) * 0.1f;
  for (int o = 0; o < kOut; ++o) {
    float absmax = 0;
    for (int k = 0; k < kHidden; ++k)
      absmax = std::max(absmax, std::fabs(w[o * kHidden + k]));
    wScale[o] = absmax / 448.0f;
  }

  char tmpl[] = "/tmp/qopt-qops-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string error;
  ASSERT_TRUE(qrt::writeSafetensors(
      dir + "/w.safetensors",
      {qrt::TensorData::fromFloats("embed", {kVocab, kHidden}, embed),
       qrt::TensorData::fromFloats("w", {kOut, kHidden}, w)},
      {}, error))
      << error;
  std::string scales;
  for (int o = 0; o < kOut; ++o)
    scales += (o ? ", " : "") + llvm::formatv("{0:e9}", wScale[o]).str();
  std::string source = llvm::formatv(
      R"mlir(
qopt.weight_store @s "{0}/w.safetensors"
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x6xf32> {{
  %e = qopt.weight @s["embed"] : tensor<8x16xf32>
  %h = qopt.embedding %e[%ids] : (tensor<8x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %q, %sc = qopt.quantize %h {{scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?xf32>
  %x = qopt.dequantize %q scales(%sc : tensor<?xf32>) {{scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x16xi8> -> tensor<?x16xf32>
  %w = qopt.weight @s["w"] : tensor<6x16xf32>
  %wq = qopt.quantize %w {{scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static, scales = dense<[{1}]> : tensor<6xf32>>} : tensor<6x16xf32> -> tensor<6x16xf8E4M3FN>
  %wd = qopt.dequantize %wq {{scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static, scales = dense<[{1}]> : tensor<6xf32>>} : tensor<6x16xf8E4M3FN> -> tensor<6x16xf32>
  %y = qopt.linear %x, %wd : (tensor<?x16xf32>, tensor<6x16xf32>) -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}
)mlir",
      dir, scales);
  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  auto exec = qopt::CpuExecutor::create(*module, {}, error);
  ASSERT_TRUE(exec) << error;
  std::vector<int32_t> ids = {3, 0, 7, 3, 5};
  std::vector<float> y;
  ASSERT_TRUE(exec->forward(ids, 0, y, error)) << error;
  ASSERT_EQ(y.size(), ids.size() * kOut);
  (void)std::system(("rm -rf '" + dir + "'").c_str());

  for (size_t t = 0; t < ids.size(); ++t) {
    const float *h = embed.data() + ids[t] * kHidden;
    double absmax = 0;
    for (int k = 0; k < kHidden; ++k)
      absmax = std::max(absmax, double(std::fabs(h[k])));
    double sx = absmax / 127.0;
    for (int o = 0; o < kOut; ++o) {
      double ref = 0;
      for (int k = 0; k < kHidden; ++k) {
        double xq = std::nearbyint(h[k] / sx) * sx;
        double wv =
            nearestE4M3(w[o * kHidden + k] / double(wScale[o])) * wScale[o];
        ref += xq * wv;
      }
      EXPECT_NEAR(y[t * kOut + o], ref, 1e-4 * (1 + std::fabs(ref)))
          << "token " << t << " output " << o;
    }
  }
}

TEST(QuantizedOps, StoreDtypeMustMatchTheIR) {
  char tmpl[] = "/tmp/qopt-qops-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string error;
  ASSERT_TRUE(qrt::writeSafetensors(
      dir + "/w.safetensors",
      {qrt::TensorData::fromFloats("embed", {2, 4}, std::vector<float>(8, 1))},
      {}, error));
  std::string source = llvm::formatv(R"mlir(
qopt.weight_store @s "{0}/w.safetensors"
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {{
  %e = qopt.weight @s["embed"] : tensor<2x4xbf16>
  %h = qopt.embedding %e[%ids] : (tensor<2x4xbf16>, tensor<?xi32>) -> tensor<?x4xf32>
  return %h : tensor<?x4xf32>
}
)mlir",
                                     dir);
  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  auto exec = qopt::CpuExecutor::create(*module, {}, error);
  ASSERT_TRUE(exec) << error;
  std::vector<float> y;
  EXPECT_FALSE(exec->forward({1}, 0, y, error));
  EXPECT_EQ(error, "tensor 'embed' is F32 in the store but bf16 in the IR");
  (void)std::system(("rm -rf '" + dir + "'").c_str());
}

} // namespace
