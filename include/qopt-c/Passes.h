/*===-- qopt-c/Passes.h - qopt's passes and pipelines for C users -*- C -*-===*\
|*                                                                            *|
|* Part of the qopt project, under the Apache License v2.0 with LLVM          *|
|* Exceptions.                                                                *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* Registers qopt's passes and pipelines (--smoothquant, --fp8, --w4a16, ..., *|
|* --lower-to-nvptx) by name, as mlirRegisterAllPasses does for MLIR's, so    *|
|* that MLIR's mlirParsePassPipeline can name them, and runs a textual        *|
|* pipeline on a module in one call.                                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QOPT_C_PASSES_H
#define QOPT_C_PASSES_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Registers qopt's passes and pipelines and the upstream passes they are
/// built from with MLIR's pass registry. Safe to call more than once.
MLIR_CAPI_EXPORTED void qoptRegisterAllPasses(void);

/// Parses `pipeline` (MLIR's textual form, anchored on builtin.module, e.g.
/// "builtin.module(smoothquant{alpha=0.5})") and runs it on `module`. A
/// pipeline that does not parse is reported through `onError` (with
/// `userData`) and returns failure; diagnostics of a failing pass go to the
/// context's diagnostic handlers (mlirContextAttachDiagnosticHandler).
/// qoptRegisterAllPasses must have been called.
MLIR_CAPI_EXPORTED MlirLogicalResult
qoptRunPassPipeline(MlirModule module, MlirStringRef pipeline,
                    MlirStringCallback onError, void *userData);

#ifdef __cplusplus
}
#endif

#endif /* QOPT_C_PASSES_H */
