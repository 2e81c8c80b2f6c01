// Tiles the kernels cannot use are errors naming the GEMM.
// RUN: qopt %s --qk-select-tiles="warps-m=4 warps-n=4" -verify-diagnostics
// RUN: qopt %S/Inputs/gemm-k96.mlir --qk-select-tiles -verify-diagnostics
// RUN: qopt %S/Inputs/gemm-w4-group48.mlir --qk-select-tiles -verify-diagnostics

func.func @warps(%a: tensor<?x128xbf16>, %w: tensor<256x128xbf16>) -> tensor<?x256xf32> {
  // expected-error @+1 {{tile uses 16 warps; at most 8}}
  %y = qk.gemm %a, %w : (tensor<?x128xbf16>, tensor<256x128xbf16>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}
