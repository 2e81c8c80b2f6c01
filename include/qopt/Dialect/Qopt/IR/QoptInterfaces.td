//===- QoptInterfaces.td - qopt interfaces -----------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTINTERFACES_TD
#define QOPT_DIALECT_QOPT_IR_QOPTINTERFACES_TD

include "mlir/IR/OpBase.td"

def Qopt_GranularityAttrInterface : AttrInterface<"GranularityAttrInterface"> {
  let cppNamespace = "::mlir::qopt";
  let description = [{
    The granularity of a quantization scheme: which elements of a tensor share
    one scale (and zero point). Each granularity attribute knows the shape of
    the scale tensor it needs for a given tensor shape and which tensor shapes
    it can apply to, so that verifiers and passes never switch on the kind.
  }];
  let methods = [
    InterfaceMethod<[{
        Returns the pure-C++ description of this granularity (shared with the
        runtime and the CPU executor, which never see MLIR).
      }],
      "::qnum::Granularity", "getGranularity", (ins)>,
    InterfaceMethod<[{
        Returns true when the granularity only makes sense for activations
        (scales that depend on the tokens seen at run time).
      }],
      "bool", "isActivationOnly", (ins), [{}], [{ return false; }]>,
  ];
  let extraSharedClassDeclaration = [{
    /// Checks that the granularity applies to a tensor of `shape`; reports
    /// through `emitError` and fails otherwise.
    ::llvm::LogicalResult
    verifyForShape(::llvm::ArrayRef<int64_t> shape,
                   ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError) const {
      std::string msg = ::qnum::checkGranularity($_attr.getGranularity(),
                                                 {shape.begin(), shape.end()});
      if (msg.empty())
        return ::mlir::success();
      return emitError() << msg;
    }
    /// The shape of the scale (and zero-point) tensor for a tensor of `shape`.
    /// Dynamic dimensions propagate.
    ::llvm::SmallVector<int64_t>
    getScaleShape(::llvm::ArrayRef<int64_t> shape) const {
      std::vector<int64_t> s = ::qnum::scaleShape($_attr.getGranularity(),
                                                  {shape.begin(), shape.end()});
      return ::llvm::SmallVector<int64_t>(s.begin(), s.end());
    }
  }];
}

def Qopt_LinearLikeOpInterface : OpInterface<"LinearLikeOpInterface"> {
  let cppNamespace = "::mlir::qopt";
  let description = [{
    An op computing `y = x W^T (+ b)` with a weight laid out `[out, in]`, in
    float or quantized form. Smoothing, calibration and weight-quantization
    passes work on this interface rather than on concrete ops.
  }];
  let methods = [
    InterfaceMethod<"The activation input `x`.", "::mlir::Value", "getInput",
      (ins)>,
    InterfaceMethod<"The weight `W`, laid out `[out, in]`.", "::mlir::Value",
      "getWeight", (ins)>,
    InterfaceMethod<"The bias, or a null value.", "::mlir::Value", "getBias",
      (ins)>,
    InterfaceMethod<[{
        The layer's name: its `label` (the checkpoint prefix of its weight,
        e.g. `model.layers.0.self_attn.q_proj`), or an empty string for an
        unlabeled layer. Passes name layers in side stores, progress and
        diagnostics with it.
      }],
      "::llvm::StringRef", "getLayerName", (ins), [{}], [{
        if (::mlir::StringAttr label = $_op.getLabelAttr())
          return label.getValue();
        return {};
      }]>,
    InterfaceMethod<"The number of input features.", "int64_t",
      "getInFeatures", (ins), [{}], [{
        return ::llvm::cast<::mlir::ShapedType>($_op.getWeight().getType())
            .getDimSize(1);
      }]>,
    InterfaceMethod<"The number of output features.", "int64_t",
      "getOutFeatures", (ins), [{}], [{
        return ::llvm::cast<::mlir::ShapedType>($_op.getWeight().getType())
            .getDimSize(0);
      }]>,
  ];
}

def Qopt_QuantSchemeOpInterface : OpInterface<"QuantSchemeOpInterface"> {
  let cppNamespace = "::mlir::qopt";
  let description = [{
    An op whose semantics depend on quantization schemes. Legalization and
    contract passes visit every scheme of a module through this interface.
  }];
  let methods = [
    InterfaceMethod<"The quantization schemes this op uses (possibly none).",
      "::llvm::SmallVector<::mlir::qopt::QuantSchemeAttr>", "getQuantSchemes",
      (ins)>,
  ];
}

#endif // QOPT_DIALECT_QOPT_IR_QOPTINTERFACES_TD
