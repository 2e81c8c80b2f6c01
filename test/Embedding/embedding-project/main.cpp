//===- main.cpp - An embedder of qopt -------------------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Registers qopt next to upstream's `quant` dialect, parses a module from a
// string, runs a textual pass pipeline of qopt and upstream passes, and
// checks the result.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/InitAllDialects.h"
#include "qopt/InitAllPasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

static const char *kModule = R"mlir(
func.func @embedded(%x: tensor<2xf32>) -> tensor<3xf32> {
  %c = arith.constant dense<[0.9, 1.2, 1000.0]> : tensor<3xf32>
  %o = qopt.observe %c {label = "c"} : tensor<3xf32>
  %q = qopt.quantize %o {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<2.0> : tensor<f32>>} : tensor<3xf32> -> tensor<3xi8>
  %d = qopt.dequantize %q {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<2.0> : tensor<f32>>} : tensor<3xi8> -> tensor<3xf32>
  %u = quant.qcast %x : tensor<2xf32> to tensor<2x!quant.uniform<i8:f32, 0.5>>
  return %d : tensor<3xf32>
}
)mlir";

int main() {
  DialectRegistry registry;
  registry.insert<quant::QuantDialect>();
  qopt::registerAllDialects(registry);
  qopt::registerAllPasses();
  MLIRContext context(registry);

  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kModule, &context);
  if (!module) {
    llvm::errs() << "qopt-embed: parse failed\n";
    return 1;
  }
  PassManager pm(&context);
  // `pm` is anchored on builtin.module: the pipeline lists its passes.
  if (failed(parsePassPipeline("qopt-strip-observers,func.func(canonicalize),"
                               "qopt-verify-contract{stage=quantized}",
                               pm, llvm::errs())))
    return 1;
  if (failed(pm.run(*module))) {
    llvm::errs() << "qopt-embed: pipeline failed\n";
    return 1;
  }

  // The observer is gone and quantize/dequantize of the constant folded to
  // its fake-quantized value.
  int observers = 0, quantOps = 0;
  module->walk([&](Operation *op) {
    observers += isa<qopt::ObserveOp>(op);
    quantOps += isa<qopt::QuantizeOp, qopt::DequantizeOp>(op);
  });
  module->print(llvm::outs());
  llvm::outs() << "\nobservers=" << observers << " quant_ops=" << quantOps
               << "\n";
  return observers == 0 && quantOps == 0 ? 0 : 1;
}
