//===- GemmLayout.h - Thread-to-data maps of the tensor-core GEMM -*- C++ -*-=//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The index arithmetic of the GEMM kernels, written once for any integer-like
// type `E` (int64_t in the CPU tests that replay it against the PTX
// definitions of ldmatrix and mma, an IR value wrapper in the builder). E
// needs +, *, /, % and ^, & with int64_t constants; divisors and masks are
// powers of two.
//
// Shared memory. A stage holds the A tile [bm rows][bk * aBytes bytes] and
// each B tile [bn rows][bk * bBytes bytes] (B is [N, K]: K contiguous, one
// row per output column). Rows are split into 16-byte chunks (one cp.async
// each); chunk c of row r lives at chunk swizzleChunk(r, c) of that row, so
// that the 8 row addresses of one ldmatrix matrix (same logical chunk, rows
// r..r+7) fall in 8 distinct 16-byte bank groups.
//
// Fragments (PTX ISA, "Matrix Fragments for mma.m16n8k16 / m16n8k32"),
// lane = 4 g + t:
//   bf16 m16n8k16: a0 (row g, k 2t..2t+1), a1 (row g+8, same k),
//                  a2 (row g, k 2t+8..2t+9), a3 (row g+8, k 2t+8..);
//                  b0 (k 2t..2t+1, col g), b1 (k 2t+8..2t+9, col g);
//   8-bit m16n8k32: the same with 4 consecutive k per register: a0 (row g,
//                  k 4t..4t+3), a1 (row g+8), a2 (row g, k 16+4t..),
//                  a3 (row g+8, k 16+4t..); b0 (k 4t.., col g), b1 (k 16+4t..);
//   accumulators:  c0, c1 (row g, cols 2t, 2t+1), c2, c3 (row g+8, same).
// Both mma k-steps cover 32 bytes of a row of A and of B, i.e. two chunks,
// and in bytes the two layouts coincide: register j of lane (g, t) holds
// bytes 4t..4t+3 of a 16-byte row segment. That is what ldmatrix (.b16,
// non-transposed) delivers: for matrix j, lanes 8j..8j+7 give the addresses
// of its 8 rows and lane (g, t) receives bytes 4t..4t+3 of row g. So one
// ldmatrix.x4 loads an A fragment (matrices: rows 0-7 / 8-15 x chunks 0 / 1
// in the order a0 a1 a2 a3) and one ldmatrix.x4 loads the B fragments of two
// n8 tiles (matrices: n 0-7 chunk 0 = b0, n 0-7 chunk 1 = b1, then n 8-15).
//
// Weight-only B (s8 or int4 in shared memory, bf16 mma) cannot come from
// ldmatrix (its bytes 4t..4t+3 are k 4t..4t+3, not the pair 2t, 2t+1 the
// bf16 fragment needs), so each lane loads its pairs itself: s8 bytes
// (2t, 2t+1) and (2t+8, 2t+9) of the k-step's 16 bytes, int4 byte t and
// byte 4 + t of the k-step's 8 bytes (low nibble = even k).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CONVERSION_KERNELTOGPU_GEMMLAYOUT_H
#define QOPT_CONVERSION_KERNELTOGPU_GEMMLAYOUT_H

#include <cstdint>

namespace mlir::qopt::codegen::gemm {

/// A (row, column) pair; what the column counts (chunks, bytes, elements)
/// is said by each function.
template <class E> struct Coord {
  E row, col;
};

/// The stored chunk index of logical chunk `chunk` of row `row` in rows of
/// `chunksPerRow` 16-byte chunks (a power of two).
template <class E> E swizzleChunk(E row, E chunk, int64_t chunksPerRow) {
  if (chunksPerRow <= 1)
    return chunk;
  // Rows of fewer than 8 chunks share a 128-byte bank line with the next
  // 8 / chunksPerRow - 1 rows: rotate by the line index instead.
  int64_t rowsPerLine = chunksPerRow >= 8 ? 1 : 8 / chunksPerRow;
  int64_t mask = (chunksPerRow >= 8 ? 8 : chunksPerRow) - 1;
  return chunk ^ ((row / rowsPerLine) & mask);
}

/// The tile row and logical chunk of the `id`-th cp.async chunk of a tile
/// whose rows have `chunksPerRow` chunks (chunk ids run along rows).
template <class E> Coord<E> copyChunk(E id, int64_t chunksPerRow) {
  return {id / chunksPerRow, id % chunksPerRow};
}

/// The row (within the m16 tile) and logical chunk whose address lane
/// `lane` gives to ldmatrix.x4 for the A fragment of k-step `kStep`.
template <class E> Coord<E> ldmatrixA(E lane, int64_t kStep) {
  return {lane % 8 + (lane / 8) % 2 * 8, lane / 16 + 2 * kStep};
}

/// The row (n within the n16 pair of tiles) and logical chunk whose address
/// lane `lane` gives to ldmatrix.x4 for the B fragments of k-step `kStep`.
/// Results: b0, b1 of n-tile 0, then b0, b1 of n-tile 1.
template <class E> Coord<E> ldmatrixB(E lane, int64_t kStep) {
  return {lane % 8 + lane / 16 * 8, (lane / 8) % 2 + 2 * kStep};
}

/// The (row within m16, column within n8) of accumulator register `reg`
/// (0..3) of lane `lane`.
template <class E> Coord<E> accumulator(E lane, int64_t reg) {
  return {lane / 4 + (reg / 2) * 8, lane % 4 * 2 + reg % 2};
}

/// Weight-only s8 B: the n (within n8) and the byte of the tile row holding
/// the first of the two k of register `reg` (0: b0, 1: b1) of k-step
/// `kStep` (16 k, 16 bytes); the second k is the next byte.
template <class E> Coord<E> weightPairS8(E lane, int64_t kStep, int64_t reg) {
  return {lane / 4, lane % 4 * 2 + reg * 8 + kStep * 16};
}

/// Weight-only int4 B: the n (within n8) and the byte of the tile row that
/// holds the two k of register `reg` of k-step `kStep` (8 bytes per step).
template <class E> Coord<E> weightByteInt4(E lane, int64_t kStep, int64_t reg) {
  return {lane / 4, lane % 4 + reg * 4 + kStep * 8};
}

} // namespace mlir::qopt::codegen::gemm

#endif // QOPT_CONVERSION_KERNELTOGPU_GEMMLAYOUT_H
