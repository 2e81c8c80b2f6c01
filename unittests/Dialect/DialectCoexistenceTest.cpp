//===- DialectCoexistenceTest.cpp - qopt and upstream quant together ------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/InitAllDialects.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;

namespace {

/// An embedder's context: its own registry with upstream `quant` plus qopt.
class CoexistenceTest : public ::testing::Test {
protected:
  CoexistenceTest() {
    registry.insert<quant::QuantDialect>();
    qopt::registerAllDialects(registry);
    context.appendDialectRegistry(registry);
  }
  DialectRegistry registry;
  MLIRContext context;
};

TEST_F(CoexistenceTest, BothDialectsLoadInOneContext) {
  context.loadAllAvailableDialects();
  Dialect *upstream = context.getLoadedDialect("quant");
  Dialect *ours = context.getLoadedDialect("qopt");
  ASSERT_NE(upstream, nullptr);
  ASSERT_NE(ours, nullptr);
  EXPECT_NE(upstream, ours);
  EXPECT_TRUE(isa<quant::QuantDialect>(upstream));
  EXPECT_TRUE(isa<qopt::QoptDialect>(ours));
}

TEST_F(CoexistenceTest, ModuleMixingBothParsesAndVerifies) {
  const char *source = R"mlir(
    func.func @mixed(%x: tensor<4xf32>) -> (tensor<4x!quant.uniform<i8:f32, 0.5>>, tensor<4xi8>) {
      %u = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5>>
      %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>
      return %u, %q : tensor<4x!quant.uniform<i8:f32, 0.5>>, tensor<4xi8>
    }
  )mlir";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  EXPECT_TRUE(succeeded(verify(*module)));
  int qoptOps = 0, quantOps = 0;
  module->walk([&](Operation *op) {
    qoptOps += isa<qopt::QuantizeOp>(op);
    quantOps += isa<quant::QuantizeCastOp>(op);
  });
  EXPECT_EQ(qoptOps, 1);
  EXPECT_EQ(quantOps, 1);
}

} // namespace
