//===- QoptDialect.h - qopt dialect, attributes and interfaces --*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTDIALECT_H
#define QOPT_DIALECT_QOPT_IR_QOPTDIALECT_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Dialect.h"
#include "qopt-runtime/QuantMath.h"

#include "qopt/Dialect/Qopt/IR/QoptOpsDialect.h.inc"

#include "qopt/Dialect/Qopt/IR/QoptEnums.h.inc"

#include "qopt/Dialect/Qopt/IR/QoptAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "qopt/Dialect/Qopt/IR/QoptAttrs.h.inc"

#endif // QOPT_DIALECT_QOPT_IR_QOPTDIALECT_H
