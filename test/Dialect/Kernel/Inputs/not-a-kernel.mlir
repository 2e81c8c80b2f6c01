func.func @forward(%ids: tensor<?xi32>, %t: tensor<16x64xbf16>) -> tensor<?x64xf32> {
  %h = qk.embedding %t[%ids] : (tensor<16x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
  %s = qopt.silu %h : tensor<?x64xf32>
  return %s : tensor<?x64xf32>
}
