//===- ReferenceTest.cpp - CPU executor vs transformers -------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Imports the real qopt-tiny-llama checkpoint and checks the CPU executor
// against the reference data computed by Hugging Face transformers (float32
// on the bf16 weights): logits, top-1 tokens, target log-probabilities,
// greedy generation and perplexity.
//
//===----------------------------------------------------------------------===//

#include "qopt-frontend/Importer.h"
#include "qopt-runtime/Safetensors.h"
#include "qopt/Executor/CpuExecutor.h"
#include "qopt/InitAllDialects.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace {

class ReferenceTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    DialectRegistry registry;
    qopt::registerAllDialects(registry);
    context = new MLIRContext(registry);
    std::string error;
    module = new OwningOpRef<ModuleOp>(qopt::importHuggingFaceCheckpoint(
        context, std::string(QOPT_SHARED_MODELS_DIR) + "/qopt-tiny-llama", {},
        error));
    ASSERT_TRUE(*module) << error;
    ref = qrt::SafetensorsFile::open(std::string(QOPT_SHARED_DATA_DIR) +
                                         "/tiny-llama-reference.safetensors",
                                     error)
              .release();
    ASSERT_TRUE(ref) << error;
    exec = qopt::CpuExecutor::create(**module, {}, error).release();
    ASSERT_TRUE(exec) << error;
  }
  static void TearDownTestSuite() {
    delete exec;
    delete ref;
    delete module;
    delete context;
  }

  static std::vector<int32_t> ints(const std::string &name) {
    const qrt::TensorView *t = ref->find(name);
    std::vector<int32_t> out(t->numElements());
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<int32_t>(t->getFloat(i));
    return out;
  }

  static std::vector<float> run(const std::vector<int32_t> &ids) {
    std::vector<float> logits;
    std::string error;
    exec->resetCache();
    EXPECT_TRUE(exec->forward(ids, 0, logits, error)) << error;
    return logits;
  }

  static MLIRContext *context;
  static OwningOpRef<ModuleOp> *module;
  static qrt::SafetensorsFile *ref;
  static qopt::CpuExecutor *exec;
  static constexpr int64_t kVocab = 32000;
};

MLIRContext *ReferenceTest::context;
OwningOpRef<ModuleOp> *ReferenceTest::module;
qrt::SafetensorsFile *ReferenceTest::ref;
qopt::CpuExecutor *ReferenceTest::exec;

double logSoftmaxAt(const float *row, int64_t vocab, int64_t target) {
  double m = *std::max_element(row, row + vocab), sum = 0;
  for (int64_t v = 0; v < vocab; ++v)
    sum += std::exp(row[v] - m);
  return row[target] - m - std::log(sum);
}

TEST_F(ReferenceTest, LogitsMatchTransformers) {
  std::vector<int32_t> seqs = ints("ref_seqs"); // [4, 256]
  std::vector<int32_t> seq0(seqs.begin(), seqs.begin() + 256);
  std::vector<float> logits = run(seq0);
  std::vector<float> expected = ref->find("ref_logits_seq0_first32")->toFloat();
  double maxDiff = 0;
  for (int64_t i = 0; i < 32 * kVocab; ++i)
    maxDiff = std::max(maxDiff, double(std::fabs(logits[i] - expected[i])));
  std::printf("max |logits - transformers| over 32 x 32000: %.3g\n", maxDiff);
  EXPECT_LE(maxDiff, 1e-3);
}

TEST_F(ReferenceTest, Top1AndLogProbsMatchTransformers) {
  std::vector<int32_t> seqs = ints("ref_seqs");
  std::vector<int32_t> top5 = ints("ref_top5_ids"); // [4, 256, 5]
  std::vector<float> logprob = ref->find("ref_target_logprob")->toFloat();
  int64_t agree = 0, total = 0;
  double maxLogProbDiff = 0;
  for (int s = 0; s < 4; ++s) {
    std::vector<int32_t> seq(seqs.begin() + s * 256,
                             seqs.begin() + (s + 1) * 256);
    std::vector<float> logits = run(seq);
    for (int t = 0; t < 256; ++t) {
      const float *row = logits.data() + t * kVocab;
      int64_t top = std::max_element(row, row + kVocab) - row;
      agree += top == top5[(s * 256 + t) * 5];
      ++total;
      if (t < 255)
        maxLogProbDiff = std::max(
            maxLogProbDiff, std::fabs(logSoftmaxAt(row, kVocab, seq[t + 1]) -
                                      logprob[s * 255 + t]));
    }
  }
  std::printf("top-1 agreement %lld / %lld, max |log p diff| %.3g\n",
              (long long)agree, (long long)total, maxLogProbDiff);
  EXPECT_GE(double(agree) / total, 0.999);
  EXPECT_LE(maxLogProbDiff, 1e-3);
}

TEST_F(ReferenceTest, GreedyGenerationWithKVCache) {
  std::vector<int32_t> expected = ints("greedy_ids"); // BOS + prompt + 48
  int64_t promptLen = static_cast<int64_t>(expected.size()) - 48;
  std::vector<int32_t> ids(expected.begin(), expected.begin() + promptLen);
  std::vector<float> logits = run(ids);
  std::string error;
  while (ids.size() < expected.size()) {
    const float *last = logits.data() + logits.size() - kVocab;
    int32_t next =
        static_cast<int32_t>(std::max_element(last, last + kVocab) - last);
    ids.push_back(next);
    // Decode one token at a time against the KV cache.
    ASSERT_TRUE(exec->forward({next}, exec->cachedPositions(), logits, error))
        << error;
  }
  EXPECT_EQ(ids, expected);
}

TEST_F(ReferenceTest, CacheMisuseIsAnError) {
  std::string error;
  std::vector<float> logits;
  exec->resetCache();
  EXPECT_FALSE(exec->forward({1, 2}, 5, logits, error));
  EXPECT_EQ(error, "forward at position 5 but the KV cache holds 0 positions");
  EXPECT_FALSE(exec->forward({1, 99999}, 0, logits, error));
  EXPECT_EQ(error, "token id 99999 is out of range for an embedding table of "
                   "32000 rows");
}

TEST_F(ReferenceTest, PerplexityOnHeldOutText) {
  // The data README's convention: 64 windows of 512 tokens, each from an
  // empty cache, scoring the next token.
  std::vector<int32_t> tokens = ints("eval_sotu_heldout");
  ASSERT_EQ(tokens.size(), 32769u);
  double nll = 0;
  for (int w = 0; w < 64; ++w) {
    std::vector<int32_t> window(tokens.begin() + w * 512,
                                tokens.begin() + (w + 1) * 512);
    std::vector<float> logits = run(window);
    for (int t = 0; t < 512; ++t)
      nll -= logSoftmaxAt(logits.data() + t * kVocab, kVocab,
                          tokens[w * 512 + t + 1]);
  }
  double ppl = std::exp(nll / (64 * 512));
  std::printf("perplexity %.4f (transformers: 89.556)\n", ppl);
  EXPECT_NEAR(ppl, 89.556, 89.556 * 1e-3);
}

} // namespace
