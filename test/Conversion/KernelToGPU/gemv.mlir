// Weight-streaming (GEMV) kernels for launches of few tokens: each lane
// streams 16-byte weight vectors of a column pair, converts them in
// registers, multiplies them with up to `rows` rows of A, and the lanes and
// then the k_split warps of a pair add their sums (shuffles, then shared
// memory) before the tiled kernel's epilogue.
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=128 k=256 b-scale=group group-size=32 zero-points gemv-rows=1 gemv-k-split=2" | FileCheck %s --check-prefix=W4
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=64 n=128 k=256 a-scale=token b-scale=channel int-bias out=i8 gemv-rows=2 gemv-k-split=2" | FileCheck %s --check-prefix=S8
// RUN: qopt %s --qopt-test-build-gemm="kind=w8a16 max-tokens=64 n=128 k=256 b-scale=channel gated out=bf16 gemv-rows=2 gemv-warps=4 gemv-k-split=1" | FileCheck %s --check-prefix=W8
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=64 n=128 k=256 residual out=bf16 gemv-rows=1" | FileCheck %s --check-prefix=BF16
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=64 n=128 k=256 residual out=bf16 gemv-rows=1" | FileCheck %s --check-prefix=NOGRID
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=64 n=128 k=256 residual out=bf16 gemv-rows=1 grid-dependency" | FileCheck %s --check-prefix=GRID
// RUN: qopt %s --qopt-test-build-gemm="kind=w8a16 max-tokens=64 n=128 k=256 b-scale=channel gated out=bf16 gemv-rows=1 gemv-k-split=2 grid-dependency" | FileCheck %s --check-prefix=GRID2
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=64 n=128 k=256 residual out=bf16 gemv-rows=1 grid-dependency chip=sm_80" | FileCheck %s --check-prefix=NOGRID

module {}

// The tiled kernel's parameters; 8 warps, two per column pair, so a block
// has 4 pairs and 128 columns take 16 blocks in y; one row per block in x.
// W4-LABEL: gpu.func @gemm(%arg0: memref<64x256xbf16>, %arg1: memref<128x128xi8>, %arg2: memref<128x8xf32>, %arg3: memref<128x8xi32>, %arg4: memref<64x128xf32>, %arg5: i32)
// W4-SAME: workgroup(%[[RED:.*]] : memref<2x4x2xf32, #gpu.address_space<workgroup>>)
// W4-SAME: known_block_size = array<i32: 256, 1, 1>
// W4-SAME: grid_token_tile = 1 : i64, grid_y = 16 : i64
// W4-SAME: shared_bytes = 0
// Each lane's two 16-byte vectors (one per column of the pair) are loaded
// before any arithmetic.
// W4: vector.load %arg1[{{.*}}] {alignment = 16 : i64} : memref<128x128xi8>, vector<16xi8>
// W4: vector.load %arg1[{{.*}}] {alignment = 16 : i64} : memref<128x128xi8>, vector<16xi8>
// The group's scale, and its zero point folded into the magic number.
// W4: memref.load %arg2[{{.*}}] : memref<128x8xf32>
// W4: %[[ZP:.*]] = memref.load %arg3[{{.*}}] : memref<128x8xi32>
// W4: %[[ZPF:.*]] = arith.sitofp %[[ZP]] : i32 to f32
// W4: %[[MAGIC_ZP:.*]] = arith.addf %{{.*}}, %[[ZPF]] : f32
// int4 -> f32: sign bits flipped once per 32-bit word; the nibbles below
// bit 20 masked in place and ORed into the mantissa of 2^23; nibble p is
// then 2^23 + u * 16^p, and one fma with 16^-p takes the magic number and
// the zero point; the top three nibbles after one shift by 20.
// W4: %[[BASE:.*]] = arith.subf %[[MAGIC_ZP]], %cst{{.*}} : f32
// W4: %[[OFF0:.*]] = arith.addf %[[BASE]], %cst{{.*}} : f32
// W4: %[[NEG0:.*]] = arith.subf %cst{{.*}}, %[[OFF0]] : f32
// W4: %[[C1:.*]] = arith.constant 5.242880e+05 : f32
// W4: %[[OFF1:.*]] = arith.addf %[[BASE]], %[[C1]] : f32
// W4: %[[NEG1:.*]] = arith.subf %cst{{.*}}, %[[OFF1]] : f32
// W4: %[[FLIP:.*]] = arith.xori %{{.*}}, %c-2004318072_i32 : i32
// W4: %[[HIGH:.*]] = arith.shrui %[[FLIP]], %c20_i32 : i32
// W4: %[[N0:.*]] = arith.andi %[[FLIP]], %c15_i32 : i32
// W4: %[[B0:.*]] = arith.ori %[[N0]], %c1258291200_i32 : i32
// W4: %[[F0:.*]] = arith.bitcast %[[B0]] : i32 to f32
// W4: arith.addf %[[F0]], %[[NEG0]] : f32
// W4: %[[N1:.*]] = arith.andi %[[FLIP]], %c240_i32 : i32
// W4: %[[B1:.*]] = arith.ori %[[N1]], %c1258291200_i32{{.*}} : i32
// W4: %[[F1:.*]] = arith.bitcast %[[B1]] : i32 to f32
// W4: %[[S1:.*]] = arith.constant 6.250000e-02 : f32
// W4: llvm.call_intrinsic "llvm.fma.f32"(%[[F1]], %[[S1]], %[[NEG1]])
// W4: arith.andi %[[FLIP]], %c983040_i32 : i32
// W4: arith.andi %[[HIGH]], %c15_i32{{.*}} : i32
// W4: arith.andi %[[HIGH]], %c240_i32{{.*}} : i32
// W4: arith.andi %[[HIGH]], %c3840_i32{{.*}} : i32
// W4: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<64x256xbf16>, vector<8xbf16>
// W4: llvm.call_intrinsic "llvm.fma.f32"
// W4: gpu.shuffle xor %{{.*}}, %c16_i32
// W4: gpu.shuffle xor
// W4: gpu.shuffle xor
// W4: gpu.shuffle xor
// W4: gpu.shuffle xor %{{.*}}, %c1_i32
// W4: memref.store %{{.*}}, %[[RED]]
// W4: gpu.barrier
// W4: memref.load %[[RED]]
// W4: memref.load %[[RED]]
// W4: arith.addf
// W4: vector.store {{.*}} : memref<64x128xf32>, vector<2xf32>
// W4: gpu.return

// s8 x s8: dp4a on 32-bit words, exact int32 sums through shared memory,
// then the per-token x per-channel scales, int_bias and the int8 output.
// S8-LABEL: gpu.func @gemm(%arg0: memref<64x256xi8>, %arg1: memref<64xf32>, %arg2: memref<128x256xi8>, %arg3: memref<128xf32>, %arg4: memref<128xi32>, %arg5: memref<1xf32>, %arg6: memref<64x128xi8>, %arg7: i32)
// S8-SAME: workgroup(%{{.*}} : memref<2x4x4xi32, #gpu.address_space<workgroup>>)
// S8-SAME: grid_token_tile = 2 : i64
// S8: vector.load %arg2[{{.*}}] {alignment = 16 : i64} : memref<128x256xi8>, vector<16xi8>
// S8: llvm.call_intrinsic "llvm.nvvm.idp4a.s.s"
// S8-NOT: llvm.fma.f32
// S8: gpu.shuffle xor {{.*}} : i32
// S8: gpu.barrier
// S8: vector.load %arg4
// S8: llvm.call_intrinsic "llvm.nvvm.f2i.rn"
// S8: vector.store {{.*}} : memref<64x128xi8>, vector<2xi8>

// Gated: gate and up weights streamed side by side, then silu(g) * u.
// 4 warps, one per pair: 64 pairs take 16 blocks in y.
// W8-LABEL: gpu.func @gemm(%arg0: memref<64x256xbf16>, %arg1: memref<128x256xi8>, %arg2: memref<128xf32>, %arg3: memref<128x256xi8>, %arg4: memref<128xf32>, %arg5: memref<64x128xbf16>, %arg6: i32)
// W8-SAME: workgroup(%{{.*}} : memref<1x4x8xf32, #gpu.address_space<workgroup>>)
// W8-SAME: known_block_size = array<i32: 128, 1, 1>
// W8-SAME: grid_y = 16 : i64
// W8: vector.load %arg1[{{.*}}] {alignment = 16 : i64} : memref<128x256xi8>, vector<16xi8>
// W8: vector.load %arg3[{{.*}}] {alignment = 16 : i64} : memref<128x256xi8>, vector<16xi8>
// W8: arith.ori %{{.*}}, %c1258291200_i32
// W8: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// W8: vector.store {{.*}} : memref<64x128xbf16>, vector<2xbf16>

// bf16 weights: 8 per vector, widened exactly; the residual is added in the
// epilogue.
// BF16-LABEL: gpu.func @gemm(%arg0: memref<64x256xbf16>, %arg1: memref<128x256xbf16>, %arg2: memref<64x128xf32>, %arg3: memref<64x128xbf16>, %arg4: i32)
// BF16: vector.load %arg1[{{.*}}] {alignment = 16 : i64} : memref<128x256xbf16>, vector<8xbf16>
// BF16: arith.extf
// BF16: llvm.call_intrinsic "llvm.fma.f32"
// BF16: vector.load %arg2
// BF16: arith.addf
// BF16: vector.store {{.*}} : memref<64x128xbf16>, vector<2xbf16>

// With grid dependency control: the first 16 threads (2 x 8 pairs) each ask
// the L2 for the first steps of one weight row of the block (all of K here:
// 256 bf16 = 512 bytes) before the griddepcontrol wait; only then are
// activations (%arg0) read.
// GRID-LABEL: gpu.func @gemm(
// GRID: %[[FEW:.*]] = arith.cmpi ult, %{{.*}}, %c16 : index
// GRID: scf.if %[[FEW]] {
// GRID: %[[ROW:.*]] = arith.minui %{{.*}}, %c127 : index
// GRID: %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %arg1 : memref<128x256xbf16> -> index
// GRID: %[[OFF:.*]] = arith.muli %[[ROW]], %c512 : index
// GRID: %[[AT:.*]] = arith.addi %[[BASE]], %[[OFF]] : index
// GRID: %[[I64:.*]] = arith.index_cast %[[AT]] : index to i64
// GRID: %[[P:.*]] = llvm.inttoptr %[[I64]] : i64 to !llvm.ptr
// GRID: %[[G:.*]] = llvm.addrspacecast %[[P]] : !llvm.ptr to !llvm.ptr<1>
// GRID: nvvm.cp.async.bulk.prefetch %[[G]], %c512_i32 : <1>
// GRID-NEXT: }
// GRID-NEXT: nvvm.griddepcontrol wait
// GRID-NEXT: nvvm.griddepcontrol launch_dependents
// GRID-NOT: nvvm.griddepcontrol
// GRID: vector.load %arg1
// GRID: vector.load %arg0
// NOGRID-NOT: griddepcontrol
// NOGRID-NOT: prefetch

// Gated, two B operands, k_split 2: each thread prefetches one row of each,
// 4 / 2 steps of 32 * 2 vectors, capped at K: 256 bytes.
// GRID2-LABEL: gpu.func @gemm(
// GRID2: scf.if
// GRID2: memref.extract_aligned_pointer_as_index %arg1
// GRID2: nvvm.cp.async.bulk.prefetch %{{.*}}, %c256_i32 : <1>
// GRID2: memref.extract_aligned_pointer_as_index %arg3
// GRID2: nvvm.cp.async.bulk.prefetch %{{.*}}, %c256_i32{{.*}} : <1>
// GRID2-NEXT: }
// GRID2-NEXT: nvvm.griddepcontrol wait
