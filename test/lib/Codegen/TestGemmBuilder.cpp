//===- TestGemmBuilder.cpp - Run buildGemmKernel on an option spec --------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/KernelToGPU/GPUToPTX.h"
#include "qopt/Conversion/KernelToGPU/KernelBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir {
namespace qopt {
namespace test {
#define GEN_PASS_DECL_QOPTTESTBUILDGEMM
#define GEN_PASS_DEF_QOPTTESTBUILDGEMM
#define GEN_PASS_REGISTRATION
#include "TestCodegenPasses.h.inc"
} // namespace test
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt::codegen;

namespace {
struct QoptTestBuildGemmPass
    : public mlir::qopt::test::impl::QoptTestBuildGemmBase<
          QoptTestBuildGemmPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto bad = [&](StringRef option, StringRef value) {
      emitError(module.getLoc())
          << "qopt-test-build-gemm: unknown " << option << " '" << value << "'";
      signalPassFailure();
    };
    std::optional<GemmKind> gemmKind =
        llvm::StringSwitch<std::optional<GemmKind>>(kind)
            .Case("bf16", GemmKind::BF16)
            .Case("s8", GemmKind::S8)
            .Case("e4m3", GemmKind::E4M3)
            .Case("w8a16", GemmKind::W8A16)
            .Case("w4a16", GemmKind::W4A16)
            .Default(std::nullopt);
    if (!gemmKind)
      return bad("kind", kind);
    auto scaleKind = [](StringRef s) {
      return llvm::StringSwitch<std::optional<ScaleKind>>(s)
          .Case("none", ScaleKind::None)
          .Case("tensor", ScaleKind::PerTensor)
          .Case("token", ScaleKind::PerToken)
          .Case("channel", ScaleKind::PerChannel)
          .Case("group", ScaleKind::PerGroup)
          .Case("block", ScaleKind::Block)
          .Default(std::nullopt);
    };
    std::optional<ScaleKind> a = scaleKind(aScale), b = scaleKind(bScale);
    if (!a)
      return bad("a-scale", aScale);
    if (!b)
      return bad("b-scale", bScale);
    std::optional<ElemType> out =
        llvm::StringSwitch<std::optional<ElemType>>(outType)
            .Case("f32", ElemType::F32)
            .Case("bf16", ElemType::BF16)
            .Case("i8", ElemType::I8)
            .Case("e4m3", ElemType::F8E4M3)
            .Default(std::nullopt);
    if (!out)
      return bad("out", outType);
    std::optional<Chip> target = parseChip(chip);
    if (!target)
      return bad("chip", chip);

    GemmSpec spec;
    spec.name = kernelName;
    spec.kind = *gemmKind;
    spec.maxTokens = maxTokens;
    spec.n = n;
    spec.k = k;
    spec.aScale = *a;
    spec.bScale = *b;
    spec.groupSize = groupSize;
    spec.blockN = blockN;
    spec.blockK = blockK;
    spec.bZeroPoints = zeroPoints;
    spec.intBias = intBias;
    spec.bias = bias;
    spec.gated = gated;
    spec.residual = residual;
    spec.outType = *out;
    spec.outAsymmetric = outAsymmetric;
    spec.tile = {bm, bn, bk, warpsM, warpsN, stages, wgmma, promoteK};

    OpBuilder builder(module.getContext());
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    builder.getUnitAttr());
    auto kernels = module.lookupSymbol<gpu::GPUModuleOp>("qopt_kernels");
    if (!kernels) {
      builder.setInsertionPointToEnd(module.getBody());
      kernels =
          gpu::GPUModuleOp::create(builder, module.getLoc(), "qopt_kernels");
    }
    FailureOr<LaunchConfig> config =
        gemvRows ? buildGemvKernel(kernels, spec,
                                   GemvShape{gemvRows, gemvWarps, gemvKSplit},
                                   spec.name, *target, module.getLoc(),
                                   gridDependency)
                 : buildGemmKernel(kernels, spec, *target, module.getLoc());
    if (failed(config))
      return signalPassFailure();
    auto func = kernels.lookupSymbol<gpu::GPUFuncOp>(spec.name);
    NamedAttribute fields[] = {
        builder.getNamedAttr("block",
                             builder.getDenseI64ArrayAttr(config->block)),
        builder.getNamedAttr("grid_token_tile",
                             builder.getI64IntegerAttr(config->gridTokenTile)),
        builder.getNamedAttr("grid_per_tile",
                             builder.getI64IntegerAttr(config->gridPerTile)),
        builder.getNamedAttr("grid_y",
                             builder.getI64IntegerAttr(config->gridY)),
        builder.getNamedAttr("grid_z",
                             builder.getI64IntegerAttr(config->gridZ)),
        builder.getNamedAttr("shared_bytes",
                             builder.getI64IntegerAttr(config->sharedBytes))};
    func->setAttr("qopt_test.launch", builder.getDictionaryAttr(fields));
  }
};
} // namespace

namespace mlir::qopt::test {
void registerTestCodegenPasses();
} // namespace mlir::qopt::test

void mlir::qopt::test::registerTestCodegenPasses() {
  registerQoptTestCodegenPasses();
}
