// rope_append kernels: RoPE (rotate_half) of q and k from the cos / sin
// table, k and v appended to row positions[r] of the caches.

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rope_append max-tokens=4 heads=4 kv-heads=2 head-dim=16 max-seq=32 max-positions=64" | FileCheck %s --check-prefix=FLOAT
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rope_append name=rope_q max-tokens=4 heads=4 kv-heads=2 head-dim=16 max-seq=32 k-storage=i8 k-scales=token v-storage=e4m3 v-scales=head chip=sm_80" | FileCheck %s --check-prefix=QUANT
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rope_append name=rope_t max-tokens=4 heads=2 kv-heads=1 head-dim=6 max-seq=8 k-storage=e4m3 k-scales=tensor v-storage=i8 v-scales=token chip=sm_90a" | FileCheck %s --check-prefix=TENSOR

// FLOAT: qopt_test.launch = {rope_append = {block = array<i64: 32, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 1 : i64, grid_y = 1 : i64
// FLOAT: gpu.func @rope_append(%[[Q:[a-z0-9_]+]]: memref<4x64xf32, {{.*}}>, %[[K:[a-z0-9_]+]]: memref<4x32xf32, {{.*}}>, %[[V:[a-z0-9_]+]]: memref<4x32xf32, {{.*}}>, %[[POS:[a-z0-9_]+]]: memref<4xi32, {{.*}}>, %[[TAB:[a-z0-9_]+]]: memref<64x16xf32, {{.*}}>, %[[QOUT:[a-z0-9_]+]]: memref<4x64xf32, {{.*}}>, %[[KC:[a-z0-9_]+]]: memref<32x32xbf16, {{.*}}>, %[[VC:[a-z0-9_]+]]: memref<32x32xbf16, {{.*}}>, %[[M:[a-z0-9_]+]]: i32)
// FLOAT: %[[ROW:.*]] = gpu.block_id x
// FLOAT: scf.if
// FLOAT: %[[P32:.*]] = memref.load %[[POS]][%[[ROW]]]
// FLOAT: %[[P:.*]] = arith.index_cast %[[P32]] : i32 to index
// The position must be a row of the table and of the caches.
// FLOAT: arith.cmpi sge, %[[P]], %{{.*}} : index
// FLOAT: arith.cmpi slt, %[[P]], %c32{{(_[0-9]+)?}} : index
// FLOAT: scf.if
// q: 4 heads x 2 units of 4 pairs; x1 = q[i], x2 = q[i + 8], c = tab[p, i],
// s = tab[p, 8 + i].
// FLOAT: scf.for %[[U:.*]] = %{{.*}} to %c8{{(_[0-9]+)?}} step %c32{{(_[0-9]+)?}}
// FLOAT: %[[H:.*]] = arith.divui %[[U]], %c2{{(_[0-9]+)?}} : index
// FLOAT: %[[R:.*]] = arith.remui %[[U]], %c2{{(_[0-9]+)?}}{{.*}} : index
// FLOAT: %[[I:.*]] = arith.muli %[[R]], %c4{{(_[0-9]+)?}}{{.*}} : index
// FLOAT: %[[HD:.*]] = arith.muli %[[H]], %c16{{(_[0-9]+)?}} : index
// FLOAT: %[[C1:.*]] = arith.addi %[[HD]], %[[I]] : index
// FLOAT: %[[C2:.*]] = arith.addi %[[C1]], %c8{{(_[0-9]+)?}}{{.*}} : index
// FLOAT: %[[X1:.*]] = vector.load %[[Q]][%[[ROW]], %[[C1]]] {alignment = 16 : i64}
// FLOAT: %[[X2:.*]] = vector.load %[[Q]][%[[ROW]], %[[C2]]] {alignment = 16 : i64}
// FLOAT: %[[COS:.*]] = vector.load %[[TAB]][%[[P]], %[[I]]]
// FLOAT: %[[SI:.*]] = arith.addi %[[I]], %c8{{(_[0-9]+)?}}{{.*}} : index
// FLOAT: %[[SIN:.*]] = vector.load %[[TAB]][%[[P]], %[[SI]]]
// FLOAT: %[[A:.*]] = arith.mulf %[[X1]], %[[COS]]
// FLOAT: %[[B:.*]] = arith.mulf %[[X2]], %[[SIN]]
// FLOAT: %[[Y1:.*]] = arith.subf %[[A]], %[[B]]
// FLOAT: %[[C:.*]] = arith.mulf %[[X2]], %[[COS]]
// FLOAT: %[[D:.*]] = arith.mulf %[[X1]], %[[SIN]]
// FLOAT: %[[Y2:.*]] = arith.addf %[[C]], %[[D]]
// FLOAT: vector.store %[[Y1]], %[[QOUT]][%[[ROW]], %[[C1]]]
// FLOAT: vector.store %[[Y2]], %[[QOUT]][%[[ROW]], %[[C2]]]
// k rotated into row p of the cache (bf16), then v copied.
// FLOAT: scf.for %{{.*}} = %{{.*}} to %c4{{(_[0-9]+)?}}{{.*}} step %c32{{(_[0-9]+)?}}
// FLOAT: vector.load %[[K]]
// FLOAT: vector.load %[[TAB]]
// FLOAT: arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// FLOAT: vector.store %{{.*}}, %[[KC]][%[[P]], %{{.*}}]
// FLOAT: scf.for %{{.*}} = %{{.*}} to %c4{{(_[0-9]+)?}}{{.*}} step %c32{{(_[0-9]+)?}}
// FLOAT: vector.load %[[V]]
// FLOAT-NOT: vector.load %[[TAB]]
// FLOAT: vector.store %{{.*}}, %[[VC]][%[[P]], %{{.*}}]
// FLOAT: vector.store %{{.*}}, %[[VC]][%[[P]], %{{.*}}]
// FLOAT-NOT: vector.store

// Per-token keys: max|k| over the whole row by a block reduction, the scale
// stored at row p; per-head values: the scale of the unit's head.
// QUANT: gpu.func @rope_q(%{{.*}}: memref<4x64xf32, {{.*}}>, %{{.*}}: memref<4x32xf32, {{.*}}>, %{{.*}}: memref<4x32xf32, {{.*}}>, %[[POS:[a-z0-9_]+]]: memref<4xi32, {{.*}}>, %{{.*}}: memref<32x16xf32, {{.*}}>, %[[VS:[a-z0-9_]+]]: memref<2xf32, {{.*}}>, %{{.*}}: memref<4x64xf32, {{.*}}>, %[[KC:[a-z0-9_]+]]: memref<32x32xi8, {{.*}}>, %[[VC:[a-z0-9_]+]]: memref<32x32xf8E4M3FN, {{.*}}>, %[[KRS:[a-z0-9_]+]]: memref<32xf32, {{.*}}>, %{{.*}}: i32)
// QUANT: %[[P32:.*]] = memref.load %[[POS]]
// QUANT: %[[P:.*]] = arith.index_cast %[[P32]]
// QUANT: scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (f32)
// QUANT: vector.reduction <maxnumf>
// QUANT: gpu.shuffle xor
// QUANT: %[[KSCALE:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// QUANT: memref.store %[[KSCALE]], %[[KRS]][%[[P]]]
// QUANT: scf.for
// QUANT: vector.broadcast %[[KSCALE]]
// QUANT: arith.trunci %{{.*}} : vector<4xi32> to vector<4xi8>
// QUANT: vector.store %{{.*}}, %[[KC]][%[[P]], %{{.*}}]
// QUANT: scf.for %[[U:.*]] =
// QUANT: %[[H:.*]] = arith.divui %[[U]]
// QUANT: %[[HS:.*]] = memref.load %[[VS]][%[[H]]]
// QUANT: vector.broadcast %[[HS]]
// QUANT-NOT: nvvm.convert
// QUANT: vector.store %{{.*}}, %[[VC]][%[[P]], %{{.*}}]

// An odd half head dimension (3): scalar pairs.
// TENSOR: gpu.func @rope_t(%{{.*}}: memref<4x12xf32, {{.*}}>, %{{.*}}: memref<4x6xf32, {{.*}}>, %{{.*}}: memref<4x6xf32, {{.*}}>, %{{.*}}: memref<4xi32, {{.*}}>, %{{.*}}: memref<8x6xf32, {{.*}}>, %[[KS:[a-z0-9_]+]]: memref<1xf32, {{.*}}>, %{{.*}}: memref<4x12xf32, {{.*}}>, %{{.*}}: memref<8x6xf8E4M3FN, {{.*}}>, %{{.*}}: memref<8x6xi8, {{.*}}>, %[[VRS:[a-z0-9_]+]]: memref<8xf32, {{.*}}>, %{{.*}}: i32)
// TENSOR: vector.load {{.*}} vector<1xf32>
// TENSOR: memref.load %[[KS]]
// TENSOR: nvvm.convert.f32x2.to.f8x2
// TENSOR: memref.store %{{.*}}, %[[VRS]]

module {}
