// qopt-legalize-for-target rewrites what a target's kernels cannot run, with
// a remark on each rewritten op. No weights are read: the weights and their
// scales are function arguments.
//
// sm_80 (no float8 tensor cores): FP8 W8A8 becomes FP8 weight-only.
// Everywhere: dynamic per-tensor input scales become dynamic per-token.
// RUN: qopt %s --qopt-legalize-for-target=target=sm_80 -verify-diagnostics | FileCheck %s --check-prefixes=CHECK,SM80
// RUN: qopt %s --qopt-legalize-for-target=target=sm_89 2> %t.sm89.err | FileCheck %s --check-prefixes=CHECK,FP8
// RUN: FileCheck %s --check-prefix=REMARKS < %t.sm89.err
// sm_90a is the default target.
// RUN: qopt %s --qopt-legalize-for-target 2> %t.sm90a.err | FileCheck %s --check-prefixes=CHECK,FP8
// RUN: FileCheck %s --check-prefix=REMARKS < %t.sm90a.err
// The result of every target passes the 'quantized' contract.
// RUN: qopt %s --qopt-legalize-for-target=target=sm_80 --qopt-verify-contract=stage=quantized -o /dev/null 2>/dev/null
// RUN: qopt %s --qopt-legalize-for-target=target=sm_90a --qopt-verify-contract=stage=quantized -o /dev/null 2>/dev/null
// Legalization is idempotent: a second run changes nothing and says nothing.
// RUN: qopt %s --qopt-legalize-for-target=target=sm_80 -o %t.sm80.mlir 2>/dev/null
// RUN: qopt %t.sm80.mlir --qopt-legalize-for-target=target=sm_80 2> %t.again.err | FileCheck %s --check-prefixes=CHECK,SM80
// RUN: count 0 < %t.again.err

// The sm_89/sm_90a remarks: only the per-tensor rewrites. (Without
// -verify-diagnostics, MLIR 22 also reports the expected-remark lines below
// as "expected remark ... was not produced" errors; the checks skip those.)
// REMARKS-NOT: remark: {{.*}}float8 tensor cores
// REMARKS: remark: qopt-legalize-for-target: layer 'c': dynamic per-tensor input scales need a device-wide reduction before the GEMM; using dynamic per-token scales
// REMARKS-NOT: remark: {{.*}}float8 tensor cores
// REMARKS: remark: qopt-legalize-for-target: layer 'd': dynamic per-tensor input scales
// REMARKS-NOT: remark: {{.*}}float8 tensor cores
// REMARKS: remark: qopt-legalize-for-target: layer 'e': dynamic per-tensor input scales
// REMARKS-NOT: remark:

// Two FP8 W8A8 layers share one dynamic per-token quantize of %x.
// CHECK-LABEL: func.func @fp8_dynamic_token(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x8xf32>
// SM80-NOT: qopt.quantize %
// SM80: qopt.quantized_linear %[[X]], %{{.*}} weight_scales(%{{.*}} : tensor<4xf32>) {label = "a", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<4x8xf8E4M3FN> -> tensor<?x4xf32>
// SM80-NEXT: qopt.quantized_linear %[[X]], %{{.*}} weight_scales(%{{.*}} : tensor<4xf32>) {weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<4x8xf8E4M3FN> -> tensor<?x4xf32>
// FP8: %[[XQ:.*]], %[[XS:.*]] = qopt.quantize %[[X]] {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>}
// FP8-NEXT: qopt.quantized_linear %[[XQ]], %{{.*}} input_scales(%[[XS]] : tensor<?xf32>) weight_scales(%{{.*}} : tensor<4xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, label = "a"
// FP8-NEXT: qopt.quantized_linear %[[XQ]], %{{.*}} input_scales(%[[XS]] : tensor<?xf32>) weight_scales(%{{.*}} : tensor<4xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, weight_scheme
// CHECK-NEXT: return
func.func @fp8_dynamic_token(%x: tensor<?x8xf32>, %w: tensor<4x8xf8E4M3FN>, %s: tensor<4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %xq, %xs = qopt.quantize %x {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xf8E4M3FN>, tensor<?xf32>
  // expected-remark @+1 {{qopt-legalize-for-target: sm_80 has no float8 tensor cores; layer 'a' now runs float8 weights with 16-bit activations (weight-only)}}
  %a = qopt.quantized_linear %xq, %w input_scales(%xs : tensor<?xf32>) weight_scales(%s : tensor<4xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, label = "a", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf8E4M3FN>, tensor<4x8xf8E4M3FN> -> tensor<?x4xf32>
  // expected-remark @+1 {{qopt-legalize-for-target: sm_80 has no float8 tensor cores; layer (unnamed) now runs float8 weights with 16-bit activations (weight-only)}}
  %b = qopt.quantized_linear %xq, %w input_scales(%xs : tensor<?xf32>) weight_scales(%s : tensor<4xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf8E4M3FN>, tensor<4x8xf8E4M3FN> -> tensor<?x4xf32>
  return %a, %b : tensor<?x4xf32>, tensor<?x4xf32>
}

// A static FP8 layer with a bias and a residual keeps both when it becomes
// weight-only; the quantize stays while something else still uses it.
// CHECK-LABEL: func.func @fp8_static_tensor(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x8xf32>
// CHECK: %[[XQ:.*]] = qopt.quantize %[[X]] {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<5.000000e-01> : tensor<f32>>}
// SM80-NEXT: qopt.quantized_linear %[[X]], %{{.*}} bias(%{{.*}} : tensor<4xbf16>) weight_scales(%{{.*}} : tensor<4xf32>) residual(%{{.*}} : tensor<?x4xf32>) {label = "s", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<4x8xf8E4M3FN> -> tensor<?x4xf32>
// FP8-NEXT: qopt.quantized_linear %[[XQ]], %{{.*}} bias(%{{.*}} : tensor<4xbf16>) weight_scales(%{{.*}} : tensor<4xf32>) residual(%{{.*}} : tensor<?x4xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<5.000000e-01> : tensor<f32>>, label = "s"
// CHECK-NEXT: return %{{.*}}, %[[XQ]]
func.func @fp8_static_tensor(%x: tensor<?x8xf32>, %w: tensor<4x8xf8E4M3FN>, %s: tensor<4xf32>, %bias: tensor<4xbf16>, %r: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x8xf8E4M3FN>) {
  %xq = qopt.quantize %x {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>} : tensor<?x8xf32> -> tensor<?x8xf8E4M3FN>
  // expected-remark @+1 {{sm_80 has no float8 tensor cores; layer 's' now runs}}
  %y = qopt.quantized_linear %xq, %w bias(%bias : tensor<4xbf16>) weight_scales(%s : tensor<4xf32>) residual(%r : tensor<?x4xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.5> : tensor<f32>>, label = "s", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf8E4M3FN>, tensor<4x8xf8E4M3FN> -> tensor<?x4xf32>
  return %y, %xq : tensor<?x4xf32>, tensor<?x8xf8E4M3FN>
}

// A dynamic per-tensor int8 quantize shared by two layers is replaced by
// one per-token quantize (on every target); the per-tensor one is gone.
// CHECK-LABEL: func.func @i8_dynamic_tensor(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x8xf32>
// CHECK-NOT: per_tensor
// CHECK: %[[XQ:.*]], %[[XS:.*]] = qopt.quantize %[[X]] {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<?xf32>
// CHECK-NEXT: qopt.quantized_linear %[[XQ]], %{{.*}} input_scales(%[[XS]] : tensor<?xf32>) weight_scales(%{{.*}} : tensor<4xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, label = "c", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xi8>, tensor<4x8xi8> -> tensor<?x4xf32>
// CHECK-NEXT: qopt.quantized_linear %[[XQ]], %{{.*}} input_scales(%[[XS]] : tensor<?xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, label = "d", weight_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<2.500000e-01> : tensor<f32>>} : tensor<?x8xi8>, tensor<4x8xi8> -> tensor<?x4xf32>
// CHECK-NEXT: return
func.func @i8_dynamic_tensor(%x: tensor<?x8xf32>, %w: tensor<4x8xi8>, %s: tensor<4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %xq, %xs = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<f32>
  // expected-remark @+1 {{qopt-legalize-for-target: layer 'c': dynamic per-tensor input scales need a device-wide reduction before the GEMM; using dynamic per-token scales}}
  %c = qopt.quantized_linear %xq, %w input_scales(%xs : tensor<f32>) weight_scales(%s : tensor<4xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, dynamic>, label = "c", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xi8>, tensor<4x8xi8> -> tensor<?x4xf32>
  // expected-remark @+1 {{layer 'd': dynamic per-tensor input scales}}
  %d = qopt.quantized_linear %xq, %w input_scales(%xs : tensor<f32>) {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, dynamic>, label = "d", weight_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.25> : tensor<f32>>} : tensor<?x8xi8>, tensor<4x8xi8> -> tensor<?x4xf32>
  return %c, %d : tensor<?x4xf32>, tensor<?x4xf32>
}

// FP8 with dynamic per-tensor scales: per-token where float8 runs, and
// weight-only (one remark, not two) on sm_80.
// CHECK-LABEL: func.func @fp8_dynamic_tensor(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x8xf32>
// CHECK-NOT: per_tensor
// SM80-NOT: qopt.quantize %
// SM80: qopt.quantized_linear %[[X]], %{{.*}} {label = "e", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 4, cols = 4>, sym, static>} : tensor<?x8xf32>, tensor<4x8xf8E4M3FN> -> tensor<?x4xf32>
// FP8: %[[XQ:.*]], %[[XS:.*]] = qopt.quantize %[[X]] {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xf8E4M3FN>, tensor<?xf32>
// FP8-NEXT: qopt.quantized_linear %[[XQ]], %{{.*}} input_scales(%[[XS]] : tensor<?xf32>) weight_scales(%{{.*}} : tensor<1x2xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, label = "e", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 4, cols = 4>, sym, static>}
// CHECK-NEXT: return
func.func @fp8_dynamic_tensor(%x: tensor<?x8xf32>, %w: tensor<4x8xf8E4M3FN>, %s: tensor<1x2xf32>) -> tensor<?x4xf32> {
  %xq, %xs = qopt.quantize %x {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xf8E4M3FN>, tensor<f32>
  // expected-remark @+1 {{sm_80 has no float8 tensor cores; layer 'e' now runs float8 weights with 16-bit activations (weight-only)}}
  %e = qopt.quantized_linear %xq, %w input_scales(%xs : tensor<f32>) weight_scales(%s : tensor<1x2xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, dynamic>, label = "e", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 4, cols = 4>, sym, static>} : tensor<?x8xf8E4M3FN>, tensor<4x8xf8E4M3FN> -> tensor<?x4xf32>
  return %e : tensor<?x4xf32>
}

// What every target runs is left alone, without remarks: int8 W8A8 with
// static per-tensor or dynamic per-token inputs, and weight-only layers
// (int4 per-group, FP8).
// CHECK-LABEL: func.func @supported(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x256xf32>
// CHECK: %[[XQ:.*]] = qopt.quantize %[[X]] {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<1.250000e-01> : tensor<f32>>}
// CHECK-NEXT: qopt.quantized_linear %[[XQ]], {{.*}}input_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<1.250000e-01> : tensor<f32>>, label = "static"
// CHECK-NEXT: %[[TQ:.*]], %[[TS:.*]] = qopt.quantize %[[X]] {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>}
// CHECK-NEXT: qopt.quantized_linear %[[TQ]], %{{.*}} input_scales(%[[TS]] : tensor<?xf32>) {{.*}}label = "token"
// CHECK-NEXT: qopt.quantized_linear %[[X]], {{.*}}{label = "w4", weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static, packing = int4x2>}
// CHECK-NEXT: qopt.quantized_linear %[[X]], {{.*}}{label = "w8f", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>}
// CHECK-NEXT: return
func.func @supported(%x: tensor<?x256xf32>, %w8: tensor<4x256xi8>, %s8: tensor<4xf32>, %w4: tensor<4x256xi4>, %s4: tensor<4x2xf32>, %wf: tensor<4x256xf8E4M3FN>) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %xq = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.125> : tensor<f32>>} : tensor<?x256xf32> -> tensor<?x256xi8>
  %a = qopt.quantized_linear %xq, %w8 weight_scales(%s8 : tensor<4xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.125> : tensor<f32>>, label = "static", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x256xi8>, tensor<4x256xi8> -> tensor<?x4xf32>
  %tq, %ts = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x256xf32> -> tensor<?x256xi8>, tensor<?xf32>
  %b = qopt.quantized_linear %tq, %w8 input_scales(%ts : tensor<?xf32>) weight_scales(%s8 : tensor<4xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, label = "token", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x256xi8>, tensor<4x256xi8> -> tensor<?x4xf32>
  %c = qopt.quantized_linear %x, %w4 weight_scales(%s4 : tensor<4x2xf32>) {label = "w4", weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static, packing = int4x2>} : tensor<?x256xf32>, tensor<4x256xi4> -> tensor<?x4xf32>
  %d = qopt.quantized_linear %x, %wf weight_scales(%s8 : tensor<4xf32>) {label = "w8f", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x256xf32>, tensor<4x256xf8E4M3FN> -> tensor<?x4xf32>
  return %a, %b, %c, %d : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}
