//===- Module.cpp - CUDA modules and kernel launches ----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/CudaDriver.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace qrt::cuda;

namespace {

/// `log` without trailing whitespace.
std::string trimLog(const char *log) {
  std::string s(log);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' ||
                        s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  return s;
}

std::string dims(Dim3 d) {
  return std::to_string(d.x) + "x" + std::to_string(d.y) + "x" +
         std::to_string(d.z);
}

} // namespace

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

std::unique_ptr<Module> Module::load(Context &context, const std::string &image,
                                     const std::string &name,
                                     std::string &error) {
  if (image.empty()) {
    error = "cannot load module " + name + ": empty image";
    return nullptr;
  }
  std::unique_ptr<Module> module(new Module());
  module->context_ = &context;
  module->name_ = name;

  // The driver writes its JIT error log (ptxas' diagnostics for PTX) here.
  std::vector<char> log(16 * 1024, '\0');
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log.data(), reinterpret_cast<void *>(
                                    static_cast<uintptr_t>(log.size() - 1))};
  CUmodule handle = nullptr;
  // PTX must be NUL-terminated: std::string's buffer is.
  CUresult r = context.api().cuModuleLoadDataEx(&handle, image.c_str(), 2,
                                                options, values);
  if (r != CUDA_SUCCESS) {
    log.back() = '\0';
    error = context.driver().errorMessage("cuModuleLoadDataEx", name, r);
    std::string jitLog = trimLog(log.data());
    if (!jitLog.empty())
      error += "; JIT log: " + jitLog;
    return nullptr;
  }
  module->module_ = handle;
  return module;
}

std::unique_ptr<Module> Module::loadFile(Context &context,
                                         const std::string &path,
                                         std::string &error) {
  std::string image;
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = path + ": cannot open file: " + std::strerror(errno);
      return nullptr;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
      error = path + ": cannot read file";
      return nullptr;
    }
    image = ss.str();
  } catch (const std::exception &e) {
    error = path + ": " + e.what();
    return nullptr;
  }
  return load(context, image, path, error);
}

Module::~Module() {
  if (module_)
    (void)context_->api().cuModuleUnload(module_);
}

std::optional<Function> Module::function(const std::string &kernel,
                                         std::string &error) const {
  CUfunction handle = nullptr;
  if (!context_->driver().check(
          context_->api().cuModuleGetFunction(&handle, module_, kernel.c_str()),
          "cuModuleGetFunction", kernel + " in " + name_, error))
    return std::nullopt;
  return Function(context_, handle, kernel);
}

//===----------------------------------------------------------------------===//
// Function
//===----------------------------------------------------------------------===//

std::optional<int> Function::attribute(int attribute,
                                       std::string &error) const {
  int value = 0;
  if (!context_->driver().check(
          context_->api().cuFuncGetAttribute(&value, attribute, function_),
          "cuFuncGetAttribute",
          name_ + ", attribute " + std::to_string(attribute), error))
    return std::nullopt;
  return value;
}

bool Function::setMaxDynamicSharedMemory(int bytes, std::string &error) const {
  return context_->driver().check(
      context_->api().cuFuncSetAttribute(
          function_, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
      "cuFuncSetAttribute",
      name_ + ", MAX_DYNAMIC_SHARED_SIZE_BYTES " + std::to_string(bytes),
      error);
}

bool Function::launch(Dim3 grid, Dim3 block, unsigned sharedBytes,
                      void **params, std::string &error,
                      bool programmatic) const {
  const DriverApi &api = context_->api();
  const char *call = "cuLaunchKernel";
  CUresult r;
  if (programmatic && context_->programmaticLaunch()) {
    call = "cuLaunchKernelEx";
    CUlaunchAttribute attribute{};
    attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attribute.value.programmaticStreamSerializationAllowed = 1;
    CUlaunchConfig config{};
    config.gridDimX = grid.x;
    config.gridDimY = grid.y;
    config.gridDimZ = grid.z;
    config.blockDimX = block.x;
    config.blockDimY = block.y;
    config.blockDimZ = block.z;
    config.sharedMemBytes = sharedBytes;
    config.hStream = context_->stream();
    config.attrs = &attribute;
    config.numAttrs = 1;
    r = api.cuLaunchKernelEx(&config, function_, params, nullptr);
  } else {
    r = api.cuLaunchKernel(function_, grid.x, grid.y, grid.z, block.x, block.y,
                           block.z, sharedBytes, context_->stream(), params,
                           nullptr);
  }
  if (r != CUDA_SUCCESS) {
    error = context_->driver().errorMessage(call, name_, r) + " [grid " +
            dims(grid) + ", block " + dims(block) + ", " +
            std::to_string(sharedBytes) + " bytes of dynamic shared memory]";
    return false;
  }
  context_->lastKernel_ = name_;
  return true;
}
