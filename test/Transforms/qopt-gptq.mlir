// GPTQ on the real tiny Llama (6 layers, hidden 384, intermediate 1024):
// calibration records one Hessian per distinct linear input in
// OUT.hessians.safetensors (the store @calib); GPTQ quantizes every linear
// but the LM head from them into the side store @gptq beside its output.
// RUN: rm -rf %t && mkdir -p %t
// RUN: qopt-import %shared_models/qopt-tiny-llama -o %t/m.mlir
// RUN: qopt-calibrate %t/m.mlir --tokens %shared_data/tiny-llama-reference.safetensors:calib_tokens --max-sequences 2 -o %t/calib.mlir 2>/dev/null | FileCheck %s --check-prefix=SUMMARY
// SUMMARY: calibrated 37 observers on 1024 tokens (2 sequences of 512)

// The Hessians: q/k/v share one input, gate/up another; 6 layers x 4 inputs
// and the LM head's input.
// RUN: FileCheck %s --check-prefix=CALIB < %t/calib.mlir
// CALIB: qopt.weight_store @calib "calib.hessians.safetensors"
// CALIB: qopt.observe %{{.*}} {label = "model.layers.0.self_attn.q_proj.input", stats = #qopt.stats<{{.*}}num_tokens = 1024, hessian = "model.layers.0.self_attn.q_proj.input.hessian">}
// CALIB: qopt.observe %{{.*}} {label = "layers.0.k", stats = #qopt.stats<{{.*}}num_tokens = 1024>}
// CALIB: qopt.observe %{{.*}} {label = "model.layers.0.mlp.down_proj.input", stats = #qopt.stats<{{.*}}num_tokens = 1024, hessian = "model.layers.0.mlp.down_proj.input.hessian">}
// RUN: %python %S/Inputs/pipeline_tensors.py list %t/calib.hessians.safetensors > %t/hessians.txt
// RUN: FileCheck %s --check-prefix=HESSIANS < %t/hessians.txt
// RUN: wc -l < %t/hessians.txt | FileCheck %s --check-prefix=HESSIAN-COUNT
// HESSIANS: lm_head.input.hessian F32 [384, 384]
// HESSIANS: model.layers.0.mlp.down_proj.input.hessian F32 [1024, 1024]
// HESSIANS: model.layers.0.mlp.gate_proj.input.hessian F32 [384, 384]
// HESSIANS: model.layers.0.self_attn.o_proj.input.hessian F32 [384, 384]
// HESSIANS: model.layers.0.self_attn.q_proj.input.hessian F32 [384, 384]
// HESSIAN-COUNT: {{^}}25{{$}}

// Defaults: int4, groups of 128 input channels, symmetric, packed int4x2.
// RUN: qopt %t/calib.mlir --qopt-gptq -o %t/gptq.mlir
// RUN: FileCheck %s < %t/gptq.mlir
// CHECK: qopt.weight_store @calib "calib.hessians.safetensors"
// CHECK: qopt.weight_store @gptq "gptq.weights/gptq-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// CHECK: %[[X:.*]] = qopt.observe %{{.*}} {label = "model.layers.0.self_attn.q_proj.input"
// CHECK-NEXT: %[[Q:.*]] = qopt.weight @gptq["model.layers.0.self_attn.q_proj.qweight"] {packing = #qopt<packing int4x2>} : tensor<384x384xi4>
// CHECK-NEXT: %[[S:.*]] = qopt.weight @gptq["model.layers.0.self_attn.q_proj.scales"] : tensor<384x3xf32>
// CHECK-NEXT: qopt.quantized_linear %[[X]], %[[Q]] weight_scales(%[[S]] : tensor<384x3xf32>) {label = "model.layers.0.self_attn.q_proj", role = #qopt<role q_proj>, weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static, packing = int4x2>} : tensor<?x384xf32>, tensor<384x384xi4> -> tensor<?x384xf32>
// CHECK: qopt.weight @gptq["model.layers.0.self_attn.k_proj.qweight"] {packing = #qopt<packing int4x2>} : tensor<128x384xi4>
// CHECK: qopt.quantized_linear %[[X]], {{.*}}label = "model.layers.0.self_attn.k_proj"
// CHECK: qopt.quantized_linear %[[X]], {{.*}}label = "model.layers.0.self_attn.v_proj"
// CHECK: %[[DQ:.*]] = qopt.weight @gptq["model.layers.0.mlp.down_proj.qweight"] {packing = #qopt<packing int4x2>} : tensor<384x1024xi4>
// CHECK-NEXT: %[[DS:.*]] = qopt.weight @gptq["model.layers.0.mlp.down_proj.scales"] : tensor<384x8xf32>
// CHECK-NEXT: qopt.quantized_linear %{{.*}}, %[[DQ]] weight_scales(%[[DS]] : tensor<384x8xf32>) {label = "model.layers.0.mlp.down_proj", role = #qopt<role down_proj>, weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static, packing = int4x2>} : tensor<?x1024xf32>, tensor<384x1024xi4> -> tensor<?x384xf32>
// The LM head stays in float, on the (tied) embedding.
// CHECK: qopt.linear %{{.*}}, %{{.*}} {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x384xf32>, tensor<32000x384xbf16>) -> tensor<?x32000xf32>
// RUN: grep -c 'qopt.quantized_linear' %t/gptq.mlir | FileCheck %s --check-prefix=LINEARS
// RUN: grep -c 'qopt.linear ' %t/gptq.mlir | FileCheck %s --check-prefix=FLOAT
// LINEARS: {{^}}42{{$}}
// FLOAT: {{^}}1{{$}}

// The store holds packed weights and finite, positive scales, 42 of each.
// RUN: %python %S/Inputs/pipeline_tensors.py list %t/gptq.weights/gptq-*.safetensors.index.json > %t/gptq-store.txt
// RUN: FileCheck %s --check-prefix=STORE < %t/gptq-store.txt
// RUN: wc -l < %t/gptq-store.txt | FileCheck %s --check-prefix=STORE-COUNT
// STORE: model.layers.0.mlp.down_proj.qweight U8 [384, 512]
// STORE-NEXT: model.layers.0.mlp.down_proj.scales F32 [384, 8]
// STORE: model.layers.5.self_attn.v_proj.qweight U8 [128, 192]
// STORE-NEXT: model.layers.5.self_attn.v_proj.scales F32 [128, 3]
// STORE-COUNT: {{^}}84{{$}}
// RUN: %python %S/Inputs/pipeline_tensors.py summary %t/gptq.weights/gptq-*.safetensors.index.json model.layers.0.self_attn.q_proj.qweight model.layers.3.mlp.down_proj.scales | FileCheck %s --check-prefix=VALUES
// VALUES: model.layers.0.self_attn.q_proj.qweight U8 [384, 192] finite=yes min=-{{[78]}} max=7
// VALUES-NEXT: model.layers.3.mlp.down_proj.scales F32 [384, 8] finite=yes min=0.00{{[0-9]+}} max=0.{{[0-9]+}}

// The result meets the quantized contract once the observers are gone.
// RUN: qopt %t/gptq.mlir --qopt-strip-observers --qopt-verify-contract="stage=quantized require-quantized-linears=true" -o /dev/null

// It runs, and its perplexity stays near the float model's (72.1 on this
// window).
// RUN: qopt-run --backend=cpu %t/gptq.mlir --ppl %shared_data/tiny-llama-reference.safetensors:eval_sotu_heldout --seq-len 512 --max-windows 1 2>/dev/null | FileCheck %s --check-prefix=PPL
// PPL: perplexity: 7{{[0-9]\.[0-9]+}}
// PPL-NEXT: tokens scored: 512 in 1 windows of 512

// group-size=0: one scale per output channel.
// RUN: qopt %t/calib.mlir --qopt-gptq=group-size=0 -o %t/channel.mlir
// RUN: FileCheck %s --check-prefix=CHANNEL < %t/channel.mlir
// CHANNEL: qopt.weight_store @gptq "channel.weights/gptq-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// CHANNEL: %[[Q:.*]] = qopt.weight @gptq["model.layers.0.self_attn.q_proj.qweight"] {packing = #qopt<packing int4x2>} : tensor<384x384xi4>
// CHANNEL-NEXT: %[[S:.*]] = qopt.weight @gptq["model.layers.0.self_attn.q_proj.scales"] : tensor<384xf32>
// CHANNEL-NEXT: qopt.quantized_linear %{{.*}}, %[[Q]] weight_scales(%[[S]] : tensor<384xf32>) {label = "model.layers.0.self_attn.q_proj", role = #qopt<role q_proj>, weight_scheme = #qopt.scheme<i4, #qopt.per_channel<axis = 0>, sym, static, packing = int4x2>}

// symmetric=false: zero points per group.
// RUN: qopt %t/calib.mlir --qopt-gptq=symmetric=false -o %t/asym.mlir
// RUN: FileCheck %s --check-prefix=ASYM < %t/asym.mlir
// ASYM: %[[Q:.*]] = qopt.weight @gptq["model.layers.0.self_attn.q_proj.qweight"] {packing = #qopt<packing int4x2>} : tensor<384x384xi4>
// ASYM-NEXT: %[[S:.*]] = qopt.weight @gptq["model.layers.0.self_attn.q_proj.scales"] : tensor<384x3xf32>
// ASYM-NEXT: %[[Z:.*]] = qopt.weight @gptq["model.layers.0.self_attn.q_proj.zero_points"] : tensor<384x3xi32>
// ASYM-NEXT: qopt.quantized_linear %{{.*}}, %[[Q]] weight_scales(%[[S]] : tensor<384x3xf32>) weight_zero_points(%[[Z]] : tensor<384x3xi32>) {label = "model.layers.0.self_attn.q_proj", role = #qopt<role q_proj>, weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, asym, static, packing = int4x2>}

// dtype=i8 (unpacked), per channel.
// RUN: qopt %t/calib.mlir --qopt-gptq="dtype=i8 group-size=0" -o %t/i8.mlir
// RUN: FileCheck %s --check-prefix=I8 < %t/i8.mlir
// I8: %[[Q:.*]] = qopt.weight @gptq["model.layers.0.self_attn.q_proj.qweight"] : tensor<384x384xi8>
// I8-NEXT: %[[S:.*]] = qopt.weight @gptq["model.layers.0.self_attn.q_proj.scales"] : tensor<384xf32>
// I8-NEXT: qopt.quantized_linear %{{.*}}, %[[Q]] weight_scales(%[[S]] : tensor<384xf32>) {label = "model.layers.0.self_attn.q_proj", role = #qopt<role q_proj>, weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x384xf32>, tensor<384x384xi8> -> tensor<?x384xf32>
// RUN: %python %S/Inputs/pipeline_tensors.py summary %t/i8.weights/gptq-*.safetensors.index.json model.layers.0.self_attn.q_proj.qweight | FileCheck %s --check-prefix=I8-VALUES
// I8-VALUES: model.layers.0.self_attn.q_proj.qweight I8 [384, 384] finite=yes min=-{{12[78]}} max=127

// act-order=true: the IR is the same, the quantized values are not.
// RUN: qopt %t/calib.mlir --qopt-gptq=act-order=true -o %t/act.mlir
// RUN: FileCheck %s < %t/act.mlir --check-prefix=ACT
// ACT: qopt.weight_store @gptq "act.weights/gptq-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// ACT: qopt.quantized_linear {{.*}}label = "model.layers.0.self_attn.q_proj", role = #qopt<role q_proj>, weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static, packing = int4x2>}
// RUN: %python %S/Inputs/pipeline_tensors.py compare %t/gptq.weights/gptq-*.safetensors.index.json %t/act.weights/gptq-*.safetensors.index.json model.layers.0.self_attn.q_proj.qweight model.layers.0.mlp.down_proj.qweight | FileCheck %s --check-prefix=ACT-DIFF
// ACT-DIFF: model.layers.0.self_attn.q_proj.qweight differs
// ACT-DIFF-NEXT: model.layers.0.mlp.down_proj.qweight differs

// GPTQ is not round-to-nearest: the same scheme by RTN gives other values.
// RUN: qopt %t/calib.mlir --qopt-quantize-weights="dtype=i4 granularity=group group-size=128" -o %t/rtn.mlir
// RUN: %python %S/Inputs/pipeline_tensors.py compare %t/gptq.weights/gptq-*.safetensors.index.json %t/rtn.weights/rtn-*.safetensors.index.json model.layers.0.self_attn.q_proj.qweight | FileCheck %s --check-prefix=RTN-DIFF
// RTN-DIFF: model.layers.0.self_attn.q_proj.qweight differs
