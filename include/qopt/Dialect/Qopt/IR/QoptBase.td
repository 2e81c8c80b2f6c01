//===- QoptBase.td - qopt dialect definition ---------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTBASE_TD
#define QOPT_DIALECT_QOPT_IR_QOPTBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Qopt_Dialect : Dialect {
  let name = "qopt";
  let cppNamespace = "::mlir::qopt";
  let summary = "Transformer graphs and quantization schemes for LLM compilation";
  let description = [{
    The `qopt` dialect models a transformer language model at graph level
    (embedding, normalization, linear layers, rotary embeddings, attention,
    activations) with value semantics on tensors, and the quantization of that
    model: quantization schemes (storage type, granularity, symmetry, static
    or dynamic scales), quantize / dequantize / requantize, quantized linear
    layers with fused epilogues, activation statistics and KV-cache schemes.

    Weights are never printed into the IR: `qopt.weight` names a tensor of an
    external store declared with `qopt.weight_store`.

    The dialect is named `qopt` so that it coexists with MLIR's upstream
    `quant` dialect in one `MLIRContext`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect"];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The module attribute that describes the model (a ModelAttr).
    static constexpr ::llvm::StringLiteral getModelAttrName() {
      return ::llvm::StringLiteral("qopt.model");
    }
  }];
}

class Qopt_Op<string mnemonic, list<Trait> traits = []>
    : Op<Qopt_Dialect, mnemonic, traits>;

class Qopt_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Qopt_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // QOPT_DIALECT_QOPT_IR_QOPTBASE_TD
