//===- KernelCodegenInterface.td - kernel ops that codegen -*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CONVERSION_KERNELTOGPU_KERNELCODEGENINTERFACE_TD
#define QOPT_CONVERSION_KERNELTOGPU_KERNELCODEGENINTERFACE_TD

include "mlir/IR/OpBase.td"

def KernelCodegenOpInterface : OpInterface<"KernelCodegenOpInterface"> {
  let cppNamespace = "::mlir::qopt::codegen";
  let description = [{
    A kernel op that can write its own kernel. The code generator attaches
    this interface to the `qk` ops as external models
    (`registerKernelCodegenInterfaceExternalModels`), so the kernel dialect
    needs none of the GPU dialects. Each model derives the op's kernel spec
    (KernelSpecs.h), appends the `gpu.func` to the GPU module, and records
    on the op what the bundle needs: `qk.spec` (the spec's fields),
    `qk.params` (each kernel parameter as `operand:N`, `result:N`, or a KV
    cache buffer `cache:k`, `cache:v`, `cache:k_scales`, `cache:v_scales`),
    `qk.kernel` and `qk.launch`.
  }];
  let methods = [
    InterfaceMethod<[{
        Generates the kernel named `name` into `gpuModule` (a
        `gpu.module`) for `options`, or reports why it cannot.
      }],
      "::llvm::LogicalResult", "generateKernel",
      (ins "::mlir::Operation *":$gpuModule, "::llvm::StringRef":$name,
           "const ::mlir::qopt::codegen::CodegenOptions &":$options)>,
  ];
}

#endif // QOPT_CONVERSION_KERNELTOGPU_KERNELCODEGENINTERFACE_TD
