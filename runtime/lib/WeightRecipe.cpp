//===- WeightRecipe.cpp - Weights computed from a checkpoint at load ------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/WeightRecipe.h"
#include "qopt-runtime/Parallel.h"

#include <cmath>
#include <cstring>

using namespace qrt;

static bool parseCount(const std::string &text, size_t at, int64_t &out) {
  if (at >= text.size() || text.size() - at > 9)
    return false;
  int64_t v = 0;
  for (size_t i = at; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    v = v * 10 + (text[i] - '0');
  }
  out = v;
  return v > 0;
}

bool WeightQuantRecipe::parse(const std::string &text, WeightQuantRecipe &out,
                              std::string &error) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    size_t colon = text.find(':', start);
    fields.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos)
      break;
    start = colon + 1;
  }
  auto bad = [&](const std::string &why) {
    error = "weight recipe '" + text + "': " + why +
            " (STORAGE:GRANULARITY[:asym], e.g. i8:channel, i4:group128, "
            "f8e4m3:block128)";
    return false;
  };
  if (fields.size() < 2 || fields.size() > 3)
    return bad("expected two or three fields");
  WeightQuantRecipe r;
  const std::string &s = fields[0];
  if (s == "i8")
    r.storage = qnum::StorageKind::Int8;
  else if (s == "i4")
    r.storage = qnum::StorageKind::Int4;
  else if (s == "f8e4m3")
    r.storage = qnum::StorageKind::Float8E4M3FN;
  else if (s == "f8e5m2")
    r.storage = qnum::StorageKind::Float8E5M2;
  else
    return bad("unknown storage '" + s + "'");
  const std::string &g = fields[1];
  int64_t size = 0;
  if (g == "channel")
    r.granularity = qnum::Granularity::perChannel(0);
  else if (g == "tensor")
    r.granularity = qnum::Granularity::perTensor();
  else if (g.rfind("group", 0) == 0 && parseCount(g, 5, size))
    r.granularity = qnum::Granularity::perGroup(1, size);
  else if (g.rfind("block", 0) == 0 && parseCount(g, 5, size))
    r.granularity = qnum::Granularity::block(size, size);
  else
    return bad("unknown granularity '" + g + "'");
  if (fields.size() == 3) {
    if (fields[2] != "asym")
      return bad("unknown field '" + fields[2] + "'");
    if (qnum::isFloat8(r.storage))
      return bad("float8 weights are symmetric");
    r.symmetric = false;
  }
  out = r;
  return true;
}

std::string WeightQuantRecipe::str() const {
  std::string s;
  switch (storage) {
  case qnum::StorageKind::Int8:
    s = "i8";
    break;
  case qnum::StorageKind::Int4:
    s = "i4";
    break;
  case qnum::StorageKind::Float8E4M3FN:
    s = "f8e4m3";
    break;
  case qnum::StorageKind::Float8E5M2:
    s = "f8e5m2";
    break;
  }
  switch (granularity.kind) {
  case qnum::GranularityKind::PerGroup:
    s += ":group" + std::to_string(granularity.size);
    break;
  case qnum::GranularityKind::Block:
    s += ":block" + std::to_string(granularity.rows);
    break;
  case qnum::GranularityKind::PerTensor:
    s += ":tensor";
    break;
  default:
    s += ":channel";
    break;
  }
  return symmetric ? s : s + ":asym";
}

std::string WeightQuantRecipe::check(int64_t n, int64_t k) const {
  return qnum::checkGranularity(granularity, {n, k});
}

qnum::TensorScheme WeightQuantRecipe::tensorScheme() const {
  qnum::TensorScheme ts;
  ts.kind = storage;
  ts.symmetric = symmetric;
  ts.granularity = granularity;
  return ts;
}

const char *qrt::weightPartName(WeightPart part) {
  switch (part) {
  case WeightPart::Copy:
    return "copy";
  case WeightPart::QWeight:
    return "qweight";
  case WeightPart::Scales:
    return "scales";
  case WeightPart::ZeroPoints:
    return "zero_points";
  }
  return "?";
}

bool qrt::parseWeightPart(const std::string &name, WeightPart &out) {
  for (WeightPart p : {WeightPart::Copy, WeightPart::QWeight,
                       WeightPart::Scales, WeightPart::ZeroPoints})
    if (name == weightPartName(p)) {
      out = p;
      return true;
    }
  return false;
}

TensorData qrt::encodeStorage(std::string name, std::vector<int64_t> shape,
                              const std::vector<float> &values,
                              qnum::StorageKind storage) {
  TensorData t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  int64_t count = static_cast<int64_t>(values.size());
  constexpr int64_t kGrain = int64_t(1) << 16;
  if (storage == qnum::StorageKind::Int4) {
    t.dtype = DType::U8;
    int64_t cols = t.shape.empty() ? 1 : t.shape.back();
    int64_t rows = cols ? count / cols : 0;
    int64_t bytesPerRow = (cols + 1) / 2;
    if (!t.shape.empty())
      t.shape.back() = bytesPerRow;
    t.data.resize(static_cast<size_t>(rows * bytesPerRow));
    // Rows are packed independently (an odd row length pads its last byte).
    int64_t grain = std::max<int64_t>(1, kGrain / (cols + 1));
    parallelForChunks(rows, grain, 4.0 * double(cols), 0,
                      [&](int64_t rb, int64_t re) {
                        std::vector<int8_t> row(cols);
                        for (int64_t r = rb; r < re; ++r) {
                          for (int64_t c = 0; c < cols; ++c)
                            row[c] = static_cast<int8_t>(values[r * cols + c]);
                          std::vector<uint8_t> packed = qnum::packInt4x2(row);
                          std::memcpy(t.data.data() + r * bytesPerRow,
                                      packed.data(), packed.size());
                        }
                      });
    return t;
  }
  t.data.resize(values.size());
  if (storage == qnum::StorageKind::Int8) {
    t.dtype = DType::I8;
    parallelForChunks(count, kGrain, 1.0, 0, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        t.data[i] = static_cast<uint8_t>(static_cast<int8_t>(values[i]));
    });
    return t;
  }
  bool e4m3 = storage == qnum::StorageKind::Float8E4M3FN;
  t.dtype = e4m3 ? DType::F8_E4M3 : DType::F8_E5M2;
  parallelForChunks(count, kGrain, 1.0, 0, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      t.data[i] =
          e4m3 ? qnum::floatToE4M3FN(values[i]) : qnum::floatToE5M2(values[i]);
  });
  return t;
}

bool qrt::weightToFloats(const TensorView &view, std::vector<float> &out,
                         std::string &error) {
  if (view.dtype != DType::F32 && view.dtype != DType::BF16 &&
      view.dtype != DType::F16) {
    error = "tensor '" + view.name + "' is " + dtypeName(view.dtype) +
            "; a weight quantized at load must be F32, BF16 or F16";
    return false;
  }
  int64_t n = view.numElements();
  out.resize(static_cast<size_t>(n));
  constexpr int64_t kGrain = int64_t(1) << 16;
  parallelForChunks(n, kGrain, 4.0, 0, [&](int64_t b, int64_t e) {
    if (view.dtype == DType::F32) {
      std::memcpy(out.data() + b, view.data + 4 * b, 4 * (e - b));
    } else if (view.dtype == DType::BF16) {
      for (int64_t i = b; i < e; ++i) {
        uint16_t bits;
        std::memcpy(&bits, view.data + 2 * i, 2);
        uint32_t u = static_cast<uint32_t>(bits) << 16;
        std::memcpy(&out[i], &u, 4);
      }
    } else {
      for (int64_t i = b; i < e; ++i)
        out[i] = view.getFloat(i);
    }
  });
  for (int64_t i = 0; i < n; ++i) {
    if (std::isfinite(out[i]))
      continue;
    error = "tensor '" + view.name + "' holds " +
            (std::isnan(out[i]) ? "NaN"
             : out[i] > 0       ? "+Inf"
                                : "-Inf") +
            " at index " + std::to_string(i);
    return false;
  }
  return true;
}

bool qrt::quantizeWeight(const std::string &name, const std::vector<float> &w,
                         int64_t n, int64_t k, const WeightQuantRecipe &recipe,
                         QuantizedWeight &out, std::string &error) {
  if (int64_t(w.size()) != n * k) {
    error = name + ": " + std::to_string(w.size()) + " values for a [" +
            std::to_string(n) + ", " + std::to_string(k) + "] weight";
    return false;
  }
  std::string why = recipe.check(n, k);
  if (!why.empty()) {
    error = name + ": recipe " + recipe.str() + ": " + why;
    return false;
  }
  std::vector<int64_t> shape = {n, k};
  qnum::TensorScheme ts = recipe.tensorScheme();
  qnum::computeDynamicParams(w.data(), shape, ts);
  std::vector<float> q(w.size());
  qnum::quantizeTensor(w.data(), shape, ts, q.data());
  std::vector<int64_t> sShape = qnum::scaleShape(recipe.granularity, shape);
  out.qweight = encodeStorage(name + ".qweight", shape, q, recipe.storage);
  out.scales = TensorData::fromFloats(name + ".scales", sShape, ts.scales);
  out.zeroPoints =
      recipe.symmetric
          ? TensorData()
          : TensorData::fromInt32(name + ".zero_points", sShape, ts.zeroPoints);
  return true;
}
