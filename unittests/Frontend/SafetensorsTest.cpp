//===- SafetensorsTest.cpp - safetensors reader/writer --------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <unistd.h>

using namespace qrt;

namespace {

class SafetensorsTest : public ::testing::Test {
protected:
  SafetensorsTest() {
    char tmpl[] = "/tmp/qopt-st-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~SafetensorsTest() override {
    std::string cmd = "rm -rf '" + dir + "'";
    (void)std::system(cmd.c_str());
  }

  /// Writes a raw safetensors file from a header text and data bytes.
  std::string writeRaw(const std::string &name, const std::string &header,
                       size_t dataBytes, int64_t lenOverride = -1) {
    std::string path = dir + "/" + name;
    std::ofstream out(path, std::ios::binary);
    uint64_t len = lenOverride >= 0 ? uint64_t(lenOverride) : header.size();
    for (int i = 0; i < 8; ++i)
      out.put(static_cast<char>(len >> (8 * i)));
    out << header;
    out << std::string(dataBytes, '\0');
    return path;
  }

  std::string openError(const std::string &path) {
    std::string error;
    auto f = SafetensorsFile::open(path, error);
    EXPECT_FALSE(f) << path;
    return error;
  }

  std::string dir;
};

TEST_F(SafetensorsTest, RoundTripAllWrittenDtypes) {
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> values(6 * 7);
  for (float &v : values)
    v = dist(rng);
  std::vector<int32_t> ints = {1, -2, 3, 1 << 30};
  std::string error;
  std::string path = dir + "/a.safetensors";
  ASSERT_TRUE(writeSafetensors(
      path,
      {TensorData::fromFloats("f32", {6, 7}, values),
       TensorData::fromFloats("bf16", {6, 7}, values, DType::BF16),
       TensorData::fromFloats("f16", {42}, values, DType::F16),
       TensorData::fromInt32("ids", {2, 2}, ints)},
      {{"format", "pt"}}, error))
      << error;
  auto f = SafetensorsFile::open(path, error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->metadata().at("format"), "pt");
  const TensorView *f32 = f->find("f32");
  ASSERT_TRUE(f32);
  EXPECT_EQ(f32->shape, (std::vector<int64_t>{6, 7}));
  EXPECT_EQ(f32->toFloat(), values);
  std::vector<float> bf16 = f->find("bf16")->toFloat();
  std::vector<float> f16 = f->find("f16")->toFloat();
  for (size_t i = 0; i < values.size(); ++i) {
    // Round to nearest: relative error at most half an ulp of the format.
    EXPECT_LE(std::fabs(bf16[i] - values[i]), std::fabs(values[i]) * 0x1p-8);
    EXPECT_LE(std::fabs(f16[i] - values[i]),
              std::fabs(values[i]) * 0x1p-11 + 0x1p-25);
  }
  const TensorView *ids = f->find("ids");
  for (size_t i = 0; i < ints.size(); ++i)
    EXPECT_EQ(static_cast<int32_t>(ids->getFloat(i)), ints[i]);
  // The data section is 8-byte aligned.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f32->data) % 8, 0u);
}

TEST_F(SafetensorsTest, BF16RoundsToNearestEven) {
  // 1 + 2^-8 is exactly halfway between two bf16 values: ties to even (1.0).
  EXPECT_EQ(floatToBF16(1.0f + 0x1p-8f), 0x3F80);
  EXPECT_EQ(floatToBF16(1.0f + 0x1p-8f + 0x1p-20f), 0x3F81);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7BFF);
  EXPECT_EQ(floatToHalf(1e6f), 0x7C00);
  EXPECT_EQ(floatToHalf(0x1p-24f), 0x0001);
}

TEST_F(SafetensorsTest, WriterLeavesNoPartialFile) {
  std::string error;
  // A tensor whose byte count does not match its shape is rejected before
  // anything is written.
  TensorData bad = TensorData::fromFloats("x", {3}, {1.0f, 2.0f});
  EXPECT_FALSE(writeSafetensors(dir + "/bad.safetensors", {bad}, {}, error));
  EXPECT_NE(error.find("has 8 bytes for its shape"), std::string::npos);
  EXPECT_NE(access((dir + "/bad.safetensors").c_str(), F_OK), 0);
  // An unwritable destination fails cleanly.
  EXPECT_FALSE(writeSafetensors(dir + "/no/such/dir/x.safetensors",
                                {TensorData::fromFloats("x", {1}, {1.0f})}, {},
                                error));
  EXPECT_NE(error.find("cannot create"), std::string::npos);
}

TEST_F(SafetensorsTest, RejectsBadHeaders) {
  struct Case {
    std::string name, header;
    size_t data;
    int64_t lenOverride;
    std::string message;
  };
  std::vector<Case> cases = {
      {"json", "{not json", 0, -1, "header is not valid JSON"},
      {"dtype", R"({"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", 1,
       -1, "tensor 'a' has unknown dtype 'Q7'"},
      {"size", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4,
       -1, "tensor 'a' spans 4 bytes but shape x dtype needs 8"},
      {"range", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4,
       -1, "exceed the data section of 4 bytes"},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       8, -1, "tensors overlap at data offset 4"},
      {"begin", R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 4,
       -1, "data_offsets begin > end"},
      {"shape", R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", 1,
       -1, "negative or non-integer dimension"},
      {"headerlen", R"({})", 0, 1000,
       "header length 1000 is larger than the "
       "file"},
      {"huge", R"({})", 0, int64_t(1) << 40, "exceeds the 100 MB limit"},
      {"notobject", R"([1,2])", 0, -1, "header is not a JSON object"},
      // Found by the fuzzer: sizes whose products overflow 64 bits.
      {"bigdim",
       R"({"a":{"dtype":"U8","shape":[0,18446744073709551615],)"
       R"("data_offsets":[0,0]}})",
       0, -1, "has an impossibly large shape"},
      {"bigbytes",
       R"({"a":{"dtype":"F64","shape":[2305843009213693952,4],)"
       R"("data_offsets":[0,0]}})",
       0, -1, "has an impossibly large shape"},
      {"offsets", R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", 1,
       -1, "has no [begin, end] data_offsets"},
  };
  for (const Case &c : cases) {
    std::string path =
        writeRaw(c.name + ".safetensors", c.header, c.data, c.lenOverride);
    std::string error = openError(path);
    EXPECT_NE(error.find(c.message), std::string::npos)
        << c.name << ": " << error;
    EXPECT_EQ(error.find(path), 0u) << "the message names the file";
  }
  std::string shortPath = dir + "/short.safetensors";
  std::ofstream(shortPath) << "abc";
  EXPECT_NE(openError(shortPath).find("too short"), std::string::npos);
  EXPECT_NE(openError(dir + "/missing.safetensors").find("cannot open"),
            std::string::npos);
}

TEST_F(SafetensorsTest, TruncatedFile) {
  std::string error;
  std::string path = dir + "/t.safetensors";
  ASSERT_TRUE(writeSafetensors(
      path, {TensorData::fromFloats("x", {64}, std::vector<float>(64, 1.0f))},
      {}, error));
  ASSERT_EQ(truncate(path.c_str(), 100), 0);
  EXPECT_NE(openError(path).find("truncated file?"), std::string::npos);
}

TEST_F(SafetensorsTest, ShardedStore) {
  std::string error;
  ASSERT_TRUE(writeSafetensors(dir + "/s1.safetensors",
                               {TensorData::fromFloats("a", {2}, {1, 2})}, {},
                               error));
  ASSERT_TRUE(writeSafetensors(dir + "/s2.safetensors",
                               {TensorData::fromFloats("b", {1}, {3})}, {},
                               error));
  std::ofstream(dir + "/model.safetensors.index.json")
      << R"({"metadata":{},"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}})";
  auto store = TensorStore::open(dir, error);
  ASSERT_TRUE(store) << error;
  EXPECT_EQ(store->names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(store->find("b")->toFloat(), std::vector<float>{3});
  EXPECT_EQ(store->find("c"), nullptr);

  // An index that lies about where a tensor lives.
  std::ofstream(dir + "/model.safetensors.index.json")
      << R"({"weight_map":{"a":"s2.safetensors","b":"s2.safetensors"}})";
  EXPECT_FALSE(TensorStore::open(dir, error));
  EXPECT_NE(error.find("maps tensor 'a' to s2.safetensors, which does not "
                       "contain it"),
            std::string::npos)
      << error;
  // An index naming a shard that does not exist.
  std::ofstream(dir + "/model.safetensors.index.json")
      << R"({"weight_map":{"a":"s9.safetensors"}})";
  EXPECT_FALSE(TensorStore::open(dir, error));
  EXPECT_NE(error.find("s9.safetensors: cannot open"), std::string::npos);
  // A malformed index.
  std::ofstream(dir + "/model.safetensors.index.json") << "{";
  EXPECT_FALSE(TensorStore::open(dir, error));
  EXPECT_NE(error.find("index is not valid JSON"), std::string::npos);
}

} // namespace
