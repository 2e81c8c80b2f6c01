//===- ModelConfigTest.cpp - config.json reader ---------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/ModelConfig.h"

#include <gtest/gtest.h>

using namespace qrt;

namespace {

std::optional<ModelConfig> parse(const std::string &text, std::string &error) {
  return ModelConfig::fromJson(text, "config.json", error);
}

TEST(ModelConfig, RealTinyLlamaNewStyle) {
  std::string error;
  auto c = ModelConfig::fromFile(std::string(QOPT_SHARED_MODELS_DIR) +
                                     "/qopt-tiny-llama/config.json",
                                 error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->modelType, "llama");
  EXPECT_EQ(c->hiddenSize, 384);
  EXPECT_EQ(c->numLayers, 6);
  EXPECT_EQ(c->numHeads, 6);
  EXPECT_EQ(c->numKvHeads, 2);
  EXPECT_EQ(c->headDim, 64);
  EXPECT_EQ(c->intermediateSize, 1024);
  EXPECT_EQ(c->vocabSize, 32000);
  EXPECT_DOUBLE_EQ(c->rmsNormEps, 1e-5);
  EXPECT_DOUBLE_EQ(c->ropeTheta, 10000.0);
  EXPECT_TRUE(c->tieWordEmbeddings);
  EXPECT_FALSE(c->qkvBias);
  EXPECT_EQ(c->dtype, "bfloat16");
  EXPECT_EQ(c->bosTokenId, 1);
  EXPECT_EQ(c->eosTokenId, 2);
}

TEST(ModelConfig, OldStyleKeys) {
  std::string error;
  auto c = parse(R"({"model_type":"llama","hidden_size":64,
    "num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":128,
    "vocab_size":100,"rope_theta":500000.0,"torch_dtype":"float16",
    "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
    "high_freq_factor":4.0,"original_max_position_embeddings":8192}})",
                 error);
  ASSERT_TRUE(c) << error;
  EXPECT_DOUBLE_EQ(c->ropeTheta, 500000.0);
  EXPECT_EQ(c->dtype, "float16");
  EXPECT_EQ(c->numKvHeads, 4); // defaults to num_attention_heads
  EXPECT_EQ(c->headDim, 16);   // hidden / heads
  EXPECT_EQ(c->ropeScaling, RopeScaling::Llama3);
  EXPECT_EQ(c->ropeOriginalMaxPosition, 8192);
}

TEST(ModelConfig, Qwen2HasQkvBiases) {
  std::string error;
  auto c = parse(R"({"model_type":"qwen2","hidden_size":64,
    "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
    "intermediate_size":128,"vocab_size":100,"eos_token_id":[7, 8]})",
                 error);
  ASSERT_TRUE(c) << error;
  EXPECT_TRUE(c->qkvBias);
  EXPECT_FALSE(c->oBias);
  EXPECT_EQ(c->eosTokenId, 7);
}

TEST(ModelConfig, Errors) {
  struct Case {
    const char *text, *message;
  };
  Case cases[] = {
      {"{", "config.json: not valid JSON"},
      {R"({"model_type":"gpt2"})",
       "unsupported model_type 'gpt2'; qopt supports llama, mistral and qwen2"},
      {R"({"model_type":"llama","hidden_size":64})",
       "missing required key 'num_hidden_layers'"},
      {R"({"model_type":"llama","hidden_size":-4,"num_hidden_layers":1,
        "num_attention_heads":4,"intermediate_size":8,"vocab_size":10})",
       "'hidden_size' must be a positive integer"},
      {R"({"model_type":"llama","hidden_size":64,"num_hidden_layers":1,
        "num_attention_heads":6,"num_key_value_heads":4,"head_dim":8,
        "intermediate_size":8,"vocab_size":10})",
       "num_attention_heads 6 is not a multiple of num_key_value_heads 4"},
      {R"({"model_type":"llama","hidden_size":64,"num_hidden_layers":1,
        "num_attention_heads":5,"intermediate_size":8,"vocab_size":10})",
       "hidden_size 64 is not divisible by num_attention_heads 5"},
      {R"({"model_type":"llama","hidden_size":64,"num_hidden_layers":1,
        "num_attention_heads":4,"intermediate_size":8,"vocab_size":10,
        "rope_scaling":{"type":"yarn","factor":4.0}})",
       "unsupported rope scaling type 'yarn'"},
      {R"({"model_type":"llama","hidden_size":64,"num_hidden_layers":1,
        "num_attention_heads":4,"intermediate_size":8,"vocab_size":10,
        "hidden_act":"gelu"})",
       "unsupported hidden_act 'gelu'"},
      {R"({"model_type":"llama","hidden_size":64,"num_hidden_layers":1,
        "num_attention_heads":4,"intermediate_size":8,"vocab_size":10,
        "torch_dtype":"int8"})",
       "unsupported dtype 'int8'"},
  };
  for (const Case &c : cases) {
    std::string error;
    EXPECT_FALSE(parse(c.text, error)) << c.text;
    EXPECT_NE(error.find(c.message), std::string::npos)
        << c.text << "\n  got: " << error;
  }
}

/// A minimal llama config with `rope` (JSON members, comma-led) appended.
std::string withRope(const std::string &rope) {
  return R"({"model_type":"llama","hidden_size":64,"num_hidden_layers":1,
    "num_attention_heads":4,"intermediate_size":8,"vocab_size":10)" +
         rope + "}";
}

// transformers 5 (PreTrainedConfig.convert_rope_params_to_dict) takes a
// non-empty legacy `rope_scaling` over `rope_parameters`, and the chosen
// object's rope_theta over the top-level one.
TEST(ModelConfig, RopeScalingAndRopeParametersThatAgree) {
  std::string error;
  auto c = parse(withRope(R"(,"rope_theta":500000,
    "rope_parameters":{"rope_type":"linear","factor":4,"rope_theta":500000.0},
    "rope_scaling":{"type":"linear","factor":4.0})"),
                 error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->ropeScaling, RopeScaling::Linear);
  EXPECT_DOUBLE_EQ(c->ropeFactor, 4.0);
  EXPECT_DOUBLE_EQ(c->ropeTheta, 500000.0);
}

TEST(ModelConfig, RopeScalingAloneBesideDefaultParameters) {
  // An empty rope_scaling is no scaling: rope_parameters describes RoPE.
  std::string error;
  auto c = parse(withRope(R"(,"rope_scaling":{},
    "rope_parameters":{"rope_type":"linear","factor":2.0,"rope_theta":1e6})"),
                 error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->ropeScaling, RopeScaling::Linear);
  EXPECT_DOUBLE_EQ(c->ropeFactor, 2.0);
  EXPECT_DOUBLE_EQ(c->ropeTheta, 1e6);
}

TEST(ModelConfig, TopLevelRopeThetaFillsRopeParameters) {
  std::string error;
  auto c = parse(withRope(R"(,"rope_theta":500000.0,
    "rope_parameters":{"rope_type":"default"})"),
                 error);
  ASSERT_TRUE(c) << error;
  EXPECT_DOUBLE_EQ(c->ropeTheta, 500000.0);
  EXPECT_EQ(c->ropeScaling, RopeScaling::None);
}

TEST(ModelConfig, RopeScalingWinsOverRopeParameters) {
  // Without rope_parameters' own keys disagreeing, the legacy object's
  // scaling is the one used (it used to be ignored).
  std::string error;
  auto c = parse(withRope(R"(,"rope_parameters":{"rope_theta":10000.0},
    "rope_scaling":{"rope_type":"default"}, "rope_theta":10000)"),
                 error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->ropeScaling, RopeScaling::None);
  c = parse(withRope(R"(,"rope_parameters":{},
    "rope_scaling":{"rope_type":"linear","factor":8.0})"),
            error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->ropeScaling, RopeScaling::Linear);
  EXPECT_DOUBLE_EQ(c->ropeFactor, 8.0);
}

TEST(ModelConfig, RopeDisagreementsAreErrors) {
  struct Case {
    const char *rope, *message;
  };
  Case cases[] = {
      {R"(,"rope_parameters":{"rope_type":"default","rope_theta":10000.0},
        "rope_scaling":{"type":"linear","factor":4.0})",
       "config.json: 'rope_scaling' and 'rope_parameters' disagree on "
       "'rope_type' (linear vs default); transformers 5 uses 'rope_scaling': "
       "make them agree or remove one"},
      {R"(,"rope_parameters":{"rope_theta":10000.0},
        "rope_scaling":{"type":"linear","factor":4.0})",
       "disagree on 'rope_type' (linear vs default)"},
      {R"(,"rope_parameters":{"rope_type":"linear","factor":2.0},
        "rope_scaling":{"rope_type":"linear","factor":4.0})",
       "disagree on 'factor' (4.0 vs 2.0)"},
      {R"(,"rope_parameters":{"rope_type":"llama3","factor":8.0,
        "low_freq_factor":1.0,"high_freq_factor":4.0,
        "original_max_position_embeddings":8192},
        "rope_scaling":{"rope_type":"llama3","factor":8.0,
        "low_freq_factor":1.0,"high_freq_factor":4.0})",
       "disagree on 'original_max_position_embeddings' (absent vs 8192)"},
      {R"(,"rope_parameters":{"rope_type":"linear","factor":2.0,
        "rope_theta":500000.0},"rope_scaling":{"type":"linear","factor":2.0})",
       "disagree on 'rope_theta' (10000.0 (the default) vs 500000.0)"},
      {R"(,"rope_theta":20000,"rope_parameters":{"rope_theta":500000.0},
        "rope_scaling":{"type":"default"})",
       "disagree on 'rope_theta' (20000.0 from the top-level 'rope_theta' vs "
       "500000.0)"},
      {R"(,"rope_theta":20000,"rope_parameters":{"rope_theta":500000.0})",
       "config.json: 'rope_theta' 20000 disagrees with "
       "'rope_parameters.rope_theta' 500000.0, which transformers 5 uses; "
       "make them agree or remove one"},
      {R"(,"rope_scaling":[1])", "'rope_scaling' must be an object"},
  };
  for (const Case &c : cases) {
    std::string error;
    std::string text = withRope(c.rope);
    EXPECT_FALSE(parse(text, error)) << text;
    EXPECT_NE(error.find(c.message), std::string::npos)
        << text << "\n  got: " << error;
  }
}

} // namespace
