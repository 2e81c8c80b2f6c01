//===- BundleMain.cpp - qopt-run for bundles: options and setup -----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "BundleRun.h"

#include "qopt-runtime/BundleMain.h"
#include "qopt-runtime/FlagValues.h"
#include "qopt-runtime/QuantMath.h"
#include "qopt-runtime/Safetensors.h"
#include "qopt-runtime/Tokenizer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace qrt;
using namespace qrt::run;

namespace {

/// Most threads --num-threads accepts (as qopt's qopt-run).
constexpr unsigned kMaxThreads = 1024;

const char *const kUsage =
    "usage: qopt-run BUNDLE_DIR [--backend=cpu|cuda] MODE [options]\n"
    "modes (exactly one):\n"
    "  --ppl FILE.safetensors:TENSOR   perplexity (--seq-len N, --max-windows "
    "N,\n"
    "                                  --ppl-decode: one decode step a token)\n"
    "  --generate PROMPT               generation (--max-new-tokens N, "
    "--temperature T,\n"
    "                                  --top-p P, --seed S)\n"
    "  --generate-ids FILE:TENSOR      generation from token ids\n"
    "  --logits FILE:TENSOR -o OUT     logits of sequences [T] or [S, T]\n"
    "  --bench                         prefill / decode tokens per second and "
    "kernel times\n"
    "                                  (--seq-len N, --max-new-tokens N)\n"
    "options: --checkpoint DIR (weights quantized at load), --max-seq-len N,\n"
    "         --num-threads N, --device N, --sync-kernels, "
    "--ptx,\n"
    "         --no-cuda-graphs, --no-small-m-kernels, "
    "--no-programmatic-launch\n";

bool parseOptions(int argc, char **argv, Options &o, bool &help,
                  std::string &error) {
  const char *valued[] = {
      "backend",        "ppl",         "seq-len",  "max-windows",
      "logits",         "o",           "generate", "generate-ids",
      "max-new-tokens", "temperature", "top-p",    "seed",
      "max-seq-len",    "num-threads", "device",   "checkpoint"};
  const char *flags[] = {"bench",
                         "sync-kernels",
                         "ptx",
                         "no-cuda-graphs",
                         "no-small-m-kernels",
                         "no-programmatic-launch",
                         "ppl-decode",
                         "help",
                         "h"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      if (!o.bundleDir.empty()) {
        error = "unexpected argument '" + arg + "' (the bundle is " +
                o.bundleDir + ")";
        return false;
      }
      o.bundleDir = arg;
      continue;
    }
    // -name, --name, --name=value (as LLVM's command lines accept).
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1), value;
    size_t eq = name.find('=');
    bool hasValue = eq != std::string::npos;
    if (hasValue) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    bool isFlag = false, isValued = false;
    for (const char *f : flags)
      isFlag = isFlag || name == f;
    for (const char *v : valued)
      isValued = isValued || name == v;
    std::string flag = "--" + name;
    if (!isFlag && !isValued) {
      error = "unknown option '" + arg + "'";
      return false;
    }
    if (isFlag) {
      if (hasValue) {
        error = flag + " takes no value";
        return false;
      }
      if (name == "bench")
        o.bench = true;
      else if (name == "sync-kernels")
        o.syncKernels = true;
      else if (name == "ptx")
        o.forcePtx = true;
      else if (name == "no-cuda-graphs")
        o.cudaGraphs = false;
      else if (name == "no-small-m-kernels")
        o.smallMKernels = false;
      else if (name == "no-programmatic-launch")
        o.programmaticLaunch = false;
      else if (name == "ppl-decode")
        o.pplDecode = true;
      else
        help = true;
      continue;
    }
    if (!hasValue) {
      if (i + 1 >= argc) {
        error = flag + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    int64_t n = 0;
    if (name == "backend") {
      if (!parseBackendFlag(value, o.backend, error))
        return false;
    } else if (name == "ppl") {
      o.ppl = value;
    } else if (name == "logits") {
      o.logits = value;
    } else if (name == "checkpoint") {
      o.checkpoint = value;
    } else if (name == "o") {
      o.output = value;
    } else if (name == "generate") {
      o.generate = value;
      o.generating = true;
    } else if (name == "generate-ids") {
      o.generateIds = value;
    } else if (name == "temperature") {
      if (!parseDoubleFlag(flag, value, o.temperature, error))
        return false;
    } else if (name == "top-p") {
      if (!parseDoubleFlag(flag, value, o.topP, error))
        return false;
    } else {
      if (!parseIntFlag(flag, value, n, error))
        return false;
      if (name == "seq-len")
        o.seqLen = n;
      else if (name == "max-windows")
        o.maxWindows = n;
      else if (name == "max-new-tokens")
        o.maxNewTokens = n;
      else if (name == "seed")
        o.seed = static_cast<uint64_t>(n);
      else if (name == "max-seq-len")
        o.maxSeqLen = n <= 0 ? -1 : n;
      else if (name == "device")
        o.device = static_cast<int>(n);
      else if (name == "num-threads") {
        if (n < 0 || n > kMaxThreads) {
          error = "--num-threads must be at most " +
                  std::to_string(kMaxThreads) + " (0 uses every core), got " +
                  value;
          return false;
        }
        o.threads = static_cast<unsigned>(n);
      }
    }
  }
  return true;
}

/// The checks of the options alone.
bool checkOptions(const Options &o, std::string &error) {
  if (o.bundleDir.empty()) {
    error = "no bundle directory given";
    return false;
  }
  int modes = !o.ppl.empty() + !o.logits.empty() + o.generating +
              !o.generateIds.empty() + o.bench;
  if (modes != 1)
    error = "give exactly one of --ppl, --logits, --generate, --generate-ids "
            "and --bench";
  else if (!o.logits.empty() && o.output.empty())
    error = "--logits needs -o OUT.safetensors";
  else if (o.pplDecode && o.ppl.empty())
    error = "--ppl-decode is an option of --ppl";
  else if (o.seqLen <= 0)
    error = "--seq-len must be positive";
  else if (o.maxWindows < 0)
    error = "--max-windows must be non-negative (0 scores every window), got " +
            std::to_string(o.maxWindows);
  else if (o.maxNewTokens < 0)
    error = "--max-new-tokens must be non-negative";
  else if (o.maxSeqLen < 0)
    error = "--max-seq-len must be positive";
  else if (!(o.temperature >= 0))
    error = "--temperature must be non-negative (0 is greedy)";
  else if (!(o.topP > 0 && o.topP <= 1))
    error = "--top-p must be in (0, 1]";
  else if (o.device < 0)
    error = "--device must be non-negative";
  return error.empty();
}

/// Reads token ids given as FILE:TENSOR, checked against the vocabulary.
bool readIds(const std::string &spec, int64_t vocab, std::vector<int32_t> &ids,
             std::vector<int64_t> &shape, std::string &error) {
  return readTokenTensor(spec, ids, shape, error) &&
         checkVocab(spec, ids, shape, vocab, error);
}

} // namespace

int qrt::runBundleMain(int argc, char **argv) {
  Options o;
  bool help = false;
  std::string error;
  if (!parseOptions(argc, argv, o, help, error)) {
    std::fprintf(stderr, "qopt-run: error: %s\n%s", error.c_str(), kUsage);
    return 1;
  }
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!checkOptions(o, error))
    return fail(error);
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Bundle> bundle =
      Bundle::load(o.bundleDir, error, o.checkpoint);
  if (!bundle)
    return fail(error);
  if (bundle->atLoadWeights() > 0)
    std::fprintf(stderr, "weights: %d buffers from %s at load (%.1f s)\n",
                 bundle->atLoadWeights(), bundle->checkpointPath().c_str(),
                 bundle->atLoadSeconds());
  else if (!o.checkpoint.empty())
    return fail("--checkpoint: " + bundle->directory() +
                " holds its weights (it reads nothing at load)");
  if (!bundle->hasWeights())
    return fail(bundle->directory() +
                " is a kernels-only bundle (no weights): qopt-kernel-check "
                "runs its kernels on random inputs; qopt-run needs a bundle "
                "with weights");
  const bundle::Manifest &m = bundle->manifest();
  int64_t vocab = m.model.vocabSize;

  // The mode's tokens, and the KV cache rows the run needs (`need`) and
  // cannot do without (`least`: a generation may stop early).
  std::vector<int32_t> tokens;
  std::vector<int64_t> shape;
  std::unique_ptr<Tokenizer> tokenizer;
  int64_t need = 0, least = 0;
  std::string what;
  if (!o.ppl.empty()) {
    if (!readIds(o.ppl, vocab, tokens, shape, error))
      return fail(error);
    need = least = o.seqLen;
    what = "--seq-len " + std::to_string(o.seqLen) + " is longer than";
  } else if (!o.logits.empty()) {
    if (!readIds(o.logits, vocab, tokens, shape, error))
      return fail(error);
    if (shape.size() != 1 && shape.size() != 2)
      return fail("--logits tensor must be [T] or [S, T]");
    if (tokens.empty())
      return fail(o.logits + ": no tokens (shape " +
                  qnum::shapeToString(shape) + ")");
    need = least = shape.back();
    what = o.logits + ": sequences of " + std::to_string(need) +
           " tokens are longer than";
  } else if (o.generating || !o.generateIds.empty()) {
    if (o.generating) {
      if (m.tokenizer.empty())
        return fail(bundle->directory() +
                    " has no tokenizer: give the prompt as token ids with "
                    "--generate-ids");
      std::string path = bundle->path(m.tokenizer);
      tokenizer = Tokenizer::fromFile(path, error);
      if (!tokenizer)
        return fail(error);
      if (m.model.bosTokenId >= 0)
        tokens.push_back(static_cast<int32_t>(m.model.bosTokenId));
      std::vector<int32_t> prompt = tokenizer->encode(o.generate);
      tokens.insert(tokens.end(), prompt.begin(), prompt.end());
      if (tokens.empty())
        return fail("--generate: the prompt has no tokens and the model "
                    "records no bos_token_id");
      if (!checkVocab("--generate: the prompt encoded by " + path, tokens,
                      {static_cast<int64_t>(tokens.size())}, vocab, error))
        return fail(error);
    } else {
      if (!readIds(o.generateIds, vocab, tokens, shape, error))
        return fail(error);
      if (!(shape.size() == 1 || (shape.size() == 2 && shape[0] == 1)))
        return fail(o.generateIds + ": token ids must be [T] or [1, T], not " +
                    qnum::shapeToString(shape));
      if (tokens.empty())
        return fail(o.generateIds + ": no tokens");
    }
    least = static_cast<int64_t>(tokens.size());
    need = least + o.maxNewTokens;
    what = "--generate: the prompt has " + std::to_string(least) +
           " tokens, more than";
  } else {
    need = least = o.seqLen + o.maxNewTokens;
    what = "--bench: --seq-len " + std::to_string(o.seqLen) +
           " plus --max-new-tokens " + std::to_string(o.maxNewTokens) +
           " is more than";
  }

  // The KV cache: --max-seq-len rows, else what the run needs, within what
  // the bundle allows.
  int64_t limit = m.maxSeqLimit();
  if (o.maxSeqLen > limit)
    return fail("--max-seq-len " + std::to_string(o.maxSeqLen) +
                " is more than the bundle allows: " + std::to_string(limit) +
                (limit == m.model.maxPositionEmbeddings
                     ? " (the model's max_position_embeddings)"
                     : " (the KV cache rows its kernels take)"));
  int64_t rows = o.maxSeqLen ? o.maxSeqLen : std::min(need, limit);
  if (least > m.model.maxPositionEmbeddings)
    return fail(what + " the model's max_position_embeddings " +
                std::to_string(m.model.maxPositionEmbeddings));
  if (least > limit)
    return fail(what + " the " + std::to_string(limit) +
                " KV cache rows the bundle's kernels take");
  if (least > rows)
    return fail(what + " the KV cache of " + std::to_string(rows) +
                " rows (--max-seq-len)");

  std::unique_ptr<Backend> backend;
  if (o.backend == "cuda") {
    CudaBackendOptions co;
    co.device = o.device;
    co.syncEachKernel = o.syncKernels;
    co.forcePtx = o.forcePtx;
    co.graphs = o.cudaGraphs;
    co.smallMKernels = o.smallMKernels;
    co.programmaticLaunch = o.programmaticLaunch;
    backend = std::make_unique<CudaBackend>(co);
  } else {
    backend = std::make_unique<CpuBackend>(o.threads);
  }
  if (!backend->load(*bundle, rows, error))
    return fail(error);
  if (auto *cuda = dynamic_cast<CudaBackend *>(backend.get())) {
    std::fprintf(
        stderr, "qopt-run: cuda: %s, kernels from %s%s\n",
        cuda->deviceDescription().c_str(), cuda->moduleSource().c_str(),
        cuda->programmaticLaunches() ? ", decode launched programmatically"
                                     : "");
    if (!cuda->cubinSkipped().empty())
      std::fprintf(stderr, "qopt-run: warning: the cubin was not loaded: %s\n",
                   cuda->cubinSkipped().c_str());
  }

  Run run{o, *bundle, *backend, start};
  if (!o.ppl.empty())
    return runPpl(run, tokens);
  if (!o.logits.empty())
    return runLogits(run, tokens, shape);
  if (o.bench)
    return runBench(run);
  return runGenerate(run, tokens, tokenizer.get());
}
