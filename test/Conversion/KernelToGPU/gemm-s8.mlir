// The s8 GEMM: m16n8k32 s8 mma with s32 accumulators, then
// float(acc + intBias) * (aScale[r] * bScale[c]) + bias + residual, stored
// as f32 or statically quantized i8.
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=64 n=128 k=256 bk=128 a-scale=token b-scale=channel int-bias bias residual out=i8 out-asymmetric" | FileCheck %s
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=64 n=128 k=256 bk=128 a-scale=token b-scale=channel int-bias bias residual out=i8 out-asymmetric chip=sm_80" --qopt-gpu-to-ptx=chip=sm_80 | %extract_ptx | FileCheck %s --check-prefix=PTX
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=32 n=96 k=64 a-scale=tensor b-scale=tensor out=i8 stages=3" | FileCheck %s --check-prefix=SYM

module {}

// Parameters: A, aScales, B, bScales, intBias, bias, residual, outScale,
// outZeroPoint, out, m.
// CHECK-LABEL: gpu.func @gemm(
// CHECK-SAME: %arg0: memref<64x256xi8>, %arg1: memref<64xf32>, %arg2: memref<128x256xi8>, %arg3: memref<128xf32>, %arg4: memref<128xi32>, %arg5: memref<128xf32>, %arg6: memref<64x128xf32>, %arg7: memref<1xf32>, %arg8: memref<1xi32>, %arg9: memref<64x128xi8>, %arg10: i32) kernel
// CHECK-SAME: shared_bytes = 32768
// CHECK: memref.view {{.*}} to memref<2x64x128xi8, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], {{.*}}, 16, %{{.*}} {bypassL1} : memref<64x256xi8> to memref<2x64x128xi8
// CHECK: nvgpu.device_async_copy %arg2[{{.*}}], {{.*}}, 16 {bypassL1} : memref<128x256xi8> to memref<2x64x128xi8
// CHECK: scf.for {{.*}} -> (vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>)
// CHECK: nvgpu.ldmatrix {{.*}} -> vector<4x4xi8>
// CHECK-COUNT-32: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {intOverflowBehavior = #nvvm.mma_int_overflow<satfinite>, layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<s8>, multiplicandBPtxType = #nvvm.mma_type<s8>, shape = #nvvm.shape<m = 16, n = 8, k = 32>} : (i32, i32, i32) -> !llvm.struct<(i32, i32, i32, i32)>
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: %[[OS:.*]] = memref.load %arg7
// CHECK: %[[OZ:.*]] = memref.load %arg8
// CHECK: %[[BS:.*]] = vector.load %arg3[%[[COL:.*]]] {alignment = 8 : i64} : memref<128xf32>, vector<2xf32>
// CHECK: %[[IB:.*]] = vector.load %arg4[%[[COL]]] {alignment = 8 : i64} : memref<128xi32>, vector<2xi32>
// CHECK: %[[BIAS:.*]] = vector.load %arg5[%[[COL]]] {alignment = 8 : i64} : memref<128xf32>, vector<2xf32>
// CHECK: %[[OK:.*]] = arith.cmpi ult, %[[ROW:.*]], %{{.*}} : index
// CHECK: scf.if %[[OK]] {
// CHECK: %[[AS:.*]] = memref.load %arg1[%[[ROW]]] : memref<64xf32>
// CHECK: %[[ASV:.*]] = vector.broadcast %[[AS]]
// CHECK: %[[SUM:.*]] = arith.addi %{{.*}}, %[[IB]] : vector<2xi32>
// CHECK: %[[F:.*]] = arith.sitofp %[[SUM]] : vector<2xi32> to vector<2xf32>
// CHECK: %[[S:.*]] = arith.mulf %[[ASV]], %[[BS]]
// CHECK: %[[Y:.*]] = arith.mulf %[[F]], %[[S]]
// CHECK: %[[YB:.*]] = arith.addf %[[Y]], %[[BIAS]]
// CHECK: %[[RES:.*]] = vector.load %arg6[%[[ROW]], %[[COL]]] {alignment = 8 : i64} : memref<64x128xf32>, vector<2xf32>
// CHECK: %[[YR:.*]] = arith.addf %[[YB]], %[[RES]]
// CHECK: %[[OSV:.*]] = vector.broadcast %[[OS]]
// CHECK: %[[V:.*]] = arith.divf %[[YR]], %[[OSV]]
// CHECK: llvm.call_intrinsic "llvm.nvvm.f2i.rn"
// CHECK: arith.addi %{{.*}}, %[[OZ]] : i32
// CHECK: arith.maxsi %{{.*}}, %c-128_i32
// CHECK: arith.minsi %{{.*}}, %c127_i32
// CHECK: vector.store %{{.*}}, %arg9[%[[ROW]], %[[COL]]] {alignment = 2 : i64} : memref<64x128xi8>, vector<2xi8>
// CHECK: gpu.return

// PTX-DAG: mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: cp.async.cg.shared.global
// PTX-DAG: cvt.rni.s32.f32

// Per-tensor scales, symmetric i8 output; N = 96 is not a multiple of bn = 64,
// so B rows >= N are zero filled and columns >= N not stored.
// SYM-LABEL: gpu.func @gemm(
// SYM-SAME: %arg0: memref<32x64xi8>, %arg1: memref<1xf32>, %arg2: memref<96x64xi8>, %arg3: memref<1xf32>, %arg4: memref<1xf32>, %arg5: memref<32x96xi8>, %arg6: i32)
// SYM-SAME: grid_y = 2
// SYM: nvgpu.device_async_copy %arg2[{{.*}}], {{.*}}, 16, %{{.*}} {bypassL1} : memref<96x64xi8>
// SYM: arith.cmpi ult, %{{.*}}, %c96
// SYM: arith.maxsi %{{.*}}, %c-127_i32
