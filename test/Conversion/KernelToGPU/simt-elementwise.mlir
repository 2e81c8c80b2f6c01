// embedding, elementwise and argmax kernels.

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=embedding max-tokens=8 vocab=32000 hidden=4096" | FileCheck %s --check-prefix=EMB
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=embedding name=emb_f32 max-tokens=8 vocab=100 hidden=100 table-type=f32" | FileCheck %s --check-prefix=EMB32
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=elementwise name=silu max-tokens=4 hidden=11008 op=silu_mul out-type=bf16" | FileCheck %s --check-prefix=SILU
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=elementwise name=add max-tokens=4 hidden=1024 op=add" | FileCheck %s --check-prefix=ADD
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=elementwise name=mul max-tokens=4 hidden=7 op=mul" | FileCheck %s --check-prefix=MUL
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=argmax max-tokens=4 vocab=1000" | FileCheck %s --check-prefix=ARGMAX
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=permute_columns max-tokens=4 hidden=1000 out-type=bf16" | FileCheck %s --check-prefix=PERM

// permute_columns: 256 threads, one output column each, grid_y = 4 tiles of
// columns (1000 is not a multiple: guarded); an index out of range reads
// column 0; the f32 value is stored as bf16.
// PERM: qopt_test.launch = {permute_columns = {block = array<i64: 256, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 1 : i64, grid_y = 4 : i64
// PERM: gpu.func @permute_columns(%[[IN:[a-z0-9_]+]]: memref<4x1000xf32, {{.*}}>, %[[P:[a-z0-9_]+]]: memref<1000xi32, {{.*}}>, %[[OUT:[a-z0-9_]+]]: memref<4x1000xbf16, {{.*}}>, %[[M:[a-z0-9_]+]]: i32)
// PERM: %[[ROW:.*]] = gpu.block_id x
// PERM: %[[COL:.*]] = arith.addi
// PERM: arith.cmpi slt, %[[COL]], %c1000{{(_[0-9]+)?}} : index
// PERM: %[[SRC32:.*]] = memref.load %[[P]][%[[COL]]]
// PERM: %[[SRC:.*]] = arith.index_cast %[[SRC32]] : i32 to index
// PERM: %[[OK:.*]] = arith.andi
// PERM: %[[SAFE:.*]] = arith.select %[[OK]], %[[SRC]], %{{.*}} : index
// PERM: %[[V:.*]] = vector.load %[[IN]][%[[ROW]], %[[SAFE]]] {{.*}} vector<1xf32>
// PERM: %[[B:.*]] = arith.truncf %[[V]] : vector<1xf32> to vector<1xbf16>
// PERM: vector.store %[[B]], %[[OUT]][%[[ROW]], %[[COL]]]

// One block per token; an id outside the table reads row 0 and writes zeros.
// EMB: qopt_test.launch = {embedding = {block = array<i64: 256, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 1 : i64, grid_y = 1 : i64
// EMB: gpu.func @embedding(%[[T:[a-z0-9_]+]]: memref<32000x4096xbf16, {{.*}}>, %[[IDS:[a-z0-9_]+]]: memref<8xi32, {{.*}}>, %[[OUT:[a-z0-9_]+]]: memref<8x4096xf32, {{.*}}>, %[[M:[a-z0-9_]+]]: i32)
// EMB: %[[ROW:.*]] = gpu.block_id x
// EMB: scf.if
// EMB: %[[ID32:.*]] = memref.load %[[IDS]][%[[ROW]]]
// EMB: %[[ID:.*]] = arith.index_cast %[[ID32]] : i32 to index
// EMB: %[[GE:.*]] = arith.cmpi sge, %[[ID]], %{{.*}} : index
// EMB: %[[LT:.*]] = arith.cmpi slt, %[[ID]], %c32000{{(_[0-9]+)?}} : index
// EMB: %[[OK:.*]] = arith.andi %[[GE]], %[[LT]] : i1
// EMB: %[[SAFE:.*]] = arith.select %[[OK]], %[[ID]], %{{.*}} : index
// 16-byte loads of 8 bf16, two 16-byte stores of the floats.
// EMB: %[[V:.*]] = vector.load %[[T]][%[[SAFE]], %{{.*}}] {alignment = 16 : i64} {{.*}}, vector<8xbf16>
// EMB: %[[F:.*]] = arith.extf %[[V]] : vector<8xbf16> to vector<8xf32>
// EMB: %[[Z:.*]] = arith.select %[[OK]], %[[F]], %{{.*}} : vector<8xf32>
// EMB: vector.store %[[Z]], %[[OUT]][%[[ROW]], %{{.*}}] {alignment = 16 : i64}

// 25 chunks of 4 floats: one 32-thread block, guarded.
// EMB32: qopt_test.launch = {emb_f32 = {block = array<i64: 32, 1, 1>
// EMB32: %[[VALID:.*]] = arith.cmpi slt, %{{.*}}, %c25{{(_[0-9]+)?}} : index
// EMB32: scf.if %[[VALID]]
// EMB32: vector.load {{.*}} vector<4xf32>

// silu(lhs) * rhs = lhs / (1 + exp(-lhs)) * rhs; grid.y tiles the features.
// SILU: qopt_test.launch = {silu = {block = array<i64: 256, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 1 : i64, grid_y = 11 : i64
// SILU: gpu.func @silu(%[[A:[a-z0-9_]+]]: memref<4x11008xf32, {{.*}}>, %[[B:[a-z0-9_]+]]: memref<4x11008xf32, {{.*}}>, %[[OUT:[a-z0-9_]+]]: memref<4x11008xbf16, {{.*}}>, %{{.*}}: i32)
// SILU: %[[ROW:.*]] = gpu.block_id x
// SILU: %[[TILE:.*]] = gpu.block_id y
// SILU: %[[CHUNK:.*]] = arith.addi
// SILU: arith.cmpi slt, %[[CHUNK]], %c2752{{(_[0-9]+)?}} : index
// SILU: %[[X:.*]] = vector.load %[[A]]
// SILU: %[[UP:.*]] = vector.load %[[B]]
// SILU: %[[NX:.*]] = arith.negf %[[X]]
// exp: libdevice's expf algorithm, one element at a time.
// SILU: vector.extract %[[NX]][0]
// SILU: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// SILU: vector.extract %[[NX]][3]
// SILU: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// SILU: %[[E:.*]] = vector.insert %{{.*}}, %{{.*}} [3]
// SILU: %[[D:.*]] = arith.addf %{{.*}}, %[[E]]
// SILU: %[[S:.*]] = arith.divf %[[X]], %[[D]]
// SILU: %[[Y:.*]] = arith.mulf %[[S]], %[[UP]]
// SILU: arith.truncf %[[Y]] : vector<4xf32> to vector<4xbf16>

// 256 chunks: no column guard.
// ADD: qopt_test.launch = {add = {block = array<i64: 256, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 1 : i64, grid_y = 1 : i64
// ADD-NOT: arith.andi
// ADD: arith.addf %{{.*}}, %{{.*}} : vector<4xf32>

// MUL: arith.mulf %{{.*}}, %{{.*}} : vector<1xf32>

// One block of 1024 threads over row m - 1: the larger value wins, the
// lower index on ties; NaN counts as -inf.
// ARGMAX: qopt_test.launch = {argmax = {block = array<i64: 1024, 1, 1>, grid_per_tile = 1 : i64, grid_token_tile = 0 : i64, grid_y = 1 : i64
// ARGMAX: gpu.func @argmax(%[[L:[a-z0-9_]+]]: memref<4x1000xf32, {{.*}}>, %[[OUT:[a-z0-9_]+]]: memref<1xi32, {{.*}}>, %[[M:[a-z0-9_]+]]: i32) workgroup(%{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xi32, #gpu.address_space<workgroup>>)
// ARGMAX: %[[MI:.*]] = arith.index_cast %[[M]]
// ARGMAX: %[[LAST:.*]] = arith.subi %[[MI]], %{{.*}} : index
// ARGMAX: scf.for %{{.*}} = %{{.*}} to %c250{{(_[0-9]+)?}} step %c1024{{(_[0-9]+)?}} iter_args(%[[BV:.*]] = %{{.*}}, %[[BI:.*]] = %c2147483647_i32{{(_[0-9]+)?}}) -> (f32, i32)
// ARGMAX: vector.load %[[L]][%[[LAST]], %{{.*}}] {alignment = 16 : i64}
// ARGMAX: %[[NAN:.*]] = arith.cmpf uno
// ARGMAX: %[[V:.*]] = arith.select %[[NAN]], %cst{{.*}}, %{{.*}} : f32
// ARGMAX: %[[GT:.*]] = arith.cmpf ogt, %[[V]], %[[BV]] : f32
// ARGMAX: %[[EQ:.*]] = arith.cmpf oeq, %[[V]], %[[BV]] : f32
// ARGMAX: %[[LO:.*]] = arith.cmpi slt, %{{.*}}, %[[BI]] : i32
// ARGMAX: %[[TIE:.*]] = arith.andi %[[EQ]], %[[LO]] : i1
// ARGMAX: arith.ori %[[GT]], %[[TIE]] : i1
// ARGMAX: gpu.shuffle xor %{{.*}} : f32
// ARGMAX: gpu.shuffle xor %{{.*}} : i32
// ARGMAX: gpu.barrier
// ARGMAX: memref.store %{{.*}}, %[[OUT]]

module {}
