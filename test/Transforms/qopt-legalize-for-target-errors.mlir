// What qopt-legalize-for-target cannot rewrite is an error.
// RUN: qopt %s -split-input-file --qopt-legalize-for-target=target=sm_80 -verify-diagnostics
// Integer inputs with per-group or block weight scales fail on every target;
// float8 inputs that do not come from a quantize only where there is no
// float8.
// RUN: not qopt %s -split-input-file --qopt-legalize-for-target=target=sm_90a 2> %t.sm90a.err | FileCheck %s --check-prefix=SM90-OUT
// RUN: FileCheck %s --check-prefix=SM90 < %t.sm90a.err
// RUN: not qopt %s -split-input-file --qopt-legalize-for-target=target=sm_89 2> %t.sm89.err | FileCheck %s --check-prefix=SM90-OUT
// RUN: FileCheck %s --check-prefix=SM90 < %t.sm89.err
// SM90: error: qopt-legalize-for-target: layer 'g' has integer inputs and per-group or block weight scales; integer W8A8 needs per-channel or per-tensor weight scales (quantize the weights with granularity=channel)
// SM90: error: qopt-legalize-for-target: layer (unnamed) has integer inputs and per-group or block weight scales
// SM90: error: qopt-legalize-for-target: layer 'g4' has integer inputs and per-group or block weight scales
// SM90-NOT: error: qopt-legalize-for-target: layer 'f'
// The float8 layer is left as it is.
// SM90-OUT: func.func @fp8_argument
// SM90-OUT-NEXT: qopt.quantized_linear {{.*}}input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, label = "f"

// Unsupported targets.
// RUN: not qopt %s --qopt-legalize-for-target=target=sm_70 2>&1 | FileCheck %s --check-prefix=TARGET -DT=sm_70
// RUN: not qopt %s --qopt-legalize-for-target=target=sm_90 2>&1 | FileCheck %s --check-prefix=TARGET -DT=sm_90
// RUN: not qopt %s --qopt-legalize-for-target=target= 2>&1 | FileCheck %s --check-prefix=TARGET -DT=
// TARGET: for the --target option: '[[T]]' is not a valid value (valid values: sm_90a, sm_89, sm_80)

// Integer W8A8 with per-group int8 weights.
func.func @int8_group(%x: tensor<?x256xf32>, %w: tensor<4x256xi8>, %s: tensor<4x2xf32>) -> tensor<?x4xf32> {
  %xq, %xs = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x256xf32> -> tensor<?x256xi8>, tensor<?xf32>
  // expected-error @+1 {{qopt-legalize-for-target: layer 'g' has integer inputs and per-group or block weight scales; integer W8A8 needs per-channel or per-tensor weight scales (quantize the weights with granularity=channel)}}
  %a = qopt.quantized_linear %xq, %w input_scales(%xs : tensor<?xf32>) weight_scales(%s : tensor<4x2xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, label = "g", weight_scheme = #qopt.scheme<i8, #qopt.per_group<axis = 1, size = 128>, sym, static>} : tensor<?x256xi8>, tensor<4x256xi8> -> tensor<?x4xf32>
  return %a : tensor<?x4xf32>
}

// -----

// Integer W8A8 with block-scaled int8 weights.
func.func @int8_block(%x: tensor<?x256xf32>, %w: tensor<256x256xi8>, %s: tensor<2x2xf32>) -> tensor<?x256xf32> {
  %xq = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>} : tensor<?x256xf32> -> tensor<?x256xi8>
  // expected-error @+1 {{layer (unnamed) has integer inputs and per-group or block weight scales}}
  %a = qopt.quantized_linear %xq, %w weight_scales(%s : tensor<2x2xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>, weight_scheme = #qopt.scheme<i8, #qopt.block<rows = 128, cols = 128>, sym, static>} : tensor<?x256xi8>, tensor<256x256xi8> -> tensor<?x256xf32>
  return %a : tensor<?x256xf32>
}

// -----

// W4A8: int8 inputs with per-group int4 weights.
func.func @int4_group(%x: tensor<?x256xf32>, %w: tensor<4x256xi4>, %s: tensor<4x2xf32>) -> tensor<?x4xf32> {
  %xq, %xs = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x256xf32> -> tensor<?x256xi8>, tensor<?xf32>
  // expected-error @+1 {{layer 'g4' has integer inputs and per-group or block weight scales}}
  %a = qopt.quantized_linear %xq, %w input_scales(%xs : tensor<?xf32>) weight_scales(%s : tensor<4x2xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, label = "g4", weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static, packing = int4x2>} : tensor<?x256xi8>, tensor<4x256xi4> -> tensor<?x4xf32>
  return %a : tensor<?x4xf32>
}

// -----

// float8 inputs that are function arguments: sm_80 has nothing to drop.
func.func @fp8_argument(%xq: tensor<?x8xf8E4M3FN>, %xs: tensor<?xf32>, %w: tensor<4x8xf8E4M3FN>, %s: tensor<4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{qopt-legalize-for-target: layer 'f' has float8 inputs, which sm_80 cannot multiply, and they do not come from a qopt.quantize that could be dropped}}
  %a = qopt.quantized_linear %xq, %w input_scales(%xs : tensor<?xf32>) weight_scales(%s : tensor<4xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, label = "f", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf8E4M3FN>, tensor<4x8xf8E4M3FN> -> tensor<?x4xf32>
  return %a : tensor<?x4xf32>
}
