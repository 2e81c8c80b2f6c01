// The test model reads its weights from w.safetensors beside it: build the
// store from hand-picked values and copy this file next to it. Row 0 of
// a.weight has max |w| = 3.96875 = 127 / 32 and row 1 1.984375 = 127 / 64,
// so the int8 per-channel scales are exactly 1/32 and 1/64.
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %python %S/Inputs/make_weights.py %S/Inputs/quant-weights.json %t.dir/w.safetensors
// RUN: cp %s %t.dir/model.mlir
// DEFINE: %{dump} = %python %S/Inputs/dump_weights.py

// RUN: qopt %t.dir/model.mlir --qopt-quantize-weights=weights-out=%t.dir/i8.w | FileCheck %s
// RUN: %{dump} %t.dir/i8.w/rtn-*.safetensors.index.json | FileCheck %s --check-prefix=I8
// RUN: qopt %t.dir/model.mlir --qopt-quantize-weights="dtype=i4 granularity=group group-size=4 weights-out=%t.dir/i4.w" | FileCheck %s --check-prefix=I4
// RUN: %{dump} %t.dir/i4.w/rtn-*.safetensors.index.json | FileCheck %s --check-prefix=I4-STORE
// RUN: qopt %t.dir/model.mlir --qopt-quantize-weights="dtype=i4 packing=int4x8_offset weights-out=%t.dir/i4x8.w" | FileCheck %s --check-prefix=I4X8
// RUN: %{dump} %t.dir/i4x8.w/rtn-*.safetensors.index.json | FileCheck %s --check-prefix=I4X8-STORE
// RUN: qopt %t.dir/model.mlir --qopt-quantize-weights="symmetric=false weights-out=%t.dir/asym.w" | FileCheck %s --check-prefix=ASYM
// RUN: %{dump} %t.dir/asym.w/rtn-*.safetensors.index.json | FileCheck %s --check-prefix=ASYM-STORE
// RUN: qopt %t.dir/model.mlir --qopt-quantize-weights="dtype=f8E4M3FN weights-out=%t.dir/f8.w" | FileCheck %s --check-prefix=F8
// RUN: %{dump} %t.dir/f8.w/rtn-*.safetensors.index.json | FileCheck %s --check-prefix=F8-STORE
// RUN: qopt %t.dir/model.mlir --qopt-quantize-weights="dtype=f8E4M3FN granularity=block block-size=4 weights-out=%t.dir/block.w" | FileCheck %s --check-prefix=BLOCK
// RUN: %{dump} %t.dir/block.w/rtn-*.safetensors.index.json | FileCheck %s --check-prefix=BLOCK-STORE
// RUN: qopt %t.dir/model.mlir --qopt-quantize-weights="granularity=tensor include-lm-head=true weights-out=%t.dir/tensor.w" | FileCheck %s --check-prefix=TENSOR
// RUN: %{dump} %t.dir/tensor.w/rtn-*.safetensors.index.json | FileCheck %s --check-prefix=TENSOR-STORE

// at-load: the same IR, but the store is an at-load store that says how the
// runtime computes each tensor from the checkpoint (b's smoothing factors
// included); no weight is read or written.
// RUN: qopt %t.dir/model.mlir --qopt-quantize-weights="at-load=true weights-out=%t.dir/al.w" | FileCheck %s --check-prefix=ATLOAD
// RUN: ls %t.dir/al.w | FileCheck %s --check-prefix=ATLOAD-FILES
// RUN: FileCheck %s --check-prefix=ATLOAD-JSON < %t.dir/al.w/rtn-*.at-load.json
// RUN: qopt %t.dir/model.mlir --qopt-quantize-weights="dtype=i4 granularity=group group-size=4 symmetric=false at-load=true weights-out=%t.dir/al4.w" | FileCheck %s --check-prefix=ATLOAD4
// RUN: FileCheck %s --check-prefix=ATLOAD4-JSON < %t.dir/al4.w/rtn-*.at-load.json
// ATLOAD: qopt.weight_store @ckpt "w.safetensors"
// ATLOAD-NEXT: qopt.weight_store @rtn "/{{.*}}/al.w/rtn-{{[0-9a-f]+}}.at-load.json"
// ATLOAD: %[[QA:.*]] = qopt.weight @rtn["a.qweight"] : tensor<2x8xi8>
// ATLOAD-NEXT: %[[SA:.*]] = qopt.weight @rtn["a.scales"] : tensor<2xf32>
// ATLOAD-NEXT: qopt.quantized_linear %{{.*}}, %[[QA]] bias(%{{.*}} : tensor<2xbf16>) weight_scales(%[[SA]] : tensor<2xf32>) {label = "a", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>}
// ATLOAD-NOT: qopt.scale_channels
// ATLOAD: qopt.weight @rtn["b.qweight"] : tensor<2x8xi8>
// ATLOAD-FILES: {{^rtn-[0-9a-f]+[.]at-load[.]json$}}
// ATLOAD-FILES-NOT: safetensors
// ATLOAD-JSON: "format": "qopt-at-load-weights",
// ATLOAD-JSON: "a.qweight": {
// ATLOAD-JSON-NEXT: "part": "qweight",
// ATLOAD-JSON-NEXT: "recipe": "i8:channel",
// ATLOAD-JSON-NEXT: "store": "ckpt",
// ATLOAD-JSON-NEXT: "tensor": "a.weight"
// ATLOAD-JSON: "a.scales": {
// ATLOAD-JSON-NEXT: "part": "scales",
// ATLOAD-JSON: "b.qweight": {
// ATLOAD-JSON-NEXT: "part": "qweight",
// ATLOAD-JSON-NEXT: "recipe": "i8:channel",
// ATLOAD-JSON-NEXT: "scale_channels": [
// ATLOAD-JSON-NEXT: {
// ATLOAD-JSON-NEXT: "axis": 1,
// ATLOAD-JSON-NEXT: "store": "ckpt",
// ATLOAD-JSON-NEXT: "tensor": "b.s"
// ATLOAD-JSON: "tensor": "b.weight"
// ATLOAD-JSON-NOT: lm_head
// ATLOAD-JSON: "version": 1
// ATLOAD4: qopt.weight @rtn["a.qweight"] {packing = #qopt<packing int4x2>} : tensor<2x8xi4>
// ATLOAD4-NEXT: qopt.weight @rtn["a.scales"] : tensor<2x2xf32>
// ATLOAD4-NEXT: qopt.weight @rtn["a.zero_points"] : tensor<2x2xi32>
// ATLOAD4-JSON: "a.zero_points": {
// ATLOAD4-JSON-NEXT: "part": "zero_points",
// ATLOAD4-JSON-NEXT: "recipe": "i4:group4:asym",

// With -o the store goes beside the output and is named relative to it.
// RUN: cd %t.dir && qopt model.mlir --qopt-quantize-weights -o q.mlir
// RUN: FileCheck %s --check-prefix=OUT < %t.dir/q.mlir
// RUN: %{dump} %t.dir/q.weights/rtn-*.safetensors.index.json | FileCheck %s --check-prefix=I8
// OUT: qopt.weight_store @ckpt "w.safetensors"
// OUT-NEXT: qopt.weight_store @rtn "q.weights/rtn-{{[0-9a-f]{16}[.]}}safetensors.index.json"

// The float weights (and b's scale_channels expression) are gone; the LM
// head stays in float and keeps the embedding table.
// CHECK: qopt.weight_store @ckpt "w.safetensors"
// CHECK-NEXT: qopt.weight_store @rtn "/{{.*}}/i8.w/rtn-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// CHECK-LABEL: func.func @f
// CHECK-NEXT: %[[EMB:.*]] = qopt.weight @ckpt["embed"] : tensor<4x8xbf16>
// CHECK-NEXT: %[[X:.*]] = qopt.embedding %[[EMB]]
// CHECK-NEXT: %[[BA:.*]] = qopt.weight @ckpt["a.bias"] : tensor<2xbf16>
// CHECK-NEXT: %[[QA:.*]] = qopt.weight @rtn["a.qweight"] : tensor<2x8xi8>
// CHECK-NEXT: %[[SA:.*]] = qopt.weight @rtn["a.scales"] : tensor<2xf32>
// CHECK-NEXT: %[[A:.*]] = qopt.quantized_linear %[[X]], %[[QA]] bias(%[[BA]] : tensor<2xbf16>) weight_scales(%[[SA]] : tensor<2xf32>) {label = "a", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xi8> -> tensor<?x2xf32>
// CHECK-NEXT: %[[QB:.*]] = qopt.weight @rtn["b.qweight"] : tensor<2x8xi8>
// CHECK-NEXT: %[[SB:.*]] = qopt.weight @rtn["b.scales"] : tensor<2xf32>
// CHECK-NEXT: %[[B:.*]] = qopt.quantized_linear %[[X]], %[[QB]] weight_scales(%[[SB]] : tensor<2xf32>) {label = "b", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xi8> -> tensor<?x2xf32>
// CHECK-NEXT: %[[L:.*]] = qopt.linear %[[X]], %[[EMB]] {label = "lm_head", role = #qopt<role lm_head>}
// CHECK-NEXT: return %[[A]], %[[B]], %[[L]]

// Round half to even: b's folded weight is (3.96875, 2, 1, 0.5, -1, 0.25,
// 0, 1.953125) * (1, 0.5) per row, and 1.953125 * 32 = 62.5 rounds to 62.
// Row 1 of b quantizes like row 0 with half the scale.
// I8: a.qweight I8 [2, 8] 127 -32 16 48 10 4 0 64 -127 64 32 -48 16 96 -64 0
// I8-NEXT: a.scales F32 [2] 0.03125 0.015625
// I8-NEXT: b.qweight I8 [2, 8] 127 64 32 16 -32 8 0 62 127 64 32 16 -32 8 0 62
// I8-NEXT: b.scales F32 [2] 0.03125 0.015625
// I8-NOT: {{.}}

// int4, groups of 4 input channels: scales [N, K / 4] = absmax / 7, two
// values a byte (low nibble first).
// I4: %[[Q:.*]] = qopt.weight @rtn["a.qweight"] {packing = #qopt<packing int4x2>} : tensor<2x8xi4>
// I4-NEXT: %[[S:.*]] = qopt.weight @rtn["a.scales"] : tensor<2x2xf32>
// I4-NEXT: qopt.quantized_linear %{{.*}}, %[[Q]] bias(%{{.*}} : tensor<2xbf16>) weight_scales(%[[S]] : tensor<2x2xf32>) {label = "a", weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 4>, sym, static, packing = int4x2>} : tensor<?x8xf32>, tensor<2x8xi4> -> tensor<?x2xf32>
// I4: qopt.weight @rtn["b.qweight"] {packing = #qopt<packing int4x2>} : tensor<2x8xi4>
// I4: qopt.linear {{.*}} {label = "lm_head"
// I4-STORE: a.qweight U8 [2, 4] int4: 7 -2 1 3 1 0 0 7 -7 4 2 -3 1 7 -5 0
// I4-STORE-NEXT: a.scales F32 [2, 2] 0.566964 0.285714 0.283482 0.214286
// I4-STORE-NEXT: b.qweight U8 [2, 4] int4: 7 4 2 1 -4 1 0 7 7 4 2 1 -4 1 0 7
// I4-STORE-NEXT: b.scales F32 [2, 2] 0.566964 0.279018 0.283482 0.139509
// I4-STORE-NOT: {{.}}

// int4 per channel, eight values (+ 8) a 32-bit word.
// I4X8: qopt.weight @rtn["a.qweight"] {packing = #qopt<packing int4x8_offset>} : tensor<2x8xi4>
// I4X8: weight_scheme = #qopt.scheme<i4, #qopt.per_channel<axis = 0>, sym, static, packing = int4x8_offset>
// I4X8-STORE: a.qweight I32 [2, 1] int4x8_offset: 7 -2 1 3 1 0 0 4 -7 4 2 -3 1 5 -4 0
// I4X8-STORE-NEXT: a.scales F32 [2] 0.566964 0.283482
// I4X8-STORE-NEXT: b.qweight I32 [2, 1] int4x8_offset: 7 4 2 1 -2 0 0 3 7 4 2 1 -2 0 0 3

// Asymmetric int8: scale = (max - min) / 255 over [min(w, 0), max(w, 0)],
// zero point -128 - round(min / scale): row 0 of a spans [-1, 3.96875].
// ASYM: %[[Q:.*]] = qopt.weight @rtn["a.qweight"] : tensor<2x8xi8>
// ASYM-NEXT: %[[S:.*]] = qopt.weight @rtn["a.scales"] : tensor<2xf32>
// ASYM-NEXT: %[[Z:.*]] = qopt.weight @rtn["a.zero_points"] : tensor<2xi32>
// ASYM-NEXT: qopt.quantized_linear %{{.*}}, %[[Q]] bias(%{{.*}} : tensor<2xbf16>) weight_scales(%[[S]] : tensor<2xf32>) weight_zero_points(%[[Z]] : tensor<2xi32>) {label = "a", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, asym, static>}
// ASYM-STORE: a.qweight I8 [2, 8] 127 -128 -51 0 -62 -71 -77 26 -128 90 54 -38 35 127 -56 17
// ASYM-STORE-NEXT: a.scales F32 [2] 0.0194853 0.0136642
// ASYM-STORE-NEXT: a.zero_points I32 [2] -77 17
// ASYM-STORE-NEXT: b.qweight I8 [2, 8] 127 26 -26 -51 -128 -64 -77 23 127 26 -26 -51 -128 -64 -77 23
// ASYM-STORE-NEXT: b.scales F32 [2] 0.0194853 0.00974265
// ASYM-STORE-NEXT: b.zero_points I32 [2] -77 -77

// FP8 per channel: scale = absmax / 448, values rounded to e4m3.
// F8: qopt.weight @rtn["a.qweight"] : tensor<2x8xf8E4M3FN>
// F8: weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xf8E4M3FN> -> tensor<?x2xf32>
// F8-STORE: a.qweight F8_E4M3 [2, 8] 448 -112 56 176 32 14 0 224 -448 224 112 -176 56 352 -224 0
// F8-STORE-NEXT: a.scales F32 [2] 0.00885882 0.00442941
// F8-STORE-NEXT: b.qweight F8_E4M3 [2, 8] 448 224 112 56 -112 28 0 224 448 224 112 56 -112 28 0 224

// FP8 4x4 blocks: a [2, 8] weight has 1 x 2 blocks (the partial row block
// included).
// BLOCK: qopt.weight @rtn["a.scales"] : tensor<1x2xf32>
// BLOCK: weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 4, cols = 4>, sym, static>
// BLOCK-STORE: a.qweight F8_E4M3 [2, 8] 448 -112 56 176 64 28 0 448 -224 112 56 -88 56 320 -224 0
// BLOCK-STORE-NEXT: a.scales F32 [1, 2] 0.00885882 0.00446429

// One scale per tensor, LM head included. The embedding still reads the
// float table.
// TENSOR: %[[EMB:.*]] = qopt.weight @ckpt["embed"] : tensor<4x8xbf16>
// TENSOR-NEXT: qopt.embedding %[[EMB]]
// TENSOR: qopt.weight @rtn["a.scales"] : tensor<f32>
// TENSOR: weight_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static>
// TENSOR: %[[LQ:.*]] = qopt.weight @rtn["lm_head.qweight"] : tensor<4x8xi8>
// TENSOR-NEXT: %[[LS:.*]] = qopt.weight @rtn["lm_head.scales"] : tensor<f32>
// TENSOR-NEXT: qopt.quantized_linear %{{.*}}, %[[LQ]] weight_scales(%[[LS]] : tensor<f32>) {label = "lm_head", role = #qopt<role lm_head>, weight_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static>} : tensor<?x8xf32>, tensor<4x8xi8> -> tensor<?x4xf32>
// TENSOR-STORE: a.qweight I8 [2, 8] 127 -32 16 48 10 4 0 64 -64 32 16 -24 8 48 -32 0
// TENSOR-STORE-NEXT: a.scales F32 [] 0.03125
// TENSOR-STORE-NEXT: b.qweight I8 [2, 8] 127 64 32 16 -32 8 0 62 64 32 16 8 -16 4 0 31
// TENSOR-STORE-NEXT: b.scales F32 [] 0.03125
// TENSOR-STORE-NEXT: lm_head.qweight I8 [4, 8] 64 0 0 0 0 0 0 -127 0 64 0 0 0 0 0 0 0 0 64 0 0 0 0 0 0 0 0 64 0 0 0 32
// TENSOR-STORE-NEXT: lm_head.scales F32 [] 0.015748

qopt.weight_store @ckpt "w.safetensors"
func.func @f(%ids: tensor<?xi32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x4xf32>) {
  %emb = qopt.weight @ckpt["embed"] : tensor<4x8xbf16>
  %x = qopt.embedding %emb[%ids] : (tensor<4x8xbf16>, tensor<?xi32>) -> tensor<?x8xf32>
  %wa = qopt.weight @ckpt["a.weight"] : tensor<2x8xbf16>
  %ba = qopt.weight @ckpt["a.bias"] : tensor<2xbf16>
  %a = qopt.linear %x, %wa, %ba {label = "a"} : (tensor<?x8xf32>, tensor<2x8xbf16>, tensor<2xbf16>) -> tensor<?x2xf32>
  // A smoothed weight: quantization folds the factors in.
  %wb = qopt.weight @ckpt["b.weight"] : tensor<2x8xbf16>
  %sb = qopt.weight @ckpt["b.s"] : tensor<8xf32>
  %wbs = qopt.scale_channels %wb, %sb {axis = 1 : i64} : (tensor<2x8xbf16>, tensor<8xf32>) -> tensor<2x8xf32>
  %b = qopt.linear %x, %wbs {label = "b"} : (tensor<?x8xf32>, tensor<2x8xf32>) -> tensor<?x2xf32>
  %l = qopt.linear %x, %emb {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x8xf32>, tensor<4x8xbf16>) -> tensor<?x4xf32>
  return %a, %b, %l : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x4xf32>
}
