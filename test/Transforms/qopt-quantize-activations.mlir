// Weight quantization and activation quantization in one pipeline, on the
// weights of qopt-quantize-weights.mlir (int8 per-channel: a's rows quantize
// to (127 -32 16 48 10 4 0 64) and (-127 64 32 -48 16 96 -64 0), both rows
// of b to (127 64 32 16 -32 8 0 62)).
// RUN: rm -rf %t.dir && mkdir -p %t.dir/out
// RUN: %python %S/Inputs/make_weights.py %S/Inputs/quant-weights.json %t.dir/w.safetensors
// RUN: cp %s %t.dir/model.mlir
// DEFINE: %{qopt} = qopt %t.dir/model.mlir --qopt-quantize-weights

// RUN: %{qopt}=weights-out=%t.dir/dyn.w --qopt-quantize-activations | FileCheck %s
// RUN: %{qopt}=weights-out=%t.dir/tensor.w --qopt-quantize-activations=granularity=tensor | FileCheck %s --check-prefix=TENSOR
// RUN: %{qopt}=weights-out=%t.dir/static.w --qopt-quantize-activations="mode=static granularity=tensor" | FileCheck %s --check-prefix=STATIC
// RUN: %{qopt}=weights-out=%t.dir/asym.w --qopt-quantize-activations="mode=static granularity=tensor symmetric=false weights-out=%t.dir/asym.w" | FileCheck %s --check-prefix=ASYM
// RUN: %python %S/Inputs/dump_weights.py %t.dir/asym.w/zp-*.safetensors.index.json | FileCheck %s --check-prefix=ZP
// RUN: %{qopt}="dtype=f8E4M3FN weights-out=%t.dir/f8.w" --qopt-quantize-activations="dtype=f8E4M3FN mode=static granularity=tensor" | FileCheck %s --check-prefix=F8
// RUN: %{qopt}="dtype=f8E4M3FN granularity=block block-size=4 weights-out=%t.dir/f8b.w" --qopt-quantize-activations=dtype=f8E4M3FN | FileCheck %s --check-prefix=F8DYN
// RUN: %{qopt}="dtype=i4 granularity=group group-size=4 weights-out=%t.dir/i4.w" --qopt-quantize-activations | FileCheck %s --check-prefix=I4
// RUN: qopt %S/Inputs/quantize-activations-handwritten.mlir --qopt-quantize-activations | FileCheck %s --check-prefix=ARG

// With -o into another directory, the activation pass finds the weights the
// weight pass wrote in the same run (their IR path is relative to an output
// file that does not exist yet).
// RUN: cd %t.dir && qopt model.mlir --qopt-quantize-weights --qopt-quantize-activations="mode=static granularity=tensor symmetric=false" -o out/q.mlir
// RUN: FileCheck %s --check-prefix=OUT < %t.dir/out/q.mlir
// RUN: %python %S/Inputs/dump_weights.py %t.dir/out/q.weights/zp-*.safetensors.index.json | FileCheck %s --check-prefix=ZP
// OUT: qopt.weight_store @rtn "q.weights/rtn-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// OUT-NEXT: qopt.weight_store @zp "q.weights/zp-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// OUT: qopt.weight @zp["a.int_bias"] : tensor<2xi32>

// Dynamic per-token (default): one quantize after the observer, shared by a
// and b, returning one scale per token. The float LM head is left alone.
// CHECK-LABEL: func.func @f
// CHECK: %[[XO:.*]] = qopt.observe
// CHECK-NEXT: %[[XQ:.*]], %[[XS:.*]] = qopt.quantize %[[XO]] {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<?xf32>
// CHECK-NOT: qopt.quantize %
// CHECK: %[[QA:.*]] = qopt.weight @rtn["a.qweight"] : tensor<2x8xi8>
// CHECK: qopt.quantized_linear %[[XQ]], %[[QA]] bias(%{{.*}} : tensor<2xbf16>) input_scales(%[[XS]] : tensor<?xf32>) weight_scales(%{{.*}} : tensor<2xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, label = "a", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xi8>, tensor<2x8xi8> -> tensor<?x2xf32>
// CHECK-NOT: qopt.quantize %
// CHECK: %[[QB:.*]] = qopt.weight @rtn["b.qweight"] : tensor<2x8xi8>
// CHECK: qopt.quantized_linear %[[XQ]], %[[QB]] input_scales(%[[XS]] : tensor<?xf32>) {{.*}}label = "b"
// CHECK-NOT: qopt.quantize %
// CHECK: qopt.linear %[[XO]], %{{.*}} {label = "lm_head", role = #qopt<role lm_head>}

// TENSOR: %[[XQ:.*]], %[[XS:.*]] = qopt.quantize %{{.*}} {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<f32>
// TENSOR: qopt.quantized_linear %[[XQ]], %{{.*}} input_scales(%[[XS]] : tensor<f32>) {{.*}}{input_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, dynamic>, label = "a"
// TENSOR: qopt.quantized_linear %[[XQ]], %{{.*}} input_scales(%[[XS]] : tensor<f32>) {{.*}}label = "b"

// Static: max over the channels of absmax = 3.96875, / 127 = 1/32, inline.
// STATIC: %[[XQ:.*]] = qopt.quantize %{{.*}} {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<3.125000e-02> : tensor<f32>>} : tensor<?x8xf32> -> tensor<?x8xi8>
// STATIC-NOT: qopt.quantize %
// STATIC: qopt.quantized_linear %[[XQ]], %{{.*}} bias(%{{.*}} : tensor<2xbf16>) weight_scales(%{{.*}} : tensor<2xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<3.125000e-02> : tensor<f32>>, label = "a"
// STATIC: qopt.quantized_linear %[[XQ]], {{.*}}label = "b"

// Static asymmetric: the input spans [min of min, max of max] = [-1, 3.96875]:
// scale 4.96875 / 255, zero point -128 - round(-1 / scale) = -77. The zero
// point goes into int_bias[n] = 77 * sum_k Wq[n, k]: a: 77 * 237 and
// 77 * -31, b: 77 * 277 for both rows.
// ASYM: qopt.weight_store @zp "{{.*}}/asym.w/zp-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// ASYM: %[[XQ:.*]] = qopt.quantize %{{.*}} {scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<0.0194852948> : tensor<f32>, zero_points = dense<-77> : tensor<i32>>} : tensor<?x8xf32> -> tensor<?x8xi8>
// ASYM: %[[IB:.*]] = qopt.weight @zp["a.int_bias"] : tensor<2xi32>
// ASYM-NEXT: qopt.quantized_linear %[[XQ]], %{{.*}} bias(%{{.*}} : tensor<2xbf16>) int_bias(%[[IB]] : tensor<2xi32>) weight_scales(%{{.*}} : tensor<2xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_tensor, asym, static, scales = dense<0.0194852948> : tensor<f32>, zero_points = dense<-77> : tensor<i32>>, label = "a"
// ASYM: %[[IB2:.*]] = qopt.weight @zp["b.int_bias"] : tensor<2xi32>
// ASYM-NEXT: qopt.quantized_linear %[[XQ]], %{{.*}} int_bias(%[[IB2]] : tensor<2xi32>) {{.*}}label = "b"
// ZP: a.int_bias I32 [2] 18249 -2387
// ZP-NEXT: b.int_bias I32 [2] 21329 21329
// ZP-NOT: {{.}}

// FP8 weights and activations: static scale 3.96875 / 448.
// F8: %[[XQ:.*]] = qopt.quantize %{{.*}} {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.00885881669> : tensor<f32>>} : tensor<?x8xf32> -> tensor<?x8xf8E4M3FN>
// F8: qopt.quantized_linear %[[XQ]], {{.*}}input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.00885881669> : tensor<f32>>, label = "a", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf8E4M3FN>, tensor<2x8xf8E4M3FN> -> tensor<?x2xf32>

// F8DYN: %[[XQ:.*]], %[[XS:.*]] = qopt.quantize %{{.*}} {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>} : tensor<?x8xf32> -> tensor<?x8xf8E4M3FN>, tensor<?xf32>
// F8DYN: qopt.quantized_linear %[[XQ]], %{{.*}} input_scales(%[[XS]] : tensor<?xf32>) weight_scales(%{{.*}} : tensor<1x2xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, label = "a", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 4, cols = 4>, sym, static>}

// W4A16 stays weight-only.
// I4-NOT: qopt.quantize %
// I4: qopt.quantized_linear %[[XO:[^,]*]], {{.*}} {label = "a", weight_scheme = #qopt.scheme<i4,
// I4-NOT: input_scheme
// I4-NOT: qopt.quantize %
// I4: return

// An input that is a block argument is quantized at the start of the block;
// a layer that already has an input scheme, and an int4 one, are left alone.
// ARG-LABEL: func.func @block_argument
// ARG-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// ARG-NEXT: %[[XQ:.*]], %[[XS:.*]] = qopt.quantize %[[X]] {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>}
// ARG: qopt.quantized_linear %[[XQ]], %{{.*}} input_scales(%[[XS]] : tensor<?xf32>) {{.*}}label = "a"
// ARG-NEXT: %[[XQ2:.*]], %[[XS2:.*]] = qopt.quantize %[[X]]
// ARG-NEXT: qopt.quantized_linear %[[XQ2]], %{{.*}} input_scales(%[[XS2]] : tensor<?xf32>) {{.*}}label = "b"
// ARG-NOT: qopt.quantize %
// ARG: qopt.quantized_linear %[[X]], %{{.*}} weight_scales(%{{.*}} : tensor<2x2xf32>) {label = "c"

qopt.weight_store @ckpt "w.safetensors"
func.func @f(%ids: tensor<?xi32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x4xf32>) {
  %emb = qopt.weight @ckpt["embed"] : tensor<4x8xbf16>
  %x = qopt.embedding %emb[%ids] : (tensor<4x8xbf16>, tensor<?xi32>) -> tensor<?x8xf32>
  %xo = qopt.observe %x {label = "a.input", stats = #qopt.stats<absmax = dense<[1.0, 0.5, 3.96875, 2.0, 1.0, 1.0, 1.0, 1.0]> : tensor<8xf32>, min = dense<[-1.0, -0.5, -0.5, -1.0, -0.25, -1.0, -1.0, -1.0]> : tensor<8xf32>, max = dense<[1.0, 0.5, 3.96875, 2.0, 1.0, 1.0, 1.0, 1.0]> : tensor<8xf32>, num_tokens = 16>} : tensor<?x8xf32>
  %wa = qopt.weight @ckpt["a.weight"] : tensor<2x8xbf16>
  %ba = qopt.weight @ckpt["a.bias"] : tensor<2xbf16>
  %a = qopt.linear %xo, %wa, %ba {label = "a"} : (tensor<?x8xf32>, tensor<2x8xbf16>, tensor<2xbf16>) -> tensor<?x2xf32>
  %wb = qopt.weight @ckpt["b.weight"] : tensor<2x8xbf16>
  %sb = qopt.weight @ckpt["b.s"] : tensor<8xf32>
  %wbs = qopt.scale_channels %wb, %sb {axis = 1 : i64} : (tensor<2x8xbf16>, tensor<8xf32>) -> tensor<2x8xf32>
  %b = qopt.linear %xo, %wbs {label = "b"} : (tensor<?x8xf32>, tensor<2x8xf32>) -> tensor<?x2xf32>
  %l = qopt.linear %xo, %emb {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x8xf32>, tensor<4x8xbf16>) -> tensor<?x4xf32>
  return %a, %b, %l : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x4xf32>
}
