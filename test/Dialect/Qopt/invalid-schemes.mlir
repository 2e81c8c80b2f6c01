// RUN: qopt %s -split-input-file -verify-diagnostics

// Scheme attribute verifiers: each error names the offending parameter.

func.func @dynamic_with_scales(%x: tensor<4xf32>) {
  // expected-error @+1 {{a dynamic scheme cannot carry stored scales}}
  %q, %s = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, dynamic, scales = dense<0.1> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>, tensor<f32>
  return
}

// -----

func.func @per_token_static(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{per-token granularity requires a dynamic scheme}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, static>} : tensor<?x4xf32> -> tensor<?x4xi8>
  return
}

// -----

func.func @zero_point_on_fp8(%x: tensor<4xf32>) {
  // expected-error @+1 {{zero points are not allowed with float8 storage 'f8E4M3FN'}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>, zero_points = dense<0> : tensor<i32>>} : tensor<4xf32> -> tensor<4xf8E4M3FN>
  return
}

// -----

func.func @fp8_asym(%x: tensor<4xf32>) {
  // expected-error @+1 {{float8 storage 'f8E5M2' only supports symmetric schemes}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<f8E5M2, #qopt.per_tensor, asym, static, scales = dense<0.1> : tensor<f32>>} : tensor<4xf32> -> tensor<4xf8E5M2>
  return
}

// -----

func.func @zero_point_range(%x: tensor<4xf32>) {
  // expected-error @+1 {{zero point 128 is outside the storage range [-128, 127] of 'i8'}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<0.1> : tensor<f32>, zero_points = dense<128> : tensor<i32>>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @zero_point_range_i4(%x: tensor<4xf32>) {
  // expected-error @+1 {{zero point -9 is outside the storage range [-8, 7] of 'i4'}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i4, #qopt.per_tensor, asym, static, scales = dense<0.1> : tensor<f32>, zero_points = dense<-9> : tensor<i32>, packing = int4x2>} : tensor<4xf32> -> tensor<4xi4>
  return
}

// -----

func.func @symmetric_with_zero_point(%x: tensor<4xf32>) {
  // expected-error @+1 {{a symmetric scheme cannot carry zero points}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>, zero_points = dense<0> : tensor<i32>>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @negative_scale(%x: tensor<4xf32>) {
  // expected-error @+1 {{scale #1 must be positive and finite, got -2.000000e-01}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static, scales = dense<[0.1, -0.2, 0.3, 0.4]> : tensor<4xf32>>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @nan_scale(%x: tensor<4xf32>) {
  // expected-error @+1 {{scale #0 must be positive and finite, got nan}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0x7FC00000> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @inf_scale(%x: tensor<4xf32>) {
  // expected-error @+1 {{scale #0 must be positive and finite, got INF}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0x7F800000> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @i4_without_packing(%x: tensor<4xf32>) {
  // expected-error @+1 {{i4 storage requires a packing (int4x2 or int4x8_offset)}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i4, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi4>
  return
}

// -----

func.func @packing_on_i8(%x: tensor<4xf32>) {
  // expected-error @+1 {{packing 'int4x2' applies only to i4 storage, not 'i8'}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>, packing = int4x2>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @bad_storage(%x: tensor<4xf32>) {
  // expected-error @+1 {{unsupported storage type 'i16'; expected i8, i4, f8E4M3FN or f8E5M2}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i16, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @f64_scales(%x: tensor<4xf32>) {
  // expected-error @+1 {{scales must be f32, got 'f64'}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f64>>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @zero_point_count(%x: tensor<2xf32>) {
  // expected-error @+1 {{scheme has 1 zero points for 2 scales}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, asym, static, scales = dense<[0.1, 0.2]> : tensor<2xf32>, zero_points = dense<1> : tensor<1xi32>>} : tensor<2xf32> -> tensor<2xi8>
  return
}

// -----

func.func @unknown_option(%x: tensor<4xf32>) {
  // expected-error @+1 {{unknown scheme option 'scale'; expected 'scales', 'zero_points' or 'packing'}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scale = dense<0.1> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @duplicate_option(%x: tensor<4xf32>) {
  // expected-error @+1 {{duplicate scheme option 'scales'}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>, scales = dense<0.2> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @not_a_granularity(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected a granularity attribute (#qopt.per_tensor, #qopt.per_channel, #qopt.per_token, #qopt.per_group, #qopt.per_head or #qopt.block), got 3 : i64}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, 3, sym, static>} : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @bad_symmetry(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected one of [sym, asym] for whether a scheme has a zero point, got: symmetric}}
  %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, symmetric, static>} : tensor<4xf32> -> tensor<4xi8>
  return
}
