//===- CudaDriverApi.h - The CUDA driver API, declared by hand --*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The part of the CUDA driver API (libcuda) that qopt's runtime calls,
// declared here so that the runtime builds without the CUDA toolkit and
// links nothing of CUDA: the library is opened at run time (CudaDriver.h)
// and its entry points are reached through the table `DriverApi`.
//
// Everything is ABI-compatible with the toolkit's cuda.h: the handle types
// are pointers to the same (incomplete) struct tags, so a `CUcontext` of
// cuda.h and a `qrt::cuda::CUcontext` are the same type; CUresult and the
// enums are `int` (cuda.h's enums are int-sized); the constants below carry
// the values cuda.h documents (a unit test compares them with cuda.h where
// the toolkit is installed).
//
// Versioned entry points: the table's members are named after the symbols
// that are resolved, which are the ones cuda.h's macros map the plain names
// to (cuMemAlloc -> cuMemAlloc_v2, ...). cuEventElapsedTime_v2 (CUDA 12.8)
// falls back to cuEventElapsedTime, which has the same signature, on older
// drivers. cuLaunchKernelEx is the one optional entry point: a library
// without it leaves its slot null, and launches go through cuLaunchKernel.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_CUDADRIVERAPI_H
#define QOPT_RUNTIME_CUDADRIVERAPI_H

#include <cstddef>

// The struct tags of cuda.h's opaque handles.
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUgraph_st;
struct CUgraphExec_st;
struct CUevent_st;

namespace qrt {
namespace cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = ::CUctx_st *;
using CUmodule = ::CUmod_st *;
using CUfunction = ::CUfunc_st *;
using CUstream = ::CUstream_st *;
using CUgraph = ::CUgraph_st *;
using CUgraphExec = ::CUgraphExec_st *;
using CUevent = ::CUevent_st *;

// CUresult values (cudaError_enum) that the runtime tells apart.
constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_INVALID_VALUE = 1;
constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr CUresult CUDA_ERROR_NOT_INITIALIZED = 3;
constexpr CUresult CUDA_ERROR_STUB_LIBRARY = 34;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr CUresult CUDA_ERROR_INVALID_DEVICE = 101;
constexpr CUresult CUDA_ERROR_INVALID_PTX = 218;
constexpr CUresult CUDA_ERROR_NOT_FOUND = 500;
constexpr CUresult CUDA_ERROR_ILLEGAL_ADDRESS = 700;

// CUdevice_attribute values.
constexpr int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8;
constexpr int CU_DEVICE_ATTRIBUTE_WARP_SIZE = 10;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK = 12;
constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR = 39;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR = 81;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

// CUfunction_attribute values.
constexpr int CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
constexpr int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
constexpr int CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES = 2;
constexpr int CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES = 3;
constexpr int CU_FUNC_ATTRIBUTE_NUM_REGS = 4;
constexpr int CU_FUNC_ATTRIBUTE_PTX_VERSION = 5;
constexpr int CU_FUNC_ATTRIBUTE_BINARY_VERSION = 6;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

// CUjit_option values.
constexpr int CU_JIT_INFO_LOG_BUFFER = 3;
constexpr int CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

// Stream and event flags.
constexpr unsigned CU_STREAM_DEFAULT = 0x0;
constexpr unsigned CU_EVENT_DEFAULT = 0x0;
// CUstreamCaptureMode: only this thread's calls are refused while capturing.
constexpr int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;

// CUlaunchAttributeID: a kernel launched with this attribute (non-zero) may
// start before the kernel ahead of it on the stream completes: once every
// block of that one has run griddepcontrol.launch_dependents or exited. It
// must itself run griddepcontrol.wait before it reads or writes what the
// kernels ahead of it do (programmatic dependent launch, sm_90).
constexpr int CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6;

/// CUlaunchAttributeValue: a 64-byte union (8-byte aligned); the runtime
/// sets only this member.
union CUlaunchAttributeValue {
  char pad[64];
  int programmaticStreamSerializationAllowed;
  unsigned long long align;
};

/// CUlaunchAttribute.
struct CUlaunchAttribute {
  int id;
  char pad[8 - sizeof(int)];
  CUlaunchAttributeValue value;
};

/// CUlaunchConfig: cuLaunchKernelEx's launch (cuLaunchKernel's dimensions,
/// shared bytes and stream) and its attributes.
struct CUlaunchConfig {
  unsigned int gridDimX, gridDimY, gridDimZ;
  unsigned int blockDimX, blockDimY, blockDimZ;
  unsigned int sharedMemBytes;
  CUstream hStream;
  CUlaunchAttribute *attrs;
  unsigned int numAttrs;
};

/// The driver's entry points, resolved from the opened library.
struct DriverApi {
  CUresult (*cuGetErrorName)(CUresult error, const char **str);
  CUresult (*cuGetErrorString)(CUresult error, const char **str);
  CUresult (*cuInit)(unsigned int flags);
  CUresult (*cuDriverGetVersion)(int *version);

  CUresult (*cuDeviceGetCount)(int *count);
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetName)(char *name, int len, CUdevice device);
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
  CUresult (*cuDeviceTotalMem_v2)(size_t *bytes, CUdevice device);

  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRelease_v2)(CUdevice device);
  CUresult (*cuCtxSetCurrent)(CUcontext context);
  CUresult (*cuCtxSynchronize)();

  CUresult (*cuStreamCreate)(CUstream *stream, unsigned int flags);
  CUresult (*cuStreamDestroy_v2)(CUstream stream);
  CUresult (*cuStreamSynchronize)(CUstream stream);

  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image,
                                 unsigned int numOptions, int *options,
                                 void **optionValues);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name);
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute, int value);
  CUresult (*cuFuncGetAttribute)(int *value, int attribute,
                                 CUfunction function);

  CUresult (*cuMemAlloc_v2)(CUdeviceptr *ptr, size_t bytes);
  CUresult (*cuMemFree_v2)(CUdeviceptr ptr);
  CUresult (*cuMemcpyHtoD_v2)(CUdeviceptr dst, const void *src, size_t bytes);
  CUresult (*cuMemcpyDtoH_v2)(void *dst, CUdeviceptr src, size_t bytes);
  CUresult (*cuMemcpyDtoD_v2)(CUdeviceptr dst, CUdeviceptr src, size_t bytes);
  CUresult (*cuMemcpyHtoDAsync_v2)(CUdeviceptr dst, const void *src,
                                   size_t bytes, CUstream stream);
  CUresult (*cuMemcpyDtoHAsync_v2)(void *dst, CUdeviceptr src, size_t bytes,
                                   CUstream stream);
  CUresult (*cuMemcpyDtoDAsync_v2)(CUdeviceptr dst, CUdeviceptr src,
                                   size_t bytes, CUstream stream);
  CUresult (*cuMemsetD8_v2)(CUdeviceptr dst, unsigned char value, size_t count);

  CUresult (*cuLaunchKernel)(CUfunction function, unsigned int gridX,
                             unsigned int gridY, unsigned int gridZ,
                             unsigned int blockX, unsigned int blockY,
                             unsigned int blockZ, unsigned int sharedBytes,
                             CUstream stream, void **params, void **extra);
  /// Optional (CUDA 11.8 and later): null when the library lacks it.
  CUresult (*cuLaunchKernelEx)(const CUlaunchConfig *config,
                               CUfunction function, void **params,
                               void **extra);

  CUresult (*cuEventCreate)(CUevent *event, unsigned int flags);
  CUresult (*cuEventRecord)(CUevent event, CUstream stream);
  CUresult (*cuEventSynchronize)(CUevent event);
  CUresult (*cuEventElapsedTime_v2)(float *ms, CUevent start, CUevent end);
  CUresult (*cuEventDestroy_v2)(CUevent event);

  CUresult (*cuStreamBeginCapture_v2)(CUstream stream, int mode);
  CUresult (*cuStreamEndCapture)(CUstream stream, CUgraph *graph);
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *exec, CUgraph graph,
                                          unsigned long long flags);
  CUresult (*cuGraphLaunch)(CUgraphExec exec, CUstream stream);
  CUresult (*cuGraphExecDestroy)(CUgraphExec exec);
  CUresult (*cuGraphDestroy)(CUgraph graph);
};

} // namespace cuda
} // namespace qrt

#endif // QOPT_RUNTIME_CUDADRIVERAPI_H
