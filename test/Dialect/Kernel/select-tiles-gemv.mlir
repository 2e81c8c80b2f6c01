// Weight-streaming (decode) kernels: every GEMM whose weight rows and groups
// split into 16-byte vectors gets #qk.gemv; k_split grows while the grid has
// fewer than 528 blocks and each warp keeps a whole 32-vector step of K.
// RUN: qopt %s --qk-select-tiles | FileCheck %s
// RUN: qopt %s --qk-select-tiles="gemv-rows=0" | FileCheck %s --check-prefix=NONE
// RUN: qopt %s --qk-select-tiles="gemv-rows=1,4 gemv-warps=4" | FileCheck %s --check-prefix=OPT
// RUN: not qopt %s --qk-select-tiles="gemv-rows=16,1" 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not qopt %s --qk-select-tiles="gemv-warps=40" 2>&1 | FileCheck %s --check-prefix=WARPS
// RUN: not qopt %s --qk-select-tiles="gemv-rows=64" 2>&1 | FileCheck %s --check-prefix=ROWS

// NONE-NOT: gemv
// ORDER: error: gemv rows must increase, got 16 then 1
// WARPS: error: gemv warps must be 1 to 32, got 40
// ROWS: error: gemv rows must be 1 to 32, got 64

// K = 4096 of int4: 4 steps of 32 vectors of 32 weights; 128 column pairs.
// k_split 4 leaves 64 blocks of 2 pairs; 8 would leave a warp half a step.
// CHECK-LABEL: func.func @w4_g128
// CHECK: gemv = #qk.gemv<rows = [1], warps = 8, k_split = 4>
// OPT-LABEL: func.func @w4_g128
// OPT: gemv = #qk.gemv<rows = [1, 4], warps = 4, k_split = 4>
func.func @w4_g128(%a: tensor<?x4096xbf16>, %w: tensor<256x4096xi4>, %s: tensor<256x32xf32>) -> tensor<?x256xf32> {
  %y = qk.gemm %a, %w b_scales(%s : tensor<256x32xf32>) {b_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static, packing = int4x2>} : (tensor<?x4096xbf16>, tensor<256x4096xi4>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}

// K = 128 of bf16 is half a step: no split.
// CHECK-LABEL: func.func @bf16
// CHECK: gemv = #qk.gemv<rows = [1], warps = 8, k_split = 1>
func.func @bf16(%a: tensor<?x128xbf16>, %w: tensor<256x128xbf16>) -> tensor<?x256xf32> {
  %y = qk.gemm %a, %w : (tensor<?x128xbf16>, tensor<256x128xbf16>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}

// An int8 group of 32 is two 16-byte vectors, and the tile's bk of 64 holds
// two groups.
// CHECK-LABEL: func.func @w8_g32
// CHECK: gemv = #qk.gemv<rows = [1], warps = 8, k_split = 1>
// CHECK-SAME: tile = #qk.tile<bm = 64, bn = 64, bk = 64
func.func @w8_g32(%a: tensor<?x256xbf16>, %w: tensor<128x256xi8>, %s: tensor<128x8xf32>) -> tensor<?x128xf32> {
  %y = qk.gemm %a, %w b_scales(%s : tensor<128x8xf32>) {b_scheme = #qopt.scheme<i8, #qopt.per_group<axis = 1, size = 32>, sym, static>} : (tensor<?x256xbf16>, tensor<128x256xi8>) -> tensor<?x128xf32>
  return %y : tensor<?x128xf32>
}

// An int4 group of 16 is half a vector: the tiled kernel only.
// CHECK-LABEL: func.func @w4_g16
// CHECK-NOT: gemv
// CHECK: tile = #qk.tile
// CHECK-NOT: gemv
// CHECK: return
func.func @w4_g16(%a: tensor<?x128xbf16>, %w: tensor<64x128xi4>, %s: tensor<64x8xf32>) -> tensor<?x64xf32> {
  %y = qk.gemm %a, %w b_scales(%s : tensor<64x8xf32>) {b_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 16>, sym, static, packing = int4x2>} : (tensor<?x128xbf16>, tensor<64x128xi4>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
