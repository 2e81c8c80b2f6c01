//===- KernelBase.td - qk dialect definition ---------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_KERNEL_IR_KERNELBASE_TD
#define QOPT_DIALECT_KERNEL_IR_KERNELBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def QK_Dialect : Dialect {
  let name = "qk";
  let cppNamespace = "::mlir::qopt::kernel";
  let summary = "Fused GPU kernels of a quantized transformer";
  let description = [{
    The `qk` dialect is qopt's kernel level: each op is one kernel launch of
    the compiled model (rms_norm with its output quantization, a GEMM with
    its dequantization / bias / gated-MLP / residual / output-quantization
    epilogue, RoPE fused with the KV-cache append, attention over a KV
    cache, embedding gather, greedy argmax). Ops have value semantics on
    tensors whose leading dimension is the number of tokens of a launch;
    every scale is an SSA operand (static scales become small constants),
    KV caches are explicit `qk.kv_cache` symbols, and buffer planning
    assigns each result a slot of one activation arena.

    Every op implements `KernelOpInterface` (launch shape, workspace,
    operand layouts, the attributes the bundle manifest records).
    `--qk-lower-to-gpu` writes each op's kernel as a `gpu.func`.
  }];
  let dependentDialects = ["::mlir::qopt::QoptDialect",
                           "::mlir::arith::ArithDialect"];
  let useDefaultAttributePrinterParser = 1;
}

class QK_Op<string mnemonic, list<Trait> traits = []>
    : Op<QK_Dialect, mnemonic, traits>;

class QK_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<QK_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // QOPT_DIALECT_KERNEL_IR_KERNELBASE_TD
