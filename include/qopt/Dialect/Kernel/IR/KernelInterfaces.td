//===- KernelInterfaces.td - qk interfaces -----------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_KERNEL_IR_KERNELINTERFACES_TD
#define QOPT_DIALECT_KERNEL_IR_KERNELINTERFACES_TD

include "mlir/IR/OpBase.td"

def QK_KernelOpInterface : OpInterface<"KernelOpInterface"> {
  let cppNamespace = "::mlir::qopt::kernel";
  let description = [{
    One kernel launch of the compiled model. Passes, the buffer planner, the
    codegen and the bundle writer work on this interface, never on op
    names: it says which kernel family the op is (the runtime's CPU backend
    dispatches on it), how its operands are laid out in memory, how much
    scratch memory it needs, how it is launched once code exists for it,
    and which of its attributes describe its arithmetic.
  }];
  let methods = [
    InterfaceMethod<[{
        The kernel family, as the bundle manifest and the runtime name it
        (`gemm`, `rms_norm`, `attention`, ...).
      }],
      "::llvm::StringRef", "getKernelFamily", (ins)>,
    InterfaceMethod<[{
        How operand `index` is laid out in device memory: `rows` (row-major
        `[tokens, features]`), `weight` (`[out, in]`, K contiguous),
        `int4x2` (two's-complement nibbles packed along K, low first),
        `vector` (a dense 1-D or 2-D table), `scalar`.
      }],
      "::llvm::StringRef", "getOperandLayout", (ins "unsigned":$index),
      [{}], [{
        ::mlir::Type type = $_op->getOperand(index).getType();
        auto shaped = ::llvm::dyn_cast<::mlir::RankedTensorType>(type);
        if (!shaped)
          return "scalar";
        if (shaped.getRank() == 2 && shaped.isDynamicDim(0))
          return "rows";
        return "vector";
      }]>,
    InterfaceMethod<[{
        Scratch device memory the kernel needs for a launch of `maxTokens`
        rows, in bytes.
      }],
      "int64_t", "getWorkspaceBytes", (ins "int64_t":$maxTokens), [{}],
      [{ return 0; }]>,
    InterfaceMethod<[{
        The attributes that define the kernel's arithmetic, recorded in the
        bundle manifest for the runtime (dimensions, epsilon, schemes,
        flags). Buffer and codegen bookkeeping attributes are excluded.
      }],
      "::mlir::DictionaryAttr", "getSemanticAttributes", (ins), [{}], [{
        ::llvm::SmallVector<::mlir::NamedAttribute> kept;
        for (::mlir::NamedAttribute attr : $_op->getAttrs())
          if (!attr.getName().getValue().starts_with("qk.") &&
              attr.getName().getValue() != "operandSegmentSizes" &&
              attr.getName().getValue() != "resultSegmentSizes")
            kept.push_back(attr);
        return ::mlir::DictionaryAttr::get($_op->getContext(), kept);
      }]>,
  ];
  let extraSharedClassDeclaration = [{
    /// The launch shape recorded by codegen (`qk.launch`), or null before.
    ::mlir::qopt::kernel::LaunchAttr getLaunch() {
      return $_op->template getAttrOfType<::mlir::qopt::kernel::LaunchAttr>(
          "qk.launch");
    }
    /// The kernel's symbol in the GPU module (`qk.kernel`), or null.
    ::mlir::SymbolRefAttr getKernelSymbol() {
      return $_op->template getAttrOfType<::mlir::SymbolRefAttr>("qk.kernel");
    }
  }];
}

#endif // QOPT_DIALECT_KERNEL_IR_KERNELINTERFACES_TD
