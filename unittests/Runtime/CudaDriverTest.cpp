//===- CudaDriverTest.cpp - The CUDA driver layer without a GPU -----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Runs qopt-runtime/CudaDriver.h through dlopen against libraries that are
// not a CUDA driver (a missing file, libm) and against the fake driver of
// FakeCudaDriver.cpp, checking the exact messages of every failure and the
// data that goes through buffers and kernel parameters.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/CudaDriver.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

using namespace qrt::cuda;

namespace {

const char *const kFake = QOPT_FAKE_LIBCUDA;
const char *const kFakePartial = QOPT_FAKE_LIBCUDA_PARTIAL;

/// Sets QOPT_FAKE_CUDA (the fake driver's failure mode) and QOPT_LIBCUDA for
/// one test and clears them after it.
class CudaDriverTest : public ::testing::Test {
protected:
  void TearDown() override {
    unsetenv("QOPT_FAKE_CUDA");
    unsetenv("QOPT_LIBCUDA");
  }
  static void fakeMode(const char *mode) { setenv("QOPT_FAKE_CUDA", mode, 1); }

  /// The fake driver, opened, and a context on its device.
  void openFake() {
    std::string error;
    driver = Driver::open(kFake, error);
    ASSERT_TRUE(driver) << error;
    context = Context::create(*driver, 0, error);
    ASSERT_TRUE(context) << error;
  }

  std::unique_ptr<Driver> driver;
  std::unique_ptr<Context> context;
};

const char *const kPtx = ".version 8.4\n.target sm_90a\n"
                         ".visible .entry fill_bytes(.param .u64 p0)\n{}\n"
                         ".visible .entry fault()\n{}\n";

//===----------------------------------------------------------------------===//
// Opening the driver
//===----------------------------------------------------------------------===//

TEST_F(CudaDriverTest, MissingLibrary) {
  std::string error;
  EXPECT_FALSE(Driver::open("/nonexistent/libcuda.so", error));
  EXPECT_EQ(error, "no CUDA driver: /nonexistent/libcuda.so not found "
                   "(dlopen: /nonexistent/libcuda.so: cannot open shared "
                   "object file: No such file or directory)");
}

TEST_F(CudaDriverTest, LibraryFromEnvironment) {
  setenv("QOPT_LIBCUDA", "/nonexistent/libcuda.so", 1);
  std::string error;
  EXPECT_FALSE(Driver::open(error));
  EXPECT_EQ(error, "no CUDA driver: /nonexistent/libcuda.so (from "
                   "QOPT_LIBCUDA) not found (dlopen: /nonexistent/libcuda.so: "
                   "cannot open shared object file: No such file or "
                   "directory)");
  // An explicit path wins over the environment.
  ASSERT_TRUE(Driver::open(kFake, error)) << error;
}

TEST_F(CudaDriverTest, LibraryWithoutTheEntryPoints) {
  std::string error;
  EXPECT_FALSE(Driver::open("libm.so.6", error));
  EXPECT_EQ(error, "no usable CUDA driver: libm.so.6 lacks the driver entry "
                   "point cuInit (and 41 more)");
}

TEST_F(CudaDriverTest, DriverLackingSomeEntryPoints) {
  // cuEventElapsedTime_v2 falls back to cuEventElapsedTime: not missing.
  std::string error;
  EXPECT_FALSE(Driver::open(kFakePartial, error));
  EXPECT_EQ(error, std::string("no usable CUDA driver: ") + kFakePartial +
                       " lacks the driver entry point cuFuncSetAttribute (and "
                       "1 more)");
}

TEST_F(CudaDriverTest, NoDevice) {
  fakeMode("no-device");
  std::string error;
  EXPECT_FALSE(Driver::open(kFake, error));
  EXPECT_EQ(error, "no CUDA device: cuInit: CUDA_ERROR_NO_DEVICE (no "
                   "CUDA-capable device is detected)");
}

TEST_F(CudaDriverTest, DriverTooOld) {
  fakeMode("old");
  std::string error;
  EXPECT_FALSE(Driver::open(kFake, error));
  EXPECT_EQ(error, "CUDA driver too old: version 11.8 (11080); qopt needs "
                   "12.0 or newer");
}

TEST_F(CudaDriverTest, InitFails) {
  fakeMode("unknown");
  std::string error;
  EXPECT_FALSE(Driver::open(kFake, error));
  EXPECT_EQ(
      error,
      "no usable CUDA driver: cuInit: CUDA_ERROR_UNKNOWN (unknown error)");
}

TEST_F(CudaDriverTest, DeviceQueries) {
  std::string error;
  std::unique_ptr<Driver> d = Driver::open(kFake, error);
  ASSERT_TRUE(d) << error;
  EXPECT_EQ(d->version(), 12080);
  EXPECT_EQ(Driver::versionString(d->version()), "12.8");
  EXPECT_EQ(d->libraryName(), kFake);
  EXPECT_NE(d->libraryPath().find("qopt-fake-cuda"), std::string::npos);
  EXPECT_EQ(d->deviceCount(error), 1);
  std::optional<DeviceInfo> info = d->deviceInfo(0, error);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->name, "Fake H200");
  EXPECT_EQ(info->smName(), "sm_90");
  EXPECT_EQ(info->multiprocessors, 132);
  EXPECT_EQ(info->totalMemory, size_t(140) << 30);
  EXPECT_EQ(info->sharedMemoryPerBlockOptin, 227 * 1024);
  EXPECT_EQ(info->l2CacheBytes, 50 << 20);
  EXPECT_FALSE(d->deviceInfo(1, error));
  EXPECT_EQ(error, "no CUDA device 1: the driver reports 1 device (0)");
  EXPECT_EQ(d->errorMessage("cuFoo", "", 123456), "cuFoo: CUDA error 123456");
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

TEST_F(CudaDriverTest, BufferRoundTrip) {
  openFake();
  std::string error;
  std::unique_ptr<DeviceBuffer> a =
      DeviceBuffer::allocate(*context, 64, "a", error);
  std::unique_ptr<DeviceBuffer> b =
      DeviceBuffer::allocate(*context, 64, "b", error);
  ASSERT_TRUE(a && b) << error;
  EXPECT_EQ(a->size(), 64u);
  std::vector<unsigned char> in(64), out(64, 0);
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = static_cast<unsigned char>(3 * i + 1);
  ASSERT_TRUE(a->upload(in.data(), 64, error)) << error;
  ASSERT_TRUE(b->copyFrom(*a, 64, error)) << error;
  ASSERT_TRUE(b->download(out.data(), 64, error)) << error;
  EXPECT_EQ(out, in);

  // Partial copies at offsets, on the stream.
  ASSERT_TRUE(a->fill(0xAB, error)) << error;
  ASSERT_TRUE(a->uploadAsync(in.data(), 8, 56, error)) << error;
  ASSERT_TRUE(b->copyFromAsync(*a, 64, error)) << error;
  std::vector<unsigned char> tail(8, 0);
  ASSERT_TRUE(b->downloadAsync(tail.data(), 8, 56, error)) << error;
  ASSERT_TRUE(b->download(out.data(), 64, error)) << error;
  ASSERT_TRUE(context->synchronize(error)) << error;
  EXPECT_EQ(tail, std::vector<unsigned char>(in.begin(), in.begin() + 8));
  EXPECT_EQ(out[0], 0xAB);
  EXPECT_EQ(out[55], 0xAB);
  EXPECT_EQ(out[56], in[0]);
}

TEST_F(CudaDriverTest, BufferBounds) {
  openFake();
  std::string error;
  std::unique_ptr<DeviceBuffer> w =
      DeviceBuffer::allocate(*context, 64, "w_q", error);
  ASSERT_TRUE(w) << error;
  std::vector<unsigned char> host(128);
  EXPECT_FALSE(w->upload(host.data(), 100, error));
  EXPECT_EQ(error, "upload to buffer w_q: 100 bytes at offset 0 do not fit "
                   "its 64 bytes");
  EXPECT_FALSE(w->download(host.data(), 8, 60, error));
  EXPECT_EQ(error, "download from buffer w_q: 8 bytes at offset 60 do not "
                   "fit its 64 bytes");
  // An offset near SIZE_MAX must not wrap around.
  EXPECT_FALSE(w->uploadAsync(host.data(), 8, ~size_t(0) - 4, error));
  EXPECT_NE(error.find("do not fit its 64 bytes"), std::string::npos);
  std::unique_ptr<DeviceBuffer> small =
      DeviceBuffer::allocate(*context, 16, "x", error);
  ASSERT_TRUE(small) << error;
  EXPECT_FALSE(small->copyFrom(*w, 64, error));
  EXPECT_EQ(error, "copy to buffer x: 64 bytes at offset 0 do not fit its "
                   "16 bytes");
  EXPECT_FALSE(DeviceBuffer::allocate(*context, 0, "empty", error));
  EXPECT_EQ(error, "cannot allocate buffer empty of 0 bytes");
}

TEST_F(CudaDriverTest, OutOfMemory) {
  openFake();
  fakeMode("oom");
  std::string error;
  EXPECT_FALSE(DeviceBuffer::allocate(*context, 1024, "weights", error));
  EXPECT_EQ(error, "cuMemAlloc_v2(weights, 1024 bytes): "
                   "CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
}

//===----------------------------------------------------------------------===//
// Modules and launches
//===----------------------------------------------------------------------===//

TEST_F(CudaDriverTest, JitErrorLogInMessage) {
  openFake();
  std::string error;
  EXPECT_FALSE(Module::load(*context, "bogus ptx", "bad.ptx", error));
  EXPECT_EQ(error, "cuModuleLoadDataEx(bad.ptx): CUDA_ERROR_INVALID_PTX (a "
                   "PTX JIT compilation failed); JIT log: ptxas application "
                   "ptx input, line 3; error   : Unknown symbol 'bogus'\n"
                   "ptxas fatal   : Ptx assembly aborted due to errors");
  EXPECT_FALSE(Module::load(*context, "", "empty.ptx", error));
  EXPECT_EQ(error, "cannot load module empty.ptx: empty image");
  EXPECT_FALSE(Module::loadFile(*context, "/nonexistent/k.ptx", error));
  EXPECT_EQ(error, "/nonexistent/k.ptx: cannot open file: No such file or "
                   "directory");
}

TEST_F(CudaDriverTest, MissingKernel) {
  openFake();
  std::string error;
  std::unique_ptr<Module> m = Module::load(*context, kPtx, "k.ptx", error);
  ASSERT_TRUE(m) << error;
  EXPECT_FALSE(m->function("rms_norm_3", error));
  EXPECT_EQ(error, "cuModuleGetFunction(rms_norm_3 in k.ptx): "
                   "CUDA_ERROR_NOT_FOUND (named symbol not found)");
}

TEST_F(CudaDriverTest, LaunchPassesParameters) {
  openFake();
  std::string error;
  std::unique_ptr<Module> m = Module::load(*context, kPtx, "k.ptx", error);
  ASSERT_TRUE(m) << error;
  std::optional<Function> fill = m->function("fill_bytes", error);
  ASSERT_TRUE(fill) << error;
  EXPECT_EQ(fill->name(), "fill_bytes");
  std::unique_ptr<DeviceBuffer> buf =
      DeviceBuffer::allocate(*context, 32, "buf", error);
  ASSERT_TRUE(buf) << error;
  ASSERT_TRUE(buf->fill(0, error)) << error;
  CUdeviceptr ptr = buf->ptr();
  unsigned n = 20, value = 7;
  void *params[] = {&ptr, &n, &value};
  ASSERT_TRUE(fill->launch({1, 1, 1}, {128, 1, 1}, 0, params, error)) << error;
  ASSERT_TRUE(context->synchronize(error)) << error;
  std::vector<unsigned char> out(32);
  ASSERT_TRUE(buf->download(out.data(), 32, error)) << error;
  EXPECT_EQ(out[0], 7);
  EXPECT_EQ(out[19], 7);
  EXPECT_EQ(out[20], 0);
  EXPECT_EQ(context->lastKernel(), "fill_bytes");

  EXPECT_FALSE(fill->launch({0, 1, 1}, {128, 1, 1}, 0, params, error));
  EXPECT_EQ(error, "cuLaunchKernel(fill_bytes): CUDA_ERROR_INVALID_VALUE "
                   "(invalid argument) [grid 0x1x1, block 128x1x1, 0 bytes "
                   "of dynamic shared memory]");
}

TEST_F(CudaDriverTest, DynamicSharedMemory) {
  openFake();
  std::string error;
  std::unique_ptr<Module> m = Module::load(*context, kPtx, "k.ptx", error);
  ASSERT_TRUE(m) << error;
  std::optional<Function> f = m->function("fault", error);
  ASSERT_TRUE(f) << error;
  EXPECT_FALSE(f->launch({1, 1, 1}, {32, 1, 1}, 64 * 1024, nullptr, error));
  EXPECT_NE(error.find("65536 bytes of dynamic shared memory"),
            std::string::npos)
      << error;
  EXPECT_FALSE(f->setMaxDynamicSharedMemory(300 * 1024, error));
  EXPECT_EQ(error, "cuFuncSetAttribute(fault, MAX_DYNAMIC_SHARED_SIZE_BYTES "
                   "307200): CUDA_ERROR_INVALID_VALUE (invalid argument)");
  ASSERT_TRUE(f->setMaxDynamicSharedMemory(64 * 1024, error)) << error;
  EXPECT_EQ(
      f->attribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, error),
      64 * 1024);
  EXPECT_EQ(f->attribute(CU_FUNC_ATTRIBUTE_NUM_REGS, error), 40);
  EXPECT_FALSE(f->attribute(CU_FUNC_ATTRIBUTE_PTX_VERSION, error));
  EXPECT_EQ(error, "cuFuncGetAttribute(fault, attribute 5): "
                   "CUDA_ERROR_INVALID_VALUE (invalid argument)");
  EXPECT_TRUE(f->launch({1, 1, 1}, {32, 1, 1}, 64 * 1024, nullptr, error))
      << error;
}

TEST_F(CudaDriverTest, KernelFaultSurfacesAtSynchronize) {
  openFake();
  std::string error;
  std::unique_ptr<Module> m = Module::load(*context, kPtx, "k.ptx", error);
  ASSERT_TRUE(m) << error;
  std::optional<Function> f = m->function("fault", error);
  ASSERT_TRUE(f) << error;
  ASSERT_TRUE(f->launch({1, 1, 1}, {32, 1, 1}, 0, nullptr, error)) << error;
  EXPECT_FALSE(context->synchronize(error));
  EXPECT_EQ(error, "cuStreamSynchronize(after fault): "
                   "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was "
                   "encountered)");
}

//===----------------------------------------------------------------------===//
// Events
//===----------------------------------------------------------------------===//

TEST_F(CudaDriverTest, Events) {
  openFake();
  std::string error;
  std::unique_ptr<Event> start = Event::create(*context, "start", error);
  std::unique_ptr<Event> end = Event::create(*context, "end", error);
  ASSERT_TRUE(start && end) << error;
  EXPECT_FALSE(end->elapsedMsSince(*start, error));
  EXPECT_EQ(error, "cuEventElapsedTime(start -> end): "
                   "CUDA_ERROR_INVALID_HANDLE (invalid resource handle)");
  ASSERT_TRUE(start->record(error)) << error;
  ASSERT_TRUE(end->record(error)) << error;
  ASSERT_TRUE(end->synchronize(error)) << error;
  std::optional<float> ms = end->elapsedMsSince(*start, error);
  ASSERT_TRUE(ms) << error;
  EXPECT_GE(*ms, 0.0f);
}

} // namespace
