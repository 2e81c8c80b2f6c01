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

LogicalResult QoptDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attr) {
  if (attr.getName().getValue() != getModelAttrName())
    return success();
  // Reported at the op's location only: attaching the op would print the
  // whole module.
  if (!isa<ModelAttr>(attr.getValue()))
    return emitError(op->getLoc())
           << "'" << getModelAttrName()
           << "' must be a #qopt.model attribute, got " << attr.getValue();
  if (!isa<ModuleOp>(op))
    return emitError(op->getLoc())
           << "'" << getModelAttrName() << "' is a module attribute";
  return success();
}

ModelAttr mlir::qopt::getModelAttr(ModuleOp module) {
  return module->getAttrOfType<ModelAttr>(QoptDialect::getModelAttrName());
}

void mlir::qopt::setModelAttr(ModuleOp module, ModelAttr model) {
  module->setAttr(QoptDialect::getModelAttrName(), model);
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

/// Reads the values of an f32 / i32 elements attribute, dense or resource
/// backed. Returns nullopt while a resource blob is not available yet (the
/// resource section is parsed after the attributes that use it).
template <typename T>
static std::optional<SmallVector<T>> readValues(ElementsAttr attr) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    using Handle = std::conditional_t<std::is_same_v<T, float>,
                                      DenseF32ResourceElementsAttr,
                                      DenseI32ResourceElementsAttr>;
    auto typed = dyn_cast<Handle>(resource);
    if (!typed)
      return std::nullopt;
    std::optional<ArrayRef<T>> data = typed.tryGetAsArrayRef();
    if (!data)
      return std::nullopt;
    return SmallVector<T>(data->begin(), data->end());
  }
  if (auto values = attr.tryGetValues<T>())
    return llvm::to_vector(*values);
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
    std::optional<SmallVector<float>> values = readValues<float>(scales);
    if (!values && !isa<DenseResourceElementsAttr>(scales))
      return emitError() << "scales are not readable as f32 values";
    int64_t i = 0;
    for (float s : values.value_or(SmallVector<float>())) {
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
    std::optional<SmallVector<int32_t>> values =
        readValues<int32_t>(zeroPoints);
    if (!values && !isa<DenseResourceElementsAttr>(zeroPoints))
      return emitError() << "zero points are not readable as i32 values";
    for (int32_t zp : values.value_or(SmallVector<int32_t>()))
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
  return readValues<float>(getScales()).value_or(SmallVector<float>());
}

SmallVector<int32_t> QuantSchemeAttr::getZeroPointValues() const {
  if (getZeroPoints())
    return readValues<int32_t>(getZeroPoints())
        .value_or(SmallVector<int32_t>());
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

/// Parses `<storage, granularity, sym|asym, static|dynamic (, key = value)*>`
/// with the optional keys `scales`, `zero_points` and `packing`, each at most
/// once, in any order.
Attribute QuantSchemeAttr::parse(AsmParser &parser, Type) {
  Type storage;
  Attribute granularity;
  SMLoc granularityLoc;
  FailureOr<Symmetry> symmetry;
  FailureOr<ScaleMode> mode;
  if (parser.parseLess() || parser.parseType(storage) || parser.parseComma())
    return {};
  granularityLoc = parser.getCurrentLocation();
  if (parser.parseAttribute(granularity) || parser.parseComma())
    return {};
  auto g = dyn_cast<GranularityAttrInterface>(granularity);
  if (!g) {
    parser.emitError(granularityLoc)
        << "expected a granularity attribute (#qopt.per_tensor, "
           "#qopt.per_channel, #qopt.per_token, #qopt.per_group, "
           "#qopt.per_head or #qopt.block), got "
        << granularity;
    return {};
  }
  symmetry = FieldParser<Symmetry>::parse(parser);
  if (failed(symmetry) || parser.parseComma())
    return {};
  mode = FieldParser<ScaleMode>::parse(parser);
  if (failed(mode))
    return {};

  ElementsAttr scales, zeroPoints;
  Packing packing = Packing::None;
  bool seenPacking = false;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    bool duplicate = false;
    if (key == "scales") {
      duplicate = static_cast<bool>(scales);
      if (!duplicate && parser.parseAttribute(scales))
        return {};
    } else if (key == "zero_points") {
      duplicate = static_cast<bool>(zeroPoints);
      if (!duplicate && parser.parseAttribute(zeroPoints))
        return {};
    } else if (key == "packing") {
      duplicate = seenPacking;
      seenPacking = true;
      FailureOr<Packing> parsed = FieldParser<Packing>::parse(parser);
      if (!duplicate && failed(parsed))
        return {};
      packing = duplicate ? packing : *parsed;
    } else {
      parser.emitError(loc)
          << "unknown scheme option '" << key
          << "'; expected 'scales', 'zero_points' or 'packing'";
      return {};
    }
    if (duplicate) {
      parser.emitError(loc) << "duplicate scheme option '" << key << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<QuantSchemeAttr>(parser.getContext(), storage, g,
                                            *symmetry, *mode, scales,
                                            zeroPoints, packing);
}

void QuantSchemeAttr::print(AsmPrinter &printer) const {
  printer << "<" << getStorage() << ", " << getGranularity() << ", "
          << stringifySymmetry(getSymmetry()) << ", "
          << stringifyScaleMode(getMode());
  if (getScales())
    printer << ", scales = " << getScales();
  if (getZeroPoints())
    printer << ", zero_points = " << getZeroPoints();
  if (getPacking() != Packing::None)
    printer << ", packing = " << stringifyPacking(getPacking());
  printer << ">";
}

::qnum::TensorScheme QuantSchemeAttr::getTensorScheme() const {
  ::qnum::TensorScheme t;
  t.kind = getStorageKind();
  t.symmetric = isSymmetric();
  t.granularity = getGranularity().getGranularity();
  t.dynamic = isDynamic();
  // One vector: two calls would give iterators into two different temporaries.
  SmallVector<float> scales = getScaleValues();
  t.scales.assign(scales.begin(), scales.end());
  if (getZeroPoints()) {
    SmallVector<int32_t> zps = getZeroPointValues();
    t.zeroPoints.assign(zps.begin(), zps.end());
  }
  return t;
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

//===----------------------------------------------------------------------===//
// ModelAttr
//===----------------------------------------------------------------------===//

LogicalResult ModelAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                StringRef architecture, StringRef checkpoint,
                                StringRef tokenizer, int64_t vocabSize,
                                int64_t maxPositionEmbeddings,
                                int64_t bosTokenId, int64_t eosTokenId,
                                int64_t slidingWindow) {
  if (!llvm::is_contained({"llama", "mistral", "qwen2"}, architecture))
    return emitError() << "unknown architecture '" << architecture
                       << "' (known: llama, mistral, qwen2)";
  if (checkpoint.empty())
    return emitError() << "checkpoint must name the model's weights";
  if (vocabSize <= 0)
    return emitError() << "vocab_size must be positive, got " << vocabSize;
  if (maxPositionEmbeddings < 0)
    return emitError() << "max_position_embeddings must be positive, got "
                       << maxPositionEmbeddings;
  if (slidingWindow < 0)
    return emitError() << "sliding_window must be positive, got "
                       << slidingWindow;
  // -1: the config has none.
  auto checkId = [&](StringRef name, int64_t id) -> LogicalResult {
    if (id >= -1 && id < vocabSize)
      return success();
    return emitError() << name << " must be a token id in [0, " << vocabSize
                       << "), got " << id;
  };
  return success(succeeded(checkId("bos_token_id", bosTokenId)) &&
                 succeeded(checkId("eos_token_id", eosTokenId)));
}

ModelAttr ModelAttr::mapPaths(function_ref<std::string(StringRef)> fn) const {
  std::string tokenizer = getTokenizer().empty() ? "" : fn(getTokenizer());
  return ModelAttr::get(getContext(), getArchitecture(), fn(getCheckpoint()),
                        tokenizer, getVocabSize(), getMaxPositionEmbeddings(),
                        getBosTokenId(), getEosTokenId(), getSlidingWindow());
}
