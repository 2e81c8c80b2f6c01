// The bf16 GEMM: cp.async into swizzled shared memory, ldmatrix fragments,
// m16n8k16 bf16 mma, f32 or bf16 output.
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=64 n=128 k=256" | FileCheck %s
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=64 n=128 k=256" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx | FileCheck %s --check-prefix=PTX
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=100 n=384 k=384 bm=32 bn=128 bk=128 warps-m=1 warps-n=4 stages=3 out=bf16" | FileCheck %s --check-prefix=TILE

module {}

// CHECK-LABEL: gpu.func @gemm(
// CHECK-SAME: %{{.*}}: memref<64x256xbf16>, %{{.*}}: memref<128x256xbf16>, %{{.*}}: memref<64x128xf32>, %{{.*}}: i32) kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME: qopt_test.launch = {block = array<i64: 128, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 64 : i64, grid_y = 2 : i64, grid_z = 1 : i64, shared_bytes = 32768 : i64}
// CHECK: gpu.dynamic_shared_memory
// CHECK: memref.view {{.*}} to memref<2x64x64xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}} to memref<2x64x64xbf16, #gpu.address_space<workgroup>>
// Prologue: tile 0 of A (rows >= m zero filled) and of B.
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], {{.*}}, 8, %{{.*}} {bypassL1} : memref<64x256xbf16> to memref<2x64x64xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], {{.*}}, 8 {bypassL1} : memref<128x256xbf16> to memref<2x64x64xbf16, #gpu.address_space<workgroup>>
// CHECK: nvvm.cp.async.commit.group
// The k-loop: wait for the tile, prefetch the next one, 2 x 4 tiles per warp
// times 4 k-steps of mma.
// CHECK: scf.for %{{.*}} = %{{.*}} to %c4{{.*}} iter_args({{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvgpu.ldmatrix %view[{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<2x64x64xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK: nvgpu.ldmatrix %view_{{[0-9]+}}[{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<2x64x64xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK-COUNT-32: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
// CHECK-NEXT: }
// No other loop: the epilogue stores the registers, pairs of columns per
// row, guarded by row < m.
// CHECK-NOT: scf.for
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK: scf.if
// CHECK: vector.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<64x128xf32>, vector<2xf32>
// CHECK-NOT: scf.for
// CHECK: gpu.return

// PTX: .visible .entry gemm(
// PTX-DAG: cp.async.cg.shared.global [{{.*}}], [{{.*}}], 16, {{.*}};
// PTX-DAG: cp.async.commit_group;
// PTX-DAG: cp.async.wait_group 0;
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// 100 tokens in tiles of 32 rows, 384 columns in 3 tiles of 128; 3 stages of
// (32 + 128) x 128 bf16.
// TILE-LABEL: gpu.func @gemm(
// TILE-SAME: memref<100x384xbf16>, %{{.*}}: memref<384x384xbf16>, %{{.*}}: memref<100x384xbf16>, %{{.*}}: i32
// TILE-SAME: qopt_test.launch = {block = array<i64: 128, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 32 : i64, grid_y = 3 : i64, grid_z = 1 : i64, shared_bytes = 122880 : i64}
// TILE: memref.view {{.*}} to memref<3x32x128xbf16, #gpu.address_space<workgroup>>
// TILE: memref.view {{.*}} to memref<3x128x128xbf16, #gpu.address_space<workgroup>>
// TILE: scf.for
// TILE: nvvm.cp.async.wait.group 1
// TILE: arith.truncf %{{.*}} : vector<2xf32> to vector<2xbf16>
// TILE: vector.store %{{.*}} {alignment = 4 : i64} : memref<100x384xbf16>, vector<2xbf16>
