//===- KernelCheckTest.cpp - The kernel test driver -----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// checkKernels on hand-made bundles: the CPU backend against itself passes
// every check (with the exact run of the s8 GEMM); a backend whose kernel
// is off by a little in one element, or writes nothing, fails exactly that
// kernel; a kernels-only bundle (no weights file) is checked the same way.
//
//===----------------------------------------------------------------------===//

#include "BundleTestSupport.h"

#include "qopt-runtime/KernelCheck.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

namespace {

using namespace qrt;
using namespace qrt::test;

/// The small model plus an s8 GEMM (per-token x per-channel, int_bias) and
/// a W4A16 GEMM with group scales and zero points.
BundleBuilder checkModel() {
  BundleBuilder bb = smallModel(16, 64);
  Random rnd(7);
  bb.arena("q", "i8", {-1, 64});
  bb.arena("qs", "f32", {-1});
  bb.arena("o8", "f32", {-1, 32});
  bb.arena("o4", "bf16", {-1, 32});
  bb.weight("b8", "i8", {32, 64}, bytesOfI8(rnd.ints(32 * 64, -127, 127)));
  bb.weight("s8", "f32", {32}, bytesOfF32(rnd.uniform(32, 0.01f, 0.02f)));
  bb.weight("ib", "i32", {32}, bytesOfI32(rnd.ints(32, -50, 50)));
  bb.weight("b4", "i4x2", {32, 64}, bytesOfI4(rnd.ints(32 * 64, -8, 7), 64));
  bb.weight("s4", "f32", {32, 2}, bytesOfF32(rnd.uniform(64, 0.01f, 0.02f)));
  bb.weight("z4", "i32", {32, 2}, bytesOfI32(rnd.ints(64, -3, 3)));
  bb.kernel("k_s8", "gemm",
            gemmSpec("s8", 32, 64,
                     {{"a_scale", "per_token"},
                      {"b_scale", "per_channel"},
                      {"int_bias", true}}),
            {"q", "qs", "b8", "s8", "ib", "o8"});
  bb.kernel("k_w4", "gemm",
            gemmSpec("w4a16", 32, 64,
                     {{"b_scale", "per_group"},
                      {"group_size", 32},
                      {"b_zero_points", true},
                      {"out_type", "bf16"}}),
            {"n", "b4", "s4", "z4", "o4"});
  return bb;
}

/// The CPU backend, with kernel `target` changed: its first output element
/// moved by (|v| + 1) * nudge, or not run at all.
class FaultyBackend : public CpuBackend {
public:
  FaultyBackend(std::string target, std::string output, double nudge, bool skip)
      : CpuBackend(1), target(std::move(target)), output(std::move(output)),
        nudge(nudge), skip(skip) {}

protected:
  bool doLaunch(int kernel, int64_t m, std::string &error) override {
    bool hit = bundle()->manifest().kernels[kernel].name == target;
    if (hit && skip)
      return true;
    if (!CpuBackend::doLaunch(kernel, m, error))
      return false;
    if (!hit)
      return true;
    std::vector<uint8_t> bytes;
    if (!readBuffer(output, m, bytes, error))
      return false;
    float v;
    std::memcpy(&v, bytes.data(), 4);
    v += static_cast<float>((std::fabs(v) + 1) * nudge);
    std::memcpy(bytes.data(), &v, 4);
    return writeBuffer(output, bytes.data(), bytes.size(), error);
  }

private:
  std::string target, output;
  double nudge;
  bool skip;
};

std::vector<KernelCheckResult> check(const Bundle &bundle, Backend &test,
                                     std::vector<int64_t> rows = {1, 5, 8}) {
  CpuBackend ref(1);
  std::string error;
  EXPECT_TRUE(ref.load(bundle, 16, error)) << error;
  EXPECT_TRUE(test.load(bundle, 16, error)) << error;
  KernelCheckOptions o;
  o.rows = std::move(rows);
  std::vector<KernelCheckResult> results;
  std::set<std::string> seen;
  EXPECT_TRUE(checkKernels(bundle, ref, test, o, results, seen, error))
      << error;
  return results;
}

TEST(KernelCheck, ReferenceAgainstItselfPasses) {
  Loaded l = loadCpu(checkModel().write());
  ASSERT_TRUE(l.bundle);
  CpuBackend test(1);
  std::vector<KernelCheckResult> results = check(*l.bundle, test);
  // 6 kernels at 3 token counts, and the exact run of the s8 GEMM at each.
  EXPECT_EQ(results.size(), 6u * 3 + 3);
  int exact = 0;
  for (const KernelCheckResult &r : results) {
    EXPECT_TRUE(r.ok) << r.name << " m=" << r.m << ": " << r.detail;
    EXPECT_EQ(r.relError, 0.0) << r.name;
    exact += r.exact;
    if (r.exact)
      EXPECT_EQ(r.name, "k_s8");
  }
  EXPECT_EQ(exact, 3);
}

TEST(KernelCheck, NudgedOutputFailsItsKernel) {
  Loaded l = loadCpu(checkModel().write());
  ASSERT_TRUE(l.bundle);
  // Half a unit or more on one element of the W4A16 output (whose values
  // are near 1): far beyond the 1 % tolerance.
  FaultyBackend test("k_w4", "o4", 0.5, false);
  for (const KernelCheckResult &r : check(*l.bundle, test)) {
    EXPECT_EQ(r.ok, r.name != "k_w4") << r.name << ": " << r.detail;
    if (r.name == "k_w4")
      EXPECT_NE(r.detail.find("out (o4)"), std::string::npos) << r.detail;
  }
}

TEST(KernelCheck, ExactRunCatchesWhatTheToleranceAllows) {
  Loaded l = loadCpu(checkModel().write());
  ASSERT_TRUE(l.bundle);
  // About one part in 10^5: within the tolerance, but not the exact
  // integer accumulation.
  FaultyBackend test("k_s8", "o8", 1e-5, false);
  for (const KernelCheckResult &r : check(*l.bundle, test)) {
    bool bad = r.name == "k_s8" && r.exact;
    EXPECT_EQ(r.ok, !bad) << r.name << " exact=" << r.exact << ": " << r.detail;
  }
}

TEST(KernelCheck, UnwrittenOutputFails) {
  Loaded l = loadCpu(checkModel().write());
  ASSERT_TRUE(l.bundle);
  FaultyBackend test("k_argmax", "", 0, true);
  for (const KernelCheckResult &r : check(*l.bundle, test)) {
    EXPECT_EQ(r.ok, r.name != "k_argmax") << r.name;
    if (r.name == "k_argmax")
      EXPECT_NE(r.detail.find("integers differ"), std::string::npos)
          << r.detail;
  }
}

TEST(KernelCheck, KernelsOnlyBundle) {
  BundleBuilder bb = checkModel();
  std::string dir = bb.write();
  bb.manifest.erase("weights");
  bb.write(dir);
  std::remove((dir + "/weights.safetensors").c_str());
  std::string error;
  std::unique_ptr<Bundle> bundle = Bundle::load(dir, error);
  ASSERT_TRUE(bundle) << error;
  EXPECT_FALSE(bundle->hasWeights());
  CpuBackend test(1);
  std::vector<KernelCheckResult> results = check(*bundle, test, {3});
  EXPECT_EQ(results.size(), 6u + 1);
  for (const KernelCheckResult &r : results)
    EXPECT_TRUE(r.ok) << r.name << ": " << r.detail;
}

TEST(KernelCheck, SameSignatureCheckedOnce) {
  // A second k_norm with the same family, spec and launch (as a model's
  // layers have) is not checked again, nor is anything already in `seen`.
  BundleBuilder bb = checkModel();
  bb.arena("n2", "bf16", {-1, 64});
  bb.kernel("k_norm2", "rms_norm", bb.manifest["kernels"][1]["spec"],
            {"h", "norm", "n2"});
  Loaded l = loadCpu(bb.write());
  ASSERT_TRUE(l.bundle);
  CpuBackend ref(1), test(1);
  std::string error;
  ASSERT_TRUE(ref.load(*l.bundle, 16, error)) << error;
  ASSERT_TRUE(test.load(*l.bundle, 16, error)) << error;
  KernelCheckOptions o;
  o.rows = {2};
  std::vector<KernelCheckResult> results;
  std::set<std::string> seen;
  ASSERT_TRUE(checkKernels(*l.bundle, ref, test, o, results, seen, error))
      << error;
  EXPECT_EQ(results.size(), 6u + 1);
  for (const KernelCheckResult &r : results)
    EXPECT_NE(r.name, "k_norm2");
  results.clear();
  ASSERT_TRUE(checkKernels(*l.bundle, ref, test, o, results, seen, error))
      << error;
  EXPECT_TRUE(results.empty());
}

} // namespace
