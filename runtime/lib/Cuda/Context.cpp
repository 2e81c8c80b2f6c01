//===- Context.cpp - CUDA contexts, device buffers and events -------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/CudaDriver.h"

using namespace qrt::cuda;

//===----------------------------------------------------------------------===//
// Context
//===----------------------------------------------------------------------===//

std::unique_ptr<Context> Context::create(const Driver &driver, int ordinal,
                                         std::string &error) {
  std::optional<DeviceInfo> info = driver.deviceInfo(ordinal, error);
  if (!info)
    return nullptr;
  std::unique_ptr<Context> context(new Context());
  context->driver_ = &driver;
  context->info_ = std::move(*info);
  const DriverApi &api = driver.api();
  std::string what = "device " + std::to_string(ordinal);
  if (!driver.check(api.cuDeviceGet(&context->device_, ordinal), "cuDeviceGet",
                    what, error))
    return nullptr;
  CUcontext primary = nullptr;
  if (!driver.check(api.cuDevicePrimaryCtxRetain(&primary, context->device_),
                    "cuDevicePrimaryCtxRetain", what, error))
    return nullptr;
  context->context_ = primary;
  if (!context->makeCurrent(error))
    return nullptr;
  if (!driver.check(api.cuStreamCreate(&context->stream_, CU_STREAM_DEFAULT),
                    "cuStreamCreate", what, error)) {
    context->stream_ = nullptr;
    return nullptr;
  }
  return context;
}

Context::~Context() {
  if (stream_)
    (void)api().cuStreamDestroy_v2(stream_);
  if (context_)
    (void)api().cuDevicePrimaryCtxRelease_v2(device_);
}

bool Context::makeCurrent(std::string &error) const {
  return driver_->check(api().cuCtxSetCurrent(context_), "cuCtxSetCurrent",
                        "device " + std::to_string(info_.ordinal), error);
}

bool Context::synchronize(std::string &error) const {
  return driver_->check(
      api().cuStreamSynchronize(stream_), "cuStreamSynchronize",
      lastKernel_.empty() ? std::string() : "after " + lastKernel_, error);
}

//===----------------------------------------------------------------------===//
// DeviceBuffer
//===----------------------------------------------------------------------===//

std::unique_ptr<DeviceBuffer> DeviceBuffer::allocate(Context &context,
                                                     size_t bytes,
                                                     const std::string &name,
                                                     std::string &error) {
  if (bytes == 0) {
    error = "cannot allocate buffer " + name + " of 0 bytes";
    return nullptr;
  }
  std::unique_ptr<DeviceBuffer> buffer(new DeviceBuffer());
  buffer->context_ = &context;
  buffer->name_ = name;
  CUdeviceptr ptr = 0;
  if (!context.driver().check(
          context.api().cuMemAlloc_v2(&ptr, bytes), "cuMemAlloc_v2",
          name + ", " + std::to_string(bytes) + " bytes", error))
    return nullptr;
  buffer->ptr_ = ptr;
  buffer->size_ = bytes;
  return buffer;
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_)
    (void)context_->api().cuMemFree_v2(ptr_);
}

bool DeviceBuffer::fits(const char *op, size_t bytes, size_t offset,
                        std::string &error) const {
  if (offset <= size_ && bytes <= size_ - offset)
    return true;
  error = std::string(op) + " buffer " + name_ + ": " + std::to_string(bytes) +
          " bytes at offset " + std::to_string(offset) + " do not fit its " +
          std::to_string(size_) + " bytes";
  return false;
}

bool DeviceBuffer::upload(const void *src, size_t bytes, size_t offset,
                          std::string &error) {
  if (!fits("upload to", bytes, offset, error))
    return false;
  return bytes == 0 ||
         context_->driver().check(
             context_->api().cuMemcpyHtoD_v2(ptr_ + offset, src, bytes),
             "cuMemcpyHtoD_v2", name_, error);
}

bool DeviceBuffer::download(void *dst, size_t bytes, size_t offset,
                            std::string &error) const {
  if (!fits("download from", bytes, offset, error))
    return false;
  return bytes == 0 ||
         context_->driver().check(
             context_->api().cuMemcpyDtoH_v2(dst, ptr_ + offset, bytes),
             "cuMemcpyDtoH_v2", name_, error);
}

bool DeviceBuffer::uploadAsync(const void *src, size_t bytes, size_t offset,
                               std::string &error) {
  if (!fits("upload to", bytes, offset, error))
    return false;
  return bytes == 0 || context_->driver().check(
                           context_->api().cuMemcpyHtoDAsync_v2(
                               ptr_ + offset, src, bytes, context_->stream()),
                           "cuMemcpyHtoDAsync_v2", name_, error);
}

bool DeviceBuffer::downloadAsync(void *dst, size_t bytes, size_t offset,
                                 std::string &error) const {
  if (!fits("download from", bytes, offset, error))
    return false;
  return bytes == 0 || context_->driver().check(
                           context_->api().cuMemcpyDtoHAsync_v2(
                               dst, ptr_ + offset, bytes, context_->stream()),
                           "cuMemcpyDtoHAsync_v2", name_, error);
}

bool DeviceBuffer::copyFrom(const DeviceBuffer &src, size_t bytes,
                            std::string &error) {
  if (!src.fits("copy from", bytes, 0, error) ||
      !fits("copy to", bytes, 0, error))
    return false;
  return bytes == 0 ||
         context_->driver().check(
             context_->api().cuMemcpyDtoD_v2(ptr_, src.ptr_, bytes),
             "cuMemcpyDtoD_v2", src.name_ + " -> " + name_, error);
}

bool DeviceBuffer::copyFromAsync(const DeviceBuffer &src, size_t bytes,
                                 std::string &error) {
  if (!src.fits("copy from", bytes, 0, error) ||
      !fits("copy to", bytes, 0, error))
    return false;
  return bytes == 0 ||
         context_->driver().check(
             context_->api().cuMemcpyDtoDAsync_v2(ptr_, src.ptr_, bytes,
                                                  context_->stream()),
             "cuMemcpyDtoDAsync_v2", src.name_ + " -> " + name_, error);
}

bool DeviceBuffer::fill(unsigned char value, std::string &error) {
  return context_->driver().check(
      context_->api().cuMemsetD8_v2(ptr_, value, size_), "cuMemsetD8_v2", name_,
      error);
}

//===----------------------------------------------------------------------===//
// Event
//===----------------------------------------------------------------------===//

std::unique_ptr<Event> Event::create(Context &context, const std::string &name,
                                     std::string &error) {
  std::unique_ptr<Event> event(new Event());
  event->context_ = &context;
  event->name_ = name;
  CUevent handle = nullptr;
  if (!context.driver().check(
          context.api().cuEventCreate(&handle, CU_EVENT_DEFAULT),
          "cuEventCreate", name, error))
    return nullptr;
  event->event_ = handle;
  return event;
}

Event::~Event() {
  if (event_)
    (void)context_->api().cuEventDestroy_v2(event_);
}

bool Event::record(std::string &error) {
  return context_->driver().check(
      context_->api().cuEventRecord(event_, context_->stream()),
      "cuEventRecord", name_, error);
}

bool Event::synchronize(std::string &error) const {
  return context_->driver().check(context_->api().cuEventSynchronize(event_),
                                  "cuEventSynchronize", name_, error);
}

std::optional<float> Event::elapsedMsSince(const Event &start,
                                           std::string &error) const {
  float ms = 0;
  if (!context_->driver().check(
          context_->api().cuEventElapsedTime_v2(&ms, start.event_, event_),
          "cuEventElapsedTime", start.name_ + " -> " + name_, error))
    return std::nullopt;
  return ms;
}

std::unique_ptr<Graph>
Graph::capture(Context &context, const std::string &name,
               const std::function<bool(std::string &)> &enqueue,
               std::string &error) {
  const Driver &driver = context.driver();
  const DriverApi &api = context.api();
  if (!driver.check(api.cuStreamBeginCapture_v2(
                        context.stream(), CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                    "cuStreamBeginCapture", name, error))
    return nullptr;
  std::unique_ptr<Graph> g(new Graph());
  g->context_ = &context;
  g->name_ = name;
  bool enqueued = enqueue(error);
  std::string endError;
  bool ended =
      driver.check(api.cuStreamEndCapture(context.stream(), &g->graph_),
                   "cuStreamEndCapture", name, endError);
  if (!enqueued)
    return nullptr;
  if (!ended) {
    error = endError;
    return nullptr;
  }
  if (!driver.check(api.cuGraphInstantiateWithFlags(&g->exec_, g->graph_, 0),
                    "cuGraphInstantiateWithFlags", name, error))
    return nullptr;
  return g;
}

Graph::~Graph() {
  if (exec_)
    (void)context_->api().cuGraphExecDestroy(exec_);
  if (graph_)
    (void)context_->api().cuGraphDestroy(graph_);
}

bool Graph::launch(std::string &error) const {
  return context_->driver().check(
      context_->api().cuGraphLaunch(exec_, context_->stream()), "cuGraphLaunch",
      name_, error);
}
