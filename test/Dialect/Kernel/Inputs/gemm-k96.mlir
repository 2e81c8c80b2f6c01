// K = 96 is not a multiple of the default bk of 64.
func.func @k96(%a: tensor<?x96xbf16>, %w: tensor<64x96xbf16>) -> tensor<?x64xf32> {
  // expected-error @+1 {{tile bk 64 must be a multiple of 32 dividing K = 96}}
  %y = qk.gemm %a, %w : (tensor<?x96xbf16>, tensor<64x96xbf16>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
