//===- KernelToGPU.cpp - qk kernel ops to gpu.func kernels ----------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/KernelToGPU/GPUToPTX.h"
#include "qopt/Conversion/KernelToGPU/KernelCodegenInterface.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/Kernel/IR/KernelOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTKERNELSTOGPU
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt::codegen;
namespace qk = mlir::qopt::kernel;

namespace {
struct ConvertKernelsToGPUPass
    : mlir::qopt::impl::ConvertKernelsToGPUBase<ConvertKernelsToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&](const Twine &msg) {
      module.emitError() << "convert-kernels-to-gpu: " << msg;
      signalPassFailure();
    };
    std::optional<Chip> target = parseChip(chip);
    if (!target)
      return fail("unknown chip '" + chip +
                  "'; expected sm_80, sm_89 or sm_90a");
    qopt::ModelAttr model = qopt::getModelAttr(module);
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    if (funcs.size() != 1)
      return fail("expected one model function");
    func::FuncOp func = funcs.front();
    auto maxTokens = func->getAttrOfType<IntegerAttr>("qk.max_tokens");
    if (!maxTokens)
      return fail("buffers are not planned (run --qk-plan-buffers)");
    CodegenOptions options;
    options.chip = *target;
    options.maxTokens = maxTokens.getInt();
    options.maxSeq = model ? model.getMaxPositionEmbeddings() : 0;
    if (options.maxSeq <= 0)
      return fail("the model has no max_position_embeddings");
    if (attentionWarps < 1 || attentionWarps > 32)
      return fail("attention-warps must be 1 to 32, got " +
                  std::to_string(attentionWarps));
    options.attentionWarps = attentionWarps;
    if (attentionSplits < 0 || attentionSplits > 8)
      return fail("attention-splits must be 0 to 8, got " +
                  std::to_string(attentionSplits));
    if (attentionSplits > 1 && *target != Chip::SM90a)
      return fail("attention-splits > 1 needs thread-block clusters (sm_90a), "
                  "not " +
                  chip);
    options.attentionSplits =
        attentionSplits ? attentionSplits : (*target == Chip::SM90a ? 8 : 1);
    options.gridDependency = gridDependency && *target == Chip::SM90a;

    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(&getContext()));
    module->setAttr("qk.chip", StringAttr::get(&getContext(), chip));
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule =
        gpu::GPUModuleOp::create(b, module.getLoc(), "qopt_kernels");
    int index = 0;
    bool bad = false;
    func.walk([&](qk::KernelOpInterface kernel) {
      Operation *op = kernel.getOperation();
      std::string name =
          "k" + std::to_string(index++) + "_" + kernel.getKernelFamily().str();
      auto codegen = dyn_cast<KernelCodegenOpInterface>(op);
      if (!codegen) {
        op->emitOpError("has no code generator");
        bad = true;
        return;
      }
      if (failed(codegen.generateKernel(gpuModule, name, options)))
        bad = true;
    });
    if (bad)
      return signalPassFailure();
    if (options.gridDependency)
      addGridDependencyControl(gpuModule);
  }

  /// Starts every kernel that does not wait for its grid dependencies
  /// itself (those that read weights first) with the wait, then lets the
  /// next kernel launch.
  void addGridDependencyControl(gpu::GPUModuleOp gpuModule) {
    for (auto fn : gpuModule.getOps<gpu::GPUFuncOp>()) {
      if (!fn.isKernel())
        continue;
      bool waits = false;
      fn.walk([&](NVVM::GriddepcontrolOp op) {
        waits = waits || op.getKind() == NVVM::GridDepActionKind::wait;
      });
      if (waits)
        continue;
      OpBuilder b = OpBuilder::atBlockBegin(&fn.getBody().front());
      NVVM::GriddepcontrolOp::create(b, fn.getLoc(),
                                     NVVM::GridDepActionKind::wait);
      NVVM::GriddepcontrolOp::create(
          b, fn.getLoc(), NVVM::GridDepActionKind::launch_dependents);
    }
    getOperation()->setAttr("qk.grid_dependency", UnitAttr::get(&getContext()));
  }
};
} // namespace
