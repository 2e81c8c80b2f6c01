// qopt-test-inject-outliers makes an equivalent model with outlier activation
// channels: in each normalization group, `channels` evenly spaced channels
// of the norm weight grow by `factor` (side store @outliers) and the
// matching weight columns of the linears shrink by it (qopt.scale_channels).
// RUN: rm -rf %t && mkdir -p %t
// RUN: qopt-import %shared_models/qopt-tiny-llama -o %t/m.mlir
// RUN: qopt %t/m.mlir --qopt-test-inject-outliers -o %t/outliers.mlir
// RUN: FileCheck %s < %t/outliers.mlir
// CHECK: qopt.weight_store @outliers "outliers.weights/outliers-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// CHECK: %[[N:.*]] = qopt.weight @outliers["model.layers.0.input_layernorm.weight.smoothed"] : tensor<384xf32>
// CHECK-NEXT: %[[X:.*]] = qopt.rms_norm %{{.*}}, %[[N]] {epsilon = 1.000000e-05 : f64} : (tensor<?x384xf32>, tensor<384xf32>) -> tensor<?x384xf32>
// CHECK-NEXT: %[[W:.*]] = qopt.weight @ckpt["model.layers.0.self_attn.q_proj.weight"] : tensor<384x384xbf16>
// CHECK-NEXT: %[[S:.*]] = qopt.weight @outliers["model.layers.0.self_attn.q_proj.smooth"] : tensor<384xf32>
// CHECK-NEXT: %[[WS:.*]] = qopt.scale_channels %[[W]], %[[S]] {axis = 1 : i64} : (tensor<384x384xbf16>, tensor<384xf32>) -> tensor<384x384xf32>
// CHECK-NEXT: qopt.linear %[[X]], %[[WS]] {label = "model.layers.0.self_attn.q_proj"
// k and v share the factor.
// CHECK: qopt.scale_channels %{{.*}}, %[[S]] {axis = 1 : i64} : (tensor<128x384xbf16>, tensor<384xf32>)
// CHECK: qopt.scale_channels %{{.*}}, %[[S]] {axis = 1 : i64} : (tensor<128x384xbf16>, tensor<384xf32>)
// CHECK: %[[N2:.*]] = qopt.weight @outliers["model.layers.0.post_attention_layernorm.weight.smoothed"] : tensor<384xf32>
// CHECK-NEXT: qopt.rms_norm %{{.*}}, %[[N2]]
// CHECK: qopt.weight @outliers["model.layers.0.mlp.gate_proj.smooth"] : tensor<384xf32>
// The final norm feeds only the LM head, which is left alone.
// CHECK: qopt.weight @ckpt["model.norm.weight"] : tensor<384xbf16>
// CHECK: qopt.linear %{{.*}}, %{{.*}} {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x384xf32>, tensor<32000x384xbf16>)
// Only the norm groups: 12 norms from @outliers, q/k/v and gate/up scaled.
// RUN: grep 'qopt.rms_norm' %t/outliers.mlir | grep -c 'tensor<384xf32>) ->' | FileCheck %s --check-prefix=NORMS
// RUN: grep -c 'qopt.scale_channels' %t/outliers.mlir | FileCheck %s --check-prefix=SCALED
// NORMS: {{^}}12{{$}}
// SCALED: {{^}}30{{$}}

// The default 4 channels of 384 (48, 144, 240, 336) by the default factor 50:
// the norm weight grows there and nowhere else, the columns shrink.
// RUN: %python %S/Inputs/pipeline_tensors.py ratio %t/outliers.weights/outliers-*.safetensors.index.json model.layers.3.post_attention_layernorm.weight.smoothed %shared_models/qopt-tiny-llama/model.safetensors.index.json model.layers.3.post_attention_layernorm.weight | FileCheck %s --check-prefix=RATIO
// RATIO: ratio 1 at 380 elements:
// RATIO-NEXT: ratio 50 at 4 elements: 48 144 240 336{{$}}
// RUN: %python %S/Inputs/pipeline_tensors.py summary %t/outliers.weights/outliers-*.safetensors.index.json model.layers.3.mlp.gate_proj.smooth | FileCheck %s --check-prefix=FACTORS
// FACTORS: model.layers.3.mlp.gate_proj.smooth F32 [384] finite=yes min=0.02 max=1

// The model computes the same function: the perplexity agrees to 3 decimals.
// RUN: qopt-run --backend=cpu %t/m.mlir --ppl %shared_data/tiny-llama-reference.safetensors:eval_sotu_heldout --seq-len 512 --max-windows 1 2>/dev/null > %t/ppl.txt
// RUN: qopt-run --backend=cpu %t/outliers.mlir --ppl %shared_data/tiny-llama-reference.safetensors:eval_sotu_heldout --seq-len 512 --max-windows 1 2>/dev/null >> %t/ppl.txt
// RUN: FileCheck %s --check-prefix=PPL < %t/ppl.txt
// PPL: perplexity: [[PPL:[0-9]+\.[0-9][0-9][0-9]]]
// PPL: perplexity: [[PPL]]{{[0-9]*$}}

// Options: 2 channels (96 and 288) by 10.
// RUN: qopt %t/m.mlir --qopt-test-inject-outliers="channels=2 factor=10" -o %t/two.mlir
// RUN: %python %S/Inputs/pipeline_tensors.py ratio %t/two.weights/outliers-*.safetensors.index.json model.layers.0.input_layernorm.weight.smoothed %shared_models/qopt-tiny-llama/model.safetensors.index.json model.layers.0.input_layernorm.weight | FileCheck %s --check-prefix=TWO
// TWO: ratio 1 at 382 elements:
// TWO-NEXT: ratio 10 at 2 elements: 96 288{{$}}

// On a calibrated model the statistics of the outlier channels are scaled
// too (2 channels in each of the 12 groups), and the Hessians of the
// rescaled inputs, which no longer apply, are dropped.
// RUN: qopt-calibrate %t/m.mlir --tokens %shared_data/tiny-llama-reference.safetensors:calib_tokens --max-sequences 1 -o %t/calib.mlir 2>/dev/null
// RUN: qopt %t/calib.mlir --qopt-test-inject-outliers="channels=2 factor=10" -o %t/calib-outliers.mlir
// RUN: %python %S/Inputs/pipeline_stats.py %t/calib-outliers.mlir %t/calib.mlir | FileCheck %s --check-prefix=STATS
// STATS: absmax: 37 observers, 14976 channels: 14952 equal, 0 lower, 24 higher
// STATS-NEXT: min: 37 observers, 14976 channels: 14952 equal, 24 lower, 0 higher
// STATS-NEXT: max: 37 observers, 14976 channels: 14952 equal, 0 lower, 24 higher
// RUN: FileCheck %s --check-prefix=HESSIANS < %t/calib-outliers.mlir
// HESSIANS: {label = "model.layers.0.self_attn.q_proj.input", stats = #qopt.stats<{{.*}}, num_tokens = 512>} : tensor<?x384xf32>
// HESSIANS: {label = "model.layers.0.self_attn.o_proj.input", stats = #qopt.stats<{{.*}}, num_tokens = 512, hessian = "model.layers.0.self_attn.o_proj.input.hessian">}

// Errors.
// RUN: not qopt %t/m.mlir --qopt-test-inject-outliers=channels=0 -o %t/bad.mlir 2>&1 | FileCheck %s --check-prefix=POSITIVE
// RUN: not qopt %t/m.mlir --qopt-test-inject-outliers=factor=0 -o %t/bad.mlir 2>&1 | FileCheck %s --check-prefix=POSITIVE
// RUN: not qopt %t/m.mlir --qopt-test-inject-outliers=factor=-50 -o %t/bad.mlir 2>&1 | FileCheck %s --check-prefix=POSITIVE
// POSITIVE: error: qopt-test-inject-outliers: channels and factor must be positive
// RUN: not qopt %t/m.mlir --qopt-test-inject-outliers 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: error: qopt-test-inject-outliers: no directory for the weights this pass writes
// RUN: not test -e %t/bad.mlir
