//===- qopt-cuda-info.cpp - What the CUDA driver reports ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Opens the CUDA driver the way qopt's runtime does (libcuda.so.1, or
// --libcuda PATH, or $QOPT_LIBCUDA) and prints its version and each device's
// compute capability, multiprocessors, memory and limits. Exits 1 with the
// runtime's message when there is no usable driver or device.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/CudaDriver.h"

#include <cstdio>
#include <cstring>
#include <string>

using namespace qrt::cuda;

namespace {

int usage(FILE *out) {
  std::fprintf(out,
               "usage: qopt-cuda-info [--libcuda PATH]\n"
               "Prints the CUDA driver version and the devices it reports.\n"
               "The driver is PATH, else $QOPT_LIBCUDA, else %s.\n",
               kDefaultDriverLibrary);
  return out == stdout ? 0 : 2;
}

int fail(const std::string &message) {
  std::fprintf(stderr, "qopt-cuda-info: error: %s\n", message.c_str());
  return 1;
}

std::string mib(double bytes) {
  char buf[64];
  if (bytes >= 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  else if (bytes >= 1024.0 * 1024)
    std::snprintf(buf, sizeof(buf), "%.1f MiB", bytes / (1024.0 * 1024));
  else
    std::snprintf(buf, sizeof(buf), "%.0f KiB", bytes / 1024.0);
  return buf;
}

} // namespace

int main(int argc, char **argv) {
  std::string library;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h"))
      return usage(stdout);
    if (!std::strcmp(argv[i], "--libcuda") && i + 1 < argc) {
      library = argv[++i];
      continue;
    }
    std::fprintf(stderr, "qopt-cuda-info: unknown argument '%s'\n", argv[i]);
    return usage(stderr);
  }

  std::string error;
  std::unique_ptr<Driver> driver = Driver::open(library, error);
  if (!driver)
    return fail(error);
  std::printf("CUDA driver %s (%d), %s",
              Driver::versionString(driver->version()).c_str(),
              driver->version(), driver->libraryName().c_str());
  if (!driver->libraryPath().empty() &&
      driver->libraryPath() != driver->libraryName())
    std::printf(" -> %s", driver->libraryPath().c_str());
  std::printf("\n");

  std::optional<int> count = driver->deviceCount(error);
  if (!count)
    return fail(error);
  if (*count == 0)
    return fail("no CUDA device: the driver reports none");
  std::printf("%d device%s\n", *count, *count == 1 ? "" : "s");
  for (int i = 0; i < *count; ++i) {
    std::optional<DeviceInfo> info = driver->deviceInfo(i, error);
    if (!info)
      return fail(error);
    std::printf("device %d: %s\n", i, info->name.c_str());
    std::printf("  compute capability %d.%d (%s), %d multiprocessors, %s\n",
                info->computeMajor, info->computeMinor, info->smName().c_str(),
                info->multiprocessors, mib(double(info->totalMemory)).c_str());
    std::printf("  threads: %d per block, %d per multiprocessor, warp %d; "
                "%d registers per block\n",
                info->maxThreadsPerBlock, info->maxThreadsPerMultiprocessor,
                info->warpSize, info->registersPerBlock);
    std::printf("  shared memory: %s per block (%s opt-in), %s per "
                "multiprocessor; L2 %s\n",
                mib(info->sharedMemoryPerBlock).c_str(),
                mib(info->sharedMemoryPerBlockOptin).c_str(),
                mib(info->sharedMemoryPerMultiprocessor).c_str(),
                mib(info->l2CacheBytes).c_str());
  }
  return 0;
}
