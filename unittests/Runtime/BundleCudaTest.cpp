//===- BundleCudaTest.cpp - The CUDA backend on the fake driver -----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// CudaBackend against FakeCudaDriver.cpp (host memory for device memory,
// a PTX "JIT" that looks for the entries): what a launch receives (the
// fake's probeN kernels write their grid, block, shared bytes, m and
// pointers to their last buffer), decode steps replayed from one CUDA
// graph, the cubin / PTX choice, per-kernel timing, and the exact message
// of every failure.
//
//===----------------------------------------------------------------------===//

#include "BundleTestSupport.h"

#include <cstdlib>
#include <dlfcn.h>

using namespace qrt;
using namespace qrt::test;

namespace {

const char *const kFake = QOPT_FAKE_LIBCUDA;

class BundleCuda : public ::testing::Test {
protected:
  void TearDown() override { unsetenv("QOPT_FAKE_CUDA"); }

  /// Loads `dir` on the fake driver; the backend stays null on failure,
  /// with `error` set.
  void load(const std::string &dir, CudaBackendOptions options = {}) {
    options.libcuda = kFake;
    backend.reset();
    bundle = Bundle::load(dir, error);
    ASSERT_TRUE(bundle) << error;
    auto b = std::make_unique<CudaBackend>(options);
    if (b->load(*bundle, 16, error))
      backend = std::move(b);
  }
  /// `error` with the bundle directory replaced by "DIR".
  std::string message(const std::string &dir) const {
    std::string e = error;
    for (size_t at; (at = e.find(dir)) != std::string::npos;)
      e.replace(at, dir.size(), "DIR");
    return e;
  }

  std::unique_ptr<Bundle> bundle;
  std::unique_ptr<CudaBackend> backend;
  std::string error;
};

TEST_F(BundleCuda, RunsTheSmallModel) {
  BundleBuilder bb = smallModel();
  std::string dir = bb.write();
  load(dir);
  ASSERT_TRUE(backend) << error;
  EXPECT_EQ(backend->deviceDescription(), "Fake H200 (sm_90, 140.0 GiB)");
  EXPECT_EQ(backend->moduleSource(), dir + "/kernels.ptx");
  EXPECT_EQ(backend->cubinSkipped(), "");
  backend->setTiming(true);
  std::vector<int32_t> tokens = {1, 5, 9}, positions = {0, 1, 2};
  ASSERT_TRUE(backend->step(tokens.data(), positions.data(), 3,
                            Sequence::Prefill, error))
      << error;
  // The fake kernels compute nothing: the arena was zeroed at load.
  std::vector<float> logits;
  ASSERT_TRUE(backend->logits(0, 3, logits, error)) << error;
  EXPECT_EQ(logits, std::vector<float>(3 * 16, 0.0f));
  int32_t next = -1;
  ASSERT_TRUE(backend->nextToken(next, error)) << error;
  EXPECT_EQ(next, 0);
  int32_t position = 3;
  ASSERT_TRUE(backend->step(&next, &position, 1, Sequence::Decode, error))
      << error;
  std::vector<KernelTiming> t = backend->timings();
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[2].name, "k_head");
  EXPECT_EQ(t[2].family, "gemm");
  EXPECT_EQ(t[2].launches, 2);
  EXPECT_GE(t[2].totalMs, 0.0);
  // Buffers go to the device and back; the caches and inputs too.
  std::vector<uint8_t> bytes(2048, 7), back;
  ASSERT_TRUE(backend->writeBuffer("h", bytes.data(), bytes.size(), error));
  ASSERT_TRUE(backend->readBuffer("h", 8, back, error)) << error;
  EXPECT_EQ(back, bytes);
  // The decode step wrote its token over the prefill's first.
  ASSERT_TRUE(backend->readBuffer("tokens", 3, back, error)) << error;
  EXPECT_EQ(i32Of(back), (std::vector<int32_t>{next, 5, 9}));
  ASSERT_TRUE(backend->readBuffer("positions", 1, back, error)) << error;
  EXPECT_EQ(i32Of(back), (std::vector<int32_t>{3}));
  ASSERT_TRUE(backend->resetCache(error)) << error;
}

TEST_F(BundleCuda, WhatALaunchReceives) {
  Random rnd(31);
  std::vector<float> b = rnd.bf16(16 * 32, -1, 1);
  BundleBuilder bb;
  bb.arena("a", "bf16", {-1, 32});
  bb.weight("b", "bf16", {16, 32}, bytesOfBF16(b));
  bb.arena("y", "f32", {-1, 16});
  bb.kernel("probe3", "gemm", gemmSpec("bf16", 16, 32), {"a", "b", "y"},
            {{"block", {64, 2, 1}},
             {"token_tile", 4},
             {"per_tile", 3},
             {"grid_y", 5},
             {"grid_z", 2},
             {"shared_bytes", 100000}});
  std::string dir = bb.write();
  load(dir);
  ASSERT_TRUE(backend) << error;
  ASSERT_TRUE(runStep(*backend, 5));
  std::vector<uint64_t> record(11);
  std::vector<uint8_t> out = read(*backend, "y", 5);
  std::memcpy(record.data(), out.data(), record.size() * 8);
  // ceil(5 / 4) * 3 blocks in x; the block, the opted-in shared bytes, m.
  EXPECT_EQ(std::vector<uint64_t>(record.begin(), record.begin() + 8),
            (std::vector<uint64_t>{6, 5, 2, 64, 2, 1, 100000, 5}));
  // The pointers, in argument order: a and y at their arena offsets, b at
  // the uploaded weight (device memory is host memory here).
  const bundle::Manifest &m = bundle->manifest();
  int64_t aOff = m.buffers[m.findBuffer("a")].offset;
  int64_t yOff = m.buffers[m.findBuffer("y")].offset;
  EXPECT_EQ(int64_t(record[10] - record[8]), yOff - aOff);
  std::vector<uint8_t> weight = bytesOfBF16(b);
  EXPECT_EQ(std::memcmp(reinterpret_cast<const void *>(record[9]),
                        weight.data(), weight.size()),
            0);
}

TEST_F(BundleCuda, SmallMKernels) {
  // A launch of m <= max_m rows runs the variant with its own launch; a
  // larger one, or any with smallMKernels off, the kernel itself.
  BundleBuilder bb;
  bb.arena("a", "bf16", {-1, 32});
  bb.weight("b", "bf16", {16, 32}, std::vector<uint8_t>(16 * 32 * 2));
  bb.arena("y", "f32", {-1, 16});
  bb.kernel("probe3", "gemm", gemmSpec("bf16", 16, 32), {"a", "b", "y"},
            {{"block", {64, 1, 1}},
             {"token_tile", 4},
             {"per_tile", 1},
             {"grid_y", 1},
             {"grid_z", 1},
             {"shared_bytes", 0}});
  json small = {{"block", {256, 1, 1}}, {"token_tile", 2}, {"per_tile", 1},
                {"grid_y", 7},          {"grid_z", 1},     {"shared_bytes", 0}};
  bb.manifest["kernels"][0]["small_m"] = {
      {{"name", "probe3_small"}, {"max_m", 3}, {"launch", small}}};
  std::string dir = bb.write();
  for (bool on : {true, false}) {
    CudaBackendOptions options;
    options.smallMKernels = on;
    load(dir, options);
    ASSERT_TRUE(backend) << error;
    for (int m : {1, 3, 4, 5}) {
      ASSERT_TRUE(runStep(*backend, m));
      std::vector<uint64_t> record(8);
      std::vector<uint8_t> out = read(*backend, "y", 5);
      std::memcpy(record.data(), out.data(), record.size() * 8);
      bool variant = on && m <= 3;
      SCOPED_TRACE("m " + std::to_string(m) + (on ? "" : " (off)"));
      EXPECT_EQ(backend->launchedName(0, m),
                variant ? "probe3_small" : "probe3");
      uint64_t gridX = variant ? (m + 1) / 2 : (m + 3) / 4;
      EXPECT_EQ(record, (std::vector<uint64_t>{gridX, variant ? 7u : 1u, 1,
                                               variant ? 256u : 64u, 1, 1, 0,
                                               uint64_t(m)}));
    }
  }
}

TEST_F(BundleCuda, DecodeStepsReplayOneGraph) {
  BundleBuilder bb;
  bb.arena("a", "bf16", {-1, 32});
  bb.weight("b", "bf16", {16, 32}, std::vector<uint8_t>(16 * 32 * 2, 0));
  bb.arena("y", "f32", {-1, 16});
  bb.kernel("probe3", "gemm", gemmSpec("bf16", 16, 32), {"a", "b", "y"},
            {{"block", {64, 1, 1}},
             {"token_tile", 1},
             {"per_tile", 2},
             {"grid_y", 1},
             {"grid_z", 1},
             {"shared_bytes", 0}});
  std::string dir = bb.write();
  // The fake's count of graph launches (the runtime opened the same library).
  void *fake = dlopen(kFake, RTLD_NOW);
  ASSERT_TRUE(fake);
  auto *graphLaunches =
      static_cast<int *>(dlsym(fake, "qoptFakeGraphLaunches"));
  ASSERT_TRUE(graphLaunches);
  for (bool graphs : {true, false}) {
    CudaBackendOptions options;
    options.graphs = graphs;
    load(dir, options);
    ASSERT_TRUE(backend) << error;
    int launchesBefore = *graphLaunches;
    std::vector<uint64_t> first;
    for (int32_t position = 0; position < 3; ++position) {
      // Clear the probe's record: each step must write it again.
      std::vector<uint8_t> zeros(16 * 4, 0);
      ASSERT_TRUE(backend->writeBuffer("y", zeros.data(), zeros.size(), error));
      int32_t token = 1;
      ASSERT_TRUE(backend->step(&token, &position, 1, Sequence::Decode, error))
          << error;
      std::vector<uint64_t> record(11);
      // The record (88 bytes) spans two rows of y.
      std::memcpy(record.data(), read(*backend, "y", 2).data(), 11 * 8);
      // grid 2 x 1 x 1, block 64 x 1 x 1, no shared memory, m = 1.
      EXPECT_EQ(std::vector<uint64_t>(record.begin(), record.begin() + 8),
                (std::vector<uint64_t>{2, 1, 1, 64, 1, 1, 0, 1}))
          << graphs << " " << position;
      if (position == 0)
        first = record;
      EXPECT_EQ(record, first) << "the same pointers at every step";
    }
    EXPECT_EQ(*graphLaunches - launchesBefore, graphs ? 3 : 0);
    // A prefill step launches its kernels one by one.
    ASSERT_TRUE(runStep(*backend, 2));
    EXPECT_EQ(*graphLaunches - launchesBefore, graphs ? 3 : 0);
  }
  dlclose(fake);
}

TEST_F(BundleCuda, ProgrammaticLaunchesOfGridDependentBundles) {
  BundleBuilder bb;
  bb.arena("a", "bf16", {-1, 32});
  bb.weight("b", "bf16", {16, 32}, std::vector<uint8_t>(16 * 32 * 2, 0));
  bb.arena("y", "f32", {-1, 16});
  bb.kernel("probe3", "gemm", gemmSpec("bf16", 16, 32), {"a", "b", "y"},
            {{"block", {64, 1, 1}},
             {"token_tile", 1},
             {"per_tile", 2},
             {"grid_y", 1},
             {"grid_z", 1},
             {"shared_bytes", 0}});
  void *fake = dlopen(kFake, RTLD_NOW);
  ASSERT_TRUE(fake);
  auto *programmatic =
      static_cast<int *>(dlsym(fake, "qoptFakeProgrammaticLaunches"));
  ASSERT_TRUE(programmatic);
  for (bool gridDependency : {false, true})
    for (bool option : {true, false})
      for (bool graphs : {true, false}) {
        SCOPED_TRACE(std::string("grid_dependency ") +
                     (gridDependency ? "true" : "false") +
                     (option ? "" : ", --no-programmatic-launch") +
                     (graphs ? ", graphs" : ""));
        bb.manifest["grid_dependency"] = gridDependency;
        std::string dir = bb.write();
        CudaBackendOptions options;
        options.programmaticLaunch = option;
        options.graphs = graphs;
        load(dir, options);
        ASSERT_TRUE(backend) << error;
        bool expected = gridDependency && option;
        EXPECT_EQ(backend->programmaticLaunches(), expected);
        int before = *programmatic;
        // A prefill step and three decode steps: the same launches either
        // way (the graph captures the first decode step's), with the fake
        // logits kernel BundleBuilder adds.
        ASSERT_TRUE(runStep(*backend, 2));
        for (int32_t position = 2; position < 5; ++position) {
          int32_t token = 1;
          ASSERT_TRUE(
              backend->step(&token, &position, 1, Sequence::Decode, error))
              << error;
          std::vector<uint64_t> record(8);
          std::memcpy(record.data(), read(*backend, "y", 2).data(), 8 * 8);
          EXPECT_EQ(record, (std::vector<uint64_t>{2, 1, 1, 64, 1, 1, 0, 1}));
        }
        // Every kernel of one decode step (the captured one) or three; the
        // prefill step's launch one after the other.
        int kernels = static_cast<int>(bundle->manifest().kernels.size());
        EXPECT_EQ(*programmatic - before,
                  expected ? (graphs ? 1 : 3) * kernels : 0);
      }
  dlclose(fake);
}

TEST_F(BundleCuda, GridDependencyIsABoolean) {
  BundleBuilder bb = smallModel();
  bb.manifest["grid_dependency"] = 1;
  std::string dir = bb.write();
  EXPECT_FALSE(Bundle::load(dir, error));
  EXPECT_EQ(message(dir), "DIR/manifest.json: grid_dependency: expected a "
                          "boolean, got an integer");
}

TEST_F(BundleCuda, AFaultInTheDecodeGraph) {
  BundleBuilder bb = smallModel();
  bb.manifest["kernels"][3]["name"] = "fault";
  bb.manifest["decode"] = {3, 0, 1, 2};
  std::string dir = bb.write();
  load(dir);
  ASSERT_TRUE(backend) << error;
  int32_t token = 1, position = 0;
  EXPECT_FALSE(backend->step(&token, &position, 1, Sequence::Decode, error));
  EXPECT_EQ(error, "a kernel of the decode step (a CUDA graph) failed: "
                   "cuStreamSynchronize(after k_head): "
                   "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was "
                   "encountered) (synchronizing after every kernel, which "
                   "launches them one by one, names it)");
}

TEST_F(BundleCuda, CubinOrPtx) {
  BundleBuilder bb = smallModel();
  bb.manifest["cubin"] = "kernels.sm_90a.cubin";
  std::string dir = bb.write();
  // A cubin the driver refuses: the PTX is loaded instead.
  writeText(dir + "/kernels.sm_90a.cubin", "bogus");
  load(dir);
  ASSERT_TRUE(backend) << error;
  EXPECT_EQ(backend->moduleSource(), dir + "/kernels.ptx");
  EXPECT_EQ(backend->cubinSkipped(),
            "cuModuleLoadDataEx(" + dir +
                "/kernels.sm_90a.cubin): CUDA_ERROR_INVALID_PTX (a PTX JIT "
                "compilation failed); JIT log: ptxas application ptx input, "
                "line 3; error   : Unknown symbol 'bogus'\nptxas fatal   : "
                "Ptx assembly aborted due to errors");
  // A cubin it takes is preferred, unless the PTX is asked for.
  std::string ptx;
  {
    std::ifstream in(dir + "/kernels.ptx");
    ptx.assign(std::istreambuf_iterator<char>(in), {});
  }
  writeText(dir + "/kernels.sm_90a.cubin", ptx);
  load(dir);
  ASSERT_TRUE(backend) << error;
  EXPECT_EQ(backend->moduleSource(), dir + "/kernels.sm_90a.cubin");
  CudaBackendOptions forcePtx;
  forcePtx.forcePtx = true;
  load(dir, forcePtx);
  ASSERT_TRUE(backend) << error;
  EXPECT_EQ(backend->moduleSource(), dir + "/kernels.ptx");
}

TEST_F(BundleCuda, LoadErrors) {
  BundleBuilder bb = smallModel();
  std::string dir = bb.write();
  writeText(dir + "/kernels.ptx", ".version 8.4\n.visible .entry k_embed()\n");
  load(dir);
  EXPECT_FALSE(backend);
  EXPECT_EQ(message(dir), "cuModuleGetFunction(k_norm in DIR/kernels.ptx): "
                          "CUDA_ERROR_NOT_FOUND (named symbol not found)");
  writeText(dir + "/kernels.ptx", "bogus");
  load(dir);
  EXPECT_EQ(message(dir),
            "cuModuleLoadDataEx(DIR/kernels.ptx): CUDA_ERROR_INVALID_PTX (a "
            "PTX JIT compilation failed); JIT log: ptxas application ptx "
            "input, line 3; error   : Unknown symbol 'bogus'\nptxas fatal   : "
            "Ptx assembly aborted due to errors");

  bb.manifest["kernels"][2]["launch"]["shared_bytes"] = 300000;
  dir = bb.write();
  load(dir);
  EXPECT_FALSE(backend);
  EXPECT_EQ(error, "cuFuncSetAttribute(k_head, MAX_DYNAMIC_SHARED_SIZE_BYTES "
                   "300000): CUDA_ERROR_INVALID_VALUE (invalid argument)");

  dir = smallModel().write();
  setenv("QOPT_FAKE_CUDA", "oom", 1);
  load(dir);
  EXPECT_FALSE(backend);
  EXPECT_EQ(error, "cuMemAlloc_v2(weights, 4352 bytes): "
                   "CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  unsetenv("QOPT_FAKE_CUDA");

  CudaBackend missing({"/nonexistent/libcuda.so"});
  std::unique_ptr<Bundle> b = Bundle::load(dir, error);
  ASSERT_TRUE(b) << error;
  EXPECT_FALSE(missing.load(*b, 16, error));
  EXPECT_EQ(error, "no CUDA driver: /nonexistent/libcuda.so not found "
                   "(dlopen: /nonexistent/libcuda.so: cannot open shared "
                   "object file: No such file or directory)");
}

TEST_F(BundleCuda, AKernelThatFaults) {
  // The fake's kernel "fault" makes the next synchronization fail.
  BundleBuilder bb = smallModel();
  bb.manifest["kernels"][3]["name"] = "fault";
  bb.manifest["prefill"] = {3, 0, 1, 2};
  std::string dir = bb.write();
  for (bool each : {false, true}) {
    CudaBackendOptions options;
    options.syncEachKernel = each;
    load(dir, options);
    ASSERT_TRUE(backend) << error;
    std::vector<int32_t> tokens = {1, 2}, positions = {0, 1};
    EXPECT_FALSE(backend->step(tokens.data(), positions.data(), 2,
                               Sequence::Prefill, error));
    if (each)
      EXPECT_EQ(error, "kernels[3] (fault, argmax) failed: "
                       "cuStreamSynchronize(after fault): "
                       "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access "
                       "was encountered)");
    else
      EXPECT_EQ(error, "a kernel of the step failed: cuStreamSynchronize(after "
                       "k_head): CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory "
                       "access was encountered) (the first kernel that failed "
                       "may be an earlier one; synchronizing after every "
                       "kernel names it)");
    std::vector<float> logits;
    EXPECT_FALSE(backend->logits(0, 1, logits, error));
  }
}

} // namespace
