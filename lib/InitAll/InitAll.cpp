//===- InitAll.cpp - Register qopt's dialects and passes ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/InitAllDialects.h"
#include "qopt/InitAllPasses.h"

#include "qopt/Conversion/KernelToGPU/GPUToPTX.h"
#include "qopt/Conversion/KernelToGPU/KernelCodegenInterface.h"
#include "qopt/Conversion/KernelToGPU/LowerToNVPTX.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/Kernel/IR/KernelDialect.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"
#include "qopt/Dialect/Kernel/Transforms/Pipelines.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Transforms/Passes.h"

void mlir::qopt::registerAllDialects(DialectRegistry &registry) {
  registry
      .insert<qopt::QoptDialect, qopt::kernel::QKDialect, arith::ArithDialect,
              func::FuncDialect, quant::QuantDialect, tensor::TensorDialect>();
  qopt::codegen::registerGPUCodegenDialects(registry);
  qopt::codegen::registerKernelCodegenInterfaceExternalModels(registry);
}

void mlir::qopt::loadAllDialects(MLIRContext &context) {
  DialectRegistry registry;
  registerAllDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
}

void mlir::qopt::registerAllPasses() {
  static bool once = [] {
    mlir::registerTransformsPasses();
    qopt::registerQoptPasses();
    qopt::registerQoptConversionPasses();
    qopt::kernel::registerQKPasses();
    qopt::kernel::registerQKPipelines();
    qopt::registerQoptPipelines();
    qopt::codegen::registerGPUToPTXPipeline();
    qopt::codegen::registerLowerToNVPTXPipeline();
    return true;
  }();
  (void)once;
}
