//===- Dialects.cpp - qopt's dialects for C users -------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-c/Dialects.h"

#include "qopt/Dialect/Kernel/IR/KernelDialect.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/InitAllDialects.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Qopt, qopt, mlir::qopt::QoptDialect)
MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(QoptKernel, qk,
                                      mlir::qopt::kernel::QKDialect)

void qoptRegisterAllDialects(MlirDialectRegistry registry) {
  mlir::qopt::registerAllDialects(*unwrap(registry));
}
