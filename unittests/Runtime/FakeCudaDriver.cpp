//===- FakeCudaDriver.cpp - A CUDA driver library for tests without a GPU -===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Built as a shared library that exports the driver entry points qopt's
// runtime resolves (qopt-runtime/CudaDriverApi.h), so that the runtime's
// CUDA layer runs for real, through dlopen and dlsym, on machines with no
// GPU. "Device memory" is host memory; the PTX "JIT" looks for `.entry NAME`
// and fails, with a ptxas-like log, on images that contain "bogus"; these
// kernels do something (every other one nothing):
//   fill_bytes(CUdeviceptr dst, unsigned n, unsigned value)  memset
//   fault()            the next cuStreamSynchronize reports an illegal address
//   probeN(CUdeviceptr p0, ..., CUdeviceptr pN-1, int m)  writes, as uint64,
//                      grid x y z, block x y z, shared bytes, m, p0 .. pN-1
//                      to pN-1 (what the bundle runtime's tests check)
// The environment variable QOPT_FAKE_CUDA picks a failure: no-device (cuInit
// fails with CUDA_ERROR_NO_DEVICE), unknown (cuInit fails with
// CUDA_ERROR_UNKNOWN), old (driver version 11.8), oom (cuMemAlloc fails).
// Stream capture records launches (the parameters of fill_bytes and probeN
// by value); a graph launch runs them again in order and counts itself in
// qoptFakeGraphLaunches.
// cuLaunchKernelEx takes only the programmatic-serialization attribute and
// counts the launches that set it in qoptFakeProgrammaticLaunches.
// Built with QOPT_FAKE_CUDA_PARTIAL, it lacks cuFuncSetAttribute,
// cuLaunchKernel and cuLaunchKernelEx, and has cuEventElapsedTime in place of
// cuEventElapsedTime_v2.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/CudaDriverApi.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace qrt::cuda;

struct CUfunc_st {
  std::string name;
  int maxDynamicShared = 48 * 1024;
};

struct CUmod_st {
  std::string image;
  std::vector<std::unique_ptr<CUfunc_st>> functions;
};

/// A kernel launch as a graph keeps it: the parameters' bytes.
struct FakeLaunch {
  CUfunction function = nullptr;
  unsigned dims[6] = {1, 1, 1, 1, 1, 1};
  unsigned sharedBytes = 0;
  std::vector<std::vector<uint8_t>> params;
};

struct CUstream_st {
  CUresult pending = CUDA_SUCCESS;
  bool capturing = false;
  std::vector<FakeLaunch> captured;
};

struct CUgraph_st {
  std::vector<FakeLaunch> launches;
};

struct CUgraphExec_st {
  std::vector<FakeLaunch> launches;
};

struct CUevent_st {
  bool recorded = false;
  std::chrono::steady_clock::time_point time;
};

namespace {

constexpr CUresult kInvalidHandle = 400;
constexpr CUresult kUnknown = 999;

bool mode(const char *name) {
  const char *m = std::getenv("QOPT_FAKE_CUDA");
  return m && !std::strcmp(m, name);
}

void *host(CUdeviceptr p) { return reinterpret_cast<void *>(p); }

} // namespace

extern "C" {

CUresult cuGetErrorName(CUresult error, const char **str) {
  switch (error) {
  case CUDA_SUCCESS:
    *str = "CUDA_SUCCESS";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_VALUE:
    *str = "CUDA_ERROR_INVALID_VALUE";
    return CUDA_SUCCESS;
  case CUDA_ERROR_OUT_OF_MEMORY:
    *str = "CUDA_ERROR_OUT_OF_MEMORY";
    return CUDA_SUCCESS;
  case CUDA_ERROR_NO_DEVICE:
    *str = "CUDA_ERROR_NO_DEVICE";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_DEVICE:
    *str = "CUDA_ERROR_INVALID_DEVICE";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_PTX:
    *str = "CUDA_ERROR_INVALID_PTX";
    return CUDA_SUCCESS;
  case kInvalidHandle:
    *str = "CUDA_ERROR_INVALID_HANDLE";
    return CUDA_SUCCESS;
  case CUDA_ERROR_NOT_FOUND:
    *str = "CUDA_ERROR_NOT_FOUND";
    return CUDA_SUCCESS;
  case CUDA_ERROR_ILLEGAL_ADDRESS:
    *str = "CUDA_ERROR_ILLEGAL_ADDRESS";
    return CUDA_SUCCESS;
  case kUnknown:
    *str = "CUDA_ERROR_UNKNOWN";
    return CUDA_SUCCESS;
  default:
    *str = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuGetErrorString(CUresult error, const char **str) {
  switch (error) {
  case CUDA_SUCCESS:
    *str = "no error";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_VALUE:
    *str = "invalid argument";
    return CUDA_SUCCESS;
  case CUDA_ERROR_OUT_OF_MEMORY:
    *str = "out of memory";
    return CUDA_SUCCESS;
  case CUDA_ERROR_NO_DEVICE:
    *str = "no CUDA-capable device is detected";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_DEVICE:
    *str = "invalid device ordinal";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_PTX:
    *str = "a PTX JIT compilation failed";
    return CUDA_SUCCESS;
  case kInvalidHandle:
    *str = "invalid resource handle";
    return CUDA_SUCCESS;
  case CUDA_ERROR_NOT_FOUND:
    *str = "named symbol not found";
    return CUDA_SUCCESS;
  case CUDA_ERROR_ILLEGAL_ADDRESS:
    *str = "an illegal memory access was encountered";
    return CUDA_SUCCESS;
  case kUnknown:
    *str = "unknown error";
    return CUDA_SUCCESS;
  default:
    *str = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuInit(unsigned int flags) {
  if (flags != 0)
    return CUDA_ERROR_INVALID_VALUE;
  if (mode("no-device"))
    return CUDA_ERROR_NO_DEVICE;
  if (mode("unknown"))
    return kUnknown;
  return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int *version) {
  *version = mode("old") ? 11080 : 12080;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  if (ordinal != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice device) {
  if (device != 0 || len < 1)
    return CUDA_ERROR_INVALID_VALUE;
  std::strncpy(name, "Fake H200", static_cast<size_t>(len) - 1);
  name[len - 1] = '\0';
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice device) {
  if (device != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  switch (attribute) {
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *value = 9;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *value = 0;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *value = 132;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
    *value = 1024;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR:
    *value = 2048;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_WARP_SIZE:
    *value = 32;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK:
    *value = 65536;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK:
    *value = 48 * 1024;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    *value = 227 * 1024;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR:
    *value = 228 * 1024;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE:
    *value = 50 * 1024 * 1024;
    return CUDA_SUCCESS;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice device) {
  if (device != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  *bytes = size_t(140) * 1024 * 1024 * 1024;
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
  if (device != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  // Never dereferenced: any non-null value names the one context.
  *context = reinterpret_cast<CUcontext>(uintptr_t(0x1000));
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
  return device == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

CUresult cuCtxSetCurrent(CUcontext) { return CUDA_SUCCESS; }
CUresult cuCtxSynchronize() { return CUDA_SUCCESS; }

CUresult cuStreamCreate(CUstream *stream, unsigned int) {
  *stream = new CUstream_st();
  return CUDA_SUCCESS;
}

CUresult cuStreamDestroy_v2(CUstream stream) {
  delete stream;
  return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream stream) {
  CUresult r = stream->pending;
  stream->pending = CUDA_SUCCESS;
  return r;
}

CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
                            unsigned int numOptions, int *options,
                            void **values) {
  std::string text = static_cast<const char *>(image);
  if (text.find("bogus") != std::string::npos) {
    char *log = nullptr;
    size_t size = 0;
    for (unsigned i = 0; i < numOptions; ++i) {
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
        log = static_cast<char *>(values[i]);
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
        size = reinterpret_cast<uintptr_t>(values[i]);
    }
    if (log && size) {
      std::strncpy(log,
                   "ptxas application ptx input, line 3; error   : Unknown "
                   "symbol 'bogus'\nptxas fatal   : Ptx assembly aborted due "
                   "to errors\n",
                   size - 1);
      log[size - 1] = '\0';
    }
    return CUDA_ERROR_INVALID_PTX;
  }
  *module = new CUmod_st{text, {}};
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module) {
  delete module;
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule module,
                             const char *name) {
  if (module->image.find(std::string(".entry ") + name + "(") ==
      std::string::npos)
    return CUDA_ERROR_NOT_FOUND;
  module->functions.push_back(std::make_unique<CUfunc_st>());
  module->functions.back()->name = name;
  *function = module->functions.back().get();
  return CUDA_SUCCESS;
}

#ifndef QOPT_FAKE_CUDA_PARTIAL
CUresult cuFuncSetAttribute(CUfunction function, int attribute, int value) {
  if (attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES ||
      value < 0 || value > 227 * 1024)
    return CUDA_ERROR_INVALID_VALUE;
  function->maxDynamicShared = value;
  return CUDA_SUCCESS;
}
#endif

CUresult cuFuncGetAttribute(int *value, int attribute, CUfunction function) {
  switch (attribute) {
  case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
    *value = 1024;
    return CUDA_SUCCESS;
  case CU_FUNC_ATTRIBUTE_NUM_REGS:
    *value = 40;
    return CUDA_SUCCESS;
  case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
    *value = function->maxDynamicShared;
    return CUDA_SUCCESS;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t bytes) {
  if (bytes == 0)
    return CUDA_ERROR_INVALID_VALUE;
  if (mode("oom"))
    return CUDA_ERROR_OUT_OF_MEMORY;
  void *p = std::malloc(bytes);
  if (!p)
    return CUDA_ERROR_OUT_OF_MEMORY;
  *ptr = reinterpret_cast<uintptr_t>(p);
  return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr ptr) {
  std::free(host(ptr));
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes) {
  std::memcpy(host(dst), src, bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
  std::memcpy(dst, host(src), bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  std::memmove(host(dst), host(src), bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t bytes,
                              CUstream) {
  return cuMemcpyHtoD_v2(dst, src, bytes);
}

CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t bytes,
                              CUstream) {
  return cuMemcpyDtoH_v2(dst, src, bytes);
}

CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                              CUstream) {
  return cuMemcpyDtoD_v2(dst, src, bytes);
}

CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t count) {
  std::memset(host(dst), value, count);
  return CUDA_SUCCESS;
}

} // extern "C"

namespace {
/// The byte sizes of a kernel's parameters (those the fake reads).
[[maybe_unused]] std::vector<size_t> paramSizes(const CUfunction f) {
  if (f->name == "fill_bytes")
    return {8, 4, 4};
  if (f->name.rfind("probe", 0) == 0) {
    std::vector<size_t> sizes(std::max(0, std::atoi(f->name.c_str() + 5)), 8);
    sizes.push_back(4);
    return sizes;
  }
  return {};
}

CUresult run(CUfunction f, unsigned gridX, unsigned gridY, unsigned gridZ,
             unsigned blockX, unsigned blockY, unsigned blockZ,
             unsigned sharedBytes, CUstream stream, void **params) {
  if (f->name == "fill_bytes") {
    CUdeviceptr dst = *static_cast<CUdeviceptr *>(params[0]);
    unsigned n = *static_cast<unsigned *>(params[1]);
    unsigned value = *static_cast<unsigned *>(params[2]);
    std::memset(host(dst), static_cast<int>(value), n);
  } else if (f->name == "fault") {
    stream->pending = CUDA_ERROR_ILLEGAL_ADDRESS;
  } else if (f->name.rfind("probe", 0) == 0) {
    int n = std::atoi(f->name.c_str() + 5);
    if (n < 1)
      return CUDA_ERROR_INVALID_VALUE;
    std::vector<uint64_t> record = {gridX,  gridY,  gridZ,      blockX,
                                    blockY, blockZ, sharedBytes};
    record.push_back(static_cast<uint64_t>(*static_cast<int32_t *>(params[n])));
    for (int i = 0; i < n; ++i)
      record.push_back(*static_cast<CUdeviceptr *>(params[i]));
    std::memcpy(host(*static_cast<CUdeviceptr *>(params[n - 1])), record.data(),
                record.size() * sizeof(uint64_t));
  }
  return CUDA_SUCCESS;
}

CUresult replay(const FakeLaunch &l, CUstream stream) {
  std::vector<std::vector<uint8_t>> bytes = l.params;
  std::vector<void *> params;
  for (std::vector<uint8_t> &b : bytes)
    params.push_back(b.data());
  return run(l.function, l.dims[0], l.dims[1], l.dims[2], l.dims[3], l.dims[4],
             l.dims[5], l.sharedBytes, stream, params.data());
}
} // namespace

extern "C" {

#ifndef QOPT_FAKE_CUDA_PARTIAL
CUresult cuLaunchKernel(CUfunction f, unsigned int gridX, unsigned int gridY,
                        unsigned int gridZ, unsigned int blockX,
                        unsigned int blockY, unsigned int blockZ,
                        unsigned int sharedBytes, CUstream stream,
                        void **params, void **extra) {
  if (!gridX || !gridY || !gridZ || !blockX || !blockY || !blockZ ||
      uint64_t(blockX) * blockY * blockZ > 1024 || extra ||
      sharedBytes > unsigned(f->maxDynamicShared))
    return CUDA_ERROR_INVALID_VALUE;
  if (stream && stream->capturing) {
    FakeLaunch l;
    l.function = f;
    unsigned dims[6] = {gridX, gridY, gridZ, blockX, blockY, blockZ};
    std::memcpy(l.dims, dims, sizeof(dims));
    l.sharedBytes = sharedBytes;
    std::vector<size_t> sizes = paramSizes(f);
    for (size_t i = 0; i < sizes.size(); ++i) {
      const uint8_t *p = static_cast<const uint8_t *>(params[i]);
      l.params.emplace_back(p, p + sizes[i]);
    }
    stream->captured.push_back(std::move(l));
    return CUDA_SUCCESS;
  }
  return run(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes,
             stream, params);
}

/// Launches through cuLaunchKernelEx so far, and those of them with
/// CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION set (tests read
/// them with dlsym).
int qoptFakeLaunchesEx = 0;
int qoptFakeProgrammaticLaunches = 0;

CUresult cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f,
                          void **params, void **extra) {
  if (!config || (config->numAttrs && !config->attrs))
    return CUDA_ERROR_INVALID_VALUE;
  bool programmatic = false;
  for (unsigned i = 0; i < config->numAttrs; ++i) {
    if (config->attrs[i].id !=
        CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION)
      return CUDA_ERROR_INVALID_VALUE;
    programmatic =
        config->attrs[i].value.programmaticStreamSerializationAllowed != 0;
  }
  CUresult r =
      cuLaunchKernel(f, config->gridDimX, config->gridDimY, config->gridDimZ,
                     config->blockDimX, config->blockDimY, config->blockDimZ,
                     config->sharedMemBytes, config->hStream, params, extra);
  if (r == CUDA_SUCCESS) {
    ++qoptFakeLaunchesEx;
    qoptFakeProgrammaticLaunches += programmatic;
  }
  return r;
}
#endif

CUresult cuStreamBeginCapture_v2(CUstream stream, int mode) {
  if (!stream || stream->capturing || mode < 0 || mode > 2)
    return CUDA_ERROR_INVALID_VALUE;
  stream->capturing = true;
  stream->captured.clear();
  return CUDA_SUCCESS;
}

CUresult cuStreamEndCapture(CUstream stream, CUgraph *graph) {
  if (!stream || !stream->capturing)
    return CUDA_ERROR_INVALID_VALUE;
  stream->capturing = false;
  *graph = new CUgraph_st{std::move(stream->captured)};
  stream->captured.clear();
  return CUDA_SUCCESS;
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph,
                                     unsigned long long) {
  *exec = new CUgraphExec_st{graph->launches};
  return CUDA_SUCCESS;
}

/// Graph launches so far (tests read it with dlsym).
int qoptFakeGraphLaunches = 0;

CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream) {
  ++qoptFakeGraphLaunches;
  for (const FakeLaunch &l : exec->launches)
    if (CUresult r = replay(l, stream))
      return r;
  return CUDA_SUCCESS;
}

CUresult cuGraphExecDestroy(CUgraphExec exec) {
  delete exec;
  return CUDA_SUCCESS;
}

CUresult cuGraphDestroy(CUgraph graph) {
  delete graph;
  return CUDA_SUCCESS;
}

CUresult cuEventCreate(CUevent *event, unsigned int) {
  *event = new CUevent_st();
  return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent event, CUstream) {
  event->recorded = true;
  event->time = std::chrono::steady_clock::now();
  return CUDA_SUCCESS;
}

CUresult cuEventSynchronize(CUevent) { return CUDA_SUCCESS; }

// The partial driver has the entry point of drivers before 12.8 only.
#ifdef QOPT_FAKE_CUDA_PARTIAL
CUresult cuEventElapsedTime(float *ms, CUevent start, CUevent end) {
#else
CUresult cuEventElapsedTime_v2(float *ms, CUevent start, CUevent end) {
#endif
  if (!start->recorded || !end->recorded)
    return kInvalidHandle;
  *ms =
      std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return CUDA_SUCCESS;
}

CUresult cuEventDestroy_v2(CUevent event) {
  delete event;
  return CUDA_SUCCESS;
}

} // extern "C"
