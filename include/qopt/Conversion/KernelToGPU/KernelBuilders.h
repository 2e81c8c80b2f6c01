//===- KernelBuilders.h - Write kernels as gpu.func -------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One builder per kernel family. Each appends to `module` a `gpu.func` named
// after the spec, marked `kernel`, whose parameters are the spec's buffers as
// statically shaped memrefs (lowered with the bare-pointer calling
// convention, so each becomes one pointer) followed by the i32 scalars the
// spec lists, and returns the block size it was written for. Builders check
// their spec and report what they cannot generate through `emitError` (for
// example an e4m3 GEMM on sm_80); they never produce a partial function.
// Kernels read and write their buffers with vector accesses of up to 16
// bytes: every buffer must be 16-byte aligned. A kernel's `known_block_size`
// is the LaunchConfig block (.maxntid), so it must be launched with it.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CONVERSION_KERNELTOGPU_KERNELBUILDERS_H
#define QOPT_CONVERSION_KERNELTOGPU_KERNELBUILDERS_H

#include "qopt/Conversion/KernelToGPU/KernelSpecs.h"

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <array>

namespace mlir {
namespace gpu {
class GPUModuleOp;
} // namespace gpu

namespace qopt::codegen {

/// The GPU a kernel is generated for.
enum class Chip { SM80, SM89, SM90a };

/// How a generated kernel is launched: block size and dynamic shared memory
/// are fixed; the grid is `ceil(m / gridTokenTile) * gridPerTile` blocks in
/// x when gridTokenTile > 0 (else gridPerTile), times gridY and gridZ.
struct LaunchConfig {
  std::array<int64_t, 3> block = {1, 1, 1};
  int64_t gridTokenTile = 0, gridPerTile = 1, gridY = 1, gridZ = 1;
  int64_t sharedBytes = 0;
};

FailureOr<LaunchConfig> buildGemmKernel(gpu::GPUModuleOp module,
                                        const GemmSpec &spec, Chip chip,
                                        Location loc);
/// The weight-streaming kernel `name` of `spec` (same parameters as its
/// tiled kernel, the same arithmetic; spec.name and spec.tile unused).
/// With `gridDependency` (sm_90a) each block prefetches its first weights
/// into the L2, then waits for its grid dependencies (griddepcontrol).
FailureOr<LaunchConfig> buildGemvKernel(gpu::GPUModuleOp module,
                                        const GemmSpec &spec,
                                        const GemvShape &shape, StringRef name,
                                        Chip chip, Location loc,
                                        bool gridDependency = false);
FailureOr<LaunchConfig> buildRmsNormKernel(gpu::GPUModuleOp module,
                                           const RmsNormSpec &spec, Chip chip,
                                           Location loc);
FailureOr<LaunchConfig> buildQuantizeKernel(gpu::GPUModuleOp module,
                                            const QuantizeSpec &spec, Chip chip,
                                            Location loc);
FailureOr<LaunchConfig> buildEmbeddingKernel(gpu::GPUModuleOp module,
                                             const EmbeddingSpec &spec,
                                             Chip chip, Location loc);
FailureOr<LaunchConfig> buildRopeAppendKernel(gpu::GPUModuleOp module,
                                              const RopeAppendSpec &spec,
                                              Chip chip, Location loc);
FailureOr<LaunchConfig> buildAttentionKernel(gpu::GPUModuleOp module,
                                             const AttentionSpec &spec,
                                             Chip chip, Location loc);
FailureOr<LaunchConfig> buildElementwiseKernel(gpu::GPUModuleOp module,
                                               const ElementwiseSpec &spec,
                                               Chip chip, Location loc);
FailureOr<LaunchConfig>
buildPermuteColumnsKernel(gpu::GPUModuleOp module,
                          const PermuteColumnsSpec &spec, Chip chip,
                          Location loc);
FailureOr<LaunchConfig> buildArgmaxKernel(gpu::GPUModuleOp module,
                                          const ArgmaxSpec &spec, Chip chip,
                                          Location loc);

} // namespace qopt::codegen
} // namespace mlir

#endif // QOPT_CONVERSION_KERNELTOGPU_KERNELBUILDERS_H
