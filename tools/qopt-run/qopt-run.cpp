//===- qopt-run.cpp - Run a qopt model ------------------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qopt-run --backend=cpu MODEL.mlir
//     --ppl FILE.safetensors:TENSOR [--seq-len N]    perplexity
//     --logits FILE.safetensors:TENSOR -o OUT        logits of sequences
//     --generate "prompt" [--max-new-tokens N]       greedy generation
//
// qopt-run BUNDLE_DIR --backend=cpu|cuda ...   a compiled-model bundle
//     (docs/bundle.md), run by the runtime with no MLIR: see
//     qopt-runtime/BundleMain.h
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Bundle.h"
#include "qopt-runtime/BundleMain.h"
#include "qopt-runtime/QuantMath.h"
#include "qopt-runtime/Safetensors.h"
#include "qopt-runtime/Tokenizer.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Executor/CpuExecutor.h"
#include "qopt/InitAllDialects.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <thread>

using namespace mlir;

namespace {
enum class Backend { Cpu };

int fail(const std::string &msg) {
  llvm::errs() << "qopt-run: error: " << msg << "\n";
  return 1;
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

/// log p(target) under the logits row.
double logProb(const float *row, int64_t vocab, int32_t target) {
  float m = -INFINITY;
  for (int64_t v = 0; v < vocab; ++v)
    m = std::max(m, row[v]);
  double sum = 0;
  for (int64_t v = 0; v < vocab; ++v)
    sum += std::exp(double(row[v]) - m);
  return double(row[target]) - m - std::log(sum);
}

int64_t argmax(const float *row, int64_t vocab) {
  return std::max_element(row, row + vocab) - row;
}

/// Most threads --num-threads accepts (more only fails to start threads).
constexpr unsigned kMaxThreads = 1024;

/// The model's max_position_embeddings, 0 when the model does not record it.
/// The one place qopt-run reads it from the `qopt.model` attribute.
int64_t maxPositionEmbeddings(ModuleOp module) {
  qopt::ModelAttr model = qopt::getModelAttr(module);
  return model ? std::max<int64_t>(0, model.getMaxPositionEmbeddings()) : 0;
}

/// Checks that every token (inputs and labels alike) is an id of the model's
/// vocabulary [0, vocab); sets `error` naming `what` (FILE:TENSOR), the
/// first bad token's index and its value.
bool checkVocab(const std::string &what, const std::vector<int32_t> &tokens,
                const std::vector<int64_t> &shape, int64_t vocab,
                std::string &error) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] >= 0 && tokens[i] < vocab)
      continue;
    std::string index = std::to_string(i);
    if (shape.size() > 1) {
      std::vector<int64_t> at(shape.size());
      for (int64_t d = static_cast<int64_t>(shape.size()) - 1, rest = i; d >= 0;
           --d) {
        at[d] = shape[d] ? rest % shape[d] : 0;
        rest = shape[d] ? rest / shape[d] : 0;
      }
      index = ::qnum::shapeToString(at);
    }
    error = what + ": token at index " + index + " is " +
            std::to_string(tokens[i]) +
            ", outside the model's vocabulary [0, " + std::to_string(vocab) +
            ")";
    return false;
  }
  return true;
}
} // namespace

int main(int argc, char **argv) {
  // A bundle directory runs in the runtime's bundle mode, which has options
  // of its own.
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] != '-' && qrt::Bundle::isBundleDirectory(argv[i]))
      return qrt::runBundleMain(argc, argv);
  llvm::InitLLVM init(argc, argv);
  llvm::cl::OptionCategory category("qopt-run options");
  llvm::cl::opt<std::string> input(llvm::cl::Positional, llvm::cl::Required,
                                   llvm::cl::desc("<model.mlir>"),
                                   llvm::cl::cat(category));
  llvm::cl::opt<Backend> backend(
      "backend", llvm::cl::desc("Where to run"),
      llvm::cl::values(
          clEnumValN(Backend::Cpu, "cpu", "Reference CPU executor (float32)")),
      llvm::cl::init(Backend::Cpu), llvm::cl::cat(category));
  llvm::cl::opt<std::string> ppl(
      "ppl", llvm::cl::desc("Perplexity of the tokens FILE.safetensors:TENSOR"),
      llvm::cl::cat(category));
  llvm::cl::opt<int64_t> seqLen("seq-len",
                                llvm::cl::desc("Window length for --ppl"),
                                llvm::cl::init(512), llvm::cl::cat(category));
  llvm::cl::opt<int64_t> maxWindows(
      "max-windows",
      llvm::cl::desc("Score at most this many windows (0 = all)"),
      llvm::cl::init(0), llvm::cl::cat(category));
  llvm::cl::opt<std::string> logitsSpec(
      "logits",
      llvm::cl::desc("Write logits of the sequences FILE.safetensors:TENSOR "
                     "([S, T] or [T]) to -o"),
      llvm::cl::cat(category));
  llvm::cl::opt<std::string> output("o", llvm::cl::desc("Output file"),
                                    llvm::cl::cat(category));
  llvm::cl::opt<std::string> generate(
      "generate", llvm::cl::desc("Greedy generation from this prompt"),
      llvm::cl::cat(category));
  llvm::cl::opt<int64_t> maxNewTokens(
      "max-new-tokens",
      llvm::cl::desc("Tokens to generate (generation stops earlier, with a "
                     "warning, at the model's max_position_embeddings)"),
      llvm::cl::init(32), llvm::cl::cat(category));
  llvm::cl::opt<std::string> tokenizerPath(
      "tokenizer",
      llvm::cl::desc("tokenizer.json (default: the one recorded in the model)"),
      llvm::cl::cat(category));
  llvm::cl::opt<unsigned> threads(
      "num-threads",
      llvm::cl::desc("Worker threads (0 = all cores, at most 1024)"),
      llvm::cl::init(0), llvm::cl::cat(category));
  llvm::cl::opt<bool> profile(
      "profile", llvm::cl::desc("Print the time spent per op kind to stderr"),
      llvm::cl::cat(category));
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(argc, argv, "qopt-run: run a qopt model\n");

  // An empty --generate "" prompt is a mode too: generation from BOS alone.
  bool generating = generate.getNumOccurrences() > 0;
  int modes = !ppl.empty() + !logitsSpec.empty() + generating;
  if (modes != 1)
    return fail("give exactly one of --ppl, --logits and --generate");
  if (!logitsSpec.empty() && output.empty())
    return fail("--logits needs -o OUT.safetensors");
  if (seqLen <= 0)
    return fail("--seq-len must be positive");
  if (maxWindows < 0)
    return fail("--max-windows must be non-negative (0 scores every window), "
                "got " +
                std::to_string(maxWindows));
  if (maxNewTokens < 0)
    return fail("--max-new-tokens must be non-negative");
  if (threads > kMaxThreads)
    return fail("--num-threads must be at most " + std::to_string(kMaxThreads) +
                " (0 uses every core), got " + std::to_string(threads));

  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);
  std::string error;
  OwningOpRef<ModuleOp> module = qopt::parseModelFile(input, context, error);
  if (!module) // a parse error was already reported with its location
    return error.empty() ? 1 : fail(error);
  qopt::CpuExecutorOptions options;
  options.baseDir = qopt::modelDirectory(input);
  options.threads = threads;
  options.profile = profile;
  std::unique_ptr<qopt::CpuExecutor> exec =
      qopt::CpuExecutor::create(*module, options, error);
  if (!exec)
    return fail(input + ": " + error);
  int64_t vocab = exec->vocabSize();
  int64_t maxPositions = maxPositionEmbeddings(*module);
  auto start = std::chrono::steady_clock::now();
  // Prints the per-op profile (when asked) on every exit from here on.
  struct ProfileReport {
    const qopt::CpuExecutor &exec;
    bool enabled;
    ~ProfileReport() {
      if (enabled)
        llvm::errs() << "profile:\n" << exec.profile();
    }
  } report{*exec, profile};

  if (!ppl.empty()) {
    std::vector<int32_t> tokens;
    std::vector<int64_t> shape;
    if (!qrt::readTokenTensor(ppl, tokens, shape, error) ||
        !checkVocab(ppl, tokens, shape, vocab, error))
      return fail(error);
    if (maxPositions > 0 && seqLen > maxPositions)
      return fail("--seq-len " + std::to_string(seqLen) +
                  " is longer than the model's max_position_embeddings " +
                  std::to_string(maxPositions));
    int64_t windows = (static_cast<int64_t>(tokens.size()) - 1) / seqLen;
    if (maxWindows > 0)
      windows = std::min<int64_t>(windows, maxWindows);
    if (windows < 1)
      return fail(
          "--ppl needs at least seq-len + 1 = " + std::to_string(seqLen + 1) +
          " tokens, got " + std::to_string(tokens.size()));
    double nll = 0;
    std::vector<float> logits;
    for (int64_t w = 0; w < windows; ++w) {
      std::vector<int32_t> window(tokens.begin() + w * seqLen,
                                  tokens.begin() + (w + 1) * seqLen);
      exec->resetCache();
      if (!exec->forward(window, 0, logits, error))
        return fail(error);
      // Score the window's rows on two halves in parallel.
      std::vector<double> partial(2, 0.0);
      auto score = [&](int half) {
        for (int64_t t = half; t < seqLen; t += 2)
          partial[half] -= logProb(logits.data() + t * vocab, vocab,
                                   tokens[w * seqLen + t + 1]);
      };
      std::thread worker(score, 1);
      score(0);
      worker.join();
      nll += partial[0] + partial[1];
      llvm::errs() << "\rwindow " << (w + 1) << "/" << windows;
    }
    llvm::errs() << "\n";
    int64_t scored = windows * seqLen;
    llvm::outs() << llvm::format("perplexity: %.4f\n", std::exp(nll / scored));
    llvm::outs() << "tokens scored: " << scored << " in " << windows
                 << " windows of " << seqLen << "\n";
    llvm::outs() << llvm::format("time: %.2f s\n", seconds(start));
    return 0;
  }

  if (!logitsSpec.empty()) {
    std::vector<int32_t> tokens;
    std::vector<int64_t> shape;
    if (!qrt::readTokenTensor(logitsSpec, tokens, shape, error) ||
        !checkVocab(logitsSpec, tokens, shape, vocab, error))
      return fail(error);
    if (shape.size() != 1 && shape.size() != 2)
      return fail("--logits tensor must be [T] or [S, T]");
    int64_t seqs = shape.size() == 2 ? shape[0] : 1, len = shape.back();
    if (seqs == 0 || len == 0)
      return fail(logitsSpec + ": no tokens (shape " +
                  ::qnum::shapeToString(shape) + ")");
    if (maxPositions > 0 && len > maxPositions)
      return fail(logitsSpec + ": sequences of " + std::to_string(len) +
                  " tokens are longer than the model's "
                  "max_position_embeddings " +
                  std::to_string(maxPositions));
    std::vector<float> all, logits;
    all.reserve(seqs * len * vocab);
    for (int64_t s = 0; s < seqs; ++s) {
      exec->resetCache();
      std::vector<int32_t> seq(tokens.begin() + s * len,
                               tokens.begin() + (s + 1) * len);
      if (!exec->forward(seq, 0, logits, error))
        return fail(error);
      all.insert(all.end(), logits.begin(), logits.end());
    }
    std::vector<int64_t> outShape = shape;
    outShape.push_back(vocab);
    if (!qrt::writeSafetensors(
            output, {qrt::TensorData::fromFloats("logits", outShape, all)}, {},
            error))
      return fail(error);
    llvm::outs() << "logits: " << ::qnum::shapeToString(outShape) << " -> "
                 << output << "\n";
    return 0;
  }

  // --generate
  qopt::ModelAttr info = qopt::getModelAttr(*module);
  std::string tokPath = tokenizerPath;
  if (tokPath.empty()) {
    StringRef recorded = info ? info.getTokenizer() : StringRef();
    if (recorded.empty())
      return fail("the model records no tokenizer; pass --tokenizer");
    llvm::SmallString<256> p(recorded);
    if (llvm::sys::path::is_relative(p)) {
      p = options.baseDir;
      llvm::sys::path::append(p, recorded);
    }
    tokPath = std::string(p);
  }
  std::unique_ptr<qrt::Tokenizer> tok =
      qrt::Tokenizer::fromFile(tokPath, error);
  if (!tok)
    return fail(error);
  int64_t bos = info ? info.getBosTokenId() : -1,
          eos = info ? info.getEosTokenId() : -1;
  std::vector<int32_t> ids;
  if (bos >= 0)
    ids.push_back(static_cast<int32_t>(bos));
  std::vector<int32_t> prompt = tok->encode(generate);
  ids.insert(ids.end(), prompt.begin(), prompt.end());
  if (ids.empty())
    return fail("--generate: the prompt has no tokens and the model records "
                "no bos_token_id");
  if (!checkVocab("--generate: the prompt encoded by " + tokPath, ids,
                  {static_cast<int64_t>(ids.size())}, vocab, error))
    return fail(error);
  // The sequence (prompt and generated tokens) holds at most
  // max_position_embeddings tokens: generation stops there with a warning.
  int64_t limit = maxPositions > 0 ? maxPositions : INT64_MAX;
  if (static_cast<int64_t>(ids.size()) > limit)
    return fail("--generate: the prompt has " + std::to_string(ids.size()) +
                " tokens, more than the model's max_position_embeddings " +
                std::to_string(maxPositions));
  std::vector<int32_t> all = ids;
  std::vector<float> logits;
  if (!exec->forward(ids, 0, logits, error))
    return fail(error);
  for (int64_t step = 0; step < maxNewTokens; ++step) {
    if (static_cast<int64_t>(all.size()) >= limit) {
      llvm::errs() << "qopt-run: warning: stopped after " << step
                   << " of --max-new-tokens " << maxNewTokens
                   << ": the sequence reached the model's "
                      "max_position_embeddings "
                   << maxPositions << "\n";
      break;
    }
    int64_t rows = static_cast<int64_t>(logits.size()) / vocab;
    int32_t next =
        static_cast<int32_t>(argmax(logits.data() + (rows - 1) * vocab, vocab));
    all.push_back(next);
    if (next == eos)
      break;
    if (step + 1 < maxNewTokens && static_cast<int64_t>(all.size()) < limit &&
        !exec->forward({next}, exec->cachedPositions(), logits, error))
      return fail(error);
  }
  llvm::outs() << "tokens:";
  for (int32_t id : all)
    llvm::outs() << " " << id;
  llvm::outs() << "\ntext: "
               << tok->decode(
                      std::vector<int32_t>(all.begin() + (bos >= 0), all.end()))
               << "\n";
  llvm::outs() << llvm::format("time: %.2f s\n", seconds(start));
  return 0;
}
