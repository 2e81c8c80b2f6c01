//===- CudaDriver.cpp - Opening libcuda and querying devices --------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/CudaDriver.h"

#include <cstdlib>
#include <dlfcn.h>
#include <link.h>

using namespace qrt::cuda;

namespace {

/// Resolves entry points of one library, remembering the ones it lacks.
struct Resolver {
  void *handle;
  std::vector<std::string> missing;

  /// Sets `slot` to the symbol `name`, else `fallback` when given (a
  /// previous version of the entry point with the same signature).
  template <typename Fn>
  void operator()(Fn &slot, const char *name, const char *fallback = nullptr) {
    void *symbol = dlsym(handle, name);
    if (!symbol && fallback)
      symbol = dlsym(handle, fallback);
    if (!symbol)
      missing.push_back(name);
    slot = reinterpret_cast<Fn>(symbol);
  }
  /// Sets `slot` to the symbol `name`, or null when the library lacks it.
  template <typename Fn> void optional(Fn &slot, const char *name) {
    slot = reinterpret_cast<Fn>(dlsym(handle, name));
  }
};

void resolveAll(Resolver &r, DriverApi &api) {
  // The ones needed to report errors and check the version come first, so
  // that a library lacking everything is reported by its first entry point.
  r(api.cuInit, "cuInit");
  r(api.cuDriverGetVersion, "cuDriverGetVersion");
  r(api.cuGetErrorName, "cuGetErrorName");
  r(api.cuGetErrorString, "cuGetErrorString");
  r(api.cuDeviceGetCount, "cuDeviceGetCount");
  r(api.cuDeviceGet, "cuDeviceGet");
  r(api.cuDeviceGetName, "cuDeviceGetName");
  r(api.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  r(api.cuDeviceTotalMem_v2, "cuDeviceTotalMem_v2");
  r(api.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  r(api.cuDevicePrimaryCtxRelease_v2, "cuDevicePrimaryCtxRelease_v2");
  r(api.cuCtxSetCurrent, "cuCtxSetCurrent");
  r(api.cuCtxSynchronize, "cuCtxSynchronize");
  r(api.cuStreamCreate, "cuStreamCreate");
  r(api.cuStreamDestroy_v2, "cuStreamDestroy_v2");
  r(api.cuStreamSynchronize, "cuStreamSynchronize");
  r(api.cuModuleLoadDataEx, "cuModuleLoadDataEx");
  r(api.cuModuleUnload, "cuModuleUnload");
  r(api.cuModuleGetFunction, "cuModuleGetFunction");
  r(api.cuFuncSetAttribute, "cuFuncSetAttribute");
  r(api.cuFuncGetAttribute, "cuFuncGetAttribute");
  r(api.cuMemAlloc_v2, "cuMemAlloc_v2");
  r(api.cuMemFree_v2, "cuMemFree_v2");
  r(api.cuMemcpyHtoD_v2, "cuMemcpyHtoD_v2");
  r(api.cuMemcpyDtoH_v2, "cuMemcpyDtoH_v2");
  r(api.cuMemcpyDtoD_v2, "cuMemcpyDtoD_v2");
  r(api.cuMemcpyHtoDAsync_v2, "cuMemcpyHtoDAsync_v2");
  r(api.cuMemcpyDtoHAsync_v2, "cuMemcpyDtoHAsync_v2");
  r(api.cuMemcpyDtoDAsync_v2, "cuMemcpyDtoDAsync_v2");
  r(api.cuMemsetD8_v2, "cuMemsetD8_v2");
  r(api.cuLaunchKernel, "cuLaunchKernel");
  r.optional(api.cuLaunchKernelEx, "cuLaunchKernelEx");
  r(api.cuEventCreate, "cuEventCreate");
  r(api.cuEventRecord, "cuEventRecord");
  r(api.cuEventSynchronize, "cuEventSynchronize");
  r(api.cuEventElapsedTime_v2, "cuEventElapsedTime_v2", "cuEventElapsedTime");
  r(api.cuEventDestroy_v2, "cuEventDestroy_v2");
  r(api.cuStreamBeginCapture_v2, "cuStreamBeginCapture_v2");
  r(api.cuStreamEndCapture, "cuStreamEndCapture");
  r(api.cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags");
  r(api.cuGraphLaunch, "cuGraphLaunch");
  r(api.cuGraphExecDestroy, "cuGraphExecDestroy");
  r(api.cuGraphDestroy, "cuGraphDestroy");
}

/// The names of the codes the runtime tells apart, for a library that cannot
/// name them (the toolkit's stub library names none).
const char *knownErrorName(CUresult result) {
  switch (result) {
  case CUDA_SUCCESS:
    return "CUDA_SUCCESS";
  case CUDA_ERROR_INVALID_VALUE:
    return "CUDA_ERROR_INVALID_VALUE";
  case CUDA_ERROR_OUT_OF_MEMORY:
    return "CUDA_ERROR_OUT_OF_MEMORY";
  case CUDA_ERROR_NOT_INITIALIZED:
    return "CUDA_ERROR_NOT_INITIALIZED";
  case CUDA_ERROR_STUB_LIBRARY:
    return "CUDA_ERROR_STUB_LIBRARY";
  case CUDA_ERROR_NO_DEVICE:
    return "CUDA_ERROR_NO_DEVICE";
  case CUDA_ERROR_INVALID_DEVICE:
    return "CUDA_ERROR_INVALID_DEVICE";
  case CUDA_ERROR_INVALID_PTX:
    return "CUDA_ERROR_INVALID_PTX";
  case CUDA_ERROR_NOT_FOUND:
    return "CUDA_ERROR_NOT_FOUND";
  case CUDA_ERROR_ILLEGAL_ADDRESS:
    return "CUDA_ERROR_ILLEGAL_ADDRESS";
  default:
    return nullptr;
  }
}

/// The file the dynamic loader mapped for `handle`, or "".
std::string loadedPath(void *handle) {
  struct link_map *map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map || !map->l_name)
    return "";
  return map->l_name;
}

} // namespace

std::string DeviceInfo::smName() const {
  return "sm_" + std::to_string(computeMajor) + std::to_string(computeMinor);
}

std::string Driver::versionString(int version) {
  return std::to_string(version / 1000) + "." +
         std::to_string(version % 1000 / 10);
}

std::unique_ptr<Driver> Driver::open(std::string &error) {
  return open("", error);
}

std::unique_ptr<Driver> Driver::open(const std::string &path,
                                     std::string &error) {
  std::string library = path, origin;
  if (library.empty()) {
    const char *env = std::getenv("QOPT_LIBCUDA");
    if (env && *env) {
      library = env;
      origin = " (from QOPT_LIBCUDA)";
    } else {
      library = kDefaultDriverLibrary;
    }
  }
  std::string lib = library + origin;

  dlerror();
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    std::string reason = why ? why : "unknown error";
    bool notFound = reason.find("No such file") != std::string::npos;
    error = "no CUDA driver: " + lib +
            (notFound ? " not found" : " cannot be loaded") +
            " (dlopen: " + reason + ")";
    return nullptr;
  }
  std::unique_ptr<Driver> driver(new Driver());
  driver->handle_ = handle;
  driver->libraryName_ = library;
  driver->libraryPath_ = loadedPath(handle);

  Resolver resolver{handle, {}};
  resolveAll(resolver, driver->api_);
  DriverApi &api = driver->api_;

  auto stub = [&](const char *call, CUresult r) {
    error = "no CUDA driver: " + lib +
            " is the CUDA toolkit's stub library, not a driver (" +
            driver->errorMessage(call, "", r) + ")";
    return nullptr;
  };
  // An old driver lacks recent entry points: say that it is old first.
  if (api.cuDriverGetVersion) {
    CUresult r = api.cuDriverGetVersion(&driver->version_);
    if (r == CUDA_ERROR_STUB_LIBRARY)
      return stub("cuDriverGetVersion", r);
    if (r != CUDA_SUCCESS) {
      error = "no usable CUDA driver: " +
              driver->errorMessage("cuDriverGetVersion", lib, r);
      return nullptr;
    }
    if (driver->version_ < kMinimumDriverVersion) {
      error = "CUDA driver too old: version " +
              versionString(driver->version_) + " (" +
              std::to_string(driver->version_) + "); qopt needs " +
              versionString(kMinimumDriverVersion) + " or newer";
      return nullptr;
    }
  }
  if (!resolver.missing.empty()) {
    error = "no usable CUDA driver: " + lib + " lacks the driver entry point " +
            resolver.missing.front();
    if (resolver.missing.size() > 1)
      error +=
          " (and " + std::to_string(resolver.missing.size() - 1) + " more)";
    return nullptr;
  }

  CUresult r = api.cuInit(0);
  if (r == CUDA_ERROR_NO_DEVICE) {
    error = "no CUDA device: " + driver->errorMessage("cuInit", "", r);
    return nullptr;
  }
  if (r == CUDA_ERROR_STUB_LIBRARY)
    return stub("cuInit", r);
  if (r != CUDA_SUCCESS) {
    error = "no usable CUDA driver: " + driver->errorMessage("cuInit", "", r);
    return nullptr;
  }
  return driver;
}

Driver::~Driver() {
  if (handle_)
    dlclose(handle_);
}

std::string Driver::errorMessage(const char *call, const std::string &what,
                                 CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (!api_.cuGetErrorName || api_.cuGetErrorName(result, &name) != 0)
    name = nullptr;
  if (!api_.cuGetErrorString || api_.cuGetErrorString(result, &text) != 0)
    text = nullptr;
  std::string message = call;
  if (!what.empty())
    message += "(" + what + ")";
  message += ": ";
  if (!name)
    name = knownErrorName(result);
  message += name ? std::string(name) : "CUDA error " + std::to_string(result);
  if (text)
    message += std::string(" (") + text + ")";
  return message;
}

bool Driver::check(CUresult result, const char *call, const std::string &what,
                   std::string &error) const {
  if (result == CUDA_SUCCESS)
    return true;
  error = errorMessage(call, what, result);
  return false;
}

std::optional<int> Driver::deviceCount(std::string &error) const {
  int count = 0;
  if (!check(api_.cuDeviceGetCount(&count), "cuDeviceGetCount", "", error))
    return std::nullopt;
  return count;
}

std::optional<DeviceInfo> Driver::deviceInfo(int ordinal,
                                             std::string &error) const {
  std::optional<int> count = deviceCount(error);
  if (!count)
    return std::nullopt;
  std::string what = "device " + std::to_string(ordinal);
  if (ordinal < 0 || ordinal >= *count) {
    error = "no CUDA device " + std::to_string(ordinal) +
            ": the driver reports " +
            (*count == 0   ? std::string("none")
             : *count == 1 ? std::string("1 device (0)")
                           : std::to_string(*count) + " devices (0-" +
                                 std::to_string(*count - 1) + ")");
    return std::nullopt;
  }
  CUdevice device = 0;
  if (!check(api_.cuDeviceGet(&device, ordinal), "cuDeviceGet", what, error))
    return std::nullopt;
  DeviceInfo info;
  info.ordinal = ordinal;
  char name[256] = {};
  if (!check(api_.cuDeviceGetName(name, sizeof(name) - 1, device),
             "cuDeviceGetName", what, error))
    return std::nullopt;
  info.name = name;
  if (!check(api_.cuDeviceTotalMem_v2(&info.totalMemory, device),
             "cuDeviceTotalMem_v2", what, error))
    return std::nullopt;
  struct Attribute {
    int *field;
    int attribute;
    const char *name;
  } attributes[] = {
      {&info.computeMajor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
       "COMPUTE_CAPABILITY_MAJOR"},
      {&info.computeMinor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
       "COMPUTE_CAPABILITY_MINOR"},
      {&info.multiprocessors, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
       "MULTIPROCESSOR_COUNT"},
      {&info.maxThreadsPerBlock, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
       "MAX_THREADS_PER_BLOCK"},
      {&info.maxThreadsPerMultiprocessor,
       CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR,
       "MAX_THREADS_PER_MULTIPROCESSOR"},
      {&info.warpSize, CU_DEVICE_ATTRIBUTE_WARP_SIZE, "WARP_SIZE"},
      {&info.registersPerBlock, CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK,
       "MAX_REGISTERS_PER_BLOCK"},
      {&info.sharedMemoryPerBlock,
       CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK,
       "MAX_SHARED_MEMORY_PER_BLOCK"},
      {&info.sharedMemoryPerBlockOptin,
       CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
       "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN"},
      {&info.sharedMemoryPerMultiprocessor,
       CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR,
       "MAX_SHARED_MEMORY_PER_MULTIPROCESSOR"},
      {&info.l2CacheBytes, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, "L2_CACHE_SIZE"},
  };
  for (const Attribute &a : attributes)
    if (!check(api_.cuDeviceGetAttribute(a.field, a.attribute, device),
               "cuDeviceGetAttribute", what + ", CU_DEVICE_ATTRIBUTE_" + a.name,
               error))
      return std::nullopt;
  return info;
}
