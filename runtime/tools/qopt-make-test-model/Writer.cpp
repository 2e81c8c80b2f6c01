//===- Writer.cpp - Writing test-model checkpoints to disk ----------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestModelInternal.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sys/statvfs.h>
#include <thread>
#include <utility>

using namespace qrt;
using namespace qtest;
using namespace qtest::detail;
using json = nlohmann::json;
namespace fs = std::filesystem;

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

namespace {
struct Shard {
  std::string file;
  std::vector<const TestTensor *> tensors;
  uint64_t bytes = 0;
};

/// Removes a directory tree on scope exit unless released.
class TempDir {
public:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  void release() { path_.clear(); }

private:
  std::string path_;
};
} // namespace

static std::string formatBytes(double bytes) {
  char buf[32];
  if (bytes >= 1e9)
    std::snprintf(buf, sizeof(buf), "%.2f GB", bytes / 1e9);
  else if (bytes >= 1e6)
    std::snprintf(buf, sizeof(buf), "%.1f MB", bytes / 1e6);
  else
    std::snprintf(buf, sizeof(buf), "%.1f kB", bytes / 1e3);
  return buf;
}

static bool writeTextFile(const std::string &path, const std::string &text,
                          std::string &error) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok)
    error = "cannot write " + path + ": " + std::strerror(errno);
  return ok;
}

/// Splits the tensors into shards the way huggingface_hub does: in order,
/// starting a new shard when the next tensor would overflow the current one.
static std::vector<Shard> planShards(const std::vector<TestTensor> &tensors,
                                     DType dtype, uint64_t limit) {
  std::vector<Shard> shards(1);
  for (const TestTensor &t : tensors) {
    uint64_t bytes = t.numElements() * dtypeSize(dtype);
    if (!shards.back().tensors.empty() && shards.back().bytes + bytes > limit)
      shards.emplace_back();
    shards.back().tensors.push_back(&t);
    shards.back().bytes += bytes;
  }
  if (shards.size() == 1) {
    shards[0].file = "model.safetensors";
  } else {
    for (size_t i = 0; i < shards.size(); ++i) {
      char name[64];
      std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors",
                    i + 1, shards.size());
      shards[i].file = name;
    }
  }
  return shards;
}

/// Streams one safetensors file: header first, then every tensor generated
/// a batch of chunks at a time on `threads` threads.
static bool writeShard(const std::string &path, const Shard &shard,
                       const TestModelSpec &spec, unsigned threads,
                       std::string &error) {
  size_t elemSize = dtypeSize(spec.dtype);
  json header = json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const TestTensor *t : shard.tensors) {
    uint64_t bytes = t->numElements() * elemSize;
    header[t->name] = {{"dtype", dtypeName(spec.dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0)
    text.push_back(' ');

  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  uint8_t len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = static_cast<uint8_t>(uint64_t(text.size()) >> (8 * i));
  bool ok = std::fwrite(len, 1, 8, f) == 8 &&
            std::fwrite(text.data(), 1, text.size(), f) == text.size();

  size_t batchChunks = std::max<size_t>(threads, 8);
  std::vector<uint8_t> bytes(batchChunks * kChunkElements * elemSize);
  std::vector<std::vector<float>> scratch(threads,
                                          std::vector<float>(kChunkElements));
  for (const TestTensor *t : shard.tensors) {
    uint64_t n = t->numElements();
    uint64_t numChunks = (n + kChunkElements - 1) / kChunkElements;
    for (uint64_t first = 0; ok && first < numChunks; first += batchChunks) {
      uint64_t last = std::min<uint64_t>(numChunks, first + batchChunks);
      auto work = [&](unsigned worker) {
        float *vals = scratch[worker].data();
        for (uint64_t c = first + worker; c < last; c += threads) {
          uint64_t begin = c * kChunkElements;
          uint64_t end = std::min(n, begin + kChunkElements);
          generateChunk(spec.seed, *t, c, begin, end, vals);
          storeAs(spec.dtype, vals, end - begin,
                  bytes.data() + (c - first) * kChunkElements * elemSize);
        }
      };
      unsigned used =
          static_cast<unsigned>(std::min<uint64_t>(threads, last - first));
      if (used <= 1) {
        work(0);
      } else {
        std::vector<std::thread> pool;
        for (unsigned w = 0; w < used; ++w)
          pool.emplace_back(work, w);
        for (std::thread &th : pool)
          th.join();
      }
      uint64_t batchBytes =
          (std::min(n, last * kChunkElements) - first * kChunkElements) *
          elemSize;
      ok = std::fwrite(bytes.data(), 1, batchBytes, f) == batchBytes;
    }
  }
  ok = std::fflush(f) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

static bool writeTestModelImpl(const TestModelSpec &spec,
                               const std::string &dirIn,
                               const TestModelWriteOptions &options,
                               std::string &error) {
  auto progress = [&](const std::string &line) {
    if (options.progress)
      options.progress(line);
  };
  if (!validateTestModelSpec(spec, error))
    return false;
  TestTokenizer tokenizer;
  if (!makeTestTokenizer(spec, tokenizer, error))
    return false;

  // The output directory: refuse to clobber unless asked.
  if (dirIn.empty()) {
    error = "no output directory given";
    return false;
  }
  fs::path dir = fs::path(dirIn).lexically_normal();
  if (dir.filename().empty())
    dir = dir.parent_path();
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  bool exists = fs::exists(st);
  if (exists && !fs::is_directory(st)) {
    error = dirIn + " exists and is not a directory";
    return false;
  }
  if (exists && !fs::is_empty(dir, ec) && !options.force) {
    error = dirIn + " exists and is not empty (pass --force to replace it)";
    return false;
  }
  fs::path parent = dir.parent_path();
  if (parent.empty())
    parent = ".";
  fs::create_directories(parent, ec);
  if (ec) {
    error = "cannot create directory " + parent.string() + ": " + ec.message();
    return false;
  }
  std::string tmpl = dir.string() + ".tmp-XXXXXX";
  std::vector<char> tmpBuf(tmpl.begin(), tmpl.end());
  tmpBuf.push_back('\0');
  if (!::mkdtemp(tmpBuf.data())) {
    error = "cannot create a temporary directory next to " + dirIn + ": " +
            std::strerror(errno);
    return false;
  }
  std::string tmp = tmpBuf.data();
  TempDir cleanup(tmp);
  // mkdtemp creates the directory 0700; a checkpoint is an ordinary one.
  fs::permissions(tmp, fs::perms(0755), ec);

  std::vector<TestTensor> tensors = testModelTensors(spec);
  std::vector<Shard> shards =
      planShards(tensors, spec.dtype, spec.shardSizeBytes);
  uint64_t totalBytes = 0, totalParams = 0;
  for (const TestTensor &t : tensors) {
    totalParams += t.numElements();
    totalBytes += t.numElements() * dtypeSize(spec.dtype);
  }
  struct statvfs vfs;
  if (::statvfs(tmp.c_str(), &vfs) == 0) {
    double avail = static_cast<double>(vfs.f_bavail) * vfs.f_frsize;
    if (avail < static_cast<double>(totalBytes) + 16e6) {
      error = "not enough disk space for " + dirIn + ": the weights need " +
              formatBytes(static_cast<double>(totalBytes)) + ", " +
              formatBytes(avail) + " are available";
      return false;
    }
  }

  unsigned threads = options.threads;
  if (threads == 0)
    threads = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  threads = std::min(threads, 64u); // each holds a 4 MB chunk buffer
  char line[512];
  char params[32];
  if (totalParams >= 1000000000)
    std::snprintf(params, sizeof(params), "%.2fB", totalParams / 1e9);
  else if (totalParams >= 1000000)
    std::snprintf(params, sizeof(params), "%.2fM", totalParams / 1e6);
  else
    std::snprintf(params, sizeof(params), "%llu",
                  static_cast<unsigned long long>(totalParams));
  std::snprintf(line, sizeof(line),
                "%s: %s, %s parameters, %s of %s weights in %zu file%s, "
                "%u thread%s",
                dirIn.c_str(), spec.modelType.c_str(), params,
                formatBytes(static_cast<double>(totalBytes)).c_str(),
                dtypeName(spec.dtype), shards.size(),
                shards.size() == 1 ? "" : "s", threads,
                threads == 1 ? "" : "s");
  progress(line);

  auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  uint64_t done = 0;
  for (const Shard &shard : shards) {
    if (!writeShard(tmp + "/" + shard.file, shard, spec, threads, error))
      return false;
    done += shard.bytes;
    if (shards.size() > 1 || totalBytes > 100e6) {
      std::snprintf(
          line, sizeof(line), "  wrote %s (%zu tensors, %s) [%.0f%%, %.1f s]",
          shard.file.c_str(), shard.tensors.size(),
          formatBytes(static_cast<double>(shard.bytes)).c_str(),
          100.0 * done / std::max<uint64_t>(totalBytes, 1), seconds());
      progress(line);
    }
  }
  if (shards.size() > 1) {
    json index;
    index["metadata"] = {{"total_size", totalBytes}};
    json weightMap = json::object();
    for (const Shard &shard : shards)
      for (const TestTensor *t : shard.tensors)
        weightMap[t->name] = shard.file;
    index["weight_map"] = std::move(weightMap);
    if (!writeTextFile(tmp + "/model.safetensors.index.json",
                       index.dump(2) + "\n", error))
      return false;
  }
  if (!writeTextFile(tmp + "/tokenizer.json", tokenizer.tokenizerJson, error) ||
      !writeTextFile(tmp + "/tokenizer_config.json",
                     tokenizer.tokenizerConfigJson, error) ||
      !writeTextFile(tmp + "/config.json", testModelConfigJson(spec, tokenizer),
                     error))
    return false;

  // Move the finished checkpoint into place. A directory may be renamed
  // over an empty one; a non-empty one (with force) is first moved aside.
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    int err = errno;
    if (!(options.force && (err == ENOTEMPTY || err == EEXIST))) {
      error =
          "cannot rename " + tmp + " to " + dirIn + ": " + std::strerror(err);
      return false;
    }
    std::string oldTmpl = dir.string() + ".old-XXXXXX";
    std::vector<char> oldBuf(oldTmpl.begin(), oldTmpl.end());
    oldBuf.push_back('\0');
    if (!::mkdtemp(oldBuf.data()) ||
        ::rename(dir.c_str(), oldBuf.data()) != 0) {
      error =
          "cannot move the old " + dirIn + " aside: " + std::strerror(errno);
      return false;
    }
    TempDir oldCleanup(oldBuf.data());
    if (::rename(tmp.c_str(), dir.c_str()) != 0) {
      error =
          "cannot rename " + tmp + " to " + dirIn + ": " + std::strerror(errno);
      ::rename(oldBuf.data(), dir.c_str()); // put the old one back
      oldCleanup.release();
      return false;
    }
  }
  cleanup.release();
  std::snprintf(line, sizeof(line),
                "%s: done in %.1f s (tokenizer: %lld ids, %lld merges)",
                dirIn.c_str(), seconds(),
                static_cast<long long>(tokenizer.size),
                static_cast<long long>(tokenizer.numMerges));
  progress(line);
  return true;
}

bool qtest::writeTestModel(const TestModelSpec &spec, const std::string &dir,
                           const TestModelWriteOptions &options,
                           std::string &error) {
  try {
    return writeTestModelImpl(spec, dir, options, error);
  } catch (const std::exception &e) {
    error = std::string("cannot write ") + dir + ": " + e.what();
    return false;
  }
}
