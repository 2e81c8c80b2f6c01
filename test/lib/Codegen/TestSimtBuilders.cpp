//===- TestSimtBuilders.cpp - Build a CUDA-core kernel from options -------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/KernelToGPU/KernelBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <optional>

namespace mlir {
namespace qopt {
namespace test {
#define GEN_PASS_DECL_QOPTTESTBUILDSIMTKERNELS
#define GEN_PASS_DEF_QOPTTESTBUILDSIMTKERNELS
#define GEN_PASS_REGISTRATION
#include "TestSimtPasses.h.inc"
} // namespace test
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt::codegen;

static std::optional<ElemType> parseElemType(StringRef s) {
  return llvm::StringSwitch<std::optional<ElemType>>(s)
      .Case("f32", ElemType::F32)
      .Case("bf16", ElemType::BF16)
      .Case("f16", ElemType::F16)
      .Case("i8", ElemType::I8)
      .Case("e4m3", ElemType::F8E4M3)
      .Case("i32", ElemType::I32)
      .Default(std::nullopt);
}

static std::optional<KVScaleKind> parseKVScales(StringRef s) {
  return llvm::StringSwitch<std::optional<KVScaleKind>>(s)
      .Case("none", KVScaleKind::None)
      .Case("tensor", KVScaleKind::PerTensor)
      .Case("head", KVScaleKind::PerHead)
      .Case("token", KVScaleKind::PerToken)
      .Default(std::nullopt);
}

namespace {
struct QoptTestBuildSimtKernelsPass
    : public mlir::qopt::test::impl::QoptTestBuildSimtKernelsBase<
          QoptTestBuildSimtKernelsPass> {
  using Base::Base;

  /// Parses the type options; reports the first bad one.
  LogicalResult parseTypes(Location loc) {
    for (auto [opt, value] : {std::pair{"weight-type", &weightType},
                              {"table-type", &tableType},
                              {"out-type", &outType},
                              {"in-type", &inType},
                              {"k-storage", &kStorage},
                              {"v-storage", &vStorage}}) {
      std::optional<ElemType> t = parseElemType(*value);
      if (!t)
        return emitError(loc) << "qopt-test-build-simt-kernels: unknown " << opt
                              << " '" << *value << "'";
      types[opt] = *t;
    }
    for (auto [opt, value] :
         {std::pair{"k-scales", &kScales}, {"v-scales", &vScales}}) {
      std::optional<KVScaleKind> s = parseKVScales(*value);
      if (!s)
        return emitError(loc) << "qopt-test-build-simt-kernels: unknown " << opt
                              << " '" << *value << "'";
      scaleKinds[opt] = *s;
    }
    return success();
  }

  KVCacheSpec cache(bool keys) {
    KVCacheSpec c;
    c.maxSeq = maxSeq;
    c.numKvHeads = kvHeads;
    c.headDim = headDim;
    c.storage = types[keys ? "k-storage" : "v-storage"];
    c.scales = scaleKinds[keys ? "k-scales" : "v-scales"];
    return c;
  }

  FailureOr<LaunchConfig> build(gpu::GPUModuleOp gpuModule, Chip target,
                                std::string name, Location loc) {
    if (kind == "rms_norm") {
      RmsNormSpec s;
      s.name = name;
      s.maxTokens = maxTokens;
      s.hidden = hidden;
      s.epsilon = epsilon;
      s.weightType = types["weight-type"];
      s.outType = types["out-type"];
      s.dynamicPerToken = dynamic;
      s.staticScale = staticScale;
      s.staticAsymmetric = asymmetric;
      s.blockThreads = blockThreads;
      return buildRmsNormKernel(gpuModule, s, target, loc);
    }
    if (kind == "quantize") {
      QuantizeSpec s;
      s.name = name;
      s.maxTokens = maxTokens;
      s.hidden = hidden;
      s.outType = types["out-type"];
      s.dynamicPerToken = dynamic;
      s.staticAsymmetric = asymmetric;
      s.blockThreads = blockThreads;
      return buildQuantizeKernel(gpuModule, s, target, loc);
    }
    if (kind == "embedding") {
      EmbeddingSpec s;
      s.name = name;
      s.maxTokens = maxTokens;
      s.vocab = vocab;
      s.hidden = hidden;
      s.tableType = types["table-type"];
      return buildEmbeddingKernel(gpuModule, s, target, loc);
    }
    if (kind == "elementwise") {
      ElementwiseSpec s;
      s.name = name;
      s.maxTokens = maxTokens;
      s.features = hidden;
      s.outType = types["out-type"];
      if (op == "add")
        s.kind = ElementwiseKind::Add;
      else if (op == "mul")
        s.kind = ElementwiseKind::Mul;
      else if (op == "silu_mul")
        s.kind = ElementwiseKind::SiluMul;
      else
        return emitError(loc)
               << "qopt-test-build-simt-kernels: unknown op '" << op << "'";
      return buildElementwiseKernel(gpuModule, s, target, loc);
    }
    if (kind == "argmax") {
      ArgmaxSpec s;
      s.name = name;
      s.maxTokens = maxTokens;
      s.vocab = vocab;
      return buildArgmaxKernel(gpuModule, s, target, loc);
    }
    if (kind == "permute_columns") {
      PermuteColumnsSpec s;
      s.name = name;
      s.maxTokens = maxTokens;
      s.features = hidden;
      s.inType = types["in-type"];
      s.outType = types["out-type"];
      return buildPermuteColumnsKernel(gpuModule, s, target, loc);
    }
    if (kind == "rope_append") {
      RopeAppendSpec s;
      s.name = name;
      s.maxTokens = maxTokens;
      s.numHeads = heads;
      s.numKvHeads = kvHeads;
      s.headDim = headDim;
      s.maxPositions = maxPositions ? maxPositions : maxSeq;
      s.keys = cache(true);
      s.values = cache(false);
      return buildRopeAppendKernel(gpuModule, s, target, loc);
    }
    if (kind == "attention") {
      AttentionSpec s;
      s.name = name;
      s.maxTokens = maxTokens;
      s.numHeads = heads;
      s.numKvHeads = kvHeads;
      s.headDim = headDim;
      s.causal = causal;
      s.scale = scale;
      s.slidingWindow = slidingWindow;
      s.keys = cache(true);
      s.values = cache(false);
      s.outType = types["out-type"];
      s.warps = warps;
      s.splits = splits;
      return buildAttentionKernel(gpuModule, s, target, loc);
    }
    return emitError(loc) << "qopt-test-build-simt-kernels: unknown kind '"
                          << kind << "'";
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Location loc = module.getLoc();
    std::optional<Chip> target = llvm::StringSwitch<std::optional<Chip>>(chip)
                                     .Case("sm_80", Chip::SM80)
                                     .Case("sm_89", Chip::SM89)
                                     .Case("sm_90a", Chip::SM90a)
                                     .Default(std::nullopt);
    if (!target) {
      emitError(loc) << "qopt-test-build-simt-kernels: unknown chip '" << chip
                     << "'";
      return signalPassFailure();
    }
    if (failed(parseTypes(loc)))
      return signalPassFailure();

    OpBuilder b(module.getBodyRegion());
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    b.getUnitAttr());
    auto gpuModule = module.lookupSymbol<gpu::GPUModuleOp>("qopt_kernels");
    if (!gpuModule) {
      b.setInsertionPointToEnd(module.getBody());
      gpuModule = gpu::GPUModuleOp::create(b, loc, "qopt_kernels");
    }
    std::string name = kernelName.empty() ? kind : kernelName;
    FailureOr<LaunchConfig> config = build(gpuModule, *target, name, loc);
    if (failed(config))
      return signalPassFailure();

    // qopt_test.launch = {name = {block = [x, y, z], grid_token_tile, ...}}.
    auto i64s = [&](ArrayRef<int64_t> v) { return b.getDenseI64ArrayAttr(v); };
    NamedAttrList launch;
    launch.append("block", i64s(config->block));
    launch.append("grid_token_tile",
                  b.getI64IntegerAttr(config->gridTokenTile));
    launch.append("grid_per_tile", b.getI64IntegerAttr(config->gridPerTile));
    launch.append("grid_y", b.getI64IntegerAttr(config->gridY));
    launch.append("grid_z", b.getI64IntegerAttr(config->gridZ));
    launch.append("shared_bytes", b.getI64IntegerAttr(config->sharedBytes));
    NamedAttrList all;
    if (auto old = module->getAttrOfType<DictionaryAttr>("qopt_test.launch"))
      all.append(old.getValue());
    all.set(name, launch.getDictionary(&getContext()));
    module->setAttr("qopt_test.launch", all.getDictionary(&getContext()));
  }

private:
  llvm::StringMap<ElemType> types;
  llvm::StringMap<KVScaleKind> scaleKinds;
};
} // namespace

namespace mlir::qopt::test {
void registerTestSimtPasses();
} // namespace mlir::qopt::test

void mlir::qopt::test::registerTestSimtPasses() {
  registerQoptTestSimtPasses();
}
