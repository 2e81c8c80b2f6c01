/*===-- qopt-c/Dialects.h - qopt's dialects for C users -----------*- C -*-===*\
|*                                                                            *|
|* Part of the qopt project, under the Apache License v2.0 with LLVM          *|
|* Exceptions.                                                                *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* The C API to qopt's dialects, in the style of MLIR's own mlir-c headers:   *|
|* dialect handles for `qopt` (the graph / quantization dialect) and `qk`     *|
|* (kernel ops), and one call that registers everything qopt's pipelines      *|
|* need (qopt, qk, func, arith, tensor, quant and the GPU code generator's    *|
|* dialects) on a registry. Use it with MLIR's C API (mlir-c/IR.h):           *|
|*                                                                            *|
|*   MlirDialectRegistry r = mlirDialectRegistryCreate();                     *|
|*   qoptRegisterAllDialects(r);                                              *|
|*   MlirContext ctx = mlirContextCreateWithRegistry(r, false);               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QOPT_C_DIALECTS_H
#define QOPT_C_DIALECTS_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Qopt, qopt);
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(QoptKernel, qk);

/// Inserts qopt's dialects, the upstream dialects its IR and pipelines use,
/// and the code generator's interface implementations into `registry`.
MLIR_CAPI_EXPORTED void qoptRegisterAllDialects(MlirDialectRegistry registry);

#ifdef __cplusplus
}
#endif

#endif /* QOPT_C_DIALECTS_H */
