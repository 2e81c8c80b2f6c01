// The e4m3 GEMM (sm_89, sm_90a): the m16n8k32 e4m3 intrinsic on ldmatrix
// fragments of i8 tiles holding e4m3 bytes; per-channel scales in the
// epilogue, or 128 x 128 block scales applied per K block.
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 max-tokens=64 n=128 k=256 bk=128 a-scale=token b-scale=channel out=bf16 chip=sm_89" | FileCheck %s
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 max-tokens=64 n=256 k=512 bk=64 a-scale=token b-scale=block block-n=128 block-k=128 out=e4m3" | FileCheck %s --check-prefix=BLOCK
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 max-tokens=64 n=256 k=512 bk=64 a-scale=token b-scale=block block-n=128 block-k=128 out=e4m3" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx | FileCheck %s --check-prefix=PTX

module {}

// CHECK-LABEL: gpu.func @gemm(
// CHECK-SAME: %arg0: memref<64x256xi8>, %arg1: memref<64xf32>, %arg2: memref<128x256xi8>, %arg3: memref<128xf32>, %arg4: memref<64x128xbf16>, %arg5: i32)
// CHECK: scf.for {{.*}} -> (vector<4xf32>,
// CHECK: nvgpu.ldmatrix {{.*}} -> vector<4x4xi8>
// CHECK-COUNT-32: llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e4m3.f32"({{.*}}) : (i32, i32, i32, i32, i32, i32, f32, f32, f32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-NOT: llvm.call_intrinsic "llvm.nvvm.mma
// CHECK: scf.yield
// CHECK: %[[BS:.*]] = vector.load %arg3
// CHECK: scf.if
// CHECK: %[[AS:.*]] = memref.load %arg1
// CHECK: %[[ASV:.*]] = vector.broadcast %[[AS]]
// CHECK: %[[S:.*]] = arith.mulf %[[ASV]], %[[BS]]
// CHECK: arith.mulf %{{.*}}, %[[S]]
// CHECK: arith.truncf {{.*}} to vector<2xbf16>

// Block scales [N / 128, K / 128]: a loop over K blocks around a loop over
// the two bk = 64 tiles of a block; each block's sums are scaled by
// bScale[c / 128, block] and added to the f32 accumulators; the per-token
// scale multiplies the total; the output is e4m3 (cvt.rn.satfinite).
// BLOCK-LABEL: gpu.func @gemm(
// BLOCK-SAME: %arg0: memref<64x512xi8>, %arg1: memref<64xf32>, %arg2: memref<256x512xi8>, %arg3: memref<2x4xf32>, %arg4: memref<1xf32>, %arg5: memref<64x256xi8>, %arg6: i32)
// BLOCK: scf.for %[[KB:.*]] = %{{.*}} to %c4{{.*}} iter_args
// BLOCK: scf.for %{{.*}} = %{{.*}} to %c2{{.*}} iter_args
// BLOCK-COUNT-16: llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e4m3.f32"
// BLOCK: scf.yield
// BLOCK: %[[COLB:.*]] = arith.divui %{{.*}}, %c128{{.*}} : index
// BLOCK: memref.load %arg3[%[[COLB]], %[[KB]]] : memref<2x4xf32>
// BLOCK: arith.mulf
// BLOCK: arith.addf
// BLOCK: scf.yield
// BLOCK: scf.if
// BLOCK: memref.load %arg1
// BLOCK: arith.mulf
// BLOCK: %[[OS:.*]] = vector.broadcast
// BLOCK: %[[V:.*]] = arith.divf %{{.*}}, %[[OS]]
// BLOCK: %[[V0:.*]] = vector.extract %[[V]][0]
// BLOCK: %[[V1:.*]] = vector.extract %[[V]][1]
// BLOCK: nvvm.convert.f32x2.to.f8x2 %[[V1]], %[[V0]] {rnd = #nvvm.fp_rnd_mode<rn>, sat = #nvvm.sat_mode<satfinite>} : vector<2xi8>(f8E4M3FN)
// BLOCK: vector.store {{.*}} : memref<64x256xi8>, vector<2xi8>

// PTX-DAG: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32
// PTX-DAG: cvt.rn.satfinite.e4m3x2.f32
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
