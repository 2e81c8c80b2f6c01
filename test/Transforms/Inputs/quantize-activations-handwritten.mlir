// Input of qopt-quantize-activations.mlir: weight-only layers written by
// hand (dynamic activation quantization reads no weights).
qopt.weight_store @rtn "rtn.safetensors.index.json"
func.func @block_argument(%x: tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %w = qopt.weight @rtn["a.qweight"] : tensor<2x8xi8>
  %s = qopt.weight @rtn["a.scales"] : tensor<2xf32>
  %a = qopt.quantized_linear %x, %w weight_scales(%s : tensor<2xf32>) {label = "a", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xi8> -> tensor<?x2xf32>
  // Already W8A8: left alone.
  %xq, %xs = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<?xf32>
  %b = qopt.quantized_linear %xq, %w input_scales(%xs : tensor<?xf32>) weight_scales(%s : tensor<2xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, label = "b", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xi8>, tensor<2x8xi8> -> tensor<?x2xf32>
  // W4A16: stays weight-only.
  %w4 = qopt.weight @rtn["c.qweight"] {packing = #qopt<packing int4x2>} : tensor<2x8xi4>
  %s4 = qopt.weight @rtn["c.scales"] : tensor<2x2xf32>
  %c = qopt.quantized_linear %x, %w4 weight_scales(%s4 : tensor<2x2xf32>) {label = "c", weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 4>, sym, static, packing = int4x2>} : tensor<?x8xf32>, tensor<2x8xi4> -> tensor<?x2xf32>
  return %a, %b, %c : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}
