//===- SimtUtils.h - Helpers of the CUDA-core kernel builders ---*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the non-GEMM kernel builders (normalization, quantization, embedding,
// elementwise, argmax, RoPE + cache append, attention) share: the kernel
// shell (a `gpu.func` with global-memory memref parameters), arithmetic that
// picks the integer or float op from the operand type, structured control
// flow, warp and block reductions, vector loads and stores that convert to
// and from float32, and the quantization arithmetic of the reference
// (runtime/lib/QuantMath.cpp):
//   - q = sat(rne(x / s) + zp) for int8 (division, not a reciprocal; NaN
//     gives zp);
//   - e4m3: x / s clamped to +-448, then rounded to nearest even; with
//     `cvt.rn.satfinite.e4m3x2.f32` on sm_89 / sm_90a and bit arithmetic on
//     sm_80 (both exact);
//   - e4m3 is decoded by bit arithmetic on every chip (exact).
//
// Every buffer is assumed 16-byte aligned: vector accesses carry the
// alignment of their width (at most 16 bytes).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CONVERSION_KERNELTOGPU_SIMTUTILS_H
#define QOPT_LIB_CONVERSION_KERNELTOGPU_SIMTUTILS_H

#include "qopt/Conversion/KernelToGPU/KernelBuilders.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::qopt::codegen::simt {

/// The MLIR element type of `t` (e4m3 is f8E4M3FN, I4x2 is i8).
Type toMlirType(MLIRContext *ctx, ElemType t);
/// Its size in bytes (I4x2: one byte holds two values).
int64_t byteSize(ElemType t);
/// A name for diagnostics ("f32", "bf16", "i8", "e4m3", ...).
const char *elemTypeName(ElemType t);
/// memref<shape x elem, #gpu.address_space<global>>.
MemRefType globalMemRef(ArrayRef<int64_t> shape, Type elem);
/// memref<shape x elem, #gpu.address_space<workgroup>>.
MemRefType workgroupMemRef(ArrayRef<int64_t> shape, Type elem);

/// The widest of 8, 4, 2, 1 elements that divides `n` and spans at most
/// `maxBytes` bytes of `elemBytes`-byte elements.
int64_t vectorWidth(int64_t n, int64_t elemBytes, int64_t maxBytes = 16);

/// Checks the common parts of a spec (a non-empty name no other symbol of
/// `module` has, positive sizes); reports through emitError.
LogicalResult checkKernelName(gpu::GPUModuleOp module, StringRef name,
                              Location loc);

/// A kernel being written: the `gpu.func` (kernel, known block size) with
/// its parameters and workgroup buffers, and a builder inside its body.
class KernelShell {
public:
  /// Appends the function to `module`; the builder is positioned at the
  /// start of its body (the caller ends it with finish()).
  KernelShell(gpu::GPUModuleOp module, StringRef name, TypeRange params,
              TypeRange workgroup, int64_t blockThreads, Location loc);
  Value param(unsigned i) const;
  Value workgroup(unsigned i) const;
  /// Makes the kernel's blocks thread-block clusters of `z` blocks along
  /// grid.z (sm_90: `.reqnctapercluster 1, 1, z`, fixed at compile time, so
  /// a plain launch runs it).
  void setClusterZ(int64_t z);
  ImplicitLocOpBuilder &builder() { return b; }
  /// Adds the gpu.return.
  void finish();

private:
  Operation *func;
  ImplicitLocOpBuilder b;
  unsigned numParams;
};

enum class ReduceKind { Sum, Max };

/// Emission helpers on an ImplicitLocOpBuilder. Arithmetic dispatches on the
/// operand type: index / integer ops for integers (signed), float ops for
/// floats, on scalars and vectors alike.
class Emitter {
public:
  Emitter(ImplicitLocOpBuilder &b, Chip chip) : b(b), chip(chip) {}

  ImplicitLocOpBuilder &b;
  Chip chip;

  // Constants.
  Value idx(int64_t v);
  Value i32(int64_t v);
  Value f32(double v);
  Value f64(double v);
  /// A constant of `type` (scalar or vector; splat).
  Value constant(Type type, double v);
  /// vector<n x type(v)> filled with the scalar v.
  Value splat(Value v, int64_t n);
  /// Element i of a vector.
  Value extract(Value vec, int64_t i);
  /// `vec` with element i replaced by `scalar`.
  Value insert(Value scalar, Value vec, int64_t i);

  // Arithmetic.
  Value add(Value a, Value b);
  Value sub(Value a, Value b);
  Value mul(Value a, Value b);
  Value div(Value a, Value b); ///< divf, or unsigned integer division
  Value rem(Value a, Value b); ///< unsigned integer remainder (operands >= 0)
  Value min(Value a, Value b); ///< minnumf (NaN ignored), or signed min
  Value max(Value a, Value b); ///< maxnumf (NaN ignored), or signed max
  Value minimum(Value a, Value b); ///< f32 min propagating NaN
  Value maximum(Value a, Value b); ///< f32 max propagating NaN
  Value abs(Value a);              ///< f32: the sign bit cleared
  Value neg(Value a);
  Value select(Value cond, Value a, Value b);
  Value andi(Value a, Value b);
  Value ori(Value a, Value b);
  /// Comparisons: ordered for floats, signed for integers.
  Value lt(Value a, Value b);
  Value le(Value a, Value b);
  Value gt(Value a, Value b);
  Value ge(Value a, Value b);
  Value eq(Value a, Value b);
  Value isNaN(Value a);

  // Conversions.
  Value toIndex(Value i32v);
  Value toI32(Value indexv);
  Value toF32(Value v); ///< extf / sitofp / identity, scalars and vectors
  Value toF64(Value v);
  Value truncF32(Value f64v);

  // Math.
  // Math, on f32 scalars and vectors, through LLVM / NVVM intrinsics only
  // (no libdevice, which gpu-module-to-binary links only when it finds the
  // CUDA toolkit).
  /// libdevice's expf algorithm (ex2.approx.ftz based, at most 2 ulp).
  Value exp(Value v);
  /// IEEE square root (sqrt.rn.f32), f32 scalar.
  Value sqrtRn(Value v);
  /// Round half to even (cvt.rni.f32.f32).
  Value roundEven(Value v);

  // GPU indices.
  Value threadId();
  Value blockId(int dim);
  Value laneId();
  Value warpId();
  void barrier();
  /// barrier.cluster.arrive (release) + barrier.cluster.wait (acquire):
  /// every thread of every block of the cluster.
  void clusterBarrier();
  /// Element `index` of the f32 workgroup buffer `buf` of the cluster's
  /// block `rank` (an i32 or index): mapa + ld.shared::cluster.
  Value loadClusterF32(Value buf, Value index, Value rank);

  // Control flow.
  void forLoop(Value lb, Value ub, Value step, function_ref<void(Value)> body);
  SmallVector<Value>
  forLoop(Value lb, Value ub, Value step, ValueRange init,
          function_ref<SmallVector<Value>(Value, ValueRange)> body);
  void ifThen(Value cond, function_ref<void()> then);
  SmallVector<Value> ifThenElse(Value cond, TypeRange types,
                                function_ref<SmallVector<Value>()> then,
                                function_ref<SmallVector<Value>()> otherwise);

  /// The chunks tid, tid + threads, ... below `chunks` of a row: unrolled
  /// in C++ when a thread has at most `maxUnroll` of them, else an scf.for.
  /// The body gets the chunk index (clamped to chunks - 1, so always safe to
  /// read) and a condition that it is real (null when it always is), and
  /// threads the values `init` through.
  SmallVector<Value> forEachChunk(
      Value tid, int64_t threads, int64_t chunks, ValueRange init,
      function_ref<SmallVector<Value>(Value chunk, Value valid, ValueRange)>
          body,
      int64_t maxUnroll = 8);

  // Memory.
  Value load(Value memref, ValueRange indices);
  void store(Value v, Value memref, ValueRange indices);
  /// vector.load of n elements (alignment: min(16, n * element bytes)).
  Value loadVec(Value memref, ValueRange indices, int64_t n);
  void storeVec(Value v, Value memref, ValueRange indices);
  /// n elements of an f32 / bf16 / f16 buffer as vector<n x f32>.
  Value loadF32(Value memref, ValueRange indices, int64_t n);
  /// Stores vector<n x f32> into an f32 / bf16 / f16 buffer (bf16 and f16
  /// round to nearest even).
  void storeF32(Value v, Value memref, ValueRange indices);

  // Reductions.
  Value vectorReduce(Value v, ReduceKind kind);
  Value shuffleXor(Value v, int32_t offset);
  /// Butterfly reduction over the warp; every lane gets the result.
  Value warpReduce(Value v, ReduceKind kind);
  /// Reduction over the block of `numWarps` warps through `scratch`
  /// (workgroup memref<32 x type(v)>); every thread gets the result. A
  /// scratch buffer serves one reduction (no barrier after the reads).
  Value blockReduce(Value v, ReduceKind kind, Value scratch, int64_t numWarps);

  // Quantization.
  /// The per-token scale of the reference: absmax / qmax, or 1 when absmax
  /// is zero or not finite.
  Value dynamicScale(Value absmax, double qmax);
  /// int8 q = sat(rne(x / scale) + zp) on vector<n x f32> (zp: f32 or null).
  Value quantizeInt8(Value x, Value scale, Value zp, int64_t qmin,
                     int64_t qmax);
  /// e4m3 bits (vector<n x i8>) of clamp(x / scale, -448, 448), rounded to
  /// nearest even.
  Value quantizeE4M3(Value x, Value scale);
  /// float32 values of e4m3 bits (vector<n x i8>).
  Value decodeE4M3(Value bits);
  /// The same values times 2^-120, and the NaN codes 0x7F / 0xFF as
  /// +-480 * 2^-120, from bits (vector<n x i8>, n a multiple of 4) in two or
  /// three integer operations a value: for weights, which qopt's quantizers
  /// never write as NaN, with the 2^120 applied once to a sum.
  Value decodeE4M3Scaled(Value bits);
  /// Stores the float32 vector `y` as the element type of `memref`:
  /// f32 / bf16 / f16 converted, i8 quantized with `scale`, `zp` (null:
  /// symmetric [-127, 127], else [-128, 127]), e4m3 with `scale`.
  void storeQuantized(Value y, Value memref, ValueRange indices, Value scale,
                      Value zp);
  /// Loads n elements of a cache (f32 / bf16 / f16 / i8 / e4m3) as float32,
  /// multiplied by `scale` when it is given.
  Value loadDequantized(Value memref, ValueRange indices, int64_t n,
                        Value scale);

private:
  Value encodeE4M3Soft(Value v);
};

} // namespace mlir::qopt::codegen::simt

#endif // QOPT_LIB_CONVERSION_KERNELTOGPU_SIMTUTILS_H
