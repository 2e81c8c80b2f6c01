//===- CalibrationStats.cpp - Reading calibration statistics --------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The statistics qopt-calibrate attached to a model (WeightIO.h): the
// observers' absmax attributes and the Hessians of the @calib store.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

using namespace mlir;
using namespace mlir::qopt;

ActStatsAttr mlir::qopt::findStats(Value value) {
  if (auto obs = value.getDefiningOp<ObserveOp>())
    return obs.getStatsAttr();
  return {};
}

LogicalResult mlir::qopt::readHessian(ActStatsAttr stats, WeightReader &reader,
                                      std::vector<double> &hessian, int64_t &k,
                                      std::string &error) {
  if (!stats || !stats.getHessian()) {
    error = "no Hessian (X^T X) was recorded for its input; run "
            "qopt-calibrate (with --hessian, the default) on the model first"
            " (smoothing drops Hessians: quantize with GPTQ/AWQ before or "
            "instead of qopt-smooth)";
    return failure();
  }
  std::vector<float> h;
  std::vector<int64_t> shape;
  if (failed(reader.readTensor("calib", stats.getHessian().getValue(), h, shape,
                               error)))
    return failure();
  k = stats.getAbsmax().getNumElements();
  if (shape.size() != 2 || shape[0] != k || shape[1] != k) {
    error = "Hessian '" + stats.getHessian().str() + "' has shape " +
            ::qnum::shapeToString(shape) + " but the input has " +
            std::to_string(k) + " channels";
    return failure();
  }
  hessian.assign(h.begin(), h.end());
  return success();
}

std::vector<float> mlir::qopt::statValues(ElementsAttr attr) {
  std::vector<float> out;
  if (!attr)
    return out;
  for (APFloat v : attr.getValues<APFloat>()) {
    bool loses;
    v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &loses);
    out.push_back(v.convertToFloat());
  }
  return out;
}
