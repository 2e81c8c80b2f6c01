//===- SafetensorsWriter.cpp - Atomic safetensors writing -----------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every file is written under a temporary name in its final directory and
// renamed into place only when complete, so a failed or killed writer leaves
// what was there before.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

using namespace qrt;
using json = nlohmann::json;

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

void ContentHash::update(const void *bytes, size_t size) {
  const auto *p = static_cast<const uint8_t *>(bytes);
  uint64_t h = state;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  state = h;
}

std::string ContentHash::hex() const {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx",
                static_cast<unsigned long long>(state));
  return text;
}

namespace {
/// A file created exclusively under a temporary name in the directory of its
/// final name (so the final rename is atomic), hashing what is written. It is
/// removed unless committed.
class TempOutput {
public:
  ~TempOutput() {
    if (fd >= 0)
      ::close(fd);
    if (!path.empty())
      ::unlink(path.c_str());
  }

  /// Creates `directory/.stem.tmp.PID.N` for the first free N. The mode is
  /// 0666 less the umask, as for any other new file.
  bool create(const std::string &directory, const std::string &stem,
              const std::string &what, std::string &error) {
    std::string base = (directory.empty() ? std::string(".") : directory) +
                       "/." + stem + ".tmp." + std::to_string(getpid()) + ".";
    for (int n = 0; n < 1000; ++n) {
      std::string candidate = base + std::to_string(n);
      fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  0666);
      if (fd >= 0) {
        path = candidate;
        return true;
      }
      if (errno != EEXIST)
        break;
    }
    error = what + ": cannot create a temporary file in " +
            (directory.empty() ? std::string(".") : directory) + ": " +
            std::strerror(errno);
    return false;
  }

  bool write(const void *bytes, size_t size) {
    hash.update(bytes, size);
    const auto *p = static_cast<const uint8_t *>(bytes);
    while (size > 0 && ok) {
      ssize_t n = ::write(fd, p, std::min<size_t>(size, size_t(1) << 30));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        ok = false;
        savedErrno = n < 0 ? errno : ENOSPC;
        break;
      }
      p += n;
      size -= static_cast<size_t>(n);
    }
    return ok;
  }

  /// Flushes the data to the disk and closes the file.
  bool close(const std::string &what, std::string &error) {
    if (ok && ::fsync(fd) != 0 && errno != EINVAL) {
      ok = false;
      savedErrno = errno;
    }
    if (::close(fd) != 0 && ok) {
      ok = false;
      savedErrno = errno;
    }
    fd = -1;
    if (!ok)
      error = what + ": write failed: " + std::strerror(savedErrno);
    return ok;
  }

  /// Renames the file to `target`, replacing what is there.
  bool commit(const std::string &target, std::string &error) {
    if (std::rename(path.c_str(), target.c_str()) != 0) {
      error = target + ": cannot rename " + path +
              " into place: " + std::strerror(errno);
      return false;
    }
    path.clear();
    return true;
  }

  /// Names the file `prefix-HASH16suffix` in `directory` unless a file of
  /// that name (the same content) exists already, which is then kept.
  bool commitByContent(const std::string &directory, const std::string &prefix,
                       const std::string &suffix, ContentNamedFile &out,
                       std::string &error) {
    out.fileName = prefix + "-" + hash.hex() + suffix;
    std::string target =
        (directory.empty() ? std::string(".") : directory) + "/" + out.fileName;
    struct stat existing, written;
    if (::stat(target.c_str(), &existing) == 0) {
      if (::stat(path.c_str(), &written) == 0 &&
          existing.st_size != written.st_size) {
        error = target + ": exists with other content of the same hash";
        return false;
      }
      out.created = false;
      return true; // the destructor removes the temporary
    }
    if (!commit(target, error))
      return false;
    out.created = true;
    return true;
  }

  ContentHash hash;

private:
  std::string path;
  int fd = -1;
  bool ok = true;
  int savedErrno = 0;
};

std::string directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string fileNameOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string indexText(const std::map<std::string, std::string> &weightMap,
                      uint64_t totalSize) {
  json index = {{"metadata", {{"total_size", totalSize}}},
                {"weight_map", weightMap}};
  return index.dump(2) + "\n";
}

/// Writes the safetensors serialization of `tensors` into `out`.
bool emitSafetensors(TempOutput &out, const std::string &what,
                     const std::vector<TensorData> &tensors,
                     const std::map<std::string, std::string> &metadata,
                     std::string &error) {
  json header = json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorData &t : tensors) {
    uint64_t elements = 1;
    for (int64_t d : t.shape)
      elements *= static_cast<uint64_t>(d);
    if (elements * dtypeSize(t.dtype) != t.data.size()) {
      error = what + ": tensor '" + t.name + "' has " +
              std::to_string(t.data.size()) + " bytes for its shape";
      return false;
    }
    if (header.contains(t.name)) {
      error = what + ": duplicate tensor name '" + t.name + "'";
      return false;
    }
    header[t.name] = {{"dtype", dtypeName(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string text = header.dump();
  // Pad the header with spaces so the data section is 8-byte aligned.
  while ((8 + text.size()) % 8 != 0)
    text.push_back(' ');
  uint8_t len[8];
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    len[i] = static_cast<uint8_t>(n >> (8 * i));
  bool ok = out.write(len, 8) && out.write(text.data(), text.size());
  for (const TensorData &t : tensors)
    ok = ok && out.write(t.data.data(), t.data.size());
  return out.close(what, error);
}
} // namespace

bool qrt::writeSafetensorsIndex(
    const std::string &path,
    const std::map<std::string, std::string> &weightMap, uint64_t totalSize,
    std::string &error) {
  std::string text = indexText(weightMap, totalSize);
  TempOutput out;
  if (!out.create(directoryOf(path), fileNameOf(path), path, error))
    return false;
  out.write(text.data(), text.size());
  return out.close(path, error) && out.commit(path, error);
}

bool qrt::writeSafetensors(const std::string &path,
                           const std::vector<TensorData> &tensors,
                           const std::map<std::string, std::string> &metadata,
                           std::string &error) {
  TempOutput out;
  return out.create(directoryOf(path), fileNameOf(path), path, error) &&
         emitSafetensors(out, path, tensors, metadata, error) &&
         out.commit(path, error);
}

bool qrt::writeSafetensorsByContent(
    const std::string &directory, const std::string &prefix,
    const std::vector<TensorData> &tensors,
    const std::map<std::string, std::string> &metadata, ContentNamedFile &file,
    std::string &error) {
  TempOutput out;
  std::string what = directory + "/" + prefix + "-*.safetensors";
  return out.create(directory, prefix, what, error) &&
         emitSafetensors(out, what, tensors, metadata, error) &&
         out.commitByContent(directory, prefix, ".safetensors", file, error);
}

bool qrt::writeSafetensorsIndexByContent(
    const std::string &directory, const std::string &prefix,
    const std::map<std::string, std::string> &weightMap, uint64_t totalSize,
    ContentNamedFile &file, std::string &error) {
  std::string text = indexText(weightMap, totalSize);
  TempOutput out;
  std::string what = directory + "/" + prefix + "-*.safetensors.index.json";
  if (!out.create(directory, prefix, what, error))
    return false;
  out.write(text.data(), text.size());
  return out.close(what, error) &&
         out.commitByContent(directory, prefix, ".safetensors.index.json", file,
                             error);
}
