//===- QoptDialect.cpp - qopt dialect and attributes ----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptDialect.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt;

static_assert(::qnum::kDynamicDim == ShapedType::kDynamic,
              "qopt::kDynamicDim must equal MLIR's dynamic size");

#include "qopt/Dialect/Qopt/IR/QoptOpsDialect.cpp.inc"

#include "qopt/Dialect/Qopt/IR/QoptEnums.cpp.inc"

#include "qopt/Dialect/Qopt/IR/QoptAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qopt/Dialect/Qopt/IR/QoptAttrs.cpp.inc"

//===----------------------------------------------------------------------===//
// Dialect
//===----------------------------------------------------------------------===//

void QoptDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "qopt/Dialect/Qopt/IR/QoptOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qopt/Dialect/Qopt/IR/QoptAttrs.cpp.inc"
      >();
}

Operation *QoptDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}

//===----------------------------------------------------------------------===//
// Granularity attributes
//===----------------------------------------------------------------------===//

::qnum::Granularity PerTensorAttr::getGranularity() const {
  return ::qnum::Granularity::perTensor();
}
bool PerTensorAttr::isActivationOnly() const { return false; }

::qnum::Granularity PerChannelAttr::getGranularity() const {
  return ::qnum::Granularity::perChannel(getAxis());
}
bool PerChannelAttr::isActivationOnly() const { return false; }

::qnum::Granularity PerTokenAttr::getGranularity() const {
  return ::qnum::Granularity::perToken();
}
bool PerTokenAttr::isActivationOnly() const { return true; }

::qnum::Granularity PerGroupAttr::getGranularity() const {
  return ::qnum::Granularity::perGroup(getAxis(), getSize());
}
bool PerGroupAttr::isActivationOnly() const { return false; }

::qnum::Granularity PerHeadAttr::getGranularity() const {
  return ::qnum::Granularity::perHead(getAxis(), getHeads());
}
bool PerHeadAttr::isActivationOnly() const { return false; }

::qnum::Granularity BlockAttr::getGranularity() const {
  return ::qnum::Granularity::block(getRows(), getCols());
}
bool BlockAttr::isActivationOnly() const { return false; }

//===----------------------------------------------------------------------===//
// QuantSchemeAttr
//===----------------------------------------------------------------------===//

static std::optional<::qnum::StorageKind> getStorageKindOf(Type type) {
  if (type.isSignlessInteger(8))
    return ::qnum::StorageKind::Int8;
  if (type.isSignlessInteger(4))
    return ::qnum::StorageKind::Int4;
  if (isa<Float8E4M3FNType>(type))
    return ::qnum::StorageKind::Float8E4M3FN;
  if (isa<Float8E5M2Type>(type))
    return ::qnum::StorageKind::Float8E5M2;
  return std::nullopt;
}

LogicalResult
QuantSchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        Type storage, GranularityAttrInterface granularity,
                        Symmetry symmetry, ScaleMode mode, ElementsAttr scales,
                        ElementsAttr zeroPoints, Packing packing) {
  std::optional<::qnum::StorageKind> kind = getStorageKindOf(storage);
  if (!kind)
    return emitError() << "unsupported storage type " << storage
                       << "; expected i8, i4, f8E4M3FN or f8E5M2";
  if (!granularity)
    return emitError() << "missing granularity";
  bool float8 = ::qnum::isFloat8(*kind);

  if (mode == ScaleMode::Dynamic && scales)
    return emitError() << "a dynamic scheme cannot carry stored scales";
  if (mode == ScaleMode::Dynamic && zeroPoints)
    return emitError() << "a dynamic scheme cannot carry stored zero points";
  if (granularity.isActivationOnly() && mode == ScaleMode::Static)
    return emitError() << "per-token granularity requires a dynamic scheme";

  if (float8 && zeroPoints)
    return emitError() << "zero points are not allowed with float8 storage "
                       << storage;
  if (float8 && symmetry == Symmetry::Asymmetric)
    return emitError() << "float8 storage " << storage
                       << " only supports symmetric schemes";
  if (symmetry == Symmetry::Symmetric && zeroPoints)
    return emitError() << "a symmetric scheme cannot carry zero points";

  if (*kind == ::qnum::StorageKind::Int4 && packing == Packing::None)
    return emitError()
           << "i4 storage requires a packing (int4x2 or int4x8_offset)";
  if (*kind != ::qnum::StorageKind::Int4 && packing != Packing::None)
    return emitError() << "packing '" << stringifyPacking(packing)
                       << "' applies only to i4 storage, not " << storage;

  if (scales) {
    if (!scales.getElementType().isF32())
      return emitError() << "scales must be f32, got "
                         << scales.getElementType();
    auto values = scales.tryGetValues<float>();
    if (!values)
      return emitError() << "scales are not readable as f32 values";
    int64_t i = 0;
    for (float s : *values) {
      if (!(s > 0.0f) || !std::isfinite(s))
        return emitError() << "scale #" << i
                           << " must be positive and finite, got " << s;
      ++i;
    }
  }
  if (zeroPoints) {
    if (!zeroPoints.getElementType().isSignlessInteger(32))
      return emitError() << "zero points must be i32, got "
                         << zeroPoints.getElementType();
    ::qnum::StorageRange range =
        ::qnum::storageRange(*kind, symmetry == Symmetry::Symmetric);
    auto values = zeroPoints.tryGetValues<int32_t>();
    if (!values)
      return emitError() << "zero points are not readable as i32 values";
    for (int32_t zp : *values)
      if (zp < range.min || zp > range.max)
        return emitError() << "zero point " << zp
                           << " is outside the storage range ["
                           << static_cast<int64_t>(range.min) << ", "
                           << static_cast<int64_t>(range.max) << "] of "
                           << storage;
    if (scales && scales.getNumElements() != zeroPoints.getNumElements())
      return emitError() << "scheme has " << zeroPoints.getNumElements()
                         << " zero points for " << scales.getNumElements()
                         << " scales";
  }
  return success();
}

bool QuantSchemeAttr::isFloat8() const {
  return ::qnum::isFloat8(getStorageKind());
}

::qnum::StorageKind QuantSchemeAttr::getStorageKind() const {
  return *getStorageKindOf(getStorage());
}

SmallVector<float> QuantSchemeAttr::getScaleValues() const {
  if (!getScales())
    return {};
  return llvm::to_vector(getScales().getValues<float>());
}

SmallVector<int32_t> QuantSchemeAttr::getZeroPointValues() const {
  if (getZeroPoints())
    return llvm::to_vector(getZeroPoints().getValues<int32_t>());
  int64_t n = getScales() ? getScales().getNumElements() : 1;
  return SmallVector<int32_t>(n, 0);
}

static std::string shapeString(ArrayRef<int64_t> shape) {
  return ::qnum::shapeToString({shape.begin(), shape.end()});
}

LogicalResult
QuantSchemeAttr::verifyForShape(ArrayRef<int64_t> shape,
                                function_ref<InFlightDiagnostic()> emitError,
                                StringRef what) const {
  std::string msg = ::qnum::checkGranularity(getGranularity().getGranularity(),
                                             {shape.begin(), shape.end()});
  if (!msg.empty())
    return emitError() << "scheme does not apply to the " << what
                       << " of shape " << shapeString(shape) << ": " << msg;
  if (!getScales())
    return success();
  SmallVector<int64_t> scaleShape = getScaleShape(shape);
  if (llvm::any_of(scaleShape, ShapedType::isDynamic))
    return success();
  int64_t expected = ShapedType::getNumElements(scaleShape);
  if (getScales().getNumElements() != expected)
    return emitError() << "scheme has " << getScales().getNumElements()
                       << " scales but its granularity needs " << expected
                       << " (shape " << shapeString(scaleShape) << ") for the "
                       << what << " of shape " << shapeString(shape);
  return success();
}

QuantSchemeAttr QuantSchemeAttr::withoutValues() const {
  return QuantSchemeAttr::get(getContext(), getStorage(), getGranularity(),
                              getSymmetry(), getMode(), ElementsAttr(),
                              ElementsAttr(), getPacking());
}

//===----------------------------------------------------------------------===//
// ActStatsAttr
//===----------------------------------------------------------------------===//

LogicalResult ActStatsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   ElementsAttr absmax, ElementsAttr min,
                                   ElementsAttr max, int64_t numTokens,
                                   StringAttr hessian) {
  auto checkVector = [&](ElementsAttr a, StringRef name) -> LogicalResult {
    auto type = dyn_cast<ShapedType>(a.getType());
    if (!type || type.getRank() != 1 || !type.getElementType().isF32())
      return emitError() << "statistics '" << name
                         << "' must be a rank-1 f32 tensor, got "
                         << a.getType();
    if (type.getNumElements() != absmax.getNumElements())
      return emitError() << "statistics '" << name << "' has "
                         << type.getNumElements()
                         << " channels but 'absmax' has "
                         << absmax.getNumElements();
    return success();
  };
  if (failed(checkVector(absmax, "absmax")))
    return failure();
  if (min && failed(checkVector(min, "min")))
    return failure();
  if (max && failed(checkVector(max, "max")))
    return failure();
  if (numTokens < 0)
    return emitError() << "num_tokens must be non-negative, got " << numTokens;
  return success();
}

//===----------------------------------------------------------------------===//
// RopeScalingAttr
//===----------------------------------------------------------------------===//

LogicalResult
RopeScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        RopeScalingKind kind, FloatAttr factor,
                        FloatAttr lowFreqFactor, FloatAttr highFreqFactor,
                        std::optional<int64_t> originalMaxPosition) {
  if (!(factor.getValueAsDouble() > 0.0))
    return emitError() << "RoPE scaling factor must be positive, got "
                       << factor.getValueAsDouble();
  if (kind == RopeScalingKind::Llama3) {
    if (!lowFreqFactor || !highFreqFactor || !originalMaxPosition)
      return emitError() << "llama3 RoPE scaling needs low_freq_factor, "
                            "high_freq_factor and original_max_position";
    if (!(highFreqFactor.getValueAsDouble() > lowFreqFactor.getValueAsDouble()))
      return emitError() << "llama3 RoPE scaling needs high_freq_factor > "
                            "low_freq_factor";
    if (*originalMaxPosition <= 0)
      return emitError() << "original_max_position must be positive";
  }
  return success();
}
