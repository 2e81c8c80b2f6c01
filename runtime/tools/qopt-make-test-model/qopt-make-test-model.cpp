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
// The command line reads as LLVM's did (the tool needs no LLVM): one or two
// dashes, `--opt=value` or `--opt value`, flags as `--flag` or
// `--flag=true|false|1|0`, the last occurrence wins, `--` ends the options,
// and --help (-h) prints the options and exits.
//
//===----------------------------------------------------------------------===//

#include "TestModel.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

static constexpr const char *kTool = "qopt-make-test-model";

static int fail(const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", kTool, message.c_str());
  return 1;
}

namespace {

/// One command-line option: takes a value ("--name=<value>" or
/// "--name <value>") when `valueName` is set, else a flag.
struct Option {
  std::string name;
  std::string valueName;
  std::string description;
  std::string value;
  bool given = false;
  bool on = false; // a flag's value

  bool isFlag() const { return valueName.empty(); }
  /// "-o" for a one-letter option, "--name" otherwise.
  std::string spelling() const {
    return (name.size() == 1 ? "-" : "--") + name;
  }
};

/// The options of the tool, in the order given; parse() fills them in.
class CommandLine {
public:
  Option &add(std::string name, std::string valueName, std::string description,
              std::string init = "") {
    options.push_back(Option{std::move(name), std::move(valueName),
                             std::move(description), std::move(init)});
    return options.back();
  }

  /// Parses argv into the options. False with `error` set on a malformed
  /// command line (the first problem found); `help` is set, and parsing
  /// stops, at --help.
  bool parse(int argc, char **argv, bool &help, std::string &error);

  void printHelp(const char *overview) const;

private:
  Option *find(std::string_view name) {
    for (Option &option : options)
      if (option.name == name)
        return &option;
    return nullptr;
  }

  std::deque<Option> options; // stable addresses for the references
};

} // namespace

/// LLVM's spellings of a boolean value.
static bool parseBool(std::string_view text, bool &out) {
  if (text.empty() || text == "true" || text == "TRUE" || text == "True" ||
      text == "1") {
    out = true;
    return true;
  }
  if (text == "false" || text == "FALSE" || text == "False" || text == "0") {
    out = false;
    return true;
  }
  return false;
}

bool CommandLine::parse(int argc, char **argv, bool &help, std::string &error) {
  help = false;
  bool optionsEnded = false;
  auto note = [&](const std::string &message) {
    if (error.empty())
      error = message;
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    // No option takes a positional argument.
    if (optionsEnded || arg.size() < 2 || arg[0] != '-') {
      note("Unknown command line argument '" + std::string(arg) + "'.");
      continue;
    }
    if (arg == "--") {
      optionsEnded = true;
      continue;
    }
    std::string_view name = arg.substr(1);
    if (name[0] == '-')
      name.remove_prefix(1);
    std::string_view inlineValue;
    size_t equals = name.find('=');
    bool hasValue = equals != std::string_view::npos;
    if (hasValue) {
      inlineValue = name.substr(equals + 1);
      name = name.substr(0, equals);
    }
    if (name == "help" || name == "h") {
      if (hasValue) {
        note("--help does not take a value ('" + std::string(inlineValue) +
             "' given)");
        continue;
      }
      help = true;
      return true;
    }
    Option *option = name.empty() ? nullptr : find(name);
    if (!option) {
      note("Unknown command line argument '" + std::string(arg) + "'.");
      continue;
    }
    if (option->isFlag()) {
      bool on = true;
      if (hasValue && !parseBool(inlineValue, on)) {
        note("'" + std::string(inlineValue) + "' is not a value for " +
             option->spelling() + "; expected true, false, 1 or 0");
        continue;
      }
      option->on = on;
    } else if (hasValue) {
      option->value = std::string(inlineValue);
    } else if (i + 1 < argc) {
      // The next argument is the value, whatever it looks like.
      option->value = argv[++i];
    } else {
      note(option->spelling() + " requires a value");
      continue;
    }
    option->given = true;
  }
  return error.empty();
}

void CommandLine::printHelp(const char *overview) const {
  std::printf("OVERVIEW: %s\n\nUSAGE: %s [options]\n\nOPTIONS:\n\n", overview,
              kTool);
  std::vector<const Option *> sorted;
  for (const Option &option : options)
    sorted.push_back(&option);
  std::sort(sorted.begin(), sorted.end(),
            [](const Option *a, const Option *b) { return a->name < b->name; });
  auto line = [](const std::string &left, const std::string &description) {
    std::printf("  %-20s - %s\n", left.c_str(), description.c_str());
  };
  for (const Option *option : sorted) {
    std::string left = option->spelling();
    if (!option->isFlag())
      left +=
          (option->name.size() == 1 ? " <" : "=<") + option->valueName + ">";
    line(left, option->description);
  }
  line("--help", "Display available options");
}

/// Parses a decimal integer of type T as LLVM's StringRef::getAsInteger does
/// after trim(): an optional '-' for signed types, digits only, in range.
template <typename T> static bool parseInteger(std::string_view text, T &out) {
  static constexpr const char *kSpace = " \t\n\v\f\r";
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos)
    return false;
  text = text.substr(first, text.find_last_not_of(kSpace) - first + 1);
  bool negative = std::is_signed_v<T> && text[0] == '-';
  if (negative)
    text.remove_prefix(1);
  if (text.empty())
    return false;
  uint64_t magnitude = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    uint64_t digit = uint64_t(c - '0');
    if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10)
      return false;
    magnitude = magnitude * 10 + digit;
  }
  if constexpr (std::is_signed_v<T>) {
    constexpr uint64_t kMinMagnitude = uint64_t(1) << 63;
    if (magnitude > (negative ? kMinMagnitude : kMinMagnitude - 1))
      return false;
    int64_t value =
        negative ? int64_t(0 - magnitude) : static_cast<int64_t>(magnitude);
    if (value < int64_t(std::numeric_limits<T>::min()) ||
        value > int64_t(std::numeric_limits<T>::max()))
      return false;
    out = T(value);
  } else {
    if (magnitude > uint64_t(std::numeric_limits<T>::max()))
      return false;
    out = T(magnitude);
  }
  return true;
}

int main(int argc, char **argv) {
  CommandLine cl;
  Option &arch =
      cl.add("arch", "name", "Architecture: llama, mistral or qwen2");
  Option &preset = cl.add(
      "preset", "name",
      "Dimensions preset: tiny (default), llama3-8b or qwen2-0.5b", "tiny");
  Option &hidden = cl.add("hidden", "N", "hidden_size");
  Option &layers = cl.add("layers", "N", "num_hidden_layers");
  Option &heads = cl.add("heads", "N", "num_attention_heads");
  Option &kvHeads = cl.add("kv-heads", "N", "num_key_value_heads");
  Option &intermediate = cl.add("intermediate", "N", "intermediate_size");
  Option &vocab = cl.add("vocab", "N", "vocab_size");
  Option &headDim = cl.add(
      "head-dim", "N", "head_dim (default: hidden / heads, or the preset's)");
  Option &maxPositions =
      cl.add("max-positions", "N", "max_position_embeddings");
  Option &slidingWindow =
      cl.add("sliding-window", "N",
             "sliding_window for mistral/qwen2 (default: none)");
  Option &tieEmbeddings =
      cl.add("tie-embeddings", "",
             "Tie lm_head to the embeddings (no lm_head.weight)");
  Option &oldStyleConfig =
      cl.add("old-style-config", "",
             "Write top-level rope_theta/rope_scaling and torch_dtype "
             "(transformers 4.x) instead of rope_parameters and dtype");
  Option &dtype = cl.add("dtype", "type",
                         "Weight dtype: bf16 (default), f16 or f32", "bf16");
  Option &seed = cl.add("seed", "N", "Random seed (default 0)");
  Option &shardSizeMb =
      cl.add("shard-size-mb", "N",
             "Shard the weights past this many MB (10^6 bytes; default 2000)");
  Option &threads =
      cl.add("jobs", "N",
             "Generator threads (default: all cores; output is identical)");
  Option &force =
      cl.add("force", "", "Replace DIR if it exists and is not empty");
  Option &quiet = cl.add("quiet", "", "Print no progress");
  Option &output = cl.add("o", "DIR", "Output checkpoint directory");

  bool help = false;
  std::string parseError;
  if (!cl.parse(argc, argv, help, parseError))
    return fail(parseError);
  if (help) {
    cl.printHelp("qopt-make-test-model: write a deterministic random-weight "
                 "Hugging Face checkpoint (llama, mistral, qwen2) for tests");
    return 0;
  }

  if (arch.value.empty())
    return fail("--arch is required (llama, mistral or qwen2)");
  if (output.value.empty())
    return fail("-o DIR is required");

  qtest::TestModelSpec spec;
  spec.modelType = arch.value;
  if (spec.modelType != "llama" && spec.modelType != "mistral" &&
      spec.modelType != "qwen2")
    return fail("unknown --arch '" + arch.value +
                "'; expected llama, mistral or qwen2");
  std::string error;
  if (!qtest::applyTestModelPreset(preset.value, spec, error))
    return fail(error);

  // Parses a given integer option into `field`; false (error printed) when
  // it is not an integer.
  bool badNumber = false;
  auto number = [&](const Option &opt, auto &field) {
    if (!opt.given || badNumber)
      return;
    std::remove_reference_t<decltype(field)> value;
    if (!parseInteger(opt.value, value)) {
      fail(opt.spelling() + " expects an integer, got '" + opt.value + "'");
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
  if (headDim.given) {
    if (head <= 0)
      return fail("--head-dim must be positive (got " + std::to_string(head) +
                  ")");
    spec.headDim = head;
  } else if (hidden.given || heads.given) {
    // A preset's head_dim no longer applies once its width changes.
    spec.headDim = 0;
  }
  if (tieEmbeddings.on)
    spec.tieWordEmbeddings = true;
  spec.oldStyleConfig = oldStyleConfig.on;
  const std::string &type = dtype.value;
  if (type == "bf16" || type == "bfloat16")
    spec.dtype = qrt::DType::BF16;
  else if (type == "f16" || type == "float16")
    spec.dtype = qrt::DType::F16;
  else if (type == "f32" || type == "float32")
    spec.dtype = qrt::DType::F32;
  else
    return fail("unknown --dtype '" + type + "'; expected bf16, f16 or f32");
  if (shardMb == 0 || shardMb > (uint64_t(1) << 40))
    return fail("--shard-size-mb must be between 1 and 2^40");
  spec.shardSizeBytes = shardMb * 1000 * 1000;
  if (!qtest::validateTestModelSpec(spec, error))
    return fail(error);

  qtest::TestModelWriteOptions options;
  options.force = force.on;
  options.threads = jobs;
  if (!quiet.on)
    options.progress = [](const std::string &line) {
      std::fprintf(stderr, "%s\n", line.c_str());
    };
  if (!qtest::writeTestModel(spec, output.value, options, error))
    return fail(error);
  return 0;
}
