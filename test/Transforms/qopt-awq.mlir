// AWQ on the real tiny Llama: a scale search per smoothing group (q/k/v
// after the input norm, gate/up after the post-attention norm, down after
// up; not o_proj after v, since the model uses grouped-query attention),
// folded into the norms (side store @awq_scales) and the weights, then
// clipping and round-to-nearest int4 (side store @awq).
// RUN: rm -rf %t && mkdir -p %t
// RUN: qopt-import %shared_models/qopt-tiny-llama -o %t/m.mlir
// RUN: qopt-calibrate %t/m.mlir --tokens %shared_data/tiny-llama-reference.safetensors:calib_tokens --max-sequences 2 -o %t/calib.mlir 2>/dev/null
// RUN: FileCheck %s --check-prefix=CALIB < %t/calib.mlir
// CALIB: qopt.weight_store @calib "calib.hessians.safetensors"

// A coarse grid (4 exponents) keeps the search short.
// RUN: qopt %t/calib.mlir --qopt-awq=grid=4 -o %t/awq.mlir
// RUN: FileCheck %s < %t/awq.mlir
// CHECK: qopt.weight_store @calib "calib.hessians.safetensors"
// CHECK: qopt.weight_store @awq_scales "awq.weights/awq_scales-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// CHECK-NEXT: qopt.weight_store @awq "awq.weights/awq-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// The norm weights now come from @awq_scales (in f32).
// CHECK: %[[N:.*]] = qopt.weight @awq_scales["model.layers.0.input_layernorm.weight.smoothed"] : tensor<384xf32>
// CHECK-NEXT: %[[NORM:.*]] = qopt.rms_norm %{{.*}}, %[[N]] {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xf32>) -> tensor<?x384xf32>
// The smoothed input's Hessian no longer applies: its reference is gone.
// CHECK-NEXT: %[[X:.*]] = qopt.observe %[[NORM]] {label = "model.layers.0.self_attn.q_proj.input", stats = #qopt.stats<{{.*}}, num_tokens = 1024>} : tensor<?x384xf32>
// CHECK-NEXT: %[[Q:.*]] = qopt.weight @awq["model.layers.0.self_attn.q_proj.qweight"] {packing = #qopt<packing int4x2>} : tensor<384x384xi4>
// CHECK-NEXT: %[[S:.*]] = qopt.weight @awq["model.layers.0.self_attn.q_proj.scales"] : tensor<384x3xf32>
// CHECK-NEXT: qopt.quantized_linear %[[X]], %[[Q]] weight_scales(%[[S]] : tensor<384x3xf32>) {label = "model.layers.0.self_attn.q_proj", role = #qopt<role q_proj>, weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static, packing = int4x2>} : tensor<?x384xf32>, tensor<384x384xi4> -> tensor<?x384xf32>
// CHECK: qopt.quantized_linear %[[X]], {{.*}}label = "model.layers.0.self_attn.k_proj"
// CHECK: qopt.quantized_linear %[[X]], {{.*}}label = "model.layers.0.self_attn.v_proj"
// o_proj's input (the attention output) is not smoothed: it keeps its Hessian.
// CHECK: qopt.observe %{{.*}} {label = "model.layers.0.self_attn.o_proj.input", stats = #qopt.stats<{{.*}}hessian = "model.layers.0.self_attn.o_proj.input.hessian">}
// CHECK: qopt.quantized_linear {{.*}}label = "model.layers.0.self_attn.o_proj"
// CHECK: %[[N2:.*]] = qopt.weight @awq_scales["model.layers.0.post_attention_layernorm.weight.smoothed"] : tensor<384xf32>
// CHECK-NEXT: qopt.rms_norm %{{.*}}, %[[N2]]
// CHECK: qopt.quantized_linear {{.*}}label = "model.layers.0.mlp.down_proj"
// CHECK: %[[FINAL:.*]] = qopt.weight @ckpt["model.norm.weight"] : tensor<384xbf16>
// CHECK: qopt.linear %{{.*}}, %{{.*}} {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x384xf32>, tensor<32000x384xbf16>) -> tensor<?x32000xf32>
// No norm reads a checkpoint weight except the final one (the LM head's
// input is not smoothed).
// RUN: grep -c 'qopt.quantized_linear' %t/awq.mlir | FileCheck %s --check-prefix=LINEARS
// RUN: grep -c 'qopt.linear ' %t/awq.mlir | FileCheck %s --check-prefix=FLOAT
// RUN: grep 'qopt.rms_norm' %t/awq.mlir | grep -c 'tensor<384xf32>) ->' | FileCheck %s --check-prefix=NORMS
// LINEARS: {{^}}42{{$}}
// FLOAT: {{^}}1{{$}}
// NORMS: {{^}}12{{$}}

// The factors: per layer the two norms, the q/k/v and gate/up factors, and
// the up -> down pair; none for o_proj (grouped-query attention).
// RUN: %python %S/Inputs/pipeline_tensors.py list %t/awq.weights/awq_scales-*.safetensors.index.json > %t/scales.txt
// RUN: FileCheck %s --check-prefix=SCALES < %t/scales.txt
// RUN: wc -l < %t/scales.txt | FileCheck %s --check-prefix=SCALES-COUNT
// SCALES-NOT: o_proj
// SCALES: model.layers.0.input_layernorm.weight.smoothed F32 [384]
// SCALES-NEXT: model.layers.0.mlp.down_proj.smooth F32 [1024]
// SCALES-NEXT: model.layers.0.mlp.gate_proj.smooth F32 [384]
// SCALES-NEXT: model.layers.0.mlp.up_proj.smooth_inv F32 [1024]
// SCALES-NEXT: model.layers.0.post_attention_layernorm.weight.smoothed F32 [384]
// SCALES-NEXT: model.layers.0.self_attn.q_proj.smooth F32 [384]
// SCALES-NOT: o_proj
// SCALES-COUNT: {{^}}36{{$}}
// The search found factors other than 1, all finite and positive.
// RUN: %python %S/Inputs/pipeline_tensors.py summary %t/awq.weights/awq_scales-*.safetensors.index.json model.layers.0.self_attn.q_proj.smooth model.layers.0.mlp.down_proj.smooth | FileCheck %s --check-prefix=FACTORS
// FACTORS: model.layers.0.self_attn.q_proj.smooth F32 [384] finite=yes min=0.{{[0-9]+}} max=1.{{[0-9]*[1-9][0-9]*}}
// FACTORS-NEXT: model.layers.0.mlp.down_proj.smooth F32 [1024] finite=yes min=0.{{[0-9]+}} max=1.{{[0-9]*[1-9][0-9]*}}
// RUN: %python %S/Inputs/pipeline_tensors.py list %t/awq.weights/awq-*.safetensors.index.json | FileCheck %s --check-prefix=STORE
// STORE: model.layers.0.mlp.down_proj.qweight U8 [384, 512]
// STORE-NEXT: model.layers.0.mlp.down_proj.scales F32 [384, 8]

// RUN: qopt %t/awq.mlir --qopt-strip-observers --qopt-verify-contract="stage=quantized require-quantized-linears=true" -o /dev/null
// RUN: qopt-run --backend=cpu %t/awq.mlir --ppl %shared_data/tiny-llama-reference.safetensors:eval_sotu_heldout --seq-len 512 --max-windows 1 2>/dev/null | FileCheck %s --check-prefix=PPL
// PPL: perplexity: 7{{[0-9]\.[0-9]+}}

// grid=1 tries only a = 0 (s = 1): without clipping, AWQ is exactly
// round-to-nearest, and the norms are unchanged.
// RUN: qopt %t/calib.mlir --qopt-awq="grid=1 clip=false" -o %t/awq1.mlir
// RUN: qopt %t/calib.mlir --qopt-quantize-weights="dtype=i4 granularity=group group-size=128" -o %t/rtn.mlir
// RUN: %python %S/Inputs/pipeline_tensors.py compare %t/awq1.weights/awq-*.safetensors.index.json %t/rtn.weights/rtn-*.safetensors.index.json model.layers.0.self_attn.q_proj.qweight model.layers.0.self_attn.q_proj.scales model.layers.2.mlp.down_proj.qweight model.layers.2.mlp.up_proj.qweight | FileCheck %s --check-prefix=RTN
// RTN: model.layers.0.self_attn.q_proj.qweight identical
// RTN-NEXT: model.layers.0.self_attn.q_proj.scales identical
// RTN-NEXT: model.layers.2.mlp.down_proj.qweight identical
// RTN-NEXT: model.layers.2.mlp.up_proj.qweight identical
// RUN: %python %S/Inputs/pipeline_tensors.py summary %t/awq1.weights/awq_scales-*.safetensors.index.json model.layers.0.self_attn.q_proj.smooth | FileCheck %s --check-prefix=UNIT
// UNIT: model.layers.0.self_attn.q_proj.smooth F32 [384] finite=yes min=1 max=1
// With the searched factors the weights are not RTN's.
// RUN: %python %S/Inputs/pipeline_tensors.py compare %t/awq.weights/awq-*.safetensors.index.json %t/rtn.weights/rtn-*.safetensors.index.json model.layers.0.self_attn.q_proj.qweight | FileCheck %s --check-prefix=NOT-RTN
// NOT-RTN: model.layers.0.self_attn.q_proj.qweight differs

// Options: per-channel, asymmetric, int8 (grid=2 without clipping, to be
// quick).
// RUN: qopt %t/calib.mlir --qopt-awq="grid=2 clip=false group-size=0 symmetric=false" -o %t/asym.mlir
// RUN: FileCheck %s --check-prefix=ASYM < %t/asym.mlir
// ASYM: qopt.weight_store @awq "asym.weights/awq-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// ASYM: %[[Q:.*]] = qopt.weight @awq["model.layers.0.self_attn.q_proj.qweight"] {packing = #qopt<packing int4x2>} : tensor<384x384xi4>
// ASYM-NEXT: %[[S:.*]] = qopt.weight @awq["model.layers.0.self_attn.q_proj.scales"] : tensor<384xf32>
// ASYM-NEXT: %[[Z:.*]] = qopt.weight @awq["model.layers.0.self_attn.q_proj.zero_points"] : tensor<384xi32>
// ASYM-NEXT: qopt.quantized_linear %{{.*}}, %[[Q]] weight_scales(%[[S]] : tensor<384xf32>) weight_zero_points(%[[Z]] : tensor<384xi32>) {label = "model.layers.0.self_attn.q_proj", role = #qopt<role q_proj>, weight_scheme = #qopt.scheme<i4, #qopt.per_channel<axis = 0>, asym, static, packing = int4x2>}
// RUN: qopt %t/calib.mlir --qopt-awq="grid=2 clip=false dtype=i8" -o %t/i8.mlir
// RUN: FileCheck %s --check-prefix=I8 < %t/i8.mlir
// I8: %[[Q:.*]] = qopt.weight @awq["model.layers.0.self_attn.q_proj.qweight"] : tensor<384x384xi8>
// I8-NEXT: %[[S:.*]] = qopt.weight @awq["model.layers.0.self_attn.q_proj.scales"] : tensor<384x3xf32>
// I8-NEXT: qopt.quantized_linear %{{.*}}, %[[Q]] weight_scales(%[[S]] : tensor<384x3xf32>) {label = "model.layers.0.self_attn.q_proj", role = #qopt<role q_proj>, weight_scheme = #qopt.scheme<i8, #qopt.per_group<axis = 1, size = 128>, sym, static>} : tensor<?x384xf32>, tensor<384x384xi8> -> tensor<?x384xf32>

// The side stores go to weights-out=DIR when given (referenced absolutely).
// RUN: qopt %t/calib.mlir --qopt-awq="grid=1 clip=false weights-out=%t/elsewhere" -o %t/wo.mlir
// RUN: FileCheck %s --check-prefix=WO -DDIR=%t/elsewhere < %t/wo.mlir
// RUN: test -f %t/elsewhere/awq-*.safetensors.index.json
// RUN: test -f %t/elsewhere/awq_scales-*.safetensors.index.json
// RUN: not test -e %t/wo.weights
// WO: qopt.weight_store @awq_scales "[[DIR]]/awq_scales-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// WO-NEXT: qopt.weight_store @awq "[[DIR]]/awq-{{[0-9a-f]{16}[.]}}safetensors.index.json"
