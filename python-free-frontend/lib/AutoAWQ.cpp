//===- AutoAWQ.cpp - AutoAWQ GEMM checkpoints -----------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// AutoAWQ's GEMM format (`quant_method` "awq", `version` "gemm", 4 bits,
// `zero_point` true): per linear, for a weight W [N, K] in groups of g
// along K,
//   qweight  int32 [K, N / 8]      W's unsigned int4 values, transposed:
//                                  word j of row k holds columns 8j..8j+7,
//                                  column 8j + order[i] in bits 4i, with
//                                  order = 0, 2, 4, 6, 1, 3, 5, 7
//   qzeros   int32 [K / g, N / 8]  the unsigned zero points, packed alike
//   scales   fp16 [K / g, N]
// and W[n, k] = (q[k, n] - z[k / g, n]) * s[k / g, n].
//
//===----------------------------------------------------------------------===//

#include "PackedInt4.h"

#include "QuantizedFormats.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::formats;

namespace {
class AutoAWQ : public PackedInt4Format {
public:
  using PackedInt4Format::PackedInt4Format;
  std::string name() const override { return "AutoAWQ"; }
  LogicalResult check(const qrt::TensorStore &store, const CheckpointLinear &l,
                      std::vector<std::string> &used,
                      std::string &error) const override;

protected:
  LogicalResult unpack(const qrt::TensorStore &store, const CheckpointLinear &l,
                       UnpackedInt4 &out, std::string &error) const override;
};
} // namespace

LogicalResult AutoAWQ::check(const qrt::TensorStore &store,
                             const CheckpointLinear &l,
                             std::vector<std::string> &used,
                             std::string &error) const {
  int64_t g = group(l);
  if (l.out % 8 || l.in % g) {
    error = "layer '" + l.prefix + "' [" + std::to_string(l.out) + ", " +
            std::to_string(l.in) +
            "]: AutoAWQ needs the output dimension to be a multiple of 8 and "
            "the input dimension of group_size " +
            std::to_string(g);
    return failure();
  }
  const std::string &p = l.prefix;
  if (!expect(store, p + ".qweight", {qrt::DType::I32}, {l.in, l.out / 8}, used,
              error) ||
      !expect(store, p + ".qzeros", {qrt::DType::I32}, {l.in / g, l.out / 8},
              used, error) ||
      !expect(store, p + ".scales",
              {qrt::DType::F16, qrt::DType::BF16, qrt::DType::F32},
              {l.in / g, l.out}, used, error))
    return failure();
  return success();
}

LogicalResult AutoAWQ::unpack(const qrt::TensorStore &store,
                              const CheckpointLinear &l, UnpackedInt4 &out,
                              std::string &) const {
  int64_t n = l.out, k = l.in, g = group(l), groups = k / g;
  const qrt::TensorView *qw = store.find(l.prefix + ".qweight");
  const qrt::TensorView *qz = store.find(l.prefix + ".qzeros");
  const qrt::TensorView *sc = store.find(l.prefix + ".scales");
  static const unsigned kNibble[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  out.values.resize(size_t(n * k));
  for (int64_t row = 0; row < k; ++row)
    for (int64_t j = 0; j < n / 8; ++j) {
      uint32_t w = word(qw, row * (n / 8) + j);
      for (int64_t c = 0; c < 8; ++c)
        out.values[(8 * j + c) * k + row] = (w >> (4 * kNibble[c])) & 0xF;
    }
  unpackZerosAndScales(qz, sc, n, groups, kNibble, out);
  return success();
}

std::unique_ptr<CheckpointQuantization>
formats::parseAutoAWQ(const llvm::json::Object &q, const std::string &where,
                      std::string &error) {
  static const char *known[] = {
      "quant_method", "bits",  "group_size",   "zero_point",
      "version",      "w_bit", "q_group_size", "modules_to_not_convert"};
  for (const auto &entry : q) {
    StringRef key = entry.first;
    if (llvm::none_of(known, [&](const char *k) { return key == k; })) {
      error = where + " has \"" + key.str() +
              "\", which qopt-import does not know for AutoAWQ";
      return nullptr;
    }
  }
  std::optional<int64_t> bits = q.getInteger("bits");
  if (!bits)
    bits = q.getInteger("w_bit");
  std::optional<int64_t> group = q.getInteger("group_size");
  if (!group)
    group = q.getInteger("q_group_size");
  if (bits != 4) {
    error = where + ".bits is " +
            (bits ? std::to_string(*bits) : std::string("missing")) +
            "; AutoAWQ checkpoints are 4-bit";
    return nullptr;
  }
  if (!group || *group <= 0) {
    error = where + ".group_size must be a positive integer";
    return nullptr;
  }
  std::string version = q.getString("version").value_or("gemm").lower();
  if (version != "gemm") {
    error = where + ".version is \"" + version +
            "\"; qopt-import reads AutoAWQ's \"gemm\" layout";
    return nullptr;
  }
  if (q.getBoolean("zero_point") == std::optional<bool>(false)) {
    error = where + ".zero_point is false; qopt-import reads AutoAWQ's "
                    "zero-point (asymmetric) checkpoints";
    return nullptr;
  }
  std::vector<std::string> skip;
  if (!readModuleList(q, "modules_to_not_convert", where, skip, error))
    return nullptr;
  return std::make_unique<AutoAWQ>(*group, /*symmetric=*/false,
                                   std::move(skip));
}
