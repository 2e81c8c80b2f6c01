//===- FoldTest.cpp - Constant folds against float64 references -----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Folds quantize / dequantize of fresh random constants with the canonicalizer
// and compares every element with a float64 reference written here.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/InitAllDialects.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir;

namespace {

class FoldTest : public ::testing::Test {
protected:
  FoldTest() : seed(std::random_device{}()), rng(seed) {
    qopt::loadAllDialects(context);
  }

  /// Parses `source`, canonicalizes it and returns the values of the
  /// function's single returned constant.
  DenseElementsAttr foldToConstant(const std::string &source) {
    module = parseSourceString<ModuleOp>(source, &context);
    if (!module)
      return {};
    PassManager pm(&context);
    pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
    if (failed(pm.run(*module)))
      return {};
    DenseElementsAttr result;
    module->walk([&](func::ReturnOp ret) {
      if (auto cst = ret.getOperand(0).getDefiningOp<arith::ConstantOp>())
        result = dyn_cast<DenseElementsAttr>(cst.getValue());
    });
    return result;
  }

  /// An MLIR dense literal of `v`, split into rows of `cols` when given.
  static std::string floatList(const std::vector<float> &v, size_t cols = 0) {
    if (cols == 0)
      cols = v.size();
    std::string s = cols == v.size() ? "" : "[";
    for (size_t r = 0; r < v.size() / cols; ++r) {
      s += r ? ", [" : "[";
      for (size_t c = 0; c < cols; ++c)
        s += (c ? ", " : "") + llvm::formatv("{0:e9}", v[r * cols + c]).str();
      s += "]";
    }
    return cols == v.size() ? s : s + "]";
  }

  unsigned seed;
  std::mt19937 rng;
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

TEST_F(FoldTest, QuantizePerChannelInt8MatchesReference) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  const int rows = 4, cols = 16;
  std::uniform_real_distribution<float> xs(-3.0f, 3.0f);
  std::uniform_real_distribution<float> ss(0.005f, 0.05f);
  std::vector<float> x(rows * cols), s(rows);
  for (float &v : x)
    v = xs(rng);
  for (float &v : s)
    v = ss(rng);
  std::string src = llvm::formatv(
      R"mlir(func.func @f() -> tensor<4x16xi8> {
        %c = arith.constant dense<{0}> : tensor<4x16xf32>
        %q = qopt.quantize %c {{scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<{1}> : tensor<4xf32>>} : tensor<4x16xf32> -> tensor<4x16xi8>
        return %q : tensor<4x16xi8>
      })mlir",
      floatList(x, cols), floatList(s));
  DenseElementsAttr folded = foldToConstant(src);
  ASSERT_TRUE(folded);
  auto values = llvm::to_vector(folded.getValues<APInt>());
  ASSERT_EQ(values.size(), x.size());
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      double exact = static_cast<double>(x[r * cols + c]) / s[r];
      double ref = std::min(127.0, std::max(-127.0, std::nearbyint(exact)));
      int64_t got = values[r * cols + c].getSExtValue();
      if (got != static_cast<int64_t>(ref))
        EXPECT_LT(std::fabs(exact - std::floor(exact) - 0.5), 1e-5)
            << "element " << r << "," << c << " x=" << x[r * cols + c];
    }
}

TEST_F(FoldTest, DequantizeAsymmetricMatchesReference) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::uniform_int_distribution<int> qs(-128, 127);
  std::uniform_real_distribution<float> ss(0.001f, 1.0f);
  std::uniform_int_distribution<int> zps(-10, 10);
  std::vector<int> q(32);
  for (int &v : q)
    v = qs(rng);
  float scale = ss(rng);
  int zp = zps(rng);
  std::string qList = "[";
  for (size_t i = 0; i < q.size(); ++i)
    qList += (i ? ", " : "") + std::to_string(q[i]);
  qList += "]";
  std::string src = llvm::formatv(
      R"mlir(func.func @f() -> tensor<32xf32> {
        %c = arith.constant dense<{0}> : tensor<32xi8>
        %x = qopt.dequantize %c {{scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<{1:e9}> : tensor<f32>, zero_points = dense<{2}> : tensor<i32>>} : tensor<32xi8> -> tensor<32xf32>
        return %x : tensor<32xf32>
      })mlir",
      qList, scale, zp);
  DenseElementsAttr folded = foldToConstant(src);
  ASSERT_TRUE(folded);
  auto values = llvm::to_vector(folded.getValues<float>());
  for (size_t i = 0; i < q.size(); ++i) {
    // A product of two floats is exact in float64; rounding it once to float
    // is the reference.
    float ref = static_cast<float>(static_cast<double>(q[i] - zp) * scale);
    EXPECT_EQ(values[i], ref) << "element " << i;
  }
}

TEST_F(FoldTest, QuantizeDequantizeOfConstantIsFakeQuant) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::uniform_real_distribution<float> xs(-500.0f, 500.0f);
  std::vector<float> x(16);
  for (float &v : x)
    v = xs(rng);
  std::string src = llvm::formatv(
      R"mlir(func.func @f() -> tensor<16xf32> {
        %c = arith.constant dense<{0}> : tensor<16xf32>
        %q = qopt.quantize %c {{scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>} : tensor<16xf32> -> tensor<16xf8E4M3FN>
        %d = qopt.dequantize %q {{scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>} : tensor<16xf8E4M3FN> -> tensor<16xf32>
        return %d : tensor<16xf32>
      })mlir",
      floatList(x));
  DenseElementsAttr folded = foldToConstant(src);
  ASSERT_TRUE(folded);
  auto values = llvm::to_vector(folded.getValues<float>());
  for (size_t i = 0; i < x.size(); ++i) {
    // Reference: the nearest E4M3FN value to clamp(x / 0.5, +-448), times 0.5.
    double v =
        std::min(448.0, std::max(-448.0, static_cast<double>(x[i]) / 0.5));
    double best = 0, bestErr = INFINITY;
    for (int e = -9; e <= 8; ++e)
      for (int m = 0; m < 16; ++m) {
        double cand = std::ldexp(m / 8.0, e) * (v < 0 ? -1 : 1);
        if (std::fabs(cand) > 448.0)
          continue;
        double err = std::fabs(cand - v);
        if (err < bestErr) {
          best = cand;
          bestErr = err;
        }
      }
    // Ties cannot occur for these random inputs with overwhelming
    // probability; the error bound is checked either way.
    EXPECT_LE(std::fabs(values[i] - best * 0.5), bestErr * 0.5 + 1e-6)
        << "x=" << x[i];
    EXPECT_LE(std::fabs(values[i] / 0.5 - v), std::fabs(v) / 16 + 1e-3);
  }
}

} // namespace
