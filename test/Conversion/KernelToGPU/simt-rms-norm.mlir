// rms_norm kernels: parameters in the spec's order, one block per row, the
// sum of squares in f64, IEEE sqrt and division, and the fused quantization.

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm name=norm_i8 max-tokens=8 hidden=1024 weight-type=bf16 out-type=i8 dynamic=1" | FileCheck %s --check-prefix=DYN
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm name=norm_4 max-tokens=8 hidden=4096 out-type=i8 dynamic=1" | FileCheck %s --check-prefix=FOUR
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm name=norm_long max-tokens=2 hidden=16384 out-type=i8 dynamic=1 block-threads=64" | FileCheck %s --check-prefix=LONG
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm name=norm_asym max-tokens=8 hidden=4095 out-type=i8 static-scale=1 asymmetric=1 block-threads=128" | FileCheck %s --check-prefix=ASYM
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm name=norm_bf16 max-tokens=4 hidden=64 out-type=bf16 block-threads=32 epsilon=1e-6" | FileCheck %s --check-prefix=BF16
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm name=norm_fp8 max-tokens=4 hidden=128 out-type=e4m3 dynamic=1 block-threads=32 chip=sm_90a" | FileCheck %s --check-prefix=FP8-HW
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm name=norm_fp8 max-tokens=4 hidden=128 out-type=e4m3 static-scale=1 block-threads=32 chip=sm_80" | FileCheck %s --check-prefix=FP8-SW

// DYN: module attributes {gpu.container_module, qopt_test.launch = {norm_i8 = {block = array<i64: 256, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 1 : i64, grid_y = 1 : i64, grid_z = 1 : i64, shared_bytes = 0 : i64}}}
// DYN: gpu.module @qopt_kernels
// DYN: gpu.func @norm_i8(%[[X:[a-z0-9_]+]]: memref<8x1024xf32, #gpu.address_space<global>>, %[[W:[a-z0-9_]+]]: memref<1024xbf16, #gpu.address_space<global>>, %[[OUT:[a-z0-9_]+]]: memref<8x1024xi8, #gpu.address_space<global>>, %[[RS:[a-z0-9_]+]]: memref<8xf32, #gpu.address_space<global>>, %[[M:[a-z0-9_]+]]: i32)
// DYN-SAME: workgroup(%[[SUM:[a-z0-9_]+]] : memref<32xf64, #gpu.address_space<workgroup>>, %[[MAX:[a-z0-9_]+]] : memref<32xf32, #gpu.address_space<workgroup>>)
// DYN-SAME: kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// DYN: %[[ROW:.*]] = gpu.block_id x
// DYN: %[[MI:.*]] = arith.index_cast %[[M]] : i32 to index
// DYN: %[[ACTIVE:.*]] = arith.cmpi slt, %[[ROW]], %[[MI]] : index
// DYN: scf.if %[[ACTIVE]] {
// The row is read once, in 16-byte loads kept in registers for every pass;
// the sum of squares widens them to f64.
// DYN: %[[XV:.*]] = vector.load %[[X]][%[[ROW]], %{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<4xf32>
// DYN-NOT: vector.load %[[X]]
// DYN: arith.extf %[[XV]] : vector<4xf32> to vector<4xf64>
// DYN: vector.reduction <add>, %{{.*}} : vector<4xf64> into f64
// DYN: gpu.shuffle xor %{{.*}} : f64
// DYN: memref.store %{{.*}}, %[[SUM]][%{{.*}}] : memref<32xf64
// DYN: gpu.barrier
// DYN: %[[VAR:.*]] = arith.truncf %{{.*}} : f64 to f32
// DYN: %[[VE:.*]] = arith.addf %[[VAR]], %{{.*}} : f32
// DYN: %[[SQ:.*]] = llvm.call_intrinsic "llvm.nvvm.sqrt.rn.f"(%[[VE]]) : (f32) -> f32
// DYN: %[[INV:.*]] = arith.divf %{{.*}}, %[[SQ]] : f32
// y = w * (x * inv), then max|y| over the block.
// DYN-NOT: vector.load %[[X]]
// DYN: %[[WV:.*]] = vector.load %[[W]]{{.*}} {alignment = 8 : i64} {{.*}}, vector<4xbf16>
// DYN: %[[WF:.*]] = arith.extf %[[WV]] : vector<4xbf16> to vector<4xf32>
// DYN: %[[INVV:.*]] = vector.broadcast %[[INV]] : f32 to vector<4xf32>
// DYN: %[[XI:.*]] = arith.mulf %[[XV]], %[[INVV]] : vector<4xf32>
// DYN: arith.mulf %[[WF]], %[[XI]] : vector<4xf32>
// DYN: arith.andi %{{.*}}, %{{.*}} : vector<4xi32>
// DYN: vector.reduction <maxnumf>
// DYN: memref.store %{{.*}}, %[[MAX]]
// DYN: gpu.barrier
// The row's scale: absmax / 127, 1 when absmax is 0 or not finite; thread 0
// writes it.
// DYN: %[[POS:.*]] = arith.cmpf ogt, %[[AMAX:.*]], %{{.*}} : f32
// DYN: %[[FIN:.*]] = arith.cmpf olt, %[[AMAX]], %{{.*}} : f32
// DYN: %[[OK:.*]] = arith.andi %[[POS]], %[[FIN]] : i1
// DYN: %[[Q:.*]] = arith.divf %[[AMAX]], %{{.*}} : f32
// DYN: %[[SCALE:.*]] = arith.select %[[OK]], %[[Q]], %{{.*}} : f32
// DYN: %[[T0:.*]] = arith.cmpi eq, %{{.*}}, %{{.*}} : index
// DYN: scf.if %[[T0]] {
// DYN: memref.store %[[SCALE]], %[[RS]][%[[ROW]]] : memref<8xf32
// Quantization: y / scale (a division), NaN -> 0, clamp to [-127, 127],
// then round half to even by adding 1.5 * 2^23: the low byte of the sum's
// bits is the int8.
// DYN: %[[SV:.*]] = vector.broadcast %[[SCALE]] : f32 to vector<4xf32>
// DYN: %[[D:.*]] = arith.divf %{{.*}}, %[[SV]] : vector<4xf32>
// DYN: arith.cmpf uno, %[[D]], %[[D]] : vector<4xf32>
// DYN: llvm.call_intrinsic "llvm.maxnum.v4f32"
// DYN: llvm.call_intrinsic "llvm.minnum.v4f32"
// DYN: %[[MAGIC:.*]] = arith.constant dense<0x4B400000> : vector<4xf32>
// DYN: %[[R:.*]] = arith.addf %{{.*}}, %[[MAGIC]] : vector<4xf32>
// DYN: %[[BITS:.*]] = arith.bitcast %[[R]] : vector<4xf32> to vector<4xi32>
// DYN: arith.trunci %[[BITS]] : vector<4xi32> to vector<4xi8>
// DYN-NOT: vector.load %[[X]]
// DYN: vector.store %{{.*}}, %[[OUT]][%[[ROW]], %{{.*}}] {alignment = 4 : i64}
// DYN: gpu.return

// Four chunks a thread: four loads of x, all before the first f64
// arithmetic, and none after.
// FOUR: gpu.func @norm_4(%[[X:[a-z0-9_]+]]: memref<8x4096xf32
// FOUR-COUNT-4: vector.load %[[X]][%{{.*}}, %{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<4xf32>
// FOUR-NOT: vector.load %[[X]]
// FOUR: arith.extf %{{.*}} : vector<4xf32> to vector<4xf64>
// FOUR-NOT: vector.load %[[X]]
// FOUR: gpu.return

// 64 chunks a thread are too many for registers: each pass is an scf.for
// that reads x again.
// LONG: gpu.func @norm_long(%[[X:[a-z0-9_]+]]: memref<2x16384xf32
// LONG: scf.for {{.*}} -> (f64)
// LONG: vector.load %[[X]]
// LONG: scf.for {{.*}} -> (f32)
// LONG: vector.load %[[X]]
// LONG: scf.for
// LONG: vector.load %[[X]]
// LONG: vector.store

// An odd row: scalar accesses in an scf.for; the zero point is added after
// rounding, the range is [-128, 127].
// ASYM: gpu.func @norm_asym(%[[X:[a-z0-9_]+]]: memref<8x4095xf32, {{.*}}>, %[[W:[a-z0-9_]+]]: memref<4095xf32, {{.*}}>, %[[S:[a-z0-9_]+]]: memref<1xf32, {{.*}}>, %[[ZP:[a-z0-9_]+]]: memref<1xi32, {{.*}}>, %[[OUT:[a-z0-9_]+]]: memref<8x4095xi8, {{.*}}>, %[[M:[a-z0-9_]+]]: i32)
// ASYM-SAME: known_block_size = array<i32: 128, 1, 1>
// ASYM: scf.for %{{.*}} = %{{.*}} to %c4095{{(_[0-9]+)?}} step %c128{{(_[0-9]+)?}} iter_args(%{{.*}} = %{{.*}}) -> (f64)
// ASYM: vector.load %[[X]]{{.*}} {alignment = 4 : i64} {{.*}}, vector<1xf32>
// ASYM: %[[SCALE:.*]] = memref.load %[[S]][%{{.*}}] : memref<1xf32
// ASYM: %[[ZPI:.*]] = memref.load %[[ZP]][%{{.*}}] : memref<1xi32
// ASYM: %[[ZPF:.*]] = arith.sitofp %[[ZPI]] : i32 to f32
// ASYM: scf.for
// The zero point is added to the rounded integer (rne(y / s) + zp, then
// [-128, 127]) in i32.
// ASYM: arith.addf %{{.*}}, %cst{{.*}} : vector<1xf32>
// ASYM: arith.bitcast %{{.*}} : vector<1xf32> to vector<1xi32>
// ASYM: %[[Q:.*]] = arith.subi %{{.*}}, %{{.*}} : vector<1xi32>
// ASYM: %[[ZPI:.*]] = arith.fptosi %[[ZPF]] : f32 to i32
// ASYM: %[[ZPV:.*]] = vector.broadcast %[[ZPI]] : i32 to vector<1xi32>
// ASYM: arith.addi %[[Q]], %[[ZPV]] : vector<1xi32>
// ASYM: arith.constant dense<-128> : vector<1xi32>
// ASYM: arith.trunci %{{.*}} : vector<1xi32> to vector<1xi8>
// ASYM: vector.store %{{.*}}, %[[OUT]]

// BF16: gpu.func @norm_bf16(%{{.*}}: memref<4x64xf32, {{.*}}>, %{{.*}}: memref<64xf32, {{.*}}>, %[[OUT:[a-z0-9_]+]]: memref<4x64xbf16, {{.*}}>, %{{.*}}: i32) workgroup(%{{.*}} : memref<32xf64, #gpu.address_space<workgroup>>)
// BF16: arith.constant 9.99999997E-7 : f32
// BF16: %[[Y:.*]] = arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// BF16: vector.store %[[Y]], %[[OUT]]{{.*}} {alignment = 8 : i64}

// e4m3: clamp to +-448 (NaN kept), then cvt.rn.satfinite on sm_90a, bit
// arithmetic on sm_80; the bytes are stored as f8E4M3FN.
// FP8-HW: gpu.func @norm_fp8({{.*}}, %[[OUT:[a-z0-9_]+]]: memref<4x128xf8E4M3FN, {{.*}}>, %{{.*}}: memref<4xf32, {{.*}}>, %{{.*}}: i32)
// FP8-HW: arith.constant 4.480000e+02 : f32
// FP8-HW: llvm.call_intrinsic "llvm.maximum.v4f32"
// FP8-HW: llvm.call_intrinsic "llvm.minimum.v4f32"
// FP8-HW: nvvm.convert.f32x2.to.f8x2 {{.*}} {rnd = #nvvm.fp_rnd_mode<rn>, sat = #nvvm.sat_mode<satfinite>} : vector<2xi8>(f8E4M3FN)
// FP8-HW: nvvm.convert.f32x2.to.f8x2
// FP8-HW: arith.bitcast %{{.*}} : vector<4xi8> to vector<4xf8E4M3FN>
// FP8-HW: vector.store %{{.*}}, %[[OUT]]

// FP8-SW: gpu.func @norm_fp8({{.*}}, %{{.*}}: memref<1xf32, {{.*}}>, %[[OUT:[a-z0-9_]+]]: memref<4x128xf8E4M3FN, {{.*}}>, %{{.*}}: i32)
// FP8-SW-NOT: nvvm.convert
// FP8-SW: llvm.call_intrinsic "llvm.maximum.v4f32"
// FP8-SW: llvm.call_intrinsic "llvm.minimum.v4f32"
// FP8-SW: arith.bitcast %{{.*}} : vector<4xf32> to vector<4xi32>
// FP8-SW: arith.shrui
// FP8-SW: llvm.call_intrinsic "llvm.roundeven.v4f32"
// FP8-SW: arith.trunci %{{.*}} : vector<4xi32> to vector<4xi8>
// FP8-SW: vector.store
// FP8-SW-NOT: nvvm.convert

module {}
