// sm_90a warpgroup-MMA kernels: with wgmma-rows, every bf16, s8 and e4m3
// GEMM whose K splits into 128-byte steps (and whose weight blocks into
// whole steps) gets #qk.wgmma; stages 0 takes as many 128-byte buffers of
// A and B as fit in 227 KiB; a gated GEMM keeps bn <= 128.
// RUN: qopt %s --qk-select-tiles="wgmma-rows=2" | FileCheck %s
// RUN: qopt %s --qk-select-tiles | FileCheck %s --check-prefix=NONE
// RUN: qopt %s --qk-select-tiles="wgmma-rows=2 wgmma-fp8-fast-accum" -split-input-file | FileCheck %s --check-prefix=FAST
// RUN: qopt %s --qk-select-tiles="wgmma-rows=200 wgmma-tile-m=64 wgmma-tile-n=256 wgmma-stages=3 wgmma-small-rows=0" | FileCheck %s --check-prefix=OPT
// RUN: not qopt %s --qk-select-tiles="wgmma-rows=1 wgmma-small-rows=0" 2>&1 | FileCheck %s --check-prefix=ROWS
// RUN: not qopt %s --qk-select-tiles="wgmma-rows=2 wgmma-tile-m=96" 2>&1 | FileCheck %s --check-prefix=BM
// RUN: not qopt %s --qk-select-tiles="wgmma-rows=2 wgmma-tile-n=72" 2>&1 | FileCheck %s --check-prefix=BN
// RUN: not qopt %s --qk-select-tiles="wgmma-rows=2 wgmma-stages=2" 2>&1 | FileCheck %s --check-prefix=STAGES
// RUN: not qopt %s --qk-select-tiles="wgmma-rows=-3" 2>&1 | FileCheck %s --check-prefix=NEG
// RUN: not qopt %s --qk-select-tiles="wgmma-rows=65" 2>&1 | FileCheck %s --check-prefix=SMALL

// NONE-NOT: wgmma
// ROWS: error: wgmma min_rows must be at least 2, got 1
// BM: error: wgmma bm must be 64 or 128 (one or two warpgroups), got 96
// BN: error: wgmma bn must be a multiple of 16 from 16 to 256, got 72
// STAGES: error: wgmma stages must be 3 to 8, got 2
// NEG: error: wgmma-rows must be 0 (none) or a token count, got -3
// SMALL: error: wgmma small_rows must be 0 (none) or at least min_rows (65), got 64

// CHECK-LABEL: func.func @kinds
// 32 KiB a stage: 7 stages (the 64-row variant: 24 KiB, 8).
// CHECK: qk.gemm {{.*}}wgmma = #qk.wgmma<bm = 128, bn = 128, stages = 7, min_rows = 2, small_rows = 64, small_stages = 8>{{.*}} -> tensor<?x256xf32>
// CHECK: qk.gemm {{.*}}wgmma = #qk.wgmma<bm = 128, bn = 128, stages = 7, min_rows = 2, small_rows = 64, small_stages = 8>{{.*}} -> tensor<?x256xbf16>
// Gated: 48 KiB a stage, 4 stages (64 rows: 40 KiB, 5).
// CHECK: qk.gemm {{.*}}wgmma = #qk.wgmma<bm = 128, bn = 128, stages = 4, min_rows = 2, small_rows = 64, small_stages = 5>{{.*}} -> tensor<?x512xbf16>
// OPT: qk.gemm {{.*}}wgmma = #qk.wgmma<bm = 64, bn = 256, stages = 3, min_rows = 200, small_rows = 0, small_stages = 0>{{.*}} -> tensor<?x256xf32>
// OPT: qk.gemm {{.*}}wgmma = #qk.wgmma<bm = 64, bn = 128, stages = 3, min_rows = 200, small_rows = 0, small_stages = 0>{{.*}} -> tensor<?x512xbf16>
func.func @kinds(%a: tensor<?x256xbf16>, %w: tensor<256x256xbf16>, %q: tensor<?x256xi8>, %wq: tensor<256x256xi8>, %ws: tensor<256xf32>, %s: tensor<?xf32>, %g: tensor<512x256xbf16>, %u: tensor<512x256xbf16>) -> (tensor<?x256xf32>, tensor<?x256xbf16>, tensor<?x512xbf16>) {
  %y = qk.gemm %a, %w : (tensor<?x256xbf16>, tensor<256x256xbf16>) -> tensor<?x256xf32>
  %z = qk.gemm %q, %wq a_scales(%s : tensor<?xf32>) b_scales(%ws : tensor<256xf32>) {a_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x256xi8>, tensor<256x256xi8>) -> tensor<?x256xbf16>
  %m = qk.gemm %a, %g up(%u : tensor<512x256xbf16>) : (tensor<?x256xbf16>, tensor<512x256xbf16>) -> tensor<?x512xbf16>
  func.return %y, %z, %m : tensor<?x256xf32>, tensor<?x256xbf16>, tensor<?x512xbf16>
}

// Weight-only GEMMs and K that does not split into 128-byte steps keep
// the mma.sync kernels.
// CHECK-LABEL: func.func @none
// CHECK-NOT: wgmma
func.func @none(%a: tensor<?x192xi8>, %w: tensor<64x192xi8>, %s: tensor<?xf32>, %b: tensor<?x256xbf16>, %wq: tensor<64x256xi8>, %ws: tensor<64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %y = qk.gemm %a, %w a_scales(%s : tensor<?xf32>) b_scales(%ws : tensor<64xf32>) {a_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x192xi8>, tensor<64x192xi8>) -> tensor<?x64xf32>
  %z = qk.gemm %b, %wq b_scales(%ws : tensor<64xf32>) {b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x256xbf16>, tensor<64x256xi8>) -> tensor<?x64xf32>
  func.return %y, %z : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// e4m3: the sums move into float32 every 128 of K unless fast_accum.
// CHECK-LABEL: func.func @fp8
// CHECK: wgmma = #qk.wgmma<bm = 128, bn = 128, stages = 7, min_rows = 2, small_rows = 64, small_stages = 8>
// FAST-LABEL: func.func @fp8
// FAST: wgmma = #qk.wgmma<bm = 128, bn = 128, stages = 7, min_rows = 2, small_rows = 64, small_stages = 8, fast_accum = true>
func.func @fp8(%a: tensor<?x256xf8E4M3FN>, %w: tensor<256x256xf8E4M3FN>, %s: tensor<?xf32>, %ws: tensor<256xf32>) -> tensor<?x256xf32> {
  %y = qk.gemm %a, %w a_scales(%s : tensor<?xf32>) b_scales(%ws : tensor<256xf32>) {a_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x256xf8E4M3FN>, tensor<256x256xf8E4M3FN>) -> tensor<?x256xf32>
  func.return %y : tensor<?x256xf32>
}
