//===- WeightOutputTest.cpp - Side stores of pipelines run by embedders ---===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One process runs weight-writing pipelines on two models in two contexts
// with two output directories: each store lands in its own directory and
// both models still run. WeightOutputCleanup deletes what a failed pipeline
// created, and only that.
//
//===----------------------------------------------------------------------===//

#include "qopt-frontend/Importer.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt/Executor/CpuExecutor.h"
#include "qopt/InitAllDialects.h"
#include "qopt/InitAllPasses.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

using namespace mlir;
namespace fs = std::filesystem;

namespace {

struct Model {
  Model() : context(registry()) {
    std::string error;
    module = qopt::importHuggingFaceCheckpoint(
        &context, std::string(QOPT_SHARED_MODELS_DIR) + "/qopt-tiny-llama", {},
        error);
    EXPECT_TRUE(module) << error;
  }
  static DialectRegistry registry() {
    DialectRegistry r;
    qopt::registerAllDialects(r);
    return r;
  }
  /// Runs `pipeline` with a WeightOutputCleanup.
  LogicalResult run(const std::string &pipeline) {
    PassManager pm(&context);
    pm.addInstrumentation(std::make_unique<qopt::WeightOutputCleanup>());
    std::string errors;
    llvm::raw_string_ostream os(errors);
    if (failed(parsePassPipeline(pipeline, pm, os))) {
      ADD_FAILURE() << errors;
      return failure();
    }
    return pm.run(*module);
  }
  /// The path of store `symbol`, absolute.
  fs::path storePath(StringRef symbol) {
    for (qopt::WeightStoreOp s : module->getOps<qopt::WeightStoreOp>())
      if (s.getSymName() == symbol)
        return fs::absolute(s.getPath().str()).lexically_normal();
    return {};
  }
  std::vector<float> logits() {
    std::string error;
    auto exec = qopt::CpuExecutor::create(*module, {}, error);
    EXPECT_TRUE(exec) << error;
    std::vector<float> out;
    if (exec)
      EXPECT_TRUE(exec->forward({1, 2, 3}, 0, out, error)) << error;
    return out;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

std::set<std::string> listing(const fs::path &dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(dir, ec))
    names.insert(e.path().filename().string());
  return names;
}

class WeightOutputTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() { qopt::registerAllPasses(); }
  void SetUp() override {
    llvm::SmallString<128> dir;
    ASSERT_FALSE(
        llvm::sys::fs::createUniqueDirectory("qopt-weight-output", dir));
    root = std::string(dir);
  }
  void TearDown() override { fs::remove_all(root); }
  fs::path root;
};

TEST_F(WeightOutputTest, TwoPipelinesTwoDirectories) {
  Model a, b;
  ASSERT_TRUE(a.module && b.module);
  std::vector<float> floatA = a.logits();
  fs::path dirA = root / "a", dirB = root / "b";
  // One through the module attribute the driver sets, one through the
  // pipeline's weights-out option.
  ASSERT_TRUE(succeeded(a.run("qopt-set-weights-output{dir=" + dirA.string() +
                              "},w8a16,qopt-set-weights-output")));
  ASSERT_TRUE(succeeded(b.run("w8a16{weights-out=" + dirB.string() + "}")));
  EXPECT_FALSE(a.module.get()->hasAttr(qopt::kWeightsOutputAttrName));
  EXPECT_FALSE(a.module.get()->hasAttr(qopt::kCreatedWeightFilesAttrName));

  EXPECT_EQ(a.storePath("rtn").parent_path(), dirA);
  EXPECT_EQ(b.storePath("rtn").parent_path(), dirB);
  // The index and one shard in each directory, nothing else.
  EXPECT_EQ(listing(dirA).size(), 2u);
  EXPECT_EQ(listing(dirB).size(), 2u);
  EXPECT_EQ(listing(dirA), listing(dirB)); // same content, same names

  std::vector<float> la = a.logits(), lb = b.logits();
  ASSERT_EQ(la.size(), floatA.size());
  EXPECT_EQ(la, lb);
  EXPECT_NE(la, floatA);
  for (float v : la)
    ASSERT_TRUE(std::isfinite(v));
}

TEST_F(WeightOutputTest, CleanupRemovesOnlyWhatTheRunCreated) {
  fs::path dir = root / "w";
  // qopt-rebase-weight-stores without options fails after w8a16 wrote @rtn.
  std::string failing = "qopt-set-weights-output{dir=" + dir.string() +
                        "},w8a16,qopt-rebase-weight-stores";
  {
    Model m;
    ASSERT_TRUE(m.module);
    EXPECT_TRUE(failed(m.run(failing)));
    EXPECT_FALSE(fs::exists(dir)); // its files, then the empty directory
  }
  Model good;
  ASSERT_TRUE(good.module);
  ASSERT_TRUE(succeeded(good.run("w8a16{weights-out=" + dir.string() + "}")));
  std::set<std::string> files = listing(dir);
  ASSERT_EQ(files.size(), 2u);
  {
    // The same store again: the files exist, so the run did not create
    // them, and its failure must not delete what `good` references.
    Model m;
    ASSERT_TRUE(m.module);
    EXPECT_TRUE(failed(m.run(failing)));
  }
  EXPECT_EQ(listing(dir), files);
  EXPECT_FALSE(good.logits().empty());
}

} // namespace
