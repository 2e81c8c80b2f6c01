//===- GemmLayoutTest.cpp - Replay the GEMM's thread maps on the CPU ------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The GEMM builder emits the index arithmetic of GemmLayout.h; here the
// same functions, instantiated on int64_t, drive a CPU model of one warp:
// cp.async chunks into swizzled shared memory, ldmatrix.x4 and mma.sync as
// the PTX ISA defines them (written out below independently of the
// builder's maps), and the accumulator-to-output map. The warp's tile must
// equal A B^T computed directly; ldmatrix row addresses must be free of
// shared-memory bank conflicts.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/KernelToGPU/GemmLayout.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <vector>

using namespace mlir::qopt::codegen::gemm;

namespace {

constexpr int kLanes = 32;
using Regs = std::array<uint32_t, 4>; // a lane's registers

//===----------------------------------------------------------------------===//
// Element encodings
//===----------------------------------------------------------------------===//

uint16_t toBf16(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  return static_cast<uint16_t>(bits >> 16); // exact for small integers
}
float fromBf16(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

/// A small deterministic integer in [-7, 7].
int64_t value(int64_t seed, int64_t i, int64_t j) {
  uint64_t x = uint64_t(seed) * 0x9E3779B97F4A7C15ull ^ uint64_t(i) * 1000003u ^
               uint64_t(j) * 7919u;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 32;
  return int64_t(x % 15) - 7;
}

//===----------------------------------------------------------------------===//
// Shared memory through the builder's cp.async map
//===----------------------------------------------------------------------===//

/// A [rows][rowBytes] tile written chunk by chunk as copyTile does.
struct Smem {
  int64_t rows, rowBytes;
  std::vector<uint8_t> bytes;
  std::vector<int> written;

  Smem(const std::vector<std::vector<uint8_t>> &global, int64_t rowBytes)
      : rows(global.size()), rowBytes(rowBytes),
        bytes(global.size() * rowBytes), written(bytes.size(), 0) {
    int64_t chunksPerRow = rowBytes / 16;
    for (int64_t id = 0; id < rows * chunksPerRow; ++id) {
      Coord<int64_t> c = copyChunk<int64_t>(id, chunksPerRow);
      int64_t dst = c.row * rowBytes +
                    swizzleChunk<int64_t>(c.row, c.col, chunksPerRow) * 16;
      for (int64_t b = 0; b < 16; ++b) {
        bytes[dst + b] = global[c.row][c.col * 16 + b];
        ++written[dst + b];
      }
    }
  }
  /// The byte address of logical byte `byte` of row `row`.
  int64_t address(int64_t row, int64_t byte) const {
    int64_t chunk = swizzleChunk<int64_t>(row, byte / 16, rowBytes / 16);
    return row * rowBytes + chunk * 16 + byte % 16;
  }
};

/// ldmatrix.sync.aligned.m8n8.x4.b16 (PTX ISA): lanes 8j..8j+7 hold the
/// addresses of rows 0..7 of matrix j; lane (g, t) receives bytes 4t..4t+3
/// of row g of matrix j in register j. Also checks that the 8 rows of each
/// matrix hit 8 distinct 16-byte bank groups.
std::array<Regs, kLanes> ldmatrix(const Smem &s,
                                  const std::array<int64_t, kLanes> &addr) {
  std::array<Regs, kLanes> out{};
  for (int j = 0; j < 4; ++j) {
    std::set<int64_t> groups;
    for (int r = 0; r < 8; ++r)
      groups.insert(addr[8 * j + r] / 16 % 8);
    EXPECT_EQ(groups.size(), 8u) << "bank conflict in matrix " << j;
    for (int lane = 0; lane < kLanes; ++lane) {
      int64_t row = addr[8 * j + lane / 4];
      uint32_t v = 0;
      for (int b = 0; b < 4; ++b)
        v |= uint32_t(s.bytes[row + 4 * (lane % 4) + b]) << (8 * b);
      out[lane][j] = v;
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// mma.sync as the PTX ISA's fragment tables define it
//===----------------------------------------------------------------------===//

/// Fills acc (per lane c0..c3: rows g, g, g+8, g+8; cols 2t, 2t+1) with
/// D = A B + C, A 16 x K, B K x 8 given by the lanes' fragments.
/// bf16 m16n8k16: ai (i = 0..7, two per register): row g + 8 * (i / 2 % 2),
/// k 2t + (i % 2) + 8 * (i / 4); bi (i = 0..3): k 2t + (i % 2) + 8 * (i / 2),
/// col g. 8-bit m16n8k32: ai (i = 0..15, four per register): row
/// g + 8 * (i / 4 % 2), k 4t + (i % 4) + 16 * (i / 8); bi (i = 0..7):
/// k 4t + (i % 4) + 16 * (i / 4), col g.
void mma(bool bf16, const std::array<Regs, kLanes> &a,
         const std::array<std::array<uint32_t, 2>, kLanes> &b,
         std::array<std::array<double, 4>, kLanes> &acc) {
  int64_t kDim = bf16 ? 16 : 32;
  std::vector<std::vector<double>> A(16, std::vector<double>(kDim, 1e30));
  std::vector<std::vector<double>> B(kDim, std::vector<double>(8, 1e30));
  for (int lane = 0; lane < kLanes; ++lane) {
    int64_t g = lane / 4, t = lane % 4;
    if (bf16) {
      for (int i = 0; i < 8; ++i) {
        uint16_t h = uint16_t(a[lane][i / 2] >> (16 * (i % 2)));
        A[g + 8 * (i / 2 % 2)][2 * t + i % 2 + 8 * (i / 4)] = fromBf16(h);
      }
      for (int i = 0; i < 4; ++i) {
        uint16_t h = uint16_t(b[lane][i / 2] >> (16 * (i % 2)));
        B[2 * t + i % 2 + 8 * (i / 2)][g] = fromBf16(h);
      }
    } else {
      for (int i = 0; i < 16; ++i) {
        int8_t v = int8_t(a[lane][i / 4] >> (8 * (i % 4)));
        A[g + 8 * (i / 4 % 2)][4 * t + i % 4 + 16 * (i / 8)] = v;
      }
      for (int i = 0; i < 8; ++i) {
        int8_t v = int8_t(b[lane][i / 4] >> (8 * (i % 4)));
        B[4 * t + i % 4 + 16 * (i / 4)][g] = v;
      }
    }
  }
  for (auto &row : A)
    for (double v : row)
      ASSERT_NE(v, 1e30) << "an A element no lane provides";
  for (auto &row : B)
    for (double v : row)
      ASSERT_NE(v, 1e30) << "a B element no lane provides";
  for (int lane = 0; lane < kLanes; ++lane) {
    int64_t g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; ++i) {
      int64_t r = g + 8 * (i / 2), c = 2 * t + i % 2;
      double sum = 0;
      for (int64_t k = 0; k < kDim; ++k)
        sum += A[r][k] * B[k][c];
      acc[lane][i] += sum;
    }
  }
}

//===----------------------------------------------------------------------===//
// One warp's tile
//===----------------------------------------------------------------------===//

enum class BKind { Bf16, S8, WeightS8, WeightInt4 };

struct Case {
  BKind kind;
  int64_t bk;           // K of the tile
  int64_t bm, bn;       // block tile
  int64_t warpM, warpN; // the warp tile
  int64_t wm, wn;       // which warp
};

/// Runs one k-tile through the warp and compares with A B^T.
void runWarp(const Case &c) {
  bool bf16Mma = c.kind != BKind::S8;
  int64_t aBytes = bf16Mma ? 2 : 1;
  int64_t kStep = bf16Mma ? 16 : 32;
  // Globals: A [bm][bk], B [bn][bk] as integers, then as bytes.
  std::vector<std::vector<int64_t>> A(c.bm, std::vector<int64_t>(c.bk)),
      B(c.bn, std::vector<int64_t>(c.bk));
  for (int64_t i = 0; i < c.bm; ++i)
    for (int64_t k = 0; k < c.bk; ++k)
      A[i][k] = value(1, i, k);
  for (int64_t n = 0; n < c.bn; ++n)
    for (int64_t k = 0; k < c.bk; ++k)
      B[n][k] = c.kind == BKind::WeightInt4 ? value(2, n, k) % 8 - (k % 3 == 0)
                                            : value(2, n, k);
  auto encode = [&](const std::vector<std::vector<int64_t>> &m, bool asBf16,
                    bool int4) {
    std::vector<std::vector<uint8_t>> out;
    for (const auto &row : m) {
      std::vector<uint8_t> bytes;
      for (size_t k = 0; k < row.size(); ++k) {
        if (asBf16) {
          uint16_t h = toBf16(float(row[k]));
          bytes.push_back(uint8_t(h));
          bytes.push_back(uint8_t(h >> 8));
        } else if (int4) {
          if (k % 2 == 0)
            bytes.push_back(uint8_t(row[k] & 0xF));
          else
            bytes.back() |= uint8_t((row[k] & 0xF) << 4);
        } else {
          bytes.push_back(uint8_t(int8_t(row[k])));
        }
      }
      out.push_back(bytes);
    }
    return out;
  };
  Smem sa(encode(A, bf16Mma, false), c.bk * aBytes);
  bool weightOnly = c.kind == BKind::WeightS8 || c.kind == BKind::WeightInt4;
  int64_t bRowBytes = c.kind == BKind::WeightInt4 ? c.bk / 2
                      : weightOnly                ? c.bk
                                                  : c.bk * aBytes;
  Smem sb(encode(B, c.kind == BKind::Bf16, c.kind == BKind::WeightInt4),
          bRowBytes);
  for (int w : sa.written)
    ASSERT_EQ(w, 1) << "cp.async chunks of A overlap or leave holes";
  for (int w : sb.written)
    ASSERT_EQ(w, 1) << "cp.async chunks of B overlap or leave holes";

  int64_t mTiles = c.warpM / 16, nTiles = c.warpN / 8;
  std::vector<std::array<std::array<double, 4>, kLanes>> acc(
      mTiles * nTiles, std::array<std::array<double, 4>, kLanes>{});
  for (int64_t ks = 0; ks < c.bk / kStep; ++ks) {
    std::vector<std::array<Regs, kLanes>> aFrag;
    for (int64_t mi = 0; mi < mTiles; ++mi) {
      std::array<int64_t, kLanes> addr;
      for (int64_t lane = 0; lane < kLanes; ++lane) {
        Coord<int64_t> p = ldmatrixA<int64_t>(lane, ks);
        int64_t row = c.wm * c.warpM + mi * 16 + p.row;
        addr[lane] = sa.address(row, p.col * 16);
      }
      aFrag.push_back(ldmatrix(sa, addr));
    }
    std::vector<std::array<std::array<uint32_t, 2>, kLanes>> bFrag(nTiles);
    if (!weightOnly) {
      for (int64_t np = 0; np < nTiles / 2; ++np) {
        std::array<int64_t, kLanes> addr;
        for (int64_t lane = 0; lane < kLanes; ++lane) {
          Coord<int64_t> p = ldmatrixB<int64_t>(lane, ks);
          int64_t row = c.wn * c.warpN + np * 16 + p.row;
          addr[lane] = sb.address(row, p.col * 16);
        }
        std::array<Regs, kLanes> r = ldmatrix(sb, addr);
        for (int64_t lane = 0; lane < kLanes; ++lane) {
          bFrag[2 * np][lane] = {r[lane][0], r[lane][1]};
          bFrag[2 * np + 1][lane] = {r[lane][2], r[lane][3]};
        }
      }
    } else {
      for (int64_t ni = 0; ni < nTiles; ++ni)
        for (int64_t lane = 0; lane < kLanes; ++lane)
          for (int64_t reg = 0; reg < 2; ++reg) {
            Coord<int64_t> p = c.kind == BKind::WeightInt4
                                   ? weightByteInt4<int64_t>(lane, ks, reg)
                                   : weightPairS8<int64_t>(lane, ks, reg);
            int64_t row = c.wn * c.warpN + ni * 8 + p.row;
            int64_t lo, hi;
            if (c.kind == BKind::WeightInt4) {
              uint8_t byte = sb.bytes[sb.address(row, p.col)];
              // The nibbles, sign extended (shifts of the unsigned byte).
              lo = int8_t(uint8_t(byte << 4)) >> 4;
              hi = int8_t(byte) >> 4;
            } else {
              lo = int8_t(sb.bytes[sb.address(row, p.col)]);
              hi = int8_t(sb.bytes[sb.address(row, p.col + 1)]);
            }
            bFrag[ni][lane][reg] =
                uint32_t(toBf16(float(lo))) | uint32_t(toBf16(float(hi))) << 16;
          }
    }
    for (int64_t mi = 0; mi < mTiles; ++mi)
      for (int64_t ni = 0; ni < nTiles; ++ni)
        mma(bf16Mma, aFrag[mi], bFrag[ni], acc[mi * nTiles + ni]);
  }

  // Every output of the warp tile exactly once, equal to A B^T.
  std::map<std::pair<int64_t, int64_t>, double> out;
  for (int64_t mi = 0; mi < mTiles; ++mi)
    for (int64_t ni = 0; ni < nTiles; ++ni)
      for (int64_t lane = 0; lane < kLanes; ++lane)
        for (int64_t reg = 0; reg < 4; ++reg) {
          Coord<int64_t> p = accumulator<int64_t>(lane, reg);
          auto key = std::make_pair(c.wm * c.warpM + mi * 16 + p.row,
                                    c.wn * c.warpN + ni * 8 + p.col);
          ASSERT_EQ(out.count(key), 0u) << "two registers map to one output";
          out[key] = acc[mi * nTiles + ni][lane][reg];
        }
  ASSERT_EQ(out.size(), size_t(c.warpM * c.warpN));
  for (const auto &[key, v] : out) {
    int64_t sum = 0;
    for (int64_t k = 0; k < c.bk; ++k)
      sum += A[key.first][k] * B[key.second][k];
    ASSERT_EQ(v, double(sum))
        << "output (" << key.first << ", " << key.second << ")";
  }
}

TEST(GemmLayout, SwizzleIsAPermutationOfEachRow) {
  for (int64_t chunks : {1, 2, 4, 8, 16})
    for (int64_t row = 0; row < 64; ++row) {
      std::set<int64_t> seen;
      for (int64_t c = 0; c < chunks; ++c)
        seen.insert(swizzleChunk<int64_t>(row, c, chunks));
      EXPECT_EQ(seen.size(), size_t(chunks));
      EXPECT_EQ(*seen.rbegin(), chunks - 1);
    }
}

TEST(GemmLayout, Bf16Warp) {
  // bk 64 (128-byte rows), 32 (64), 16 (32): the three swizzle regimes.
  for (int64_t bk : {64, 32, 16})
    for (int64_t wm = 0; wm < 2; ++wm)
      for (int64_t wn = 0; wn < 2; ++wn)
        runWarp({BKind::Bf16, bk, 64, 64, 32, 32, wm, wn});
  runWarp({BKind::Bf16, 128, 32, 128, 32, 32, 0, 3});
}

TEST(GemmLayout, S8Warp) {
  for (int64_t bk : {128, 64, 32})
    for (int64_t wm = 0; wm < 2; ++wm)
      runWarp({BKind::S8, bk, 64, 64, 32, 32, wm, 1});
}

TEST(GemmLayout, WeightOnlyS8Warp) {
  for (int64_t bk : {128, 64, 32, 16})
    runWarp({BKind::WeightS8, bk, 64, 64, 32, 32, 1, 1});
}

TEST(GemmLayout, WeightOnlyInt4Warp) {
  for (int64_t bk : {256, 128, 64, 32})
    runWarp({BKind::WeightInt4, bk, 64, 64, 32, 32, 1, 0});
}

} // namespace
