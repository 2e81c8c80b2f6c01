// quantize kernels: rms_norm's quantization without the normalization.

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=quantize name=q_dyn max-tokens=8 hidden=11008 out-type=i8 dynamic=1" | FileCheck %s --check-prefix=DYN
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=quantize name=q_static max-tokens=8 hidden=256 out-type=e4m3 block-threads=32 chip=sm_89" | FileCheck %s --check-prefix=STATIC
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=quantize name=q_asym max-tokens=8 hidden=64 out-type=i8 asymmetric=1 block-threads=32" | FileCheck %s --check-prefix=ASYM

// DYN: qopt_test.launch = {q_dyn = {block = array<i64: 256, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 1 : i64
// DYN: gpu.func @q_dyn(%[[X:[a-z0-9_]+]]: memref<8x11008xf32, {{.*}}>, %[[OUT:[a-z0-9_]+]]: memref<8x11008xi8, {{.*}}>, %[[RS:[a-z0-9_]+]]: memref<8xf32, {{.*}}>, %{{.*}}: i32) workgroup(%[[MAX:[a-z0-9_]+]] : memref<32xf32, #gpu.address_space<workgroup>>)
// DYN-NOT: f64
// 2752 chunks of 4 over 256 threads: 11 per thread, in a loop.
// DYN: scf.for %{{.*}} = %{{.*}} to %c2752{{(_[0-9]+)?}} step %c256{{(_[0-9]+)?}} iter_args(%{{.*}} = %{{.*}}) -> (f32)
// DYN: memref.store %{{.*}}, %[[MAX]]
// DYN: gpu.barrier
// DYN: arith.constant 1.270000e+02 : f32
// DYN: memref.store %{{.*}}, %[[RS]]
// DYN: scf.for %{{.*}} = %{{.*}} to %c2752{{(_[0-9]+)?}}{{.*}} step %c256{{(_[0-9]+)?}}{{.*}} {
// DYN: arith.divf
// DYN: arith.constant dense<0x4B400000> : vector<4xf32>
// DYN: arith.trunci %{{.*}} : vector<4xi32> to vector<4xi8>
// DYN: vector.store %{{.*}}, %[[OUT]]

// STATIC: gpu.func @q_static(%{{.*}}: memref<8x256xf32, {{.*}}>, %[[S:[a-z0-9_]+]]: memref<1xf32, {{.*}}>, %[[OUT:[a-z0-9_]+]]: memref<8x256xf8E4M3FN, {{.*}}>, %{{.*}}: i32) kernel
// STATIC: %[[SCALE:.*]] = memref.load %[[S]]
// Two chunks of 4 per thread, unrolled.
// STATIC: vector.broadcast %[[SCALE]]
// STATIC: nvvm.convert.f32x2.to.f8x2
// STATIC: vector.store %{{.*}}, %[[OUT]]
// STATIC: vector.broadcast %[[SCALE]]
// STATIC: nvvm.convert.f32x2.to.f8x2
// STATIC: vector.store %{{.*}}, %[[OUT]]
// STATIC-NOT: vector.store

// ASYM: gpu.func @q_asym(%{{.*}}: memref<8x64xf32, {{.*}}>, %{{.*}}: memref<1xf32, {{.*}}>, %{{.*}}: memref<1xi32, {{.*}}>, %{{.*}}: memref<8x64xi8, {{.*}}>, %{{.*}}: i32)

module {}
