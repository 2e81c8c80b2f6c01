// A W4A16 group of 32 is smaller than the K step of 64.
func.func @group32(%a: tensor<?x128xbf16>, %w: tensor<64x128xi4>, %s: tensor<64x4xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{tile bk 64 does not divide the weight group of 32}}
  %y = qk.gemm %a, %w b_scales(%s : tensor<64x4xf32>) {b_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 32>, sym, static, packing = int4x2>} : (tensor<?x128xbf16>, tensor<64x128xi4>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
