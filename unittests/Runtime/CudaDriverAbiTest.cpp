//===- CudaDriverAbiTest.cpp - CudaDriverApi.h against cuda.h -------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Built only where the CUDA toolkit's cuda.h is found: checks at compile
// time that the runtime's hand-written declarations have cuda.h's handle
// types, constant values and entry-point signatures (enums read as int).
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/CudaDriver.h"

#include <cuda.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>

namespace c = qrt::cuda;

namespace {

/// The type a parameter has in the runtime's table: cuda.h's enums are int.
template <typename T, bool = std::is_enum<T>::value> struct Abi {
  using type = T;
};
template <typename T> struct Abi<T, true> {
  static_assert(sizeof(T) == sizeof(int), "enum of another size");
  using type = int;
};
template <typename T> struct Abi<const T, false> {
  using type = const typename Abi<T>::type;
};
template <typename T> struct Abi<T *, false> {
  using type = typename Abi<T>::type *;
};
template <typename R, typename... A> struct Abi<R (*)(A...), false> {
  using type = typename Abi<R>::type (*)(typename Abi<A>::type...);
};

#define QOPT_SAME_TYPE(T)                                                      \
  static_assert(std::is_same<::T, c::T>::value, #T " differs from cuda.h");
QOPT_SAME_TYPE(CUdevice)
QOPT_SAME_TYPE(CUdeviceptr)
QOPT_SAME_TYPE(CUcontext)
QOPT_SAME_TYPE(CUmodule)
QOPT_SAME_TYPE(CUfunction)
QOPT_SAME_TYPE(CUstream)
QOPT_SAME_TYPE(CUevent)
QOPT_SAME_TYPE(CUgraph)
QOPT_SAME_TYPE(CUgraphExec)
static_assert(sizeof(::CUresult) == sizeof(c::CUresult), "CUresult size");

#define QOPT_SAME_VALUE(X)                                                     \
  static_assert(static_cast<long long>(::X) == static_cast<long long>(c::X),   \
                #X " differs from cuda.h");
QOPT_SAME_VALUE(CUDA_SUCCESS)
QOPT_SAME_VALUE(CUDA_ERROR_INVALID_VALUE)
QOPT_SAME_VALUE(CUDA_ERROR_OUT_OF_MEMORY)
QOPT_SAME_VALUE(CUDA_ERROR_NOT_INITIALIZED)
QOPT_SAME_VALUE(CUDA_ERROR_STUB_LIBRARY)
QOPT_SAME_VALUE(CUDA_ERROR_NO_DEVICE)
QOPT_SAME_VALUE(CUDA_ERROR_INVALID_DEVICE)
QOPT_SAME_VALUE(CUDA_ERROR_INVALID_PTX)
QOPT_SAME_VALUE(CUDA_ERROR_NOT_FOUND)
QOPT_SAME_VALUE(CUDA_ERROR_ILLEGAL_ADDRESS)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_WARP_SIZE)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR)
QOPT_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
QOPT_SAME_VALUE(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK)
QOPT_SAME_VALUE(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)
QOPT_SAME_VALUE(CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES)
QOPT_SAME_VALUE(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES)
QOPT_SAME_VALUE(CU_FUNC_ATTRIBUTE_NUM_REGS)
QOPT_SAME_VALUE(CU_FUNC_ATTRIBUTE_PTX_VERSION)
QOPT_SAME_VALUE(CU_FUNC_ATTRIBUTE_BINARY_VERSION)
QOPT_SAME_VALUE(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
QOPT_SAME_VALUE(CU_JIT_INFO_LOG_BUFFER)
QOPT_SAME_VALUE(CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES)
QOPT_SAME_VALUE(CU_JIT_ERROR_LOG_BUFFER)
QOPT_SAME_VALUE(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
QOPT_SAME_VALUE(CU_STREAM_DEFAULT)
QOPT_SAME_VALUE(CU_EVENT_DEFAULT)
QOPT_SAME_VALUE(CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
QOPT_SAME_VALUE(CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION)

// cuLaunchKernelEx's structs are declared by layout (their cuda.h tags
// cannot be redeclared beside cuda.h), so their layouts are compared.
#define QOPT_SAME_LAYOUT(T)                                                    \
  static_assert(sizeof(::T) == sizeof(c::T) && alignof(::T) == alignof(c::T),  \
                #T " size or alignment differs from cuda.h");
#define QOPT_SAME_FIELD(T, F)                                                  \
  static_assert(offsetof(::T, F) == offsetof(c::T, F),                         \
                #T "::" #F " offset differs from cuda.h");
QOPT_SAME_LAYOUT(CUlaunchAttributeValue)
QOPT_SAME_LAYOUT(CUlaunchAttribute)
QOPT_SAME_FIELD(CUlaunchAttribute, id)
QOPT_SAME_FIELD(CUlaunchAttribute, value)
QOPT_SAME_LAYOUT(CUlaunchConfig)
QOPT_SAME_FIELD(CUlaunchConfig, gridDimX)
QOPT_SAME_FIELD(CUlaunchConfig, blockDimZ)
QOPT_SAME_FIELD(CUlaunchConfig, sharedMemBytes)
QOPT_SAME_FIELD(CUlaunchConfig, hStream)
QOPT_SAME_FIELD(CUlaunchConfig, attrs)
QOPT_SAME_FIELD(CUlaunchConfig, numAttrs)
static_assert(std::is_same<decltype(&::cuLaunchKernelEx),
                           CUresult (*)(const ::CUlaunchConfig *, ::CUfunction,
                                        void **, void **)>::value,
              "cuLaunchKernelEx differs from cuda.h");
static_assert(
    std::is_same<decltype(c::DriverApi::cuLaunchKernelEx),
                 c::CUresult (*)(const c::CUlaunchConfig *, c::CUfunction,
                                 void **, void **)>::value,
    "DriverApi::cuLaunchKernelEx");

#define QOPT_SAME_SIGNATURE(F)                                                 \
  static_assert(std::is_same<Abi<decltype(&::F)>::type,                        \
                             decltype(c::DriverApi::F)>::value,                \
                #F " differs from cuda.h");
QOPT_SAME_SIGNATURE(cuGetErrorName)
QOPT_SAME_SIGNATURE(cuGetErrorString)
QOPT_SAME_SIGNATURE(cuInit)
QOPT_SAME_SIGNATURE(cuDriverGetVersion)
QOPT_SAME_SIGNATURE(cuDeviceGetCount)
QOPT_SAME_SIGNATURE(cuDeviceGet)
QOPT_SAME_SIGNATURE(cuDeviceGetName)
QOPT_SAME_SIGNATURE(cuDeviceGetAttribute)
QOPT_SAME_SIGNATURE(cuDeviceTotalMem_v2)
QOPT_SAME_SIGNATURE(cuDevicePrimaryCtxRetain)
QOPT_SAME_SIGNATURE(cuDevicePrimaryCtxRelease_v2)
QOPT_SAME_SIGNATURE(cuCtxSetCurrent)
QOPT_SAME_SIGNATURE(cuCtxSynchronize)
QOPT_SAME_SIGNATURE(cuStreamCreate)
QOPT_SAME_SIGNATURE(cuStreamDestroy_v2)
QOPT_SAME_SIGNATURE(cuStreamSynchronize)
QOPT_SAME_SIGNATURE(cuModuleLoadDataEx)
QOPT_SAME_SIGNATURE(cuModuleUnload)
QOPT_SAME_SIGNATURE(cuModuleGetFunction)
QOPT_SAME_SIGNATURE(cuFuncSetAttribute)
QOPT_SAME_SIGNATURE(cuFuncGetAttribute)
QOPT_SAME_SIGNATURE(cuMemAlloc_v2)
QOPT_SAME_SIGNATURE(cuMemFree_v2)
QOPT_SAME_SIGNATURE(cuMemcpyHtoD_v2)
QOPT_SAME_SIGNATURE(cuMemcpyDtoH_v2)
QOPT_SAME_SIGNATURE(cuMemcpyDtoD_v2)
QOPT_SAME_SIGNATURE(cuMemcpyHtoDAsync_v2)
QOPT_SAME_SIGNATURE(cuMemcpyDtoHAsync_v2)
QOPT_SAME_SIGNATURE(cuMemcpyDtoDAsync_v2)
QOPT_SAME_SIGNATURE(cuMemsetD8_v2)
QOPT_SAME_SIGNATURE(cuLaunchKernel)
QOPT_SAME_SIGNATURE(cuEventCreate)
QOPT_SAME_SIGNATURE(cuEventRecord)
QOPT_SAME_SIGNATURE(cuEventSynchronize)
QOPT_SAME_SIGNATURE(cuEventElapsedTime_v2)
QOPT_SAME_SIGNATURE(cuEventDestroy_v2)
QOPT_SAME_SIGNATURE(cuStreamBeginCapture_v2)
QOPT_SAME_SIGNATURE(cuStreamEndCapture)
QOPT_SAME_SIGNATURE(cuGraphInstantiateWithFlags)
QOPT_SAME_SIGNATURE(cuGraphLaunch)
QOPT_SAME_SIGNATURE(cuGraphExecDestroy)
QOPT_SAME_SIGNATURE(cuGraphDestroy)

} // namespace

// The checks above are compile-time; the toolkit they compared against must
// be one the runtime accepts.
TEST(CudaDriverAbiTest, ToolkitIsNewEnough) {
  EXPECT_GE(CUDA_VERSION, c::kMinimumDriverVersion);
}
