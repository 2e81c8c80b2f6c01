// Weight-only GEMMs: bf16 A through ldmatrix, s8 or int4 B tiles copied
// with cp.async, each lane loading its k pairs and converting them to bf16
// in registers (exact), then the bf16 m16n8k16 mma.
// RUN: qopt %s --qopt-test-build-gemm="kind=w8a16 max-tokens=64 n=128 k=256 b-scale=channel gated bias out=bf16" | FileCheck %s --check-prefix=W8
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=128 k=256 b-scale=group group-size=32 zero-points" | FileCheck %s --check-prefix=W4
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=128 k=256 b-scale=group group-size=128 residual" | FileCheck %s --check-prefix=W4G128
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=128 k=256 b-scale=group group-size=32 zero-points chip=sm_80" --qopt-gpu-to-ptx=chip=sm_80 | %extract_ptx | FileCheck %s --check-prefix=PTX

module {}

// Gated: B (gate) and B2 (up) each with scales and bias, sharing A.
// W8-LABEL: gpu.func @gemm(
// W8-SAME: %arg0: memref<64x256xbf16>, %arg1: memref<128x256xi8>, %arg2: memref<128xf32>, %arg3: memref<128xf32>, %arg4: memref<128x256xi8>, %arg5: memref<128xf32>, %arg6: memref<128xf32>, %arg7: memref<64x128xbf16>, %arg8: i32)
// W8-SAME: shared_bytes = 32768
// W8: nvgpu.device_async_copy %arg1[{{.*}}], {{.*}}, 16 {bypassL1} : memref<128x256xi8> to memref<2x64x64xi8
// W8: nvgpu.device_async_copy %arg4[{{.*}}], {{.*}}, 16 {bypassL1} : memref<128x256xi8> to memref<2x64x64xi8
// W8: scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// W8: nvgpu.ldmatrix {{.*}} -> vector<4x2xbf16>
// W8: %[[Q:.*]] = vector.load %view{{.*}} {alignment = 2 : i64} : memref<2x64x64xi8, #gpu.address_space<workgroup>>, vector<2xi8>
// W8: arith.extsi %[[Q]] : vector<2xi8> to vector<2xi32>
// W8: arith.sitofp
// W8: arith.truncf {{.*}} : vector<2xf32> to vector<2xbf16>
// W8: vector.bitcast {{.*}} : vector<2xbf16> to vector<1xi32>
// W8-COUNT-64: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
// W8-NOT: nvvm.mma.sync
// W8: scf.yield
// W8: %[[S1:.*]] = vector.load %arg2
// W8: %[[B1:.*]] = vector.load %arg3
// W8: %[[S2:.*]] = vector.load %arg5
// W8: %[[B2:.*]] = vector.load %arg6
// W8: scf.if
// W8: %[[G:.*]] = arith.mulf %{{.*}}, %[[S1]]
// W8: %[[GB:.*]] = arith.addf %[[G]], %[[B1]]
// W8: %[[U:.*]] = arith.mulf %{{.*}}, %[[S2]]
// W8: %[[UB:.*]] = arith.addf %[[U]], %[[B2]]
// W8: %[[NEG:.*]] = arith.mulf %[[GB]], %cst
// W8: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// W8: %[[DEN:.*]] = arith.addf
// W8: %[[SILU:.*]] = arith.divf %[[GB]], %[[DEN]]
// W8: arith.mulf %[[SILU]], %[[UB]]
// W8: vector.store {{.*}} : memref<64x128xbf16>, vector<2xbf16>

// int4: B [N, K / 2]; zero points and scales [N, K / 32]; with bk = 64 a
// tile holds two groups: 2 k-steps of mma, then scale and accumulate.
// W4-LABEL: gpu.func @gemm(
// W4-SAME: %arg0: memref<64x256xbf16>, %arg1: memref<128x128xi8>, %arg2: memref<128x8xf32>, %arg3: memref<128x8xi32>, %arg4: memref<64x128xf32>, %arg5: i32)
// W4: nvgpu.device_async_copy %arg1[{{.*}}], {{.*}}, 16 {bypassL1} : memref<128x128xi8> to memref<2x64x32xi8
// W4: scf.for
// W4: %[[ZP:.*]] = memref.load %arg3[%{{.*}}, %{{.*}}] : memref<128x8xi32>
// W4: %[[BYTE:.*]] = memref.load %view{{.*}} : memref<2x64x32xi8, #gpu.address_space<workgroup>>
// W4: %[[W:.*]] = arith.extsi %[[BYTE]] : i8 to i32
// W4: %[[SH:.*]] = arith.shli %[[W]], %c28_i32
// W4: %[[LO:.*]] = arith.shrsi %[[SH]], %c28_i32
// W4: %[[HI:.*]] = arith.shrsi %[[W]], %c4_i32
// W4: arith.subi %[[LO]], %[[ZP]]
// W4: arith.subi %[[HI]], %[[ZP]]
// W4-COUNT-16: nvvm.mma.sync
// W4: memref.load %arg2[{{.*}}] : memref<128x8xf32>
// W4: arith.mulf
// W4: arith.addf
// W4: memref.load %arg3[{{.*}}] : memref<128x8xi32>
// W4-COUNT-16: nvvm.mma.sync
// W4: memref.load %arg2[{{.*}}] : memref<128x8xf32>
// W4: scf.yield

// groupSize 128 > bk 64: a loop over groups around the tiles of a group.
// W4G128-LABEL: gpu.func @gemm(
// W4G128-SAME: %arg0: memref<64x256xbf16>, %arg1: memref<128x128xi8>, %arg2: memref<128x2xf32>, %arg3: memref<64x128xf32>, %arg4: memref<64x128xf32>, %arg5: i32)
// W4G128: scf.for %[[G:.*]] = %{{.*}} to %c2{{.*}} iter_args
// W4G128: scf.for %{{.*}} = %{{.*}} to %c2{{.*}} iter_args
// W4G128: scf.yield
// W4G128: memref.load %arg2[%{{.*}}, %[[G]]] : memref<128x2xf32>

// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: cp.async.cg.shared.global
// PTX-DAG: ld.shared.s8
