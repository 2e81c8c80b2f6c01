//===- Passes.cpp - qopt's passes and pipelines for C users ---------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-c/Passes.h"

#include "qopt/InitAllPasses.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/CAPI/Utils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

void qoptRegisterAllPasses(void) { mlir::qopt::registerAllPasses(); }

MlirLogicalResult qoptRunPassPipeline(MlirModule module, MlirStringRef pipeline,
                                      MlirStringCallback onError,
                                      void *userData) {
  mlir::ModuleOp op = unwrap(module);
  mlir::detail::CallbackOstream os(onError, userData);
  // The textual form names its anchor: "builtin.module(...)".
  mlir::FailureOr<mlir::OpPassManager> parsed =
      mlir::parsePassPipeline(unwrap(pipeline), os);
  if (mlir::failed(parsed)) {
    os.flush();
    return mlirLogicalResultFailure();
  }
  mlir::PassManager pm(op->getContext(), parsed->getOpAnchorName());
  static_cast<mlir::OpPassManager &>(pm) = std::move(*parsed);
  return wrap(pm.run(op));
}
