//===- GemmInternal.h - Shared state of the GEMM builder --------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What GemmBuilder.cpp (checks, signature, launch), GemmMainloop.cpp
// (cp.async pipeline, fragments, mma) and GemmEpilogue.cpp (scales, bias,
// gating, residual, output conversion, guarded stores) share.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CONVERSION_KERNELTOGPU_GEMMINTERNAL_H
#define QOPT_LIB_CONVERSION_KERNELTOGPU_GEMMINTERNAL_H

#include "qopt/Conversion/KernelToGPU/KernelBuilders.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

#include <utility>

namespace mlir::qopt::codegen::simt {
class Emitter;
} // namespace mlir::qopt::codegen::simt

namespace mlir::qopt::codegen::gemm {

/// An index value with the arithmetic GemmLayout.h uses (constants fold).
struct Idx {
  ImplicitLocOpBuilder *b = nullptr;
  Value v;
};
Idx operator+(Idx x, Idx y);
Idx operator+(Idx x, int64_t c);
Idx operator*(Idx x, int64_t c);
Idx operator/(Idx x, int64_t c);
Idx operator%(Idx x, int64_t c);
Idx operator&(Idx x, int64_t c);
Idx operator^(Idx x, Idx y);
Idx constIdx(ImplicitLocOpBuilder &b, int64_t c);

/// The checked, derived shape of one GEMM kernel.
struct GemmPlan {
  const GemmSpec *spec = nullptr;
  Chip chip = Chip::SM80;
  bool bf16Mma = true;     ///< m16n8k16 bf16, else m16n8k32 8-bit
  bool weightOnly = false; ///< W8A16 / W4A16: B converted in registers
  bool int4 = false;       ///< W4A16
  bool intAcc = false;     ///< S8: s32 accumulators
  int64_t numB = 1;        ///< 2 when gated
  int64_t threads = 0;
  int64_t warpM = 0, warpN = 0;   ///< warp tile
  int64_t mTiles = 0, nTiles = 0; ///< m16 / n8 tiles per warp
  int64_t kStepElems = 16;        ///< K per mma
  int64_t kSteps = 0;             ///< mma k-steps per bk
  int64_t numK = 0;               ///< bk tiles along K
  int64_t aRowBytes = 0, bRowBytes = 0;
  int64_t aStageBytes = 0, bStageBytes = 0, stageBytes = 0;
  /// Grouped accumulation (PerGroup or Block B scales): the K extent of a
  /// group, else 0. Partial sums of one group are scaled and added to float
  /// accumulators.
  int64_t groupK = 0;
  bool nGuard = false; ///< N % bn != 0: columns past N are masked
  /// sm_90a warpgroup MMA (tile.wgmma): warpsM = bm / 16 warps in bm / 64
  /// warpgroups, warpsN = 1, rows of bk * elemBytes = 128 bytes.
  bool wgmma = false;
  /// wgmma without grouped scales: partial sums of this much K are added to
  /// float32 sums (tile.promoteK), else 0.
  int64_t promoteK = 0;
};

/// One B operand and what is indexed with it.
struct BOperand {
  Value b, scale, zeroPoint, intBias, bias;
};

/// The kernel's parameters by role (absent ones are null).
struct GemmArgs {
  Value a, aScale;
  BOperand bs[2];
  Value residual, outScale, outZeroPoint, out, m;
};

/// Per-thread positions the mainloop and epilogue share.
struct ThreadInfo {
  Value tid, lane, warpM, warpN; ///< index
  Value rowBase, colBase;        ///< first row / column of the block tile
  Value m;                       ///< index
};

/// Accumulators: per B operand, per (mi, ni) tile, one vector<4xf32> (or
/// vector<4xi32> for S8 without grouping), tile index mi * nTiles + ni.
using Accumulators = SmallVector<SmallVector<Value>, 2>;

/// The shared-memory buffers: [stages][rows][row elements], views of the
/// dynamic shared memory; `start` (i64) is the shared-window address of the
/// first when they were aligned at run time, else null.
struct SharedTiles {
  Value start;
  Value a;
  Value b[2];
};

/// Views of the stages' A and B tiles in the dynamic shared memory, B tiles
/// after all the A tiles; the first at byte 0, or with `alignment` > 1 at
/// the first multiple of it (the kernel reserves alignment - 1 more bytes).
SharedTiles allocateSharedTiles(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                                int64_t alignment = 1);

/// Copies k-tile `next` into buffer next % stages when next < numK, and
/// commits one cp.async group either way (so that wait_group counts tiles).
void prefetchStage(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                   const GemmArgs &args, const ThreadInfo &ti,
                   const SharedTiles &smem, Idx next);

/// Issues the cp.async copies of k-tile `kt` into buffer `stage` (every
/// thread of the block takes part; rows of A >= m and of B >= N are zero
/// filled). Commits nothing.
void loadStage(ImplicitLocOpBuilder &b, const GemmPlan &plan,
               const GemmArgs &args, const ThreadInfo &ti,
               const SharedTiles &smem, Idx kt, Idx stage);

/// Emits the cp.async pipeline and the mma k-loop; returns the accumulators.
Accumulators emitMainloop(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                          const GemmArgs &args, const ThreadInfo &ti);

/// The sm_90a mainloop (plan.wgmma): the same cp.async tiles, in the
/// 128-byte swizzle that wgmma's shared-memory descriptors name, consumed
/// by warpgroup MMAs (each warpgroup 64 rows); returns the accumulators in
/// the mma.sync layout (warp w of the block: rows 16 w .. 16 w + 15).
Accumulators emitWgmmaMainloop(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                               const GemmArgs &args, const ThreadInfo &ti);

/// Bytes the wgmma kernel adds to its dynamic shared memory so that its
/// tiles can start at a 1024-byte boundary (the swizzle's period).
constexpr int64_t kWgmmaSharedAlign = 1024;

/// Emits the epilogue: scales, biases, gating, residual, output conversion
/// and the stores guarded by row < m (and column < N).
void emitEpilogue(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                  const GemmArgs &args, const ThreadInfo &ti,
                  const Accumulators &acc);

/// The epilogue of one pair of columns (col, col + 1) of one row, which the
/// caller has checked to be in range (row < m, col < N): `accPairs` holds a
/// vector<2 x f32 or i32> per B operand, accumulated as for the tiled
/// kernel (group scales already applied when plan.groupK).
void emitEpiloguePair(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                      const GemmArgs &args, Value row, Value col,
                      ArrayRef<Value> accPairs);

/// Checks `spec` (its kinds, scales and output; its tile too unless
/// `untiled`) and derives the plan; reports the first problem at `loc`.
LogicalResult makeGemmPlan(const GemmSpec &spec, Chip chip, Location loc,
                           GemmPlan &plan, bool untiled = false);

/// Appends the kernel `name` with the parameters of `plan`'s spec (known
/// block size `threads`) to `module`, binds `args` to its arguments and
/// positions `b` at the start of its body.
LogicalResult createGemmFunction(gpu::GPUModuleOp module, OpBuilder &ob,
                                 const GemmPlan &plan, StringRef name,
                                 int64_t threads, Location loc, GemmArgs &args);

/// The two signed nibbles of an int4x2 byte (i8) as i32: element 2k (the
/// low nibble) and element 2k + 1 (the high one), two's complement.
std::pair<Value, Value> unpackInt4(ImplicitLocOpBuilder &b, Value byte);

/// The weight-streaming kernels' integer decode (GemvBuilder.cpp). For
/// fields of `bits` (4 or 8) bits, `offset` (f32) being 2^23 + 2^(bits - 1)
/// + zero point: the constants intFieldOffsets makes once per group, then
/// the 32 / bits fields of each i32 `word`, low field first, as the exact
/// f32 values (field - zero point), fields read as two's complement.
SmallVector<Value> intFieldOffsets(ImplicitLocOpBuilder &b, simt::Emitter &e,
                                   int64_t bits, Value offset);
SmallVector<Value> decodeIntFields(ImplicitLocOpBuilder &b, simt::Emitter &e,
                                   Value word, int64_t bits,
                                   ArrayRef<Value> offsets);

/// Loads the group scale of B operand `which` for column `col` (index,
/// clamped to N - 1 by the caller) and group `group` (index).
Value loadGroupScale(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                     const BOperand &op, Value col, Value group);

} // namespace mlir::qopt::codegen::gemm

#endif // QOPT_LIB_CONVERSION_KERNELTOGPU_GEMMINTERNAL_H
