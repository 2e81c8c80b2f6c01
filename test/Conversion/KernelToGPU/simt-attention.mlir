// attention kernels: one block of 4 warps per (query row, head), online
// softmax over the cache rows the row may see, dequantized caches.

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention max-tokens=4 heads=8 kv-heads=2 head-dim=64 max-seq=128 k-storage=i8 k-scales=token v-storage=e4m3 v-scales=tensor sliding-window=16 chip=sm_80" | FileCheck %s --check-prefix=QUANT
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention name=full max-tokens=4 heads=4 kv-heads=4 head-dim=128 max-seq=64 causal=0 scale=0.25 out-type=bf16" | FileCheck %s --check-prefix=FULL
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention name=ragged max-tokens=2 heads=2 kv-heads=1 head-dim=80 max-seq=16 k-storage=f32 v-storage=f32 k-scales=none" | FileCheck %s --check-prefix=RAGGED
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention name=wide max-tokens=1 heads=8 kv-heads=2 head-dim=64 max-seq=4096 warps=16" | FileCheck %s --check-prefix=WIDE
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=attention max-tokens=1 heads=8 kv-heads=2 head-dim=64 max-seq=64 warps=33" 2>&1 | FileCheck %s --check-prefix=WARPS
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention name=dec max-tokens=1 heads=32 kv-heads=8 head-dim=128 max-seq=4096 k-storage=i8 k-scales=token v-storage=i8 v-scales=token warps=16 splits=8 chip=sm_90a" | FileCheck %s --check-prefix=DEC
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention name=dec3 max-tokens=1 heads=4 kv-heads=2 head-dim=128 max-seq=256 k-storage=bf16 v-storage=bf16 warps=3 splits=2 chip=sm_90a" | FileCheck %s --check-prefix=DEC3
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention name=gsplit max-tokens=1 heads=2 kv-heads=1 head-dim=80 max-seq=64 k-storage=f32 v-storage=f32 k-scales=none warps=16 splits=4 chip=sm_90a" | FileCheck %s --check-prefix=GSPLIT
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=attention max-tokens=1 heads=8 kv-heads=2 head-dim=64 max-seq=64 splits=9 chip=sm_90a" 2>&1 | FileCheck %s --check-prefix=SPLITS9
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=attention max-tokens=1 heads=8 kv-heads=2 head-dim=64 max-seq=64 splits=2 chip=sm_89" 2>&1 | FileCheck %s --check-prefix=SPLIT89

// 16 warps: a 512-thread block whose warps take keys 64 apart, merged
// through 16 slots of workgroup memory.
// WIDE: qopt_test.launch = {wide = {block = array<i64: 512, 1, 1>
// WIDE: gpu.func @wide({{.*}}) workgroup(%{{.*}} : memref<16xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<1024xf32, #gpu.address_space<workgroup>>)
// WIDE: scf.for {{.*}} step %c64
// WARPS: error: attention kernel 'attention': warps must be 1 to 32, got 33

// Flash-decoding of an i8 cache (d = 128: 8 lanes of one 16-byte chunk a
// key, 4 keys a warp, two rounds a step): grid (m, heads, 8), one cluster
// of 8 along z, at most 4 warps. Block z narrows the keys to its slice;
// each step's loads (raw chunks and the rows' scales) are issued a step
// ahead and carried through the loop;
// the dot products sum over the key's 8 lanes (xor 4, 2, 1), the row's key
// scale multiplies the dot; the 4 lane groups merge (xor 8, 16), the warps
// through workgroup memory, and after a cluster barrier block 0 reads the
// 8 states through distributed shared memory.
// DEC: qopt_test.launch = {dec = {block = array<i64: 128, 1, 1>, {{.*}}grid_y = 32 : i64, grid_z = 8 : i64
// DEC: gpu.func @dec(%[[Q:[a-z0-9_]+]]: memref<1x4096xf32, #gpu.address_space<global>>, %{{.*}}: memref<1xi32, #gpu.address_space<global>>, %[[KC:[a-z0-9_]+]]: memref<4096x1024xi8, {{.*}}>, %[[VC:[a-z0-9_]+]]: memref<4096x1024xi8, {{.*}}>, %[[KS:[a-z0-9_]+]]: memref<4096xf32, {{.*}}>, %[[VS:[a-z0-9_]+]]: memref<4096xf32, #gpu.address_space<global>>, %[[OUT:[a-z0-9_]+]]: memref<1x4096xf32, #gpu.address_space<global>>, %{{.*}}: i32) workgroup({{.*}}, %[[STATE:[a-z0-9_]+]] : memref<2xf32, #gpu.address_space<workgroup>>, %[[ACC:[a-z0-9_]+]] : memref<128xf32, #gpu.address_space<workgroup>>)
// DEC-SAME: known_block_size = array<i32: 128, 1, 1>, known_cluster_size = array<i32: 1, 1, 8>
// DEC: %[[LAST:.*]] = arith.minsi %{{.*}}, %c4095 : index
// DEC: %[[Z:.*]] = gpu.block_id z
// DEC: %[[NP:.*]] = arith.addi %{{.*}}, %c7
// DEC: %[[SIZE:.*]] = arith.divui %[[NP]], %c8
// DEC: %[[OFF:.*]] = arith.muli %[[Z]], %[[SIZE]]
// DEC: %[[FIRST:.*]] = arith.addi %{{.*}}, %[[OFF]]
// DEC: %[[END:.*]] = arith.addi %[[FIRST]], %[[SIZE]]
// DEC: %[[END1:.*]] = arith.subi %[[END]], %c1
// DEC: %[[SLAST:.*]] = arith.minsi %[[LAST]], %[[END1]]
// DEC: vector.load %[[Q]]{{.*}} vector<16xf32>
// DEC: %[[K0:.*]] = vector.load %[[KC]][%{{.*}}, %{{.*}}] {alignment = 16 : i64} {{.*}}, vector<16xi8>
// DEC: %[[V0:.*]] = vector.load %[[VC]][%{{.*}}, %{{.*}}] {alignment = 16 : i64} {{.*}}, vector<16xi8>
// DEC: memref.load %[[KS]]
// DEC: memref.load %[[VS]]
// DEC: vector.load %[[KC]]
// DEC: scf.for %{{.*}} step %c32{{.*}} iter_args(%{{.*}}, %{{.*}}, %{{.*}}, %[[RK:.*]] = %[[K0]], %[[RV:.*]] = %[[V0]], {{.*}}) -> (f32, f32, vector<16xf32>, vector<16xi8>, vector<16xi8>, f32, f32, vector<16xi8>, vector<16xi8>, f32, f32)
// DEC: %[[NK:.*]] = vector.load %[[KC]]
// DEC: %[[NV:.*]] = vector.load %[[VC]]
// DEC: vector.load %[[KC]]
// DEC: arith.cmpi sle, %{{.*}}, %[[SLAST]]
// DEC: arith.sitofp %[[RK]] : vector<16xi8> to vector<16xf32>
// DEC: arith.sitofp %[[RV]] : vector<16xi8> to vector<16xf32>
// DEC: gpu.shuffle  xor %{{.*}}, %c4_i32
// DEC: gpu.shuffle  xor %{{.*}}, %c4_i32
// DEC: gpu.shuffle  xor %{{.*}}, %c2_i32
// DEC: gpu.shuffle  xor %{{.*}}, %c1_i32
// DEC: scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %[[NK]], %[[NV]],
// DEC: gpu.shuffle  xor %{{.*}}, %c8_i32
// DEC: gpu.shuffle  xor %{{.*}}, %c16_i32
// DEC: gpu.barrier
// DEC: memref.store %{{.*}}, %[[ACC]]
// DEC: memref.store %{{.*}}, %[[STATE]]
// DEC: memref.store %{{.*}}, %[[STATE]]
// DEC: nvvm.cluster.arrive
// DEC-NEXT: nvvm.cluster.wait
// DEC: arith.cmpi eq, %[[Z]], %c0
// DEC: memref.extract_aligned_pointer_as_index %[[STATE]]
// DEC: nvvm.mapa %{{.*}}, %c0_i32 : !llvm.ptr<3> -> !llvm.ptr<7>
// DEC: llvm.load %{{.*}} : !llvm.ptr<7> -> f32
// DEC-COUNT-7: nvvm.mapa %{{.*}}, %c{{[1-7]}}_i32
// DEC: memref.extract_aligned_pointer_as_index %[[ACC]]
// DEC: vector.store %{{.*}}, %[[OUT]]
// DEC: nvvm.cluster.arrive
// DEC-NEXT: nvvm.cluster.wait
// DEC-NEXT: }
// DEC-NEXT: gpu.return

// Three warps (bf16, d = 128: 16 lanes a key): the warps' accumulators go
// to workgroup memory element by element (workgroup buffers promise no
// 16-byte alignment).
// DEC3: qopt_test.launch = {dec3 = {block = array<i64: 96, 1, 1>, {{.*}}grid_z = 2 : i64
// DEC3: gpu.func @dec3({{.*}}) workgroup(%{{.*}} : memref<3xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<3xf32, #gpu.address_space<workgroup>>, %[[SACC:[a-z0-9_]+]] : memref<384xf32, #gpu.address_space<workgroup>>
// DEC3-NOT: vector.store %{{.*}}, %[[SACC]]
// DEC3-COUNT-8: memref.store %{{.*}}, %[[SACC]][%{{.*}}] : memref<384xf32
// DEC3-NOT: vector.store %{{.*}}, %[[SACC]]
// DEC3: gpu.return

// A ragged head (d = 80 of f32: 20 lanes of 16 bytes) takes the general
// kernel with the same split: its slice, the warps merged into a state (a
// slice without keys is -inf, 0, 0), block 0 merging the cluster.
// GSPLIT: qopt_test.launch = {gsplit = {block = array<i64: 512, 1, 1>, {{.*}}grid_y = 2 : i64, grid_z = 4 : i64
// GSPLIT: gpu.func @gsplit({{.*}}) workgroup({{.*}}, %[[STATE:[a-z0-9_]+]] : memref<2xf32, #gpu.address_space<workgroup>>, %[[ACC:[a-z0-9_]+]] : memref<80xf32, #gpu.address_space<workgroup>>)
// GSPLIT-SAME: known_cluster_size = array<i32: 1, 1, 4>
// GSPLIT: %[[Z:.*]] = gpu.block_id z
// GSPLIT: arith.divui %{{.*}}, %c4
// GSPLIT: scf.for
// GSPLIT: gpu.barrier
// GSPLIT: arith.cmpf ogt, %{{.*}}, %cst{{.*}} : f32
// GSPLIT: memref.store %{{.*}}, %[[ACC]]
// GSPLIT: memref.store %{{.*}}, %[[STATE]]
// GSPLIT: nvvm.cluster.arrive
// GSPLIT-NEXT: nvvm.cluster.wait
// GSPLIT: arith.cmpi eq, %[[Z]], %c0
// GSPLIT-COUNT-4: nvvm.mapa
// GSPLIT: nvvm.cluster.arrive
// GSPLIT-NEXT: nvvm.cluster.wait
// SPLITS9: error: attention kernel 'attention': splits must be 1 to 8 (a portable cluster), got 9
// SPLIT89: error: attention kernel 'attention': splits > 1 merge through thread-block clusters, which need sm_90a

// QUANT: qopt_test.launch = {attention = {block = array<i64: 128, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 1 : i64, grid_y = 8 : i64, grid_z = 1 : i64
// QUANT: gpu.func @attention(%[[Q:[a-z0-9_]+]]: memref<4x512xf32, {{.*}}>, %[[POS:[a-z0-9_]+]]: memref<4xi32, {{.*}}>, %[[KC:[a-z0-9_]+]]: memref<128x128xi8, {{.*}}>, %[[VC:[a-z0-9_]+]]: memref<128x128xf8E4M3FN, {{.*}}>, %[[KS:[a-z0-9_]+]]: memref<128xf32, {{.*}}>, %[[VS:[a-z0-9_]+]]: memref<1xf32, {{.*}}>, %[[OUT:[a-z0-9_]+]]: memref<4x512xf32, {{.*}}>, %[[M:[a-z0-9_]+]]: i32)
// QUANT-SAME: workgroup(%[[SMAX:[a-z0-9_]+]] : memref<4xf32, #gpu.address_space<workgroup>>, %[[SSUM:[a-z0-9_]+]] : memref<4xf32, #gpu.address_space<workgroup>>, %[[SACC:[a-z0-9_]+]] : memref<256xf32, #gpu.address_space<workgroup>>)
// QUANT: %[[ROW:.*]] = gpu.block_id x
// QUANT: %[[HEAD:.*]] = gpu.block_id y
// Causal with a window of 16: keys max(0, p - 15) .. min(p, 127).
// QUANT: %[[P32:.*]] = memref.load %[[POS]][%[[ROW]]]
// QUANT: %[[P:.*]] = arith.index_cast %[[P32]] : i32 to index
// QUANT: %[[PW:.*]] = arith.subi %[[P]], %c15{{(_[0-9]+)?}} : index
// QUANT: %[[FIRST:.*]] = arith.maxsi %{{.*}}, %[[PW]] : index
// QUANT: %[[LAST:.*]] = arith.minsi %[[P]], %c127{{(_[0-9]+)?}} : index
// GQA: kv head = head / 4.
// QUANT: %[[KVH:.*]] = arith.divui %[[HEAD]], %c4{{(_[0-9]+)?}} : index
// Each lane holds 2 of the 64 dimensions.
// QUANT: vector.load %[[Q]]{{.*}} vector<2xf32>
// QUANT: %[[LB:.*]] = arith.addi %[[FIRST]], %{{.*}} : index
// QUANT: %[[UB:.*]] = arith.addi %[[LAST]], %c1{{(_[0-9]+)?}} : index
// QUANT: scf.for %[[J:.*]] = %[[LB]] to %[[UB]] step %c16{{(_[0-9]+)?}} iter_args(%[[MW:.*]] = %{{.*}}, %[[LW:.*]] = %{{.*}}, %[[ACC:.*]] = %{{.*}}) -> (f32, f32, vector<2xf32>)
// Key j: q * (k * kScales[j]); value j: decode(e4m3) * vScale.
// QUANT: %[[KSJ:.*]] = memref.load %[[KS]][%[[J]]]
// QUANT: vector.load %[[KC]][%[[J]], %{{.*}}] {{.*}} vector<2xi8>
// QUANT: arith.sitofp
// QUANT: vector.broadcast %[[KSJ]]
// QUANT: memref.load %[[VS]]
// QUANT: vector.load %[[VC]][%[[J]], %{{.*}}] {{.*}} vector<2xf8E4M3FN>
// QUANT: arith.shli
// QUANT: arith.bitcast %{{.*}} : vector<2xi32> to vector<2xf32>
// Keys j + 1 .. j + 3 are clamped to the last one and masked.
// QUANT: %[[J1:.*]] = arith.addi %[[J]], %c1{{(_[0-9]+)?}}{{.*}} : index
// QUANT: arith.cmpi sle, %[[J1]], %[[LAST]] : index
// QUANT: %[[K1:.*]] = arith.minsi %[[J1]], %[[LAST]] : index
// QUANT: memref.load %[[KS]][%[[K1]]]
// QUANT: arith.addi %[[J]], %c3{{(_[0-9]+)?}} : index
// QUANT-COUNT-20: gpu.shuffle xor
// QUANT: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// QUANT: scf.yield
// Merge of the warps in workgroup memory, out = acc * (1 / sum), 0 without keys.
// QUANT: memref.store %{{.*}}, %[[SMAX]]
// QUANT: memref.store %{{.*}}, %[[SSUM]]
// QUANT: memref.store %{{.*}}, %[[SACC]]
// QUANT: gpu.barrier
// QUANT: scf.for %{{.*}} = %{{.*}} to %c64{{(_[0-9]+)?}}{{.*}} step %c128{{(_[0-9]+)?}}
// The warps' states are rescaled to the largest max (0 while all are -inf).
// QUANT: %[[HASMAX:.*]] = arith.cmpf ogt, %{{.*}}, %{{.*}} : f32
// QUANT: arith.select %[[HASMAX]], %{{.*}}, %{{.*}} : f32
// QUANT: %[[HAS:.*]] = arith.cmpf ogt, %[[TOTAL:.*]], %{{.*}} : f32
// QUANT: %[[INV:.*]] = arith.divf %{{.*}}, %[[TOTAL]] : f32
// QUANT: %[[Y:.*]] = arith.mulf %{{.*}}, %[[INV]] : f32
// QUANT: arith.select %[[HAS]], %[[Y]], %{{.*}} : f32
// QUANT: vector.store %{{.*}}, %[[OUT]][%[[ROW]], %{{.*}}] {alignment = 4 : i64}

// Non-causal: every row sees keys 0 .. positions[m - 1]; scale 0.25.
// FULL: gpu.func @full(%{{.*}}: memref<4x512xf32, {{.*}}>, %[[POS:[a-z0-9_]+]]: memref<4xi32, {{.*}}>, %{{.*}}: memref<64x512xbf16, {{.*}}>, %{{.*}}: memref<64x512xbf16, {{.*}}>, %{{.*}}: memref<4x512xbf16, {{.*}}>, %[[M:[a-z0-9_]+]]: i32)
// FULL: %[[MI:.*]] = arith.index_cast %[[M]]
// FULL: %[[LASTROW:.*]] = arith.subi %[[MI]], %c1{{(_[0-9]+)?}} : index
// FULL: memref.load %[[POS]][%[[LASTROW]]]
// FULL: arith.constant 2.500000e-01 : f32
// FULL: vector.load {{.*}} vector<4xbf16>
// FULL: arith.truncf %{{.*}} : vector<1xf32> to vector<1xbf16>

// A head of 80: 3 dimensions per lane, read one by one with the column
// clamped to 79, q zeroed past 80; scale 1 / sqrt(80).
// RAGGED: gpu.func @ragged
// RAGGED: arith.minsi %{{.*}}, %c79{{(_[0-9]+)?}} : index
// RAGGED: vector.load {{.*}} vector<1xf32>
// RAGGED: arith.cmpi slt, %{{.*}}, %c80{{(_[0-9]+)?}} : index
// RAGGED: arith.constant 0.111803398 : f32

module {}
