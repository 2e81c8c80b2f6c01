//===- Bundle.cpp - Loading a bundle directory ----------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Bundle.h"
#include "qopt-runtime/Kernels.h"
#include "qopt-runtime/QuantMath.h"
#include "qopt-runtime/Safetensors.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

using namespace qrt;
using namespace qrt::bundle;

namespace {

/// The safetensors dtype and shape a weight buffer is stored as.
void storedAs(const Buffer &b, DType &dtype, std::vector<int64_t> &shape) {
  shape = b.shape;
  switch (b.type) {
  case ElemType::F32:
    dtype = DType::F32;
    break;
  case ElemType::BF16:
    dtype = DType::BF16;
    break;
  case ElemType::F16:
    dtype = DType::F16;
    break;
  case ElemType::I8:
    dtype = DType::I8;
    break;
  case ElemType::F8E4M3:
    dtype = DType::F8_E4M3;
    break;
  case ElemType::I32:
    dtype = DType::I32;
    break;
  case ElemType::I4x2:
    dtype = DType::U8;
    if (shape.empty())
      shape = {1};
    else
      shape.back() = (shape.back() + 1) / 2;
    break;
  }
}

bool readFile(const std::string &path, std::string &text, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    error = path + ": cannot read";
    return false;
  }
  text = ss.str();
  return true;
}

bool isRegularFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

} // namespace

Bundle::~Bundle() = default;

std::string Bundle::path(const std::string &file) const {
  return file.empty() ? std::string() : directory_ + "/" + file;
}

const TensorView *Bundle::weight(int buffer) const {
  return buffer >= 0 && buffer < static_cast<int>(weightViews_.size())
             ? weightViews_[buffer]
             : nullptr;
}

bool Bundle::isBundleDirectory(const std::string &directory) {
  struct stat st;
  return ::stat(directory.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
         isRegularFile(directory + "/manifest.json");
}

std::unique_ptr<Bundle> Bundle::load(const std::string &directory,
                                     std::string &error,
                                     const std::string &checkpoint) {
  std::unique_ptr<Bundle> b(new Bundle());
  try {
    b->directory_ = directory;
    while (b->directory_.size() > 1 && b->directory_.back() == '/')
      b->directory_.pop_back();
    struct stat st;
    if (::stat(b->directory_.c_str(), &st) != 0) {
      error = b->directory_ + ": " + std::strerror(errno);
      return nullptr;
    }
    if (!S_ISDIR(st.st_mode)) {
      error = b->directory_ + ": not a bundle directory";
      return nullptr;
    }
    std::string manifestPath = b->path("manifest.json"), text;
    if (!readFile(manifestPath, text, error) ||
        !parseManifest(text, manifestPath, b->manifest_, error))
      return nullptr;
    const Manifest &m = b->manifest_;
    for (const std::string *file : {&m.ptx, &m.tokenizer}) {
      if (file->empty() || isRegularFile(b->path(*file)))
        continue;
      error = manifestPath + ": " + (file == &m.ptx ? "ptx" : "tokenizer") +
              ": " + b->path(*file) + " does not exist";
      return nullptr;
    }

    b->weightViews_.assign(m.buffers.size(), nullptr);
    if (m.weights.empty())
      return b;
    std::string weightsPath = b->path(m.weights);
    b->weights_ = SafetensorsFile::open(weightsPath, error);
    if (!b->weights_ || !b->loadAtLoad(checkpoint, error))
      return nullptr;
    for (size_t i = 0; i < m.buffers.size(); ++i) {
      const Buffer &buf = m.buffers[i];
      if (buf.kind != BufferKind::Weight)
        continue;
      bool atLoad = !buf.atLoad.tensor.empty();
      const TensorView *view =
          atLoad ? b->weightViews_[i] : b->weights_->find(buf.name);
      if (atLoad) {
        // Checked as those of the bundle's file, named by where they are.
        weightsPath = b->checkpointPath_ + " (tensor '" + buf.atLoad.tensor +
                      "', " + weightPartName(buf.atLoad.part) + " at load)";
      } else if (weightsPath != b->path(m.weights)) {
        weightsPath = b->path(m.weights);
      }
      if (!view) {
        error = weightsPath + ": no tensor '" + buf.name +
                "' (weight buffer of manifest.json)";
        return nullptr;
      }
      DType dtype;
      std::vector<int64_t> shape;
      storedAs(buf, dtype, shape);
      // A one-element weight may be stored as a scalar or as [1].
      bool scalarOk = view->shape.empty() && shape == std::vector<int64_t>{1};
      if (view->dtype != dtype || (view->shape != shape && !scalarOk)) {
        error = weightsPath + ": tensor '" + buf.name + "' is " +
                dtypeName(view->dtype) + " " +
                qnum::shapeToString(view->shape) +
                "; the manifest's weight buffer " + buf.name + " (" +
                buf.describe() + ") needs " + dtypeName(dtype) + " " +
                qnum::shapeToString(shape);
        return nullptr;
      }
      b->weightViews_[i] = view;
    }
    // A stored column permutation must be one: the GPU kernel does not
    // check its indices.
    for (const Kernel &k : m.kernels) {
      int buffer = k.family == Family::PermuteColumns ? k.arg("perm") : -1;
      const TensorView *view = b->weight(buffer);
      if (!view)
        continue;
      std::vector<int32_t> perm(view->shape.empty() ? 1 : view->shape[0]);
      std::memcpy(perm.data(), view->data, perm.size() * 4);
      if (!qrt::kernels::checkPermutation(perm.data(), int64_t(perm.size()),
                                          error)) {
        error = weightsPath + ": tensor '" + m.buffers[buffer].name +
                "' (perm of kernel " + k.name + "): " + error;
        return nullptr;
      }
    }
  } catch (const std::exception &e) {
    error = directory + ": " + e.what();
    return nullptr;
  }
  return b;
}
