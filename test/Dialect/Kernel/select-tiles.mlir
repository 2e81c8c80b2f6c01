// GEMM tiles come from the options; bn shrinks to divide N.
// RUN: qopt %s --qk-select-tiles -split-input-file | FileCheck %s
// RUN: qopt %s --qk-select-tiles="tile-m=128 tile-n=128 tile-k=32 warps-m=4 warps-n=2 stages=3" -split-input-file | FileCheck %s --check-prefix=OPT

// CHECK-LABEL: func.func @bf16
// CHECK: tile = #qk.tile<bm = 64, bn = 64, bk = 64, warps_m = 2, warps_n = 2, stages = 2>
// CHECK: tile = #qk.tile<bm = 64, bn = 32, bk = 64, warps_m = 2, warps_n = 2, stages = 2>
// OPT: tile = #qk.tile<bm = 128, bn = 128, bk = 32, warps_m = 4, warps_n = 2, stages = 3>
func.func @bf16(%a: tensor<?x128xbf16>, %w: tensor<256x128xbf16>, %w2: tensor<96x128xbf16>) -> (tensor<?x256xf32>, tensor<?x96xf32>) {
  %y = qk.gemm %a, %w : (tensor<?x128xbf16>, tensor<256x128xbf16>) -> tensor<?x256xf32>
  %z = qk.gemm %a, %w2 : (tensor<?x128xbf16>, tensor<96x128xbf16>) -> tensor<?x96xf32>
  return %y, %z : tensor<?x256xf32>, tensor<?x96xf32>
}
