//===- Float8OracleTest.cpp - FP8 conversions against PyTorch's tables ----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Checks qopt's float8 conversions bit for bit against the oracle tables in
// shared/data/fp8-oracle.safetensors (all 65,536 bf16 and fp16 inputs,
// clamped then rounded to nearest even by PyTorch).
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/QuantMath.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

using namespace qnum;

namespace {

/// A minimal reader for the test: the real safetensors reader lives in the
/// frontend library.
class OracleFile {
public:
  explicit OracleFile(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = "cannot open " + path;
      return;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
    uint64_t headerLen = 0;
    if (bytes.size() < 8) {
      error = "truncated file";
      return;
    }
    std::memcpy(&headerLen, bytes.data(), 8);
    header = nlohmann::json::parse(bytes.substr(8, headerLen));
    dataStart = 8 + headerLen;
  }

  template <typename T> std::vector<T> tensor(const std::string &name) const {
    const nlohmann::json &entry = header.at(name);
    size_t begin = entry.at("data_offsets")[0],
           end = entry.at("data_offsets")[1];
    std::vector<T> out((end - begin) / sizeof(T));
    std::memcpy(out.data(), bytes.data() + dataStart + begin, end - begin);
    return out;
  }

  std::string error;

private:
  std::string bytes;
  nlohmann::json header;
  size_t dataStart = 0;
};

const OracleFile &oracle() {
  static OracleFile file(std::string(QOPT_SHARED_DATA_DIR) +
                         "/fp8-oracle.safetensors");
  return file;
}

void checkTable(const std::string &name, float (*toFloat)(uint16_t),
                uint8_t (*convert)(float)) {
  ASSERT_EQ(oracle().error, "");
  std::vector<uint8_t> expected = oracle().tensor<uint8_t>(name);
  ASSERT_EQ(expected.size(), 65536u);
  int mismatches = 0;
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    float x = toFloat(static_cast<uint16_t>(bits));
    uint8_t got = convert(x);
    if (got != expected[bits] && mismatches++ < 10)
      ADD_FAILURE() << name << ": input bits 0x" << std::hex << bits << " ("
                    << x << ") gave 0x" << int(got) << ", expected 0x"
                    << int(expected[bits]);
  }
  EXPECT_EQ(mismatches, 0) << name;
}

TEST(Float8Oracle, Bf16ToE4M3FN) {
  checkTable("bf16_to_e4m3fn_sat", bf16ToFloat, floatToE4M3FN);
}
TEST(Float8Oracle, Bf16ToE5M2) {
  checkTable("bf16_to_e5m2_sat", bf16ToFloat, floatToE5M2);
}
TEST(Float8Oracle, F16ToE4M3FN) {
  checkTable("f16_to_e4m3fn_sat", halfToFloat, floatToE4M3FN);
}
TEST(Float8Oracle, F16ToE5M2) {
  checkTable("f16_to_e5m2_sat", halfToFloat, floatToE5M2);
}

void checkDecode(const std::string &name, float (*decode)(uint8_t)) {
  ASSERT_EQ(oracle().error, "");
  std::vector<float> expected = oracle().tensor<float>(name);
  ASSERT_EQ(expected.size(), 256u);
  for (int c = 0; c < 256; ++c) {
    float got = decode(static_cast<uint8_t>(c));
    if (std::isnan(expected[c]))
      EXPECT_TRUE(std::isnan(got)) << name << " code " << c;
    else
      EXPECT_EQ(got, expected[c]) << name << " code " << c;
  }
}

TEST(Float8Oracle, DecodeE4M3FN) {
  checkDecode("e4m3fn_to_f32", e4m3fnToFloat);
}
TEST(Float8Oracle, DecodeE5M2) { checkDecode("e5m2_to_f32", e5m2ToFloat); }

} // namespace
