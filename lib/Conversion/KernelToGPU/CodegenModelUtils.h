//===- CodegenModelUtils.h - What the codegen models share -----*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The spec fields, parameter lists and kernel records that the external
// models of KernelCodegenOpInterface (KernelCodegenModels.cpp,
// GemmCodegenModel.cpp) write on their ops for the bundle.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CONVERSION_KERNELTOGPU_CODEGENMODELUTILS_H
#define QOPT_LIB_CONVERSION_KERNELTOGPU_CODEGENMODELUTILS_H

#include "qopt/Conversion/KernelToGPU/KernelBuilders.h"
#include "qopt/Conversion/KernelToGPU/KernelSpecs.h"
#include "qopt/Dialect/Kernel/IR/KernelOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"

#include <string>
#include <vector>

namespace mlir::qopt::codegen::models {
namespace qk = mlir::qopt::kernel;

/// Builds the `qk.spec` dictionary field by field.
class SpecDict {
public:
  explicit SpecDict(MLIRContext *ctx) : b(ctx) {}
  SpecDict &add(StringRef name, int64_t v) {
    attrs.emplace_back(b.getStringAttr(name), b.getI64IntegerAttr(v));
    return *this;
  }
  SpecDict &add(StringRef name, double v) {
    attrs.emplace_back(b.getStringAttr(name), b.getF64FloatAttr(v));
    return *this;
  }
  SpecDict &add(StringRef name, bool v) {
    attrs.emplace_back(b.getStringAttr(name), b.getBoolAttr(v));
    return *this;
  }
  SpecDict &add(StringRef name, StringRef v) {
    attrs.emplace_back(b.getStringAttr(name), b.getStringAttr(v));
    return *this;
  }
  SpecDict &add(StringRef name, DictionaryAttr v) {
    attrs.emplace_back(b.getStringAttr(name), v);
    return *this;
  }
  DictionaryAttr get() { return b.getDictionaryAttr(attrs); }

private:
  Builder b;
  SmallVector<NamedAttribute> attrs;
};

/// The parameters of a kernel, as the bundle names them.
class Params {
public:
  explicit Params(Operation *op) : op(op) {}
  void operand(Value v) {
    for (OpOperand &use : op->getOpOperands())
      if (use.get() == v) {
        names.push_back("operand:" + std::to_string(use.getOperandNumber()));
        return;
      }
    llvm_unreachable("not an operand of the op");
  }
  void optional(Value v) {
    if (v)
      operand(v);
  }
  void result(unsigned i) { names.push_back("result:" + std::to_string(i)); }
  void cache(StringRef which) { names.push_back(("cache:" + which).str()); }
  ArrayAttr get() {
    Builder b(op->getContext());
    SmallVector<Attribute> attrs;
    for (const std::string &n : names)
      attrs.push_back(b.getStringAttr(n));
    return b.getArrayAttr(attrs);
  }

private:
  Operation *op;
  std::vector<std::string> names;
};

/// A kernel of the op for launches of at most `maxM` tokens.
struct SmallMKernel {
  int64_t maxM;
  std::string name;
  LaunchConfig launch;
};

FailureOr<ElemType> elemType(Operation *op, Type t);

StringRef elemName(ElemType t);

StringRef scaleName(ScaleKind k);

StringRef kvScaleName(KVScaleKind k);

StringRef gemmKindName(GemmKind k);

Type elementOf(Value v);

DictionaryAttr cacheDict(MLIRContext *ctx, const KVCacheSpec &s);

FailureOr<KVCacheSpec> cacheSide(Operation *op, qk::KVCacheOp cache,
                                 Type storage, QuantSchemeAttr scheme,
                                 int64_t maxSeq);

/// Records the op's small-M kernels (ascending maxM) for the bundle:
/// `qk.small_m_kernels` (symbols), `qk.small_m_launches` and
/// `qk.small_m_rows`.
void setSmallMKernels(Operation *op, gpu::GPUModuleOp module,
                      ArrayRef<SmallMKernel> variants);

qk::LaunchAttr launchAttr(MLIRContext *ctx, const LaunchConfig &l);

/// Records what the bundle needs and the generated kernel's launch.
LogicalResult finish(Operation *op, Operation *gpuModule, StringRef name,
                     DictionaryAttr spec, Params &params,
                     FailureOr<LaunchConfig> launch);

qk::KVCacheOp cacheOf(Operation *op, FlatSymbolRefAttr name);

} // namespace mlir::qopt::codegen::models

namespace mlir::qopt::codegen {
/// Attaches qk.gemm's KernelCodegenOpInterface model (GemmCodegenModel.cpp).
void attachGemmCodegenModel(MLIRContext *ctx);
} // namespace mlir::qopt::codegen

#endif // QOPT_LIB_CONVERSION_KERNELTOGPU_CODEGENMODELUTILS_H
