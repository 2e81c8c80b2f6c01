//===- QoptEnums.td - qopt enumerations --------------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTENUMS_TD
#define QOPT_DIALECT_QOPT_IR_QOPTENUMS_TD

include "mlir/IR/EnumAttr.td"
include "qopt/Dialect/Qopt/IR/QoptBase.td"

def Qopt_Symmetry : I32EnumAttr<"Symmetry",
    "whether a scheme has a zero point", [
      I32EnumAttrCase<"Symmetric", 0, "sym">,
      I32EnumAttrCase<"Asymmetric", 1, "asym">]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

def Qopt_ScaleMode : I32EnumAttr<"ScaleMode",
    "where the scales of a scheme come from", [
      I32EnumAttrCase<"Static", 0, "static">,
      I32EnumAttrCase<"Dynamic", 1, "dynamic">]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

def Qopt_Packing : I32EnumAttr<"Packing",
    "how sub-byte storage values are laid out in memory", [
      I32EnumAttrCase<"None", 0, "none">,
      // Two 4-bit values per byte along the innermost axis; element 2k in the
      // low nibble, element 2k+1 in the high nibble; two's complement nibbles.
      I32EnumAttrCase<"Int4x2", 1, "int4x2">,
      // compressed-tensors `pack-quantized`: eight 4-bit values per int32
      // along the innermost axis, element i in bits [4i, 4i+4), each stored
      // with a +8 offset (unsigned nibble).
      I32EnumAttrCase<"Int4x8Offset", 2, "int4x8_offset">]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

def Qopt_ObserverKind : I32EnumAttr<"ObserverKind",
    "how calibration turns observed values into statistics", [
      I32EnumAttrCase<"MinMax", 0, "minmax">,
      I32EnumAttrCase<"Percentile", 1, "percentile">,
      I32EnumAttrCase<"MSE", 2, "mse">]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

def Qopt_Activation : I32EnumAttr<"Activation",
    "activation function applied in an epilogue", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Silu", 1, "silu">,
      I32EnumAttrCase<"Gelu", 2, "gelu">,
      I32EnumAttrCase<"GeluTanh", 3, "gelu_tanh">]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

def Qopt_LinearRole : I32EnumAttr<"LinearRole",
    "the role of a linear layer inside a transformer block", [
      I32EnumAttrCase<"Generic", 0, "generic">,
      I32EnumAttrCase<"QProj", 1, "q_proj">,
      I32EnumAttrCase<"KProj", 2, "k_proj">,
      I32EnumAttrCase<"VProj", 3, "v_proj">,
      I32EnumAttrCase<"OProj", 4, "o_proj">,
      I32EnumAttrCase<"GateProj", 5, "gate_proj">,
      I32EnumAttrCase<"UpProj", 6, "up_proj">,
      I32EnumAttrCase<"DownProj", 7, "down_proj">,
      I32EnumAttrCase<"LMHead", 8, "lm_head">]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

def Qopt_RopeScalingKind : I32EnumAttr<"RopeScalingKind",
    "RoPE frequency scaling rule", [
      I32EnumAttrCase<"Linear", 0, "linear">,
      I32EnumAttrCase<"Llama3", 1, "llama3">]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

def Qopt_Target : I32EnumAttr<"Target",
    "the GPU a model is compiled for", [
      // Ampere: int8 tensor cores, no float8.
      I32EnumAttrCase<"SM80", 0, "sm_80">,
      // Ada: int8 and float8 tensor cores.
      I32EnumAttrCase<"SM89", 1, "sm_89">,
      // Hopper with its arch-specific features (wgmma, TMA).
      I32EnumAttrCase<"SM90a", 2, "sm_90a">]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

def Qopt_SymmetryAttr : EnumAttr<Qopt_Dialect, Qopt_Symmetry, "symmetry">;
def Qopt_ScaleModeAttr : EnumAttr<Qopt_Dialect, Qopt_ScaleMode, "scale_mode">;
def Qopt_PackingAttr : EnumAttr<Qopt_Dialect, Qopt_Packing, "packing">;
def Qopt_ObserverKindAttr : EnumAttr<Qopt_Dialect, Qopt_ObserverKind, "observer">;
def Qopt_ActivationAttr : EnumAttr<Qopt_Dialect, Qopt_Activation, "activation">;
def Qopt_LinearRoleAttr : EnumAttr<Qopt_Dialect, Qopt_LinearRole, "role">;
def Qopt_TargetAttr : EnumAttr<Qopt_Dialect, Qopt_Target, "target">;

#endif // QOPT_DIALECT_QOPT_IR_QOPTENUMS_TD
