//===- GPUToPTX.h - Lower generated kernels to PTX --------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The lowering of the `gpu.module`s the kernel builders write: NVVM target
// attached for one chip (PTX ISA 8.4), the module contents converted to the
// LLVM and NVVM dialects with the bare-pointer memref calling convention
// (each memref parameter is one pointer), then `gpu-module-to-binary
// format=isa`, which leaves each module as a `gpu.binary` whose object's
// `assembly` is the PTX text. Only `gpu.module` contents are touched.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CONVERSION_KERNELTOGPU_GPUTOPTX_H
#define QOPT_CONVERSION_KERNELTOGPU_GPUTOPTX_H

#include "qopt/Conversion/KernelToGPU/KernelBuilders.h"

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir {
class DialectRegistry;
class OpPassManager;

namespace qopt::codegen {

/// The chip's name as the NVVM target spells it: sm_80, sm_89, sm_90a.
llvm::StringRef chipName(Chip chip);
/// The chip a name (sm_80, sm_89, sm_90a) denotes; nullopt for others.
std::optional<Chip> parseChip(llvm::StringRef name);

/// Adds the lowering of every `gpu.module` to PTX for `chip` (one of the
/// names parseChip accepts; an unknown chip is the caller's error).
void buildGPUToPTXPipeline(OpPassManager &pm, llvm::StringRef chip);

/// Registers the dialects the kernel builders emit and the lowering needs,
/// the conversion interfaces of convert-gpu-to-nvvm, the NVVM target and
/// the LLVM IR translations that gpu-module-to-binary runs in process.
void registerGPUCodegenDialects(DialectRegistry &registry);

/// Registers the `qopt-gpu-to-ptx` pipeline (option `chip`).
void registerGPUToPTXPipeline();

} // namespace qopt::codegen
} // namespace mlir

#endif // QOPT_CONVERSION_KERNELTOGPU_GPUTOPTX_H
