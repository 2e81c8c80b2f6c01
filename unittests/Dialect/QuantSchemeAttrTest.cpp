//===- QuantSchemeAttrTest.cpp - Scheme attribute API ---------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/InitAllDialects.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::qopt;

namespace {

class QuantSchemeAttrTest : public ::testing::Test {
protected:
  QuantSchemeAttrTest() { qopt::loadAllDialects(context); }

  /// Parses `text`; returns the scheme or null and records diagnostics.
  QuantSchemeAttr parse(StringRef text) {
    diagnostics.clear();
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      diagnostics += d.str();
      return success();
    });
    return dyn_cast_or_null<QuantSchemeAttr>(parseAttribute(text, &context));
  }

  MLIRContext context;
  std::string diagnostics;
};

TEST_F(QuantSchemeAttrTest, PerChannelStatic) {
  QuantSchemeAttr s = parse("#qopt.scheme<i8, #qopt.per_channel<axis = 0>, "
                            "sym, static, scales = dense<[0.5, 0.25, 2.0]> : "
                            "tensor<3xf32>>");
  ASSERT_TRUE(s) << diagnostics;
  EXPECT_TRUE(s.isStatic());
  EXPECT_TRUE(s.isSymmetric());
  EXPECT_TRUE(s.isInteger());
  EXPECT_EQ(s.getStorageKind(), ::qnum::StorageKind::Int8);
  EXPECT_EQ(s.getScaleValues(), (SmallVector<float>{0.5f, 0.25f, 2.0f}));
  EXPECT_EQ(s.getZeroPointValues(), (SmallVector<int32_t>{0, 0, 0}));
  EXPECT_EQ(s.getScaleShape({3, 64}), (SmallVector<int64_t>{3}));
  auto emit = [&] { return emitError(UnknownLoc::get(&context)); };
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      diagnostics = d.str();
      return success();
    });
    EXPECT_TRUE(succeeded(s.verifyForShape({3, 64}, emit, "weight")));
    EXPECT_TRUE(failed(s.verifyForShape({4, 64}, emit, "weight")));
  }
  EXPECT_EQ(diagnostics, "scheme has 3 scales but its granularity needs 4 "
                         "(shape [4]) for the weight of shape [4, 64]");
  EXPECT_EQ(s.withoutValues().getScales(), ElementsAttr());
}

TEST_F(QuantSchemeAttrTest, DynamicPerTokenIsActivationOnly) {
  QuantSchemeAttr s =
      parse("#qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>");
  ASSERT_TRUE(s) << diagnostics;
  EXPECT_TRUE(s.isFloat8());
  EXPECT_TRUE(s.getGranularity().isActivationOnly());
  EXPECT_EQ(s.getScaleShape({ShapedType::kDynamic, 384}),
            (SmallVector<int64_t>{ShapedType::kDynamic}));
}

TEST_F(QuantSchemeAttrTest, GranularityInterfaceDispatch) {
  struct Case {
    const char *text;
    SmallVector<int64_t> scaleShape;
  };
  Case cases[] = {
      {"#qopt.per_tensor", {}},
      {"#qopt.per_channel<axis = 1>", {64}},
      {"#qopt.per_group<axis = 1, size = 16>", {8, 4}},
      {"#qopt.per_head<axis = 1, heads = 4>", {4}},
      {"#qopt.block<rows = 4, cols = 32>", {2, 2}},
      {"#qopt.per_token", {8}},
  };
  for (const Case &c : cases) {
    auto g = dyn_cast_or_null<GranularityAttrInterface>(
        parseAttribute(c.text, &context));
    ASSERT_TRUE(g) << c.text;
    EXPECT_EQ(g.getScaleShape({8, 64}), c.scaleShape) << c.text;
  }
}

TEST_F(QuantSchemeAttrTest, VerifierMessages) {
  struct Case {
    const char *text;
    const char *message;
  };
  Case cases[] = {
      {"#qopt.scheme<i8, #qopt.per_token, sym, static>",
       "per-token granularity requires a dynamic scheme"},
      {"#qopt.scheme<i8, #qopt.per_tensor, sym, dynamic, scales = dense<1.0> "
       ": tensor<f32>>",
       "a dynamic scheme cannot carry stored scales"},
      {"#qopt.scheme<i4, #qopt.per_tensor, sym, static>",
       "i4 storage requires a packing (int4x2 or int4x8_offset)"},
      {"#qopt.scheme<i16, #qopt.per_tensor, sym, static>",
       "unsupported storage type 'i16'; expected i8, i4, f8E4M3FN or f8E5M2"},
      {"#qopt.scheme<f8E5M2, #qopt.per_tensor, asym, static>",
       "float8 storage 'f8E5M2' only supports symmetric schemes"},
      {"#qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<1.0> "
       ": tensor<f32>, zero_points = dense<200> : tensor<i32>>",
       "zero point 200 is outside the storage range [-128, 127] of 'i8'"},
      {"#qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.0> "
       ": tensor<f32>>",
       "scale #0 must be positive and finite, got 0"},
  };
  for (const Case &c : cases) {
    EXPECT_FALSE(parse(c.text)) << c.text;
    EXPECT_NE(diagnostics.find(c.message), std::string::npos)
        << c.text << "\n  got: " << diagnostics;
  }
}

TEST_F(QuantSchemeAttrTest, Uniquing) {
  QuantSchemeAttr a = parse("#qopt.scheme<i8, #qopt.per_tensor, sym, static, "
                            "scales = dense<0.1> : tensor<f32>>");
  QuantSchemeAttr b = parse("#qopt.scheme<i8, #qopt.per_tensor, sym, static, "
                            "scales = dense<0.1> : tensor<f32>>");
  QuantSchemeAttr c = parse("#qopt.scheme<i8, #qopt.per_tensor, sym, static, "
                            "scales = dense<0.2> : tensor<f32>>");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a.withoutValues(), c.withoutValues());
}

// getTensorScheme once built its scales from the begin() and end() of two
// different getScaleValues() temporaries (undefined behaviour: ASan reports a
// stack-buffer-overflow while the scales fit SmallVector's inline storage, a
// heap one beyond it). A few channels, and many, must come back as the
// attribute's values.
TEST_F(QuantSchemeAttrTest, TensorSchemeCopiesScales) {
  for (int channels : {3, 256}) {
    std::string values;
    std::vector<float> expected;
    std::vector<int32_t> zeroPoints;
    std::string zpValues;
    for (int i = 0; i < channels; ++i) {
      // k / 64 prints exactly with six decimals.
      expected.push_back(static_cast<float>(i + 1) / 64.0f);
      zeroPoints.push_back(i % 255 - 127);
      values += (i ? ", " : "") + std::to_string(expected.back());
      zpValues += (i ? ", " : "") + std::to_string(zeroPoints.back());
    }
    std::string type = "tensor<" + std::to_string(channels);
    QuantSchemeAttr s =
        parse("#qopt.scheme<i8, #qopt.per_channel<axis = 0>, asym, static, "
              "scales = dense<[" +
              values + "]> : " + type + "xf32>, zero_points = dense<[" +
              zpValues + "]> : " + type + "xi32>>");
    ASSERT_TRUE(s) << diagnostics;
    SmallVector<float> attrScales = s.getScaleValues();
    ASSERT_EQ(attrScales.size(), expected.size());
    EXPECT_TRUE(
        std::equal(attrScales.begin(), attrScales.end(), expected.begin()));

    ::qnum::TensorScheme t = s.getTensorScheme();
    EXPECT_EQ(t.scales, expected) << channels << " channels";
    EXPECT_EQ(t.zeroPoints, zeroPoints) << channels << " channels";
    EXPECT_FALSE(t.symmetric);
    EXPECT_EQ(t.kind, ::qnum::StorageKind::Int8);
  }
}

} // namespace
