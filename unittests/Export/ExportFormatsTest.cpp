//===- ExportFormatsTest.cpp - Export formats' numerics -------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The format writers on fresh random layers, against float64 references:
// Ascend W8A8's int8 GEMM + quant_bias, times deq_scale, is the dequantized
// product; GGUF's Q8_0 / Q4_0 blocks decode to qopt's values and fp16 scales.
//
//===----------------------------------------------------------------------===//

#include "ExportInternal.h"

#include "qopt-runtime/QuantMath.h"
#include "qopt/InitAllDialects.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::exporter;

namespace {

class ExportFormatsTest : public ::testing::Test {
protected:
  ExportFormatsTest() : rng(std::random_device{}()) {
    qopt::loadAllDialects(context);
  }

  QuantSchemeAttr scheme(StringRef text) {
    auto s = dyn_cast_or_null<QuantSchemeAttr>(parseAttribute(text, &context));
    EXPECT_TRUE(s) << text.str();
    return s;
  }

  const qrt::TensorData &tensor(const Checkpoint &ckpt,
                                const std::string &name) {
    for (const qrt::TensorData &t : ckpt.tensors)
      if (t.name == name)
        return t;
    ADD_FAILURE() << "no tensor " << name;
    return ckpt.tensors.front();
  }

  MLIRContext context;
  std::mt19937 rng;
};

/// Ascend W8A8 for a float16 and a bfloat16 model.
TEST_F(ExportFormatsTest, AscendDequantizedProduct) {
  for (qrt::DType dtype : {qrt::DType::F16, qrt::DType::BF16}) {
    const int64_t n = 24, k = 96;
    std::uniform_int_distribution<int> i8(-127, 127), zpDist(-20, 20);
    std::uniform_real_distribution<float> sDist(1e-3f, 5e-2f);
    QuantizedLinearData d;
    d.name = "l";
    d.out = n;
    d.in = k;
    d.weightScheme =
        scheme("#qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>");
    d.inputScheme =
        scheme("#qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = "
               "dense<0.0123> : tensor<f32>, zero_points = dense<5> : "
               "tensor<i32>>");
    d.weightBytes.resize(n * k);
    for (uint8_t &b : d.weightBytes)
      b = static_cast<uint8_t>(static_cast<int8_t>(i8(rng)));
    for (int64_t r = 0; r < n; ++r)
      d.weightScales.push_back(sDist(rng));
    d.inputScales = {sDist(rng)};
    d.inputZeroPoints = {zpDist(rng)};

    Checkpoint ckpt;
    ckpt.modelDType = dtype;
    std::string error;
    std::unique_ptr<FormatWriter> w = createAscendW8A8Writer();
    ASSERT_TRUE(succeeded(w->addLinear(d, ckpt, error))) << error;

    const qrt::TensorData &scaleT = tensor(ckpt, "l.input_scale");
    const qrt::TensorData &offsetT = tensor(ckpt, "l.input_offset");
    const qrt::TensorData &biasT = tensor(ckpt, "l.quant_bias");
    const qrt::TensorData &deqT = tensor(ckpt, "l.deq_scale");
    ASSERT_EQ(scaleT.dtype, dtype);
    ASSERT_EQ(deqT.dtype,
              dtype == qrt::DType::F16 ? qrt::DType::I64 : qrt::DType::F32);
    auto half = [&](const qrt::TensorData &t) {
      uint16_t h;
      std::memcpy(&h, t.data.data(), 2);
      return dtype == qrt::DType::BF16 ? ::qnum::bf16ToFloat(h)
                                       : ::qnum::halfToFloat(h);
    };
    double sx = half(scaleT), offset = half(offsetT);
    EXPECT_EQ(offset, d.inputZeroPoints[0]);
    const int8_t *wq = reinterpret_cast<const int8_t *>(d.weightBytes.data());
    std::vector<int32_t> xq(k);
    for (int32_t &v : xq)
      v = i8(rng);
    for (int64_t r = 0; r < n; ++r) {
      int32_t bias;
      std::memcpy(&bias, biasT.data.data() + 4 * r, 4);
      float deq;
      if (dtype == qrt::DType::F16) {
        uint64_t word;
        std::memcpy(&word, deqT.data.data() + 8 * r, 8);
        EXPECT_EQ(word >> 32, 0u);
        uint32_t bits = static_cast<uint32_t>(word);
        std::memcpy(&deq, &bits, 4);
      } else {
        std::memcpy(&deq, deqT.data.data() + 4 * r, 4);
      }
      int64_t acc = 0;
      double ref = 0;
      for (int64_t c = 0; c < k; ++c) {
        acc += int64_t(xq[c]) * wq[r * k + c];
        ref += (xq[c] - offset) * sx * wq[r * k + c] * d.weightScales[r];
      }
      double ascend = double(acc + bias) * deq;
      EXPECT_NEAR(ascend, ref, 1e-6 * std::max(1.0, std::fabs(ref)))
          << "row " << r;
    }
  }
}

/// Q8_0 and Q4_0 blocks of random layers decode to the values and the
/// fp16-rounded scales.
TEST_F(ExportFormatsTest, GGUFBlocks) {
  for (int bits : {8, 4}) {
    const int64_t n = 8, k = 128;
    QuantizedLinearData d;
    d.name = "model.layers.0.mlp.up_proj";
    d.out = n;
    d.in = k;
    d.weightScheme =
        scheme(bits == 8 ? "#qopt.scheme<i8, #qopt.per_group<axis = 1, size "
                           "= 32>, sym, static>"
                         : "#qopt.scheme<i4, #qopt.per_group<axis = 1, size "
                           "= 32>, sym, static, packing = int4x2>");
    std::uniform_int_distribution<int> q(bits == 8 ? -128 : -8,
                                         bits == 8 ? 127 : 7);
    std::vector<int8_t> values(n * k);
    for (int8_t &v : values)
      v = static_cast<int8_t>(q(rng));
    if (bits == 8) {
      d.weightBytes.assign(values.begin(), values.end());
    } else {
      d.packing = Packing::Int4x2;
      for (int64_t i = 0; i < n * k; i += 2)
        d.weightBytes.push_back(
            uint8_t((values[i] & 0xF) | ((values[i + 1] & 0xF) << 4)));
    }
    std::uniform_real_distribution<float> s(1e-4f, 1.0f);
    for (int64_t i = 0; i < n * k / 32; ++i)
      d.weightScales.push_back(s(rng));

    Checkpoint ckpt;
    std::string error;
    std::unique_ptr<FormatWriter> w = createGGUFWriter(ExportOptions());
    ASSERT_TRUE(succeeded(w->addLinear(d, ckpt, error))) << error;
    const qrt::TensorData &t = tensor(ckpt, d.name + ".weight");
    int64_t blockBytes = bits == 8 ? 34 : 18;
    ASSERT_EQ(t.data.size(), size_t(n * k / 32 * blockBytes));
    for (int64_t b = 0; b < n * k / 32; ++b) {
      const uint8_t *blk = t.data.data() + b * blockBytes;
      uint16_t h;
      std::memcpy(&h, blk, 2);
      EXPECT_EQ(::qnum::halfToFloat(h),
                ::qnum::halfToFloat(qrt::floatToHalf(d.weightScales[b])));
      for (int j = 0; j < 32; ++j) {
        int got = bits == 8 ? int8_t(blk[2 + j])
                  : j < 16  ? (blk[2 + j] & 0xF) - 8
                            : (blk[2 + j - 16] >> 4) - 8;
        ASSERT_EQ(got, values[b * 32 + j]) << "block " << b << " value " << j;
      }
    }
  }
}

/// A group other than 32 is refused, naming the layer.
TEST_F(ExportFormatsTest, GGUFRefusesOtherGroups) {
  QuantizedLinearData d;
  d.name = "l";
  d.out = 4;
  d.in = 128;
  d.weightScheme = scheme(
      "#qopt.scheme<i8, #qopt.per_group<axis = 1, size = 64>, sym, static>");
  d.weightBytes.resize(4 * 128);
  d.weightScales.resize(8, 1.0f);
  Checkpoint ckpt;
  std::string error;
  EXPECT_TRUE(
      failed(createGGUFWriter(ExportOptions())->addLinear(d, ckpt, error)));
  EXPECT_NE(error.find("layer 'l': its weights have groups of 64"),
            std::string::npos)
      << error;
}

} // namespace
