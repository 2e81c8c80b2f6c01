//===- PackedInt4.h - AutoAWQ and GPTQ int4 checkpoints ---------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// AutoAWQ and GPTQ pack unsigned int4 values into int32 words in layouts
// qopt's IR has no packing for. Their layers are re-laid out at import, with
// every value kept: the weight as qopt's int4x2 [N, K] (value - 8, signed),
// the scales as float32 [N, K / g] (exact: they are fp16 or bf16), the zero
// points as int32 [N, K / g] (zero - 8), written to a side store beside the
// imported IR. The layers are then per-group int4 weights, asymmetric unless
// the checkpoint says symmetric and every zero point is 8.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_FRONTEND_LIB_PACKEDINT4_H
#define QOPT_FRONTEND_LIB_PACKEDINT4_H

#include "qopt-frontend/CheckpointQuantization.h"

#include "qopt-runtime/Safetensors.h"

#include "llvm/Support/JSON.h"

#include <map>
#include <set>

namespace mlir::qopt::formats {

/// One layer's unpacked values, row-major [N, K] and [N, groups].
struct UnpackedInt4 {
  std::vector<uint8_t> values; // 0..15
  std::vector<uint8_t> zeros;  // 0..15
  std::vector<float> scales;
};

class PackedInt4Format : public CheckpointQuantization {
public:
  PackedInt4Format(int64_t groupSize, bool symmetric,
                   std::vector<std::string> notConverted)
      : groupSize(groupSize), symmetric(symmetric),
        notConverted(std::move(notConverted)) {}

  bool isQuantized(const CheckpointLinear &linear) const override;
  bool relaysOut() const override { return true; }
  LogicalResult relayout(const qrt::TensorStore &store,
                         const CheckpointLinear &linear,
                         std::vector<qrt::TensorData> &out,
                         std::string &error) const override;
  Value build(OpBuilder &b, Location loc, FlatSymbolRefAttr store,
              FlatSymbolRefAttr relaid, Value x, Value bias,
              const CheckpointLinear &linear) const override;

protected:
  /// Unpacks a checked layer.
  virtual LogicalResult unpack(const qrt::TensorStore &store,
                               const CheckpointLinear &linear,
                               UnpackedInt4 &out, std::string &error) const = 0;
  /// Whether the re-laid weight of a checked `linear` stores its input
  /// channels in another order than the checkpoint (GPTQ act-order): build()
  /// then reorders the activation with the layer's `input_permutation`.
  virtual bool permutesInput(const CheckpointLinear &linear) const {
    return false;
  }
  /// For such a layer, the checkpoint channel of each re-laid channel.
  virtual std::vector<int32_t>
  inputPermutation(const qrt::TensorStore &store,
                   const CheckpointLinear &linear) const {
    return {};
  }
  /// The group size of `linear` (the whole input dimension when per-channel).
  int64_t group(const CheckpointLinear &linear) const {
    return groupSize > 0 ? groupSize : linear.in;
  }
  /// Checks that tensor `name` of `store` is `dtype` `shape` (one of
  /// `dtypes`); appends it to `used`.
  const qrt::TensorView *expect(const qrt::TensorStore &store,
                                const std::string &name,
                                std::initializer_list<qrt::DType> dtypes,
                                const std::vector<int64_t> &shape,
                                std::vector<std::string> &used,
                                std::string &error) const;

  /// Word `i` of an int32 tensor.
  static uint32_t word(const qrt::TensorView *v, int64_t i);
  /// Unpacks `qzeros` (int32 [groups, n / 8], column 8j + c in nibble
  /// nibbleOf[c] of word j) and transposes `scales` ([groups, n]) into
  /// `out`'s [n, groups] zeros and scales.
  static void unpackZerosAndScales(const qrt::TensorView *qzeros,
                                   const qrt::TensorView *scales, int64_t n,
                                   int64_t groups, const unsigned nibbleOf[8],
                                   UnpackedInt4 &out);

  int64_t groupSize; // <= 0: one group per row
  bool symmetric;
  std::vector<std::string> notConverted;
};

std::unique_ptr<CheckpointQuantization>
parseAutoAWQ(const llvm::json::Object &config, const std::string &where,
             std::string &error);

std::unique_ptr<CheckpointQuantization>
parseGPTQ(const llvm::json::Object &config, const std::string &where,
          std::string &error);

/// The `modules_to_not_convert` list of `config` (absent or null: empty).
bool readModuleList(const llvm::json::Object &config, StringRef key,
                    const std::string &where, std::vector<std::string> &out,
                    std::string &error);

} // namespace mlir::qopt::formats

#endif // QOPT_FRONTEND_LIB_PACKEDINT4_H
