//===- qopt-make-test-model.cpp - Write a random-weight HF checkpoint -----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qopt-make-test-model --arch llama|mistral|qwen2 [--preset NAME] [dims...]
//                      [--tie-embeddings] [--old-style-config] [--dtype T]
//                      [--seed N] [--shard-size-mb N] -o DIR
//
// Writes a deterministic random-weight Hugging Face checkpoint (config.json,
// safetensors, tokenizer.json, tokenizer_config.json) for tests and
// benchmarks. The checkpoint appears in DIR only when complete.
//
//===----------------------------------------------------------------------===//

#include "TestModel.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <type_traits>

using namespace llvm;

static constexpr const char *kTool = "qopt-make-test-model";

static int fail(const Twine &message) {
  errs() << kTool << ": error: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::OptionCategory category("qopt-make-test-model options");
  cl::opt<std::string> arch("arch",
                            cl::desc("Architecture: llama, mistral "
                                     "or qwen2"),
                            cl::value_desc("name"), cl::cat(category));
  cl::opt<std::string> preset(
      "preset",
      cl::desc("Dimensions preset: tiny (default), llama3-8b or "
               "qwen2-0.5b"),
      cl::value_desc("name"), cl::init("tiny"), cl::cat(category));
  cl::opt<std::string> hidden("hidden", cl::desc("hidden_size"),
                              cl::value_desc("N"), cl::cat(category));
  cl::opt<std::string> layers("layers", cl::desc("num_hidden_layers"),
                              cl::value_desc("N"), cl::cat(category));
  cl::opt<std::string> heads("heads", cl::desc("num_attention_heads"),
                             cl::value_desc("N"), cl::cat(category));
  cl::opt<std::string> kvHeads("kv-heads", cl::desc("num_key_value_heads"),
                               cl::value_desc("N"), cl::cat(category));
  cl::opt<std::string> intermediate("intermediate",
                                    cl::desc("intermediate_size"),
                                    cl::value_desc("N"), cl::cat(category));
  cl::opt<std::string> vocab("vocab", cl::desc("vocab_size"),
                             cl::value_desc("N"), cl::cat(category));
  cl::opt<std::string> headDim(
      "head-dim",
      cl::desc("head_dim (default: hidden / heads, or the preset's)"),
      cl::value_desc("N"), cl::cat(category));
  cl::opt<std::string> maxPositions("max-positions",
                                    cl::desc("max_position_embeddings"),
                                    cl::value_desc("N"), cl::cat(category));
  cl::opt<std::string> slidingWindow(
      "sliding-window",
      cl::desc("sliding_window for mistral/qwen2 (default: none)"),
      cl::value_desc("N"), cl::cat(category));
  cl::opt<bool> tieEmbeddings(
      "tie-embeddings",
      cl::desc("Tie lm_head to the embeddings (no lm_head.weight)"),
      cl::cat(category));
  cl::opt<bool> oldStyleConfig(
      "old-style-config",
      cl::desc("Write top-level rope_theta/rope_scaling and torch_dtype "
               "(transformers 4.x) instead of rope_parameters and dtype"),
      cl::cat(category));
  cl::opt<std::string> dtype("dtype",
                             cl::desc("Weight dtype: bf16 (default), f16 or "
                                      "f32"),
                             cl::value_desc("type"), cl::init("bf16"),
                             cl::cat(category));
  cl::opt<std::string> seed("seed", cl::desc("Random seed (default 0)"),
                            cl::value_desc("N"), cl::cat(category));
  cl::opt<std::string> shardSizeMb(
      "shard-size-mb",
      cl::desc("Shard the weights past this many MB (10^6 bytes; default "
               "2000)"),
      cl::value_desc("N"), cl::cat(category));
  cl::opt<std::string> threads(
      "jobs",
      cl::desc("Generator threads (default: all cores; output is identical)"),
      cl::value_desc("N"), cl::cat(category));
  cl::opt<bool> force("force",
                      cl::desc("Replace DIR if it exists and is not empty"),
                      cl::cat(category));
  cl::opt<bool> quiet("quiet", cl::desc("Print no progress"),
                      cl::cat(category));
  cl::opt<std::string> output("o", cl::desc("Output checkpoint directory"),
                              cl::value_desc("DIR"), cl::cat(category));
  cl::HideUnrelatedOptions(category);

  // Let the parser report into a string so that every error reads
  // "qopt-make-test-model: error: ...". Numbers are taken as strings and
  // parsed below for the same reason.
  std::string parseErrors;
  raw_string_ostream parseErrorStream(parseErrors);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "qopt-make-test-model: write a deterministic random-weight Hugging "
          "Face checkpoint (llama, mistral, qwen2) for tests\n",
          &parseErrorStream)) {
    StringRef message = StringRef(parseErrors).trim();
    // Keep the first line without the program name; the parser adds a
    // "Try: ... --help" hint after it.
    message = message.split('\n').first;
    size_t colon = message.find(": ");
    if (colon != StringRef::npos)
      message = message.drop_front(colon + 2);
    message = message.split("  Try:").first.rtrim();
    return fail(message);
  }

  if (arch.empty())
    return fail("--arch is required (llama, mistral or qwen2)");
  if (output.empty())
    return fail("-o DIR is required");

  qtest::TestModelSpec spec;
  spec.modelType = arch;
  if (spec.modelType != "llama" && spec.modelType != "mistral" &&
      spec.modelType != "qwen2")
    return fail("unknown --arch '" + arch +
                "'; expected llama, mistral or qwen2");
  std::string error;
  if (!qtest::applyTestModelPreset(preset, spec, error))
    return fail(error);

  // Parses a given integer option into `field`; false (error printed) when
  // it is not an integer.
  bool badNumber = false;
  auto number = [&](cl::opt<std::string> &opt, auto &field) {
    if (!opt.getNumOccurrences() || badNumber)
      return;
    std::remove_reference_t<decltype(field)> value;
    if (StringRef(opt).trim().getAsInteger(10, value)) {
      fail("--" + opt.ArgStr + " expects an integer, got '" + opt + "'");
      badNumber = true;
      return;
    }
    field = value;
  };
  number(hidden, spec.hiddenSize);
  number(layers, spec.numLayers);
  number(heads, spec.numHeads);
  number(kvHeads, spec.numKvHeads);
  number(intermediate, spec.intermediateSize);
  number(vocab, spec.vocabSize);
  number(maxPositions, spec.maxPositionEmbeddings);
  number(slidingWindow, spec.slidingWindow);
  number(seed, spec.seed);
  uint64_t shardMb = 2000;
  number(shardSizeMb, shardMb);
  unsigned jobs = 0;
  number(threads, jobs);
  int64_t head = 0;
  number(headDim, head);
  if (badNumber)
    return 1;
  if (headDim.getNumOccurrences()) {
    if (head <= 0)
      return fail("--head-dim must be positive (got " + std::to_string(head) +
                  ")");
    spec.headDim = head;
  } else if (hidden.getNumOccurrences() || heads.getNumOccurrences()) {
    // A preset's head_dim no longer applies once its width changes.
    spec.headDim = 0;
  }
  if (tieEmbeddings)
    spec.tieWordEmbeddings = true;
  spec.oldStyleConfig = oldStyleConfig;
  if (dtype == "bf16" || dtype == "bfloat16")
    spec.dtype = qrt::DType::BF16;
  else if (dtype == "f16" || dtype == "float16")
    spec.dtype = qrt::DType::F16;
  else if (dtype == "f32" || dtype == "float32")
    spec.dtype = qrt::DType::F32;
  else
    return fail("unknown --dtype '" + dtype + "'; expected bf16, f16 or f32");
  if (shardMb == 0 || shardMb > (uint64_t(1) << 40))
    return fail("--shard-size-mb must be between 1 and 2^40");
  spec.shardSizeBytes = shardMb * 1000 * 1000;
  if (!qtest::validateTestModelSpec(spec, error))
    return fail(error);

  qtest::TestModelWriteOptions options;
  options.force = force;
  options.threads = jobs;
  if (!quiet)
    options.progress = [](const std::string &line) { errs() << line << "\n"; };
  if (!qtest::writeTestModel(spec, output, options, error))
    return fail(error);
  return 0;
}
