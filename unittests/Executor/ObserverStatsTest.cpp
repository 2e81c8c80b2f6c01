//===- ObserverStatsTest.cpp - Executor's calibration statistics ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Safetensors.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Executor/CpuExecutor.h"
#include "qopt/InitAllDialects.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir;

namespace {

/// An observer on the embedding output sees exactly the embedding rows of
/// the tokens run, accumulated over forward calls.
TEST(ObserverStats, EmbeddingRowsOverSeveralCalls) {
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  constexpr int kVocab = 10, kHidden = 6;
  std::vector<float> embed(kVocab * kHidden);
  for (float &v : embed)
    v = dist(rng);
  char tmpl[] = "/tmp/qopt-obs-XXXXXX";
  std::string dir = mkdtemp(tmpl), error;
  ASSERT_TRUE(qrt::writeSafetensors(
      dir + "/w.safetensors",
      {qrt::TensorData::fromFloats("embed", {kVocab, kHidden}, embed)}, {},
      error));
  std::string source = llvm::formatv(R"mlir(
qopt.weight_store @s "{0}/w.safetensors"
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x6xf32> {{
  %e = qopt.weight @s["embed"] : tensor<10x6xf32>
  %h = qopt.embedding %e[%ids] : (tensor<10x6xf32>, tensor<?xi32>) -> tensor<?x6xf32>
  %o = qopt.observe %h {{label = "h"} : tensor<?x6xf32>
  return %o : tensor<?x6xf32>
}
)mlir",
                                     dir);
  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  qopt::CpuExecutorOptions options;
  options.collectStats = true;
  auto exec = qopt::CpuExecutor::create(*module, options, error);
  ASSERT_TRUE(exec) << error;
  std::uniform_int_distribution<int> ids(0, kVocab - 1);
  std::vector<int32_t> seen;
  std::vector<float> out;
  for (int call = 0; call < 3; ++call) {
    std::vector<int32_t> batch(4);
    for (int32_t &id : batch)
      id = ids(rng);
    exec->resetCache();
    ASSERT_TRUE(exec->forward(batch, 0, out, error)) << error;
    seen.insert(seen.end(), batch.begin(), batch.end());
  }
  (void)std::system(("rm -rf '" + dir + "'").c_str());

  ASSERT_EQ(exec->observedStats().size(), 1u);
  const qopt::ObservedStats &st = exec->observedStats().begin()->second;
  EXPECT_TRUE(isa<qopt::ObserveOp>(exec->observedStats().begin()->first));
  EXPECT_EQ(st.numTokens, 12);
  for (int c = 0; c < kHidden; ++c) {
    double lo = INFINITY, hi = -INFINITY, amax = 0;
    for (int32_t id : seen) {
      double v = embed[id * kHidden + c];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      amax = std::max(amax, std::fabs(v));
    }
    EXPECT_EQ(st.min[c], lo) << "channel " << c;
    EXPECT_EQ(st.max[c], hi) << "channel " << c;
    EXPECT_EQ(st.absmax[c], amax) << "channel " << c;
  }
}

} // namespace
