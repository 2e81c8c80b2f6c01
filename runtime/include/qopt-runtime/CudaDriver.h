//===- CudaDriver.h - The CUDA driver, opened at run time -------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qopt's access to NVIDIA GPUs: the CUDA driver library (libcuda.so.1) is
// opened with dlopen when a program asks for it, never linked, so every
// program of the runtime builds and runs on machines with no CUDA at all and
// reports one clear message when it is asked for a GPU there. No CUDA
// runtime API (libcudart) is used.
//
//   Driver        the opened library, its entry points, device queries
//   Context       one device: its primary context and one stream
//   DeviceBuffer  device memory (cuMemAlloc) with copies to and from it
//   Module        a PTX or cubin image (cuModuleLoadDataEx); its Functions
//   Function      one kernel: attributes, launch on the context's stream
//   Event         a stream event, for timing
//
// Errors: nothing throws. A call that creates an object returns null
// (std::unique_ptr), one that computes a value returns std::nullopt, and the
// others return false; each then sets `error` to one message. A failed driver
// call reads "<call>(<what>): <CUDA error name> (<CUDA error string>)", e.g.
//   cuLaunchKernel(rms_norm_3): CUDA_ERROR_INVALID_VALUE (invalid argument)
// where <what> names the kernel, buffer, module, event or device concerned.
//
// Lifetimes and threads: the caller owns every object; there is no global
// state. A Driver must outlive its Contexts, and a Context the buffers,
// modules, functions and events made from it. A Context is current on the
// thread that created it; another thread calls makeCurrent() before using
// it or its objects. The objects are not thread-safe: one thread at a time.
//
// Ordering: a Context's stream is a blocking stream, so the synchronous
// copies and memset (which run on the legacy default stream) are ordered
// after the kernels launched on it; the *Async copies and launches run on
// the stream in issue order and complete by synchronize().
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_CUDADRIVER_H
#define QOPT_RUNTIME_CUDADRIVER_H

#include "qopt-runtime/CudaDriverApi.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qrt {
namespace cuda {

/// The library opened when no path is given and QOPT_LIBCUDA is not set.
constexpr const char *kDefaultDriverLibrary = "libcuda.so.1";
/// The oldest driver accepted, as cuDriverGetVersion reports it (12.0).
constexpr int kMinimumDriverVersion = 12000;

/// What the driver reports about one device.
struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int computeMajor = 0, computeMinor = 0;
  int multiprocessors = 0;
  size_t totalMemory = 0; // bytes
  int maxThreadsPerBlock = 0;
  int maxThreadsPerMultiprocessor = 0;
  int warpSize = 0;
  int registersPerBlock = 0;
  int sharedMemoryPerBlock = 0;      // bytes, without opt-in
  int sharedMemoryPerBlockOptin = 0; // bytes, the most a kernel may ask for
  int sharedMemoryPerMultiprocessor = 0;
  int l2CacheBytes = 0;

  /// "sm_90" for compute capability 9.0.
  std::string smName() const;
};

/// The opened driver library.
class Driver {
public:
  /// Opens the driver: `path` when not empty, else the library named by the
  /// environment variable QOPT_LIBCUDA when set, else libcuda.so.1 (found by
  /// the dynamic loader's search). Resolves every entry point of DriverApi,
  /// checks the driver version (kMinimumDriverVersion) and calls cuInit(0).
  /// On failure returns null with one of:
  ///   no CUDA driver: <lib> not found (dlopen: <dlerror>)
  ///   no CUDA driver: <lib> cannot be loaded (dlopen: <dlerror>)
  ///   no usable CUDA driver: <lib> lacks the driver entry point <sym>[ (and
  ///     N more)]
  ///   CUDA driver too old: version 11.8 (11080); qopt needs 12.0 or newer
  ///   no CUDA device: cuInit: CUDA_ERROR_NO_DEVICE (...)
  ///   no CUDA driver: <lib> is the CUDA toolkit's stub library, not a
  ///     driver (cuDriverGetVersion: CUDA_ERROR_STUB_LIBRARY ...)
  ///   no usable CUDA driver: cuInit: <name> (<string>)
  /// where <lib> is the name opened, followed by "(from QOPT_LIBCUDA)" when
  /// it came from the environment.
  static std::unique_ptr<Driver> open(std::string &error);
  static std::unique_ptr<Driver> open(const std::string &path,
                                      std::string &error);
  ~Driver();
  Driver(const Driver &) = delete;
  Driver &operator=(const Driver &) = delete;

  /// The name the library was opened by, and the file the loader chose.
  const std::string &libraryName() const { return libraryName_; }
  const std::string &libraryPath() const { return libraryPath_; }
  /// cuDriverGetVersion: 1000 * major + 10 * minor (13000 is CUDA 13.0).
  int version() const { return version_; }
  /// "13.0" for 13000.
  static std::string versionString(int version);

  /// The resolved entry points.
  const DriverApi &api() const { return api_; }

  /// The message of a failed driver call:
  ///   <call>(<what>): <name> (<string>)     (no parentheses if `what` is
  ///   empty; "CUDA error <n>" for a code the driver cannot name)
  std::string errorMessage(const char *call, const std::string &what,
                           CUresult result) const;
  /// True when `result` is CUDA_SUCCESS; else sets `error` to
  /// errorMessage(call, what, result) and returns false.
  bool check(CUresult result, const char *call, const std::string &what,
             std::string &error) const;

  /// cuDeviceGetCount.
  std::optional<int> deviceCount(std::string &error) const;
  /// The attributes of device `ordinal`; "no CUDA device <n>: ..." when the
  /// driver has no such device.
  std::optional<DeviceInfo> deviceInfo(int ordinal, std::string &error) const;

private:
  Driver() = default;
  void *handle_ = nullptr;
  std::string libraryName_, libraryPath_;
  int version_ = 0;
  DriverApi api_{};
};

/// Launch dimensions.
struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

/// One device, its primary context and one stream.
class Context {
public:
  /// Retains the primary context of device `ordinal`, makes it current on
  /// the calling thread and creates a blocking stream. `driver` must outlive
  /// the Context.
  static std::unique_ptr<Context> create(const Driver &driver, int ordinal,
                                         std::string &error);
  /// Destroys the stream and releases the primary context.
  ~Context();
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;

  const Driver &driver() const { return *driver_; }
  const DriverApi &api() const { return driver_->api(); }
  const DeviceInfo &device() const { return info_; }
  CUdevice deviceHandle() const { return device_; }
  CUcontext handle() const { return context_; }
  CUstream stream() const { return stream_; }

  /// Makes the context current on the calling thread (cuCtxSetCurrent).
  bool makeCurrent(std::string &error) const;
  /// Waits for everything issued on the stream (cuStreamSynchronize); a
  /// failure names the last kernel launched, as asynchronous kernel faults
  /// surface here.
  bool synchronize(std::string &error) const;

  /// The last kernel launched on the stream ("" before any); what a failed
  /// synchronize() reports.
  const std::string &lastKernel() const { return lastKernel_; }

  /// Whether launches may be programmatic (Function::launch): the driver
  /// has cuLaunchKernelEx and the device is sm_90 or later.
  bool programmaticLaunch() const {
    return api().cuLaunchKernelEx && info_.computeMajor >= 9;
  }

private:
  friend class Function;
  Context() = default;
  const Driver *driver_ = nullptr;
  DeviceInfo info_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  CUstream stream_ = nullptr;
  std::string lastKernel_;
};

/// A device allocation. Byte counts and offsets are checked against its size
/// before any driver call ("<op> buffer <name>: <n> bytes at offset <o> do
/// not fit its <size> bytes").
class DeviceBuffer {
public:
  /// cuMemAlloc_v2 of `bytes` (at least 1) in `context`; `name` names the
  /// buffer in messages.
  static std::unique_ptr<DeviceBuffer> allocate(Context &context, size_t bytes,
                                                const std::string &name,
                                                std::string &error);
  /// cuMemFree_v2 (a failure there cannot be reported and is ignored).
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  CUdeviceptr ptr() const { return ptr_; }
  size_t size() const { return size_; }
  const std::string &name() const { return name_; }

  /// Copies `bytes` from host memory to the buffer at `offset`; returns when
  /// the copy is done (cuMemcpyHtoD_v2).
  bool upload(const void *src, size_t bytes, size_t offset, std::string &error);
  bool upload(const void *src, size_t bytes, std::string &error) {
    return upload(src, bytes, 0, error);
  }
  /// Copies `bytes` at `offset` of the buffer to host memory; returns when
  /// they are there (cuMemcpyDtoH_v2).
  bool download(void *dst, size_t bytes, size_t offset,
                std::string &error) const;
  bool download(void *dst, size_t bytes, std::string &error) const {
    return download(dst, bytes, 0, error);
  }
  /// The same on the context's stream (cuMemcpy*Async_v2): the host memory
  /// must stay valid (and, for a download, unread) until synchronize().
  bool uploadAsync(const void *src, size_t bytes, size_t offset,
                   std::string &error);
  bool downloadAsync(void *dst, size_t bytes, size_t offset,
                     std::string &error) const;
  /// Copies the first `bytes` of `src` to the start of this buffer
  /// (cuMemcpyDtoD_v2, or cuMemcpyDtoDAsync_v2 on the stream).
  bool copyFrom(const DeviceBuffer &src, size_t bytes, std::string &error);
  bool copyFromAsync(const DeviceBuffer &src, size_t bytes, std::string &error);
  /// Sets every byte to `value` (cuMemsetD8_v2).
  bool fill(unsigned char value, std::string &error);

private:
  DeviceBuffer() = default;
  bool fits(const char *op, size_t bytes, size_t offset,
            std::string &error) const;
  Context *context_ = nullptr;
  CUdeviceptr ptr_ = 0;
  size_t size_ = 0;
  std::string name_;
};

class Module;

/// One kernel of a loaded Module; valid while the Module lives.
class Function {
public:
  CUfunction handle() const { return function_; }
  const std::string &name() const { return name_; }

  /// cuFuncGetAttribute of a CU_FUNC_ATTRIBUTE_* value.
  std::optional<int> attribute(int attribute, std::string &error) const;
  /// Lets the kernel ask for up to `bytes` of dynamic shared memory
  /// (cuFuncSetAttribute CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
  /// needed above 48 KiB.
  bool setMaxDynamicSharedMemory(int bytes, std::string &error) const;
  /// Launches the kernel on the context's stream (cuLaunchKernel) with
  /// `params` (one pointer per kernel parameter, to its value). A failure
  /// reads "cuLaunchKernel(<kernel>): <error> [grid XxYxZ, block XxYxZ,
  /// <n> bytes of dynamic shared memory]". Faults inside the kernel surface
  /// at the next synchronize(). With `programmatic` (where
  /// Context::programmaticLaunch(); ignored elsewhere) it goes through
  /// cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_-
  /// SERIALIZATION: the kernel may start while the one ahead of it
  /// finishes, so it must wait for it (griddepcontrol.wait) itself.
  bool launch(Dim3 grid, Dim3 block, unsigned sharedBytes, void **params,
              std::string &error, bool programmatic = false) const;

private:
  friend class Module;
  Function(Context *context, CUfunction function, std::string name)
      : context_(context), function_(function), name_(std::move(name)) {}
  Context *context_;
  CUfunction function_;
  std::string name_;
};

/// A loaded PTX, cubin or fatbin image.
class Module {
public:
  /// cuModuleLoadDataEx of `image` (PTX text, which the driver compiles for
  /// the device, or an ELF cubin / fatbin); `name` names it in messages. The
  /// driver's JIT error log, when it writes one, follows the message:
  ///   cuModuleLoadDataEx(<name>): CUDA_ERROR_INVALID_PTX (a PTX JIT
  ///   compilation failed); JIT log: <log>
  static std::unique_ptr<Module> load(Context &context,
                                      const std::string &image,
                                      const std::string &name,
                                      std::string &error);
  /// Reads the image from `path` and loads it under that name.
  static std::unique_ptr<Module>
  loadFile(Context &context, const std::string &path, std::string &error);
  /// cuModuleUnload.
  ~Module();
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;

  const std::string &name() const { return name_; }
  CUmodule handle() const { return module_; }
  /// The kernel `kernel` (cuModuleGetFunction): "cuModuleGetFunction(<kernel>
  /// in <module>): CUDA_ERROR_NOT_FOUND (named symbol not found)" if absent.
  std::optional<Function> function(const std::string &kernel,
                                   std::string &error) const;

private:
  Module() = default;
  Context *context_ = nullptr;
  CUmodule module_ = nullptr;
  std::string name_;
};

/// A stream event, created with timing enabled.
class Event {
public:
  static std::unique_ptr<Event>
  create(Context &context, const std::string &name, std::string &error);
  ~Event();
  Event(const Event &) = delete;
  Event &operator=(const Event &) = delete;

  const std::string &name() const { return name_; }
  CUevent handle() const { return event_; }
  /// Records the event on the context's stream.
  bool record(std::string &error);
  /// Waits until the work recorded before the event is done.
  bool synchronize(std::string &error) const;
  /// Milliseconds from `start` to this event, both recorded and completed.
  std::optional<float> elapsedMsSince(const Event &start,
                                      std::string &error) const;

private:
  Event() = default;
  Context *context_ = nullptr;
  CUevent event_ = nullptr;
  std::string name_;
};

/// Launches captured once from the context's stream and replayed as one
/// graph (the decode step: its kernels' arguments do not change between
/// steps, only the buffers' contents).
class Graph {
public:
  /// Captures what `enqueue` puts on the context's stream
  /// (cuStreamBeginCapture_v2 thread-local, cuStreamEndCapture) and
  /// instantiates it (cuGraphInstantiateWithFlags). The capture is ended
  /// whatever `enqueue` returns; its error is the one reported.
  static std::unique_ptr<Graph>
  capture(Context &context, const std::string &name,
          const std::function<bool(std::string &)> &enqueue,
          std::string &error);
  ~Graph();
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  /// Launches the graph on the context's stream (cuGraphLaunch); faults
  /// surface at the next synchronize().
  bool launch(std::string &error) const;

private:
  Graph() = default;
  Context *context_ = nullptr;
  CUgraph graph_ = nullptr;
  CUgraphExec exec_ = nullptr;
  std::string name_;
};

} // namespace cuda
} // namespace qrt

#endif // QOPT_RUNTIME_CUDADRIVER_H
