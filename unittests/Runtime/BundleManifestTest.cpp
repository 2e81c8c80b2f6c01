//===- BundleManifestTest.cpp - Loading bundles: what is refused ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A valid hand-made bundle (BundleTestSupport.h's small model), then one
// defect at a time, each refused by Bundle::load with its exact message;
// and what a backend refuses at load and step time.
//
//===----------------------------------------------------------------------===//

#include "BundleTestSupport.h"

#include <unistd.h>

using namespace qrt;
using namespace qrt::test;

namespace {

/// The error of loading `bb` (after `edit` of the written directory), with
/// the directory replaced by "DIR".
std::string
loadError(BundleBuilder &bb,
          const std::function<void(const std::string &)> &edit = nullptr) {
  std::string dir = bb.write();
  if (edit)
    edit(dir);
  std::string error;
  std::unique_ptr<Bundle> b = Bundle::load(dir, error);
  EXPECT_FALSE(b) << "loaded";
  for (size_t at; (at = error.find(dir)) != std::string::npos;)
    error.replace(at, dir.size(), "DIR");
  return error;
}

TEST(BundleManifest, TheSmallModelLoads) {
  BundleBuilder bb = smallModel();
  std::string dir = bb.write(), error;
  std::unique_ptr<Bundle> b = Bundle::load(dir + "/", error);
  ASSERT_TRUE(b) << error;
  const bundle::Manifest &m = b->manifest();
  EXPECT_EQ(b->directory(), dir);
  EXPECT_EQ(m.kernels.size(), 4u);
  EXPECT_EQ(m.kernels[2].family, bundle::Family::Gemm);
  EXPECT_EQ(m.kernels[2].params.size(), 3u);
  EXPECT_EQ(m.buffers[m.kernels[2].arg("b")].name, "head");
  EXPECT_EQ(m.model.vocabSize, 16);
  EXPECT_EQ(m.maxSeqLimit(), 64);
  EXPECT_EQ(m.buffers[m.logits].name, "logits");
  EXPECT_EQ(m.buffers[m.nextToken].name, "next");
  EXPECT_TRUE(Bundle::isBundleDirectory(dir));
  EXPECT_FALSE(Bundle::isBundleDirectory(dir + "/manifest.json"));
}

TEST(BundleManifest, Version) {
  BundleBuilder bb = smallModel();
  bb.manifest["version"] = 2;
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: bundle version 2 is not "
                           "supported by this runtime (version 1)");
  bb.manifest["version"] = "1";
  EXPECT_EQ(loadError(bb),
            "DIR/manifest.json: version: expected an integer, got a string");
  bb.manifest["version"] = 1;
  bb.manifest["format"] = "onnx";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: not a qopt bundle (format "
                           "'onnx', expected 'qopt-bundle')");
}

TEST(BundleManifest, Files) {
  BundleBuilder bb = smallModel();
  EXPECT_EQ(loadError(bb,
                      [](const std::string &d) {
                        unlink((d + "/manifest.json").c_str());
                      }),
            "DIR/manifest.json: cannot open: No such file or directory");
  EXPECT_EQ(loadError(bb,
                      [](const std::string &d) {
                        writeText(d + "/manifest.json", "{\"format\": ");
                      })
                .rfind("DIR/manifest.json: invalid JSON: ", 0),
            0u);
  EXPECT_EQ(loadError(bb,
                      [](const std::string &d) {
                        unlink((d + "/weights.safetensors").c_str());
                      }),
            "DIR/weights.safetensors: cannot open: No such file or directory");
  EXPECT_EQ(loadError(bb,
                      [](const std::string &d) {
                        unlink((d + "/kernels.ptx").c_str());
                      }),
            "DIR/manifest.json: ptx: DIR/kernels.ptx does not exist");
  bb.manifest["weights"] = "../weights.safetensors";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: weights: "
                           "'../weights.safetensors' is not the name of a "
                           "file in the bundle directory");
}

TEST(BundleManifest, TruncatedWeights) {
  BundleBuilder bb = smallModel();
  EXPECT_EQ(loadError(bb,
                      [](const std::string &d) {
                        std::string path = d + "/weights.safetensors";
                        ASSERT_EQ(truncate(path.c_str(), 1000), 0);
                      }),
            "DIR/weights.safetensors: tensor 'head' data_offsets [2176, "
            "4224] exceed the data section of 792 bytes (truncated file?)");
}

TEST(BundleManifest, Weights) {
  BundleBuilder bb = smallModel();
  // Stored as F32, declared bf16.
  bb.weights[1] = TensorData::fromFloats("norm", {64}, std::vector<float>(64));
  EXPECT_EQ(loadError(bb), "DIR/weights.safetensors: tensor 'norm' is F32 "
                           "[64]; the manifest's weight buffer norm (bf16 "
                           "[64]) needs BF16 [64]");
  bb = smallModel();
  bb.manifest["buffers"]["extra"] = {
      {"kind", "weight"}, {"dtype", "f32"}, {"shape", {3}}};
  EXPECT_EQ(loadError(bb), "DIR/weights.safetensors: no tensor 'extra' "
                           "(weight buffer of manifest.json)");
  bb = smallModel();
  bb.weight("packed", "i4x2", {4, 5}, std::vector<uint8_t>(12));
  bb.weights.back().shape = {4, 5};
  bb.weights.back().data.resize(20);
  EXPECT_EQ(loadError(bb), "DIR/weights.safetensors: tensor 'packed' is U8 "
                           "[4, 5]; the manifest's weight buffer packed (i4x2 "
                           "[4, 5]) needs U8 [4, 3]");
}

TEST(BundleManifest, Kernels) {
  BundleBuilder bb = smallModel();
  bb.manifest["kernels"][1]["family"] = "rope";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[1] (k_norm): unknown "
                           "kernel family 'rope'");
  bb = smallModel();
  bb.manifest["kernels"][2]["args"] = {"n", "logits"};
  EXPECT_EQ(loadError(bb),
            "DIR/manifest.json: kernels[2] (k_head): a gemm kernel of this "
            "spec takes 3 buffer arguments (a, b, out), got 2");
  bb = smallModel();
  bb.manifest["kernels"][2]["spec"]["bias"] = true;
  EXPECT_EQ(loadError(bb),
            "DIR/manifest.json: kernels[2] (k_head): a gemm kernel of this "
            "spec takes 4 buffer arguments (a, b, bias, out), got 3");
  bb = smallModel();
  bb.manifest["kernels"][2]["args"][1] = "nope";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[2] (k_head): argument "
                           "1 (b) names buffer 'nope', which does not exist");
  bb = smallModel();
  bb.manifest["kernels"][2]["args"][1] = "norm";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[2] (k_head): argument "
                           "1 (b) is buffer norm, bf16 [64]; the spec needs "
                           "bf16 [16, 64]");
  bb = smallModel();
  bb.weight("w_next", "i32", {1}, bytesOfI32({0}));
  bb.manifest["kernels"][3]["args"][1] = "w_next";
  EXPECT_EQ(loadError(bb),
            "DIR/manifest.json: kernels[3] (k_argmax): argument 1 (out) is "
            "written by the kernel but buffer w_next is weight; kernels write "
            "arena buffers");
}

TEST(BundleManifest, SmallMVariants) {
  // A GEMM may list kernels for launches of few rows, by ascending max_m.
  auto variant = [](const char *name, int64_t maxM) {
    json launch = smallModel().manifest["kernels"][2]["launch"];
    return json{{"name", name}, {"max_m", maxM}, {"launch", launch}};
  };
  BundleBuilder bb = smallModel();
  bb.manifest["kernels"][2]["small_m"] = {variant("k_head_m1", 1),
                                          variant("k_head_m4", 4)};
  std::string dir = bb.write(), error;
  std::unique_ptr<Bundle> b = Bundle::load(dir, error);
  ASSERT_TRUE(b) << error;
  const bundle::Kernel &k = b->manifest().kernels[2];
  ASSERT_EQ(k.smallM.size(), 2u);
  EXPECT_EQ(k.variantFor(1)->name, "k_head_m1");
  EXPECT_EQ(k.variantFor(2)->name, "k_head_m4");
  EXPECT_EQ(k.variantFor(4)->name, "k_head_m4");
  EXPECT_EQ(k.variantFor(5), nullptr);

  const std::string at = "DIR/manifest.json: kernels[2] (k_head): small_m";
  bb = smallModel();
  bb.manifest["kernels"][2]["small_m"] = variant("k_head_m1", 1);
  EXPECT_EQ(loadError(bb), at + ": expected an array, got an object");
  bb = smallModel();
  bb.manifest["kernels"][2]["small_m"] = {variant("k_head_m4", 4),
                                          variant("k_head_m1", 1)};
  EXPECT_EQ(loadError(bb), at + "[1].max_m: 1 does not follow 4 (variants go "
                                "by ascending max_m)");
  bb = smallModel();
  bb.manifest["kernels"][2]["small_m"] = {variant("k_head", 1)};
  EXPECT_EQ(loadError(bb), at + "[0].name: must name another kernel");
  bb = smallModel();
  bb.manifest["kernels"][2]["small_m"] = {variant("", 1)};
  EXPECT_EQ(loadError(bb), at + "[0].name: must name another kernel");
  bb = smallModel();
  bb.manifest["kernels"][2]["small_m"] = {variant("k_head_m1", 0)};
  EXPECT_EQ(loadError(bb), at + "[0].max_m: must be at least 1, got 0");
  bb = smallModel();
  bb.manifest["kernels"][2]["small_m"] = {variant("k_head_m1", 1000)};
  // At most the kernel's max_tokens.
  EXPECT_EQ(loadError(bb), at + "[0].max_m: must be at most 8, got 1000");
  bb = smallModel();
  bb.manifest["kernels"][2]["small_m"] = {variant("k_head_m1", 1)};
  bb.manifest["kernels"][2]["small_m"][0]["rows"] = 1;
  EXPECT_EQ(loadError(bb), at + "[0]: unknown field 'rows'");
  bb = smallModel();
  bb.manifest["kernels"][2]["small_m"] = {variant("k_head_m1", 1)};
  bb.manifest["kernels"][2]["small_m"][0].erase("launch");
  EXPECT_EQ(loadError(bb), at + "[0]: missing field 'launch'");
  bb = smallModel();
  bb.manifest["kernels"][2]["small_m"] = {variant("k_head_m1", 1)};
  bb.manifest["kernels"][2]["small_m"][0]["launch"]["grid_y"] = 0;
  EXPECT_EQ(loadError(bb),
            at + "[0]: launch.grid_y: must be at least 1, got 0");
}

TEST(BundleManifest, Specs) {
  BundleBuilder bb = smallModel();
  bb.manifest["kernels"][2]["spec"]["activation"] = "silu";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[2] (k_head): spec: "
                           "unknown field 'activation'");
  bb = smallModel();
  bb.manifest["kernels"][1]["spec"].erase("epsilon");
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[1] (k_norm): spec: "
                           "missing field 'epsilon'");
  bb = smallModel();
  bb.manifest["kernels"][2]["spec"]["n"] = "16";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[2] (k_head): spec.n: "
                           "expected an integer, got a string");
  bb = smallModel();
  bb.manifest["kernels"][2]["spec"]["tile"]["stages"] = 0;
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[2] (k_head): "
                           "spec.tile.stages: must be at least 1, got 0");
  bb = smallModel();
  bb.manifest["kernels"][2]["spec"]["kind"] = "s8";
  bb.manifest["kernels"][2]["spec"]["b_scale"] = "per_group";
  bb.manifest["kernels"][2]["spec"]["group_size"] = 16;
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[2] (k_head): spec: "
                           "gemm s8: b_scale per_group is not defined for "
                           "this kind");
  bb = smallModel();
  bb.manifest["kernels"][2]["spec"]["kind"] = "fp4";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[2] (k_head): "
                           "spec.kind: unknown value 'fp4' (bf16, s8, e4m3, "
                           "w8a16, w4a16)");
  bb = smallModel();
  bb.manifest["kernels"][1]["spec"]["max_tokens"] = 16;
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[1] (k_norm): "
                           "spec.max_tokens: 16 is more than the bundle's "
                           "max_tokens 8");
  bb = smallModel();
  bb.manifest["kernels"][1]["spec"]["max_tokens"] = 1;
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: prefill: kernel 1 (k_norm) "
                           "has max_tokens 1; a prefill kernel takes the "
                           "bundle's 8");
}

TEST(BundleManifest, BuffersAndSequences) {
  BundleBuilder bb = smallModel();
  bb.manifest["arena_bytes"] = 100;
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: buffers.h: 2048 bytes at "
                           "offset 512 do not fit arena_bytes 100");
  bb = smallModel();
  bb.manifest["buffers"]["h"]["shape"] = {8, -1};
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: buffers.h.shape: dimension 1 "
                           "is -1; dimensions are positive integers, or -1 "
                           "(the tokens) for the first");
  bb = smallModel();
  bb.manifest["buffers"]["h"]["kind"] = "scratch";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: buffers.h.kind: unknown "
                           "buffer kind 'scratch' (input, weight, arena)");
  bb = smallModel();
  bb.manifest["inputs"]["tokens"] = "h";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: inputs.tokens: buffer 'h' is "
                           "arena f32 [-1, 64]; it must be input i32 [-1]");
  bb = smallModel();
  bb.manifest["prefill"] = {0, 1, 2, 4};
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: prefill: 4 is not a kernel "
                           "index (0 to 3)");
  bb = smallModel();
  bb.manifest["decode"] = {0, 1, 2};
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: decode: no kernel of the "
                           "sequence writes the output next");
  bb = smallModel();
  bb.manifest["buffers"]["extra"] = {
      {"kind", "input"}, {"dtype", "i32"}, {"shape", {-1}}};
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: buffers.extra: an input "
                           "buffer that is neither inputs.tokens nor "
                           "inputs.positions");
  bb = smallModel();
  bb.manifest["decode"] = json::array();
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: decode: launches no kernel");
  bb = smallModel();
  bb.manifest["kernels"][0]["launch"]["block"] = {64, 32, 1};
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[0] (k_embed): launch."
                           "block: 2048 threads per block; at most 1024");
  bb = smallModel();
  bb.manifest.erase("recipe");
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: missing field 'recipe'");
  bb = smallModel();
  bb.manifest["model"]["eos_token_id"] = 16;
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: model.eos_token_id: 16 is "
                           "outside the vocabulary [0, 16)");
}

TEST(BundleManifest, KVCaches) {
  // An attention kernel whose spec disagrees with its cache.
  BundleBuilder bb;
  bb.kvCache("kv0", 2, 8, "i8", "per_token", "i8", "per_token");
  bb.arena("q", "f32", {-1, 32});
  bb.arena("o", "f32", {-1, 32});
  json kv = {{"max_seq", 32},
             {"num_kv_heads", 2},
             {"head_dim", 8},
             {"storage", "bf16"},
             {"scales", "none"}};
  json spec = {{"max_tokens", 8},     {"num_heads", 4}, {"num_kv_heads", 2},
               {"head_dim", 8},       {"causal", true}, {"scale", 0.35},
               {"sliding_window", 0}, {"keys", kv},     {"values", kv},
               {"out_type", "f32"}};
  bb.kernel("k_attn", "attention", spec,
            {"q", "positions", "kv0.k", "kv0.v", "o"});
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[0] (k_attn): argument "
                           "2 (k_cache) is buffer kv0.k, i8 [S, 16]; the spec "
                           "needs bf16 [S, 16]");
  bb.manifest["kernels"][0]["spec"]["keys"]["storage"] = "i8";
  bb.manifest["kernels"][0]["spec"]["keys"]["scales"] = "per_head";
  bb.manifest["kernels"][0]["spec"]["values"]["storage"] = "i8";
  bb.manifest["kernels"][0]["spec"]["values"]["scales"] = "per_token";
  bb.manifest["kernels"][0]["args"] = {
      "q", "positions", "kv0.k", "kv0.v", "kv0.k_scales", "kv0.v_scales", "o"};
  EXPECT_EQ(loadError(bb),
            "DIR/manifest.json: kernels[0] (k_attn): argument 2 (k_cache): the "
            "spec's keys (2 heads of 8, i8, scales per_head) differ from KV "
            "cache kv0 (2 heads of 8, i8, scales per_token)");
  bb.manifest["kernels"][0]["spec"]["keys"]["scales"] = "per_token";
  bb.manifest["kernels"][0]["args"][3] = "kv0.k";
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kernels[0] (k_attn): argument "
                           "3 (v_cache) is buffer kv0.k (kv_cache), not the "
                           "values of a KV cache");
  bb.manifest["kernels"][0]["args"][3] = "kv0.v";
  bb.manifest["buffers"]["kv0.k"] = {
      {"kind", "arena"}, {"dtype", "i8"}, {"shape", {4}}, {"offset", 0}};
  EXPECT_EQ(loadError(bb), "DIR/manifest.json: kv_caches[0]: buffer 'kv0.k' "
                           "is defined twice");
}

TEST(BundleBackend, LoadAndStepChecks) {
  BundleBuilder bb = smallModel();
  std::string dir = bb.write(), error;
  std::unique_ptr<Bundle> b = Bundle::load(dir, error);
  ASSERT_TRUE(b) << error;
  CpuBackend cpu(1);
  EXPECT_FALSE(cpu.load(*b, 65, error));
  EXPECT_EQ(error, "a KV cache of 65 rows is outside what " + dir +
                       " allows: 1 to 64");
  ASSERT_TRUE(cpu.load(*b, 16, error)) << error;
  std::vector<int32_t> tokens(9, 3), positions(9);
  for (int i = 0; i < 9; ++i)
    positions[i] = i;
  EXPECT_FALSE(
      cpu.step(tokens.data(), positions.data(), 9, Sequence::Prefill, error));
  EXPECT_EQ(error, "a step of 9 tokens is outside 1 to 8 (the bundle's "
                   "max_tokens)");
  EXPECT_FALSE(
      cpu.step(tokens.data(), positions.data(), 2, Sequence::Decode, error));
  EXPECT_EQ(error, "a decode step is one token, not 2");
  positions[1] = 16;
  EXPECT_FALSE(
      cpu.step(tokens.data(), positions.data(), 2, Sequence::Prefill, error));
  EXPECT_EQ(error, "position 16 (row 1 of the step) is outside the KV cache "
                   "of 16 rows");
  int32_t next;
  EXPECT_FALSE(cpu.nextToken(next, error));
  EXPECT_EQ(error, "no step has run");
  // A written weight replaces the bundle's in this backend only: the
  // mapped file keeps its bytes.
  int head = b->manifest().findBuffer("head");
  ASSERT_GE(head, 0);
  std::vector<uint8_t> original(b->weight(head)->data,
                                b->weight(head)->data + 4);
  uint8_t poke[4] = {1, 2, 3, 4};
  ASSERT_TRUE(cpu.writeBuffer("head", poke, 4, error)) << error;
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(cpu.readBuffer("head", 0, bytes, error)) << error;
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 4),
            std::vector<uint8_t>(poke, poke + 4));
  EXPECT_EQ(
      std::vector<uint8_t>(b->weight(head)->data, b->weight(head)->data + 4),
      original);
  EXPECT_FALSE(cpu.launch(99, 1, error));
  EXPECT_EQ(error, "the bundle has no kernel 99");
  EXPECT_FALSE(cpu.launch(0, 9, error));
  EXPECT_EQ(error, "kernel " + b->manifest().kernels[0].name +
                       " runs 1 to 8 tokens, not 9");
  EXPECT_FALSE(cpu.readBuffer("h", 9, bytes, error));
  EXPECT_EQ(error, "buffer h holds 2048 bytes; 9 rows do not fit");
}

} // namespace
