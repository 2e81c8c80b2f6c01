// The sm_90a warpgroup-MMA GEMMs: cp.async tiles of 128-byte rows in the
// 128-byte swizzle, wgmma.mma_async from shared-memory descriptors (64 rows
// per warpgroup, the whole bn per instruction), one commit group per k-tile
// with one group left in flight, and the mma.sync epilogue.
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=256 n=256 k=512 wgmma bm=128 bn=128 bk=128 warps-m=8 warps-n=1 stages=4 a-scale=token b-scale=channel out=bf16" | FileCheck %s
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=256 n=256 k=512 wgmma bm=128 bn=128 bk=128 warps-m=8 warps-n=1 stages=4 a-scale=token b-scale=channel out=bf16" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx | FileCheck %s --check-prefix=PTX
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=256 n=384 k=256 wgmma bm=64 bn=64 bk=64 warps-m=4 warps-n=1 stages=3 gated out=bf16" | FileCheck %s --check-prefix=GATED
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 max-tokens=256 n=256 k=512 wgmma bm=128 bn=128 bk=128 warps-m=8 warps-n=1 stages=4 a-scale=token b-scale=block block-n=128 block-k=256 out=bf16" | FileCheck %s --check-prefix=BLOCK
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 max-tokens=256 n=256 k=512 wgmma bm=128 bn=128 bk=128 warps-m=8 warps-n=1 stages=4 a-scale=token b-scale=channel promote-k=128 out=bf16" | FileCheck %s --check-prefix=PROMOTE
// RUN: not qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=256 n=256 k=512 wgmma bm=128 bn=128 bk=128 warps-m=8 warps-n=1 stages=4 promote-k=128" 2>&1 | FileCheck %s --check-prefix=PROMOTES8

module {}

// 256 threads (two warpgroups); the tiles start at the first 1024-byte
// boundary of the dynamic area, which is 4 stages of 32 KiB plus 1 KiB.
// CHECK-LABEL: gpu.func @gemm(
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// CHECK-SAME: shared_bytes = 132096
// CHECK: %[[RAW:.*]] = memref.extract_aligned_pointer_as_index
// CHECK: %[[RAW64:.*]] = arith.index_cast %[[RAW]] : index to i64
// CHECK: %[[NEG:.*]] = arith.subi %c0_i64, %[[RAW64]]
// CHECK: %[[PAD:.*]] = arith.andi %[[NEG]], %c1023_i64
// CHECK: memref.view {{.*}} to memref<4x128x128xi8, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy %arg0
// CHECK: nvgpu.device_async_copy %arg2
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.commit.group
// CHECK-NOT: nvvm.cp.async.commit.group
// CHECK: scf.for {{.*}} -> (!llvm.struct<(i32, i32,
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// Descriptor: start >> 4 in bits 0-13, stride 1024 >> 4 at bit 32, leading
// 1 at bit 16, swizzle 128 B (1 << 62): 4611686293305360384.
// CHECK: arith.shrui %{{.*}}, %c4_i64
// CHECK: arith.andi %{{.*}}, %c16383_i64
// CHECK: arith.ori %{{.*}}, %c4611686293305360384_i64
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 128, k = 32>, D[<s32>, <one>, <satfinite>], A[<s8>, <one>, <row>], B[<s8>, <one>, <col>]
// CHECK-NOT: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: scf.yield
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.cp.async.wait.group 0
// The epilogue of the mma.sync kernels: per-token and per-channel scales.
// CHECK: vector.load %arg3
// CHECK: arith.sitofp
// CHECK: gpu.return

// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8.satfinite
// PTX-DAG: wgmma.fence.sync.aligned
// PTX-DAG: wgmma.commit_group.sync.aligned
// PTX-DAG: wgmma.wait_group.sync.aligned 1
// PTX-DAG: fence.proxy.async.shared::cta
// PTX-DAG: cp.async.cg.shared.global

// Gated bf16, one warpgroup: two B operands, two accumulators of bn / 2.
// GATED-LABEL: gpu.func @gemm(
// GATED-SAME: known_block_size = array<i32: 128, 1, 1>
// GATED: scf.for {{.*}} -> (!llvm.struct<(f32, {{.*}}>, !llvm.struct<(f32,
// GATED-COUNT-8: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 64, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// GATED: nvvm.wgmma.wait.group.sync.aligned 1
// GATED: ex2.approx

// 128 x 256 blocks: each group of two k-tiles starts with scale-d 0 into
// the partial sums, and its end waits for every wgmma and adds the partial
// sums times the block's scale.
// BLOCK-LABEL: gpu.func @gemm(
// BLOCK: scf.for {{.*}} -> (vector<64xf32>, !llvm.struct<(f32,
// BLOCK: scf.if %{{.*}} -> (!llvm.struct<(f32,
// BLOCK: nvvm.wgmma.mma_async {{.*}} D[<f32>, <zero>], A[<e4m3>, <one>, <row>], B[<e4m3>, <one>, <col>]
// BLOCK-COUNT-3: nvvm.wgmma.mma_async {{.*}} D[<f32>, <one>], A[<e4m3>, <one>, <row>], B[<e4m3>, <one>, <col>]
// BLOCK: } else {
// BLOCK: scf.if %{{.*}} -> (vector<64xf32>)
// BLOCK: nvvm.wgmma.wait.group.sync.aligned 0
// BLOCK: memref.load %arg3
// BLOCK: arith.mulf
// BLOCK: arith.addf
// BLOCK: } else {
// BLOCK: nvvm.wgmma.wait.group.sync.aligned 1

// e4m3 per channel: every k-tile's wgmmas start from scale-d 0 and, once
// waited for, are added unscaled to float32 sums (Hopper's e4m3
// accumulator keeps fewer bits); the per-channel scale stays in the
// epilogue.
// PROMOTE-LABEL: gpu.func @gemm(
// PROMOTE: scf.for {{.*}} -> (vector<64xf32>, !llvm.struct<(f32,
// PROMOTE: nvvm.wgmma.mma_async {{.*}} D[<f32>, <zero>], A[<e4m3>, <one>, <row>], B[<e4m3>, <one>, <col>]
// PROMOTE: nvvm.wgmma.wait.group.sync.aligned 0
// PROMOTE-NOT: memref.load %arg3
// PROMOTE: arith.addf
// PROMOTE: scf.yield
// PROMOTE: vector.load %arg3
// PROMOTES8: promoting partial sums (every 128 of K) is for e4m3 wgmma tiles without grouped scales
