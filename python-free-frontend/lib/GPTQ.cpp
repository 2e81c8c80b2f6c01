//===- GPTQ.cpp - GPTQ (AutoGPTQ / GPTQModel) checkpoints -----------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// GPTQ's format (`quant_method` "gptq", 4 bits): per linear, for W [N, K]
// in G groups of g along K (group_size -1: one group),
//   qweight  int32 [K / 8, N]   W's unsigned int4 values packed along K:
//                               word i of column n holds k = 8i + j in
//                               bits 4j
//   qzeros   int32 [G, N / 8]   the unsigned zero points packed along N,
//                               column 8j + i in bits 4i; stored minus one
//                               (`checkpoint_format` "gptq", v1) or as they
//                               are ("gptq_v2")
//   scales   fp16 [G, N]
//   g_idx    int32 [K]          the group of each input channel
// and W[n, k] = (q[k, n] - z[g_idx[k], n]) * s[g_idx[k], n]. With
// `desc_act` (act-order) GPTQ quantized the input channels in another
// order, g at a time, so g_idx assigns each group g channels anywhere along
// K. qopt's groups are contiguous: such a layer is re-laid out with its
// channels sorted by group (stably) and imported behind a
// `qopt.permute_channels` of its input by that sort, values unchanged.
//
//===----------------------------------------------------------------------===//

#include "PackedInt4.h"

#include "QuantizedFormats.h"

#include <algorithm>
#include <cstring>
#include <set>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::formats;

namespace {
class GPTQ : public PackedInt4Format {
public:
  GPTQ(int64_t groupSize, bool symmetric, bool v2,
       std::vector<std::string> notConverted)
      : PackedInt4Format(groupSize, symmetric, std::move(notConverted)),
        v2(v2) {}
  std::string name() const override { return "GPTQ"; }
  LogicalResult check(const qrt::TensorStore &store, const CheckpointLinear &l,
                      std::vector<std::string> &used,
                      std::string &error) const override;

protected:
  LogicalResult unpack(const qrt::TensorStore &store, const CheckpointLinear &l,
                       UnpackedInt4 &out, std::string &error) const override;

protected:
  bool permutesInput(const CheckpointLinear &l) const override {
    return actOrder.count(l.prefix) != 0;
  }
  std::vector<int32_t>
  inputPermutation(const qrt::TensorStore &store,
                   const CheckpointLinear &l) const override;

private:
  bool v2;
  /// The layers check() found with an act-order g_idx.
  mutable std::set<std::string> actOrder;
};

/// g_idx[k] of a checked layer.
static int32_t groupOf(const qrt::TensorView *gIdx, int64_t k) {
  int32_t v;
  std::memcpy(&v, gIdx->data + 4 * k, 4);
  return v;
}
} // namespace

LogicalResult GPTQ::check(const qrt::TensorStore &store,
                          const CheckpointLinear &l,
                          std::vector<std::string> &used,
                          std::string &error) const {
  int64_t g = group(l);
  if (l.out % 8 || l.in % 8 || l.in % g) {
    error = "layer '" + l.prefix + "' [" + std::to_string(l.out) + ", " +
            std::to_string(l.in) +
            "]: GPTQ needs both dimensions to be multiples of 8 and the "
            "input dimension of group_size " +
            std::to_string(g);
    return failure();
  }
  const std::string &p = l.prefix;
  int64_t groups = l.in / g;
  const qrt::TensorView *gIdx = nullptr;
  if (!expect(store, p + ".qweight", {qrt::DType::I32}, {l.in / 8, l.out}, used,
              error) ||
      !expect(store, p + ".qzeros", {qrt::DType::I32}, {groups, l.out / 8},
              used, error) ||
      !expect(store, p + ".scales",
              {qrt::DType::F16, qrt::DType::BF16, qrt::DType::F32},
              {groups, l.out}, used, error))
    return failure();
  if (store.find(p + ".g_idx")) {
    gIdx = expect(store, p + ".g_idx", {qrt::DType::I32}, {l.in}, used, error);
    if (!gIdx)
      return failure();
    // Act-order assigns every group exactly g channels.
    std::vector<int64_t> members(size_t(groups), 0);
    bool identity = true;
    for (int64_t k = 0; k < l.in; ++k) {
      int32_t v = groupOf(gIdx, k);
      if (v < 0 || v >= groups) {
        error = "layer '" + p + "': g_idx[" + std::to_string(k) + "] is " +
                std::to_string(v) + ", outside the " + std::to_string(groups) +
                " groups";
        return failure();
      }
      ++members[size_t(v)];
      identity = identity && v == k / g;
    }
    for (int64_t grp = 0; grp < groups; ++grp)
      if (members[size_t(grp)] != g) {
        error = "layer '" + p + "': g_idx gives group " + std::to_string(grp) +
                " " + std::to_string(members[size_t(grp)]) +
                " input channels, not group_size " + std::to_string(g) +
                " (GPTQ, also with act-order, fills every group)";
        return failure();
      }
    if (!identity)
      actOrder.insert(p);
  }
  return success();
}

std::vector<int32_t> GPTQ::inputPermutation(const qrt::TensorStore &store,
                                            const CheckpointLinear &l) const {
  const qrt::TensorView *gIdx = store.find(l.prefix + ".g_idx");
  std::vector<int32_t> perm(size_t(l.in));
  for (int64_t k = 0; k < l.in; ++k)
    perm[size_t(k)] = int32_t(k);
  // By group, then by channel (a stable sort of the identity).
  std::sort(perm.begin(), perm.end(), [&](int32_t a, int32_t b) {
    int32_t ga = groupOf(gIdx, a), gb = groupOf(gIdx, b);
    return ga != gb ? ga < gb : a < b;
  });
  return perm;
}

LogicalResult GPTQ::unpack(const qrt::TensorStore &store,
                           const CheckpointLinear &l, UnpackedInt4 &out,
                           std::string &error) const {
  int64_t n = l.out, k = l.in, groups = k / group(l);
  const qrt::TensorView *qw = store.find(l.prefix + ".qweight");
  const qrt::TensorView *qz = store.find(l.prefix + ".qzeros");
  const qrt::TensorView *sc = store.find(l.prefix + ".scales");
  out.values.resize(size_t(n * k));
  for (int64_t i = 0; i < k / 8; ++i)
    for (int64_t col = 0; col < n; ++col) {
      uint32_t w = word(qw, i * n + col);
      for (int64_t j = 0; j < 8; ++j)
        out.values[col * k + 8 * i + j] = (w >> (4 * j)) & 0xF;
    }
  static const unsigned kNibble[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  unpackZerosAndScales(qz, sc, n, groups, kNibble, out);
  if (v2)
    return success();
  // v1 stores zero points minus one.
  for (size_t i = 0; i < out.zeros.size(); ++i) {
    if (out.zeros[i] == 15) {
      error = "layer '" + l.prefix + "': qzeros of column " +
              std::to_string(i / groups) + " group " +
              std::to_string(i % groups) +
              " is 15, which the v1 convention (stored minus one) makes 16, "
              "outside int4";
      return failure();
    }
    ++out.zeros[i];
  }
  return success();
}

std::unique_ptr<CheckpointQuantization>
formats::parseGPTQ(const llvm::json::Object &q, const std::string &where,
                   std::string &error) {
  std::optional<int64_t> bits = q.getInteger("bits");
  if (bits != 4) {
    error = where + ".bits is " +
            (bits ? std::to_string(*bits) : std::string("missing")) +
            "; qopt-import reads 4-bit GPTQ checkpoints";
    return nullptr;
  }
  std::optional<int64_t> group = q.getInteger("group_size");
  if (!group || *group == 0 || *group < -1) {
    error = where + ".group_size must be a positive integer or -1";
    return nullptr;
  }
  std::string format =
      q.getString("checkpoint_format").value_or("gptq").lower();
  if (format != "gptq" && format != "gptq_v2") {
    error = where + ".checkpoint_format is \"" + format +
            "\"; qopt-import reads \"gptq\" (v1) and \"gptq_v2\"";
    return nullptr;
  }
  for (const char *key : {"desc_act", "sym"}) {
    const llvm::json::Value *v = q.get(key);
    if (v && !v->getAsBoolean()) {
      error =
          where + "." + key + " is " + dump(*v) + "; expected true or false";
      return nullptr;
    }
  }
  bool sym = q.getBoolean("sym").value_or(true);
  std::vector<std::string> skip;
  if (!readModuleList(q, "modules_to_not_convert", where, skip, error))
    return nullptr;
  return std::make_unique<GPTQ>(*group, sym, format == "gptq_v2",
                                std::move(skip));
}
