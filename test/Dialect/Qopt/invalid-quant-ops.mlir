// RUN: qopt %s -split-input-file -verify-diagnostics

// Verifiers of the quantization ops that relate a scheme to the tensors it
// applies to.

func.func @group_does_not_divide(%x: tensor<8x100xf32>) {
  // expected-error @+1 {{'qopt.quantize' op scheme does not apply to the input of shape [8, 100]: group size 128 does not divide axis 1 of size 100}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_group<axis = 1, size = 128>, sym, static, scales = dense<0.1> : tensor<8x1xf32>>} : tensor<8x100xf32> -> tensor<8x100xi8>
  return
}

// -----

func.func @scale_count(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{'qopt.quantize' op scheme has 4 scales but its granularity needs 8 (shape [8]) for the input of shape [8, 16]}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>>} : tensor<8x16xf32> -> tensor<8x16xi8>
  return
}

// -----

func.func @block_scale_count(%x: tensor<256x300xf32>) {
  // expected-error @+1 {{'qopt.quantize' op scheme has 4 scales but its granularity needs 6 (shape [2, 3]) for the input of shape [256, 300]}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 128, cols = 128>, sym, static, scales = dense<0.1> : tensor<2x2xf32>>} : tensor<256x300xf32> -> tensor<256x300xf8E4M3FN>
  return
}

// -----

func.func @axis_out_of_range(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{'qopt.quantize' op scheme does not apply to the input of shape [8, 16]: per-channel axis 2 is out of range for a tensor of rank 2}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 2>, sym, static, scales = dense<0.1> : tensor<8xf32>>} : tensor<8x16xf32> -> tensor<8x16xi8>
  return
}

// -----

qopt.weight_store @s "w.safetensors"
func.func @per_token_on_weight_quantize() {
  %w = qopt.weight @s["w"] : tensor<8x16xf32>
  // expected-error @+1 {{'qopt.quantize' op per-token granularity cannot apply to a weight}}
  %q, %s = qopt.quantize %w {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<8x16xf32> -> tensor<8x16xi8>, tensor<8xf32>
  return
}

// -----

func.func @per_token_on_weight(%x: tensor<?x16xf32>, %w: tensor<8x16xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'qopt.quantized_linear' op weight scheme must be static}}
  %y = qopt.quantized_linear %x, %w weight_scales(%s : tensor<8xf32>) {weight_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x16xf32>, tensor<8x16xi8> -> tensor<?x8xf32>
  return
}

// -----

func.func @storage_mismatch(%x: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.quantize' op result element type 'i8' does not match the scheme's storage type 'f8E4M3FN'}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @static_without_scales(%x: tensor<4xf32>) {
  // expected-error @+1 {{'qopt.quantize' op static quantize needs a scheme with inline scales}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @dynamic_without_scales_result(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'qopt.quantize' op dynamic quantize must return its scales}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x4xf32> -> tensor<?x4xi8>
  return
}

// -----

func.func @dynamic_scales_shape(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'qopt.quantize' op scales result has shape [?, 4] but the scheme's granularity needs [?]}}
  %q, %s = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x4xf32> -> tensor<?x4xi8>, tensor<?x4xf32>
  return
}

// -----

func.func @dequantize_both_scales(%q: tensor<4xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{'qopt.dequantize' op the input scales are given both inline in the scheme and as an operand}}
  %x = qopt.dequantize %q scales(%s : tensor<f32>) {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<4xi8> -> tensor<4xf32>
  return
}

// -----

func.func @dequantize_missing_scales(%q: tensor<?x4xi8>) {
  // expected-error @+1 {{'qopt.dequantize' op the input scheme has no inline scales, so it needs a scales operand (dynamic scheme)}}
  %x = qopt.dequantize %q {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x4xi8> -> tensor<?x4xf32>
  return
}

// -----

func.func @dequantize_asym_needs_zp(%q: tensor<?x4xi8>, %s: tensor<?xf32>) {
  // expected-error @+1 {{'qopt.dequantize' op the asymmetric input scheme needs a zero points operand}}
  %x = qopt.dequantize %q scales(%s : tensor<?xf32>) {scheme = #qopt.scheme<i8, #qopt.per_token, asym, dynamic>} : tensor<?x4xi8> -> tensor<?x4xf32>
  return
}

// -----

func.func @requantize_dynamic(%q: tensor<4xi8>) {
  // expected-error @+1 {{'qopt.requantize' op in_scheme must be static with inline scales}}
  %r = qopt.requantize %q {in_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, dynamic>, out_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<4xi8> -> tensor<4xi8>
  return
}

// -----

func.func @qlinear_weight_scales_shape(%x: tensor<?x16xf32>, %w: tensor<8x16xi8>, %s: tensor<16xf32>) {
  // expected-error @+1 {{'qopt.quantized_linear' op the weight scales have shape [16] but the scheme's granularity needs [8]}}
  %y = qopt.quantized_linear %x, %w weight_scales(%s : tensor<16xf32>) {weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x16xf32>, tensor<8x16xi8> -> tensor<?x8xf32>
  return
}

// -----

func.func @qlinear_input_storage(%x: tensor<?x16xf32>, %w: tensor<8x16xi8>) {
  // expected-error @+1 {{'qopt.quantized_linear' op input element type 'f32' does not match the scheme's storage type 'i8'}}
  %y = qopt.quantized_linear %x, %w {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>, weight_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<?x16xf32>, tensor<8x16xi8> -> tensor<?x8xf32>
  return
}

// -----

func.func @qlinear_weight_only_int_input(%x: tensor<?x16xi8>, %w: tensor<8x16xi8>) {
  // expected-error @+1 {{'qopt.quantized_linear' op weight-only quantized_linear (no input_scheme) needs an f16, bf16 or f32 input, got 'i8'}}
  %y = qopt.quantized_linear %x, %w {weight_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<?x16xi8>, tensor<8x16xi8> -> tensor<?x8xf32>
  return
}

// -----

func.func @qlinear_shape(%x: tensor<?x32xf32>, %w: tensor<8x16xi8>) {
  // expected-error @+1 {{'qopt.quantized_linear' op input feature size 32 does not match the weight's in-features 16}}
  %y = qopt.quantized_linear %x, %w {weight_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<?x32xf32>, tensor<8x16xi8> -> tensor<?x8xf32>
  return
}

// -----

func.func @qlinear_group(%x: tensor<?x96xf32>, %w: tensor<8x96xi4>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{'qopt.quantized_linear' op scheme does not apply to the weight of shape [8, 96]: group size 64 does not divide axis 1 of size 96}}
  %y = qopt.quantized_linear %x, %w weight_scales(%s : tensor<8x1xf32>) {weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 64>, sym, static, packing = int4x2>} : tensor<?x96xf32>, tensor<8x96xi4> -> tensor<?x8xf32>
  return
}
