// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %python %S/Inputs/make_weights.py %S/Inputs/quant-weights.json %t.dir/w.safetensors
// RUN: cp %s %t.dir/errors.mlir
// RUN: cp %S/Inputs/quantize-activations-asym-errors.mlir %t.dir/asym-errors.mlir

// Layers that cannot take the requested input quantization.
// RUN: qopt %t.dir/errors.mlir --qopt-quantize-activations="mode=static granularity=tensor" -split-input-file -verify-diagnostics
// RUN: not qopt %t.dir/errors.mlir --qopt-quantize-activations=dtype=f8E4M3FN -split-input-file 2>&1 | FileCheck %s --check-prefix=INT
// INT: error: qopt-quantize-activations: layer 'a' has integer weights but dtype=f8E4M3FN

// Bad option combinations fail the pass whatever the module holds.
// RUN: not qopt %t.dir/errors.mlir --qopt-quantize-activations=mode=static -split-input-file 2>&1 | FileCheck %s --check-prefix=STATIC-TOKEN
// RUN: not qopt %t.dir/errors.mlir --qopt-quantize-activations=symmetric=false -split-input-file 2>&1 | FileCheck %s --check-prefix=ASYM
// RUN: not qopt %t.dir/errors.mlir --qopt-quantize-activations="dtype=f8E4M3FN mode=static granularity=tensor symmetric=false" -split-input-file 2>&1 | FileCheck %s --check-prefix=ASYM
// RUN: not qopt %t.dir/errors.mlir --qopt-quantize-activations=dtype=i4 -split-input-file 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not qopt %t.dir/errors.mlir --qopt-quantize-activations=mode=lazy -split-input-file 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not qopt %t.dir/errors.mlir --qopt-quantize-activations=granularity=channel -split-input-file 2>&1 | FileCheck %s --check-prefix=GRAN
// STATIC-TOKEN: error: qopt-quantize-activations: per-token activation scales are dynamic; use mode=dynamic or granularity=tensor
// ASYM: error: qopt-quantize-activations: asymmetric activations need mode=static, granularity=tensor and dtype=i8
// DTYPE: for the --dtype option: 'i4' is not a valid value (valid values: i8, f8E4M3FN)
// MODE: for the --mode option: 'lazy' is not a valid value (valid values: dynamic, static)
// GRAN: for the --granularity option: 'channel' is not a valid value (valid values: token, tensor)

// Static asymmetric inputs write int_bias: they need a directory, min/max
// statistics and weights in a store.
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-quantize-weights=weights-out=%t.dir/rtn --qopt-quantize-activations="mode=static granularity=tensor symmetric=false" 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: errors.mlir:{{[0-9]+}}:{{[0-9]+}}: error: qopt-quantize-activations: no directory for the weights this pass writes: give the pass option weights-out=DIR, or run qopt with -o FILE (the weights then go to FILE.weights/)
// RUN: qopt %t.dir/asym-errors.mlir --qopt-quantize-activations="mode=static granularity=tensor symmetric=false weights-out=%t.dir/zp" -split-input-file -verify-diagnostics
// RUN: not ls %t.dir/zp

qopt.weight_store @rtn "rtn.safetensors.index.json"
func.func @observer_without_stats(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %xo = qopt.observe %x {label = "a.input"} : tensor<?x8xf32>
  %w = qopt.weight @rtn["a.qweight"] : tensor<2x8xi8>
  %s = qopt.weight @rtn["a.scales"] : tensor<2xf32>
  // expected-error @+1 {{qopt-quantize-activations: layer 'a' has no calibration statistics for its input; run qopt-calibrate on the model first}}
  %y = qopt.quantized_linear %xo, %w weight_scales(%s : tensor<2xf32>) {label = "a", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xi8> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

qopt.weight_store @rtn "rtn.safetensors.index.json"
func.func @no_observer(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %w = qopt.weight @rtn["a.qweight"] : tensor<2x8xi8>
  %s = qopt.weight @rtn["a.scales"] : tensor<2xf32>
  // expected-error @+1 {{qopt-quantize-activations: layer 'a' has no calibration statistics for its input; run qopt-calibrate on the model first}}
  %y = qopt.quantized_linear %x, %w weight_scales(%s : tensor<2xf32>) {label = "a", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xi8> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// The input storage type must match the weights'.
qopt.weight_store @rtn "rtn.safetensors.index.json"
func.func @float8_weights(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %xo = qopt.observe %x {label = "f.input", stats = #qopt.stats<absmax = dense<1.0> : tensor<8xf32>, num_tokens = 4>} : tensor<?x8xf32>
  %w = qopt.weight @rtn["f.qweight"] : tensor<2x8xf8E4M3FN>
  %s = qopt.weight @rtn["f.scales"] : tensor<2xf32>
  // expected-error @+1 {{qopt-quantize-activations: layer 'f' has float8 weights but dtype=i8}}
  %y = qopt.quantized_linear %xo, %w weight_scales(%s : tensor<2xf32>) {label = "f", weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<2x8xf8E4M3FN> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// W8A8 multiplies raw int8 weights: their zero points would not fold.
qopt.weight_store @rtn "rtn.safetensors.index.json"
func.func @asymmetric_weights(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %xo = qopt.observe %x {label = "z.input", stats = #qopt.stats<absmax = dense<1.0> : tensor<8xf32>, num_tokens = 4>} : tensor<?x8xf32>
  %w = qopt.weight @rtn["z.qweight"] : tensor<2x8xi8>
  %s = qopt.weight @rtn["z.scales"] : tensor<2xf32>
  %zp = qopt.weight @rtn["z.zero_points"] : tensor<2xi32>
  // expected-error @+1 {{qopt-quantize-activations: layer 'z' has asymmetric weights; W8A8 needs symmetric weights}}
  %y = qopt.quantized_linear %xo, %w weight_scales(%s : tensor<2xf32>) weight_zero_points(%zp : tensor<2xi32>) {label = "z", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, asym, static>} : tensor<?x8xf32>, tensor<2x8xi8> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Float layers are not touched (and need nothing).
qopt.weight_store @ckpt "w.safetensors"
func.func @float_layers(%ids: tensor<?xi32>) -> tensor<?x2xf32> {
  %emb = qopt.weight @ckpt["embed"] : tensor<4x8xbf16>
  %x = qopt.embedding %emb[%ids] : (tensor<4x8xbf16>, tensor<?xi32>) -> tensor<?x8xf32>
  %xo = qopt.observe %x {label = "a.input", stats = #qopt.stats<absmax = dense<1.0> : tensor<8xf32>, min = dense<-1.0> : tensor<8xf32>, max = dense<1.0> : tensor<8xf32>, num_tokens = 4>} : tensor<?x8xf32>
  %wa = qopt.weight @ckpt["a.weight"] : tensor<2x8xbf16>
  %a = qopt.linear %xo, %wa {label = "a"} : (tensor<?x8xf32>, tensor<2x8xbf16>) -> tensor<?x2xf32>
  return %a : tensor<?x2xf32>
}
