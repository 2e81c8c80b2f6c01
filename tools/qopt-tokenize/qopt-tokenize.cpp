//===- qopt-tokenize.cpp - Tokenize text with a tokenizer.json ------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Encodes a text file with a Hugging Face tokenizer.json and writes the ids
// as one 1-D I32 tensor named `tokens` to a safetensors file:
//
//   qopt-tokenize --tokenizer tokenizer.json --input TEXT [--bos-per-paragraph]
//                 [--bos-id N] [--max-tokens N] -o OUT.safetensors
//
// or decodes ids back to text:
//
//   qopt-tokenize --tokenizer tokenizer.json --decode IDS.safetensors:TENSOR
//
// Every error prints one line `qopt-tokenize: error: ...` to stderr and
// exits 1; the output file is written atomically, so it is never left
// partial. Pure C++ (no LLVM).
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Safetensors.h"
#include "qopt-runtime/Tokenizer.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

const char kUsage[] =
    "usage: qopt-tokenize --tokenizer TOKENIZER.json --input TEXT_FILE\n"
    "                     [--bos-per-paragraph] [--bos-id N] [--max-tokens N]\n"
    "                     -o OUT.safetensors\n"
    "       qopt-tokenize --tokenizer TOKENIZER.json --decode "
    "IDS.safetensors:TENSOR\n"
    "\n"
    "Encodes TEXT_FILE with a Hugging Face tokenizer.json (no BOS/EOS added)\n"
    "and writes the ids as the 1-D I32 tensor `tokens` of OUT.safetensors.\n"
    "\n"
    "  --tokenizer PATH       the tokenizer.json to use\n"
    "  --input PATH           the text to encode (UTF-8)\n"
    "  -o, --output PATH      the safetensors file to write\n"
    "  --bos-per-paragraph    split the text on blank lines, strip each\n"
    "                         paragraph, drop empty ones, and encode each\n"
    "                         after a BOS token\n"
    "  --bos-id N             the BOS id (default: the tokenizer's, from its\n"
    "                         post_processor or its <s> token)\n"
    "  --max-tokens N         keep only the first N ids\n"
    "  --decode FILE:TENSOR   print the text of the ids in an I32/I64 tensor\n"
    "                         (special tokens dropped) instead of encoding\n"
    "  -h, --help             print this help\n"
    "\n"
    "Prints a summary: `tokens: N`, `paragraphs: P` (with\n"
    "--bos-per-paragraph) and `head: ...` (the first ids).\n";

/// Prints `qopt-tokenize: error: MESSAGE` on one line and returns 1.
int error(std::string message) {
  for (char &c : message)
    if (c == '\n' || c == '\r')
      c = ' ';
  std::fprintf(stderr, "qopt-tokenize: error: %s\n", message.c_str());
  return 1;
}

bool readFile(const std::string &path, std::string &out, std::string &err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = "cannot open input '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    err = "cannot read input '" + path + "'";
    return false;
  }
  out = ss.str();
  return true;
}

/// Parses a non-negative decimal integer below 2^31.
bool parseInt(const std::string &s, int64_t &out) {
  if (s.empty() || s.size() > 10)
    return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (c - '0');
  }
  if (v > INT32_MAX)
    return false;
  out = v;
  return true;
}

struct Options {
  std::string tokenizer, input, output, decode;
  bool bosPerParagraph = false;
  bool haveBosId = false;
  int64_t bosId = -1;
  bool haveMaxTokens = false;
  int64_t maxTokens = 0;
};

/// Parses argv; on failure sets `err`. Sets `help` for -h/--help.
bool parseArgs(int argc, char **argv, Options &opts, bool &help,
               std::string &err) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool hasInlineValue = false;
    if (arg.compare(0, 2, "--") == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        hasInlineValue = true;
      }
    }
    auto takeValue = [&](std::string &dst) {
      if (hasInlineValue) {
        dst = value;
        return true;
      }
      if (i + 1 >= argc) {
        err = "option '" + arg + "' needs a value";
        return false;
      }
      dst = argv[++i];
      return true;
    };
    auto noValue = [&]() {
      if (hasInlineValue) {
        err = "option '" + arg + "' takes no value";
        return false;
      }
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      help = true;
    } else if (arg == "--tokenizer") {
      if (!takeValue(opts.tokenizer))
        return false;
    } else if (arg == "--input") {
      if (!takeValue(opts.input))
        return false;
    } else if (arg == "-o" || arg == "--output") {
      if (!takeValue(opts.output))
        return false;
    } else if (arg == "--decode") {
      if (!takeValue(opts.decode))
        return false;
    } else if (arg == "--bos-per-paragraph") {
      if (!noValue())
        return false;
      opts.bosPerParagraph = true;
    } else if (arg == "--bos-id") {
      std::string v;
      if (!takeValue(v))
        return false;
      if (!parseInt(v, opts.bosId)) {
        err = "invalid --bos-id '" + v + "' (expected a non-negative integer)";
        return false;
      }
      opts.haveBosId = true;
    } else if (arg == "--max-tokens") {
      std::string v;
      if (!takeValue(v))
        return false;
      if (!parseInt(v, opts.maxTokens)) {
        err = "invalid --max-tokens '" + v +
              "' (expected a non-negative integer)";
        return false;
      }
      opts.haveMaxTokens = true;
    } else if (!arg.empty() && arg[0] == '-') {
      err = "unknown option '" + arg + "' (see --help)";
      return false;
    } else {
      err = "unexpected argument '" + arg + "' (see --help)";
      return false;
    }
  }
  return true;
}

int runDecode(const Options &opts, const qrt::Tokenizer &tok) {
  size_t colon = opts.decode.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      colon + 1 == opts.decode.size())
    return error("--decode expects FILE:TENSOR, got '" + opts.decode + "'");
  std::string file = opts.decode.substr(0, colon);
  std::string name = opts.decode.substr(colon + 1);
  std::string err;
  std::unique_ptr<qrt::SafetensorsFile> st =
      qrt::SafetensorsFile::open(file, err);
  if (!st)
    return error(err);
  const qrt::TensorView *view = st->find(name);
  if (!view)
    return error(file + ": no tensor named '" + name + "'");
  if (view->dtype != qrt::DType::I32 && view->dtype != qrt::DType::I64)
    return error(file + ": tensor '" + name + "' has dtype " +
                 qrt::dtypeName(view->dtype) + ", expected I32 or I64");
  size_t n = static_cast<size_t>(view->numElements());
  std::vector<int32_t> ids(n);
  for (size_t i = 0; i < n; ++i) {
    if (view->dtype == qrt::DType::I32) {
      std::memcpy(&ids[i], view->data + 4 * i, 4);
    } else {
      int64_t v;
      std::memcpy(&v, view->data + 8 * i, 8);
      ids[i] = v < INT32_MIN || v > INT32_MAX ? -1 : static_cast<int32_t>(v);
    }
  }
  std::string text = tok.decode(ids);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  return std::fflush(stdout) == 0 ? 0 : error("cannot write to stdout");
}

int run(int argc, char **argv) {
  Options opts;
  bool help = false;
  std::string err;
  if (!parseArgs(argc, argv, opts, help, err))
    return error(err);
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (opts.tokenizer.empty())
    return error("--tokenizer is required (see --help)");
  if (!opts.decode.empty()) {
    if (!opts.input.empty() || !opts.output.empty() || opts.bosPerParagraph ||
        opts.haveBosId || opts.haveMaxTokens)
      return error("--decode cannot be combined with encoding options");
  } else {
    if (opts.input.empty())
      return error("--input is required (see --help)");
    if (opts.output.empty())
      return error("-o is required (see --help)");
    if (opts.haveBosId && !opts.bosPerParagraph)
      return error("--bos-id needs --bos-per-paragraph");
  }

  std::unique_ptr<qrt::Tokenizer> tok =
      qrt::Tokenizer::fromFile(opts.tokenizer, err);
  if (!tok)
    return error(err);
  if (!opts.decode.empty())
    return runDecode(opts, *tok);

  std::string text;
  if (!readFile(opts.input, text, err))
    return error(err);

  std::vector<int32_t> ids;
  size_t paragraphs = 0;
  if (opts.bosPerParagraph) {
    int32_t bos =
        opts.haveBosId ? static_cast<int32_t>(opts.bosId) : tok->bosId();
    if (bos < 0)
      return error(opts.tokenizer +
                   ": the tokenizer defines no BOS token; pass --bos-id N");
    ids = qrt::encodeParagraphsWithBos(*tok, text, bos, &paragraphs);
  } else {
    ids = tok->encode(text);
  }
  if (opts.haveMaxTokens && ids.size() > static_cast<size_t>(opts.maxTokens))
    ids.resize(static_cast<size_t>(opts.maxTokens));

  std::vector<qrt::TensorData> tensors;
  tensors.push_back(qrt::TensorData::fromInt32(
      "tokens", {static_cast<int64_t>(ids.size())}, ids));
  if (!qrt::writeSafetensors(opts.output, tensors, {}, err))
    return error(err);

  std::printf("tokens: %zu\n", ids.size());
  if (opts.bosPerParagraph)
    std::printf("paragraphs: %zu\n", paragraphs);
  std::printf("head:");
  for (size_t i = 0; i < ids.size() && i < 8; ++i)
    std::printf(" %d", ids[i]);
  std::printf("\n");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    return error(e.what());
  } catch (...) {
    return error("unexpected failure");
  }
}
