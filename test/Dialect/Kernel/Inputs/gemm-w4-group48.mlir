// A W4A16 group of 48 neither divides nor is a multiple of the K step of 64.
func.func @group48(%a: tensor<?x192xbf16>, %w: tensor<64x192xi4>, %s: tensor<64x4xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{tile bk 64 and the weight group of 48 must divide one another}}
  %y = qk.gemm %a, %w b_scales(%s : tensor<64x4xf32>) {b_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 48>, sym, static, packing = int4x2>} : (tensor<?x192xbf16>, tensor<64x192xi4>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
