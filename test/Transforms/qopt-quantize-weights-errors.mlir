// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %python %S/Inputs/make_weights.py %S/Inputs/quant-weights.json %t.dir/w.safetensors
// RUN: cp %s %t.dir/errors.mlir

// Layers the scheme does not fit are reported before anything is written.
// RUN: qopt %t.dir/errors.mlir --qopt-quantize-weights="dtype=i4 granularity=group group-size=3 weights-out=%t.dir/w1" -split-input-file -verify-diagnostics
// RUN: not ls %t.dir/w1

// Bad options fail the pass whatever the module holds.
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-quantize-weights=dtype=i2 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-quantize-weights=granularity=row 2>&1 | FileCheck %s --check-prefix=GRAN
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-quantize-weights="granularity=group group-size=0" 2>&1 | FileCheck %s --check-prefix=GROUP
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-quantize-weights="granularity=block block-size=-1" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-quantize-weights="dtype=f8E4M3FN symmetric=false" 2>&1 | FileCheck %s --check-prefix=F8ASYM
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-quantize-weights="dtype=i4 packing=int8x4" 2>&1 | FileCheck %s --check-prefix=PACKING
// DTYPE: for the --dtype option: 'i2' is not a valid value (valid values: i8, i4, f8E4M3FN)
// GRAN: for the --granularity option: 'row' is not a valid value (valid values: channel, group, block, tensor)
// GROUP: error: qopt-quantize-weights: group-size must be positive, got 0
// BLOCK: error: qopt-quantize-weights: block-size must be positive, got -1
// F8ASYM: error: qopt-quantize-weights: float8 weights are symmetric; symmetric=false needs i8 or i4
// PACKING: for the --packing option: 'int8x4' is not a valid value (valid values: int4x2, int4x8_offset)

// int4x8_offset packs eight values a word: the input dimension must divide.
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-quantize-weights="dtype=i4 packing=int4x8_offset weights-out=%t.dir/w2" 2>&1 | FileCheck %s --check-prefix=PACK8
// PACK8: error: qopt-quantize-weights: cannot quantize 'c': int4x8_offset packing needs an input dimension divisible by 8, got 7

// at-load computes int4x2 only; nothing is written.
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-quantize-weights="dtype=i4 granularity=group group-size=1 packing=int4x8_offset at-load=true weights-out=%t.dir/w3" 2>&1 | FileCheck %s --check-prefix=ATLOAD8
// RUN: not ls %t.dir/w3/rtn-*
// ATLOAD8: error: qopt-quantize-weights: int4x8_offset packing is not computed at load (use int4x2)

// Weights that fit but nowhere to write them.
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-quantize-weights 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: errors.mlir:{{[0-9]+}}:{{[0-9]+}}: error: qopt-quantize-weights: no directory for the weights this pass writes: give the pass option weights-out=DIR, or run qopt with -o FILE (the weights then go to FILE.weights/)

qopt.weight_store @ckpt "w.safetensors"
func.func @group_does_not_divide(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %w = qopt.weight @ckpt["a.weight"] : tensor<2x8xbf16>
  // expected-error @+1 {{qopt-quantize-weights: cannot quantize 'a': group size 3 does not divide axis 1 of size 8}}
  %y = qopt.linear %x, %w {label = "a"} : (tensor<?x8xf32>, tensor<2x8xbf16>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Without a label the layer is named by its location.
qopt.weight_store @ckpt "w.safetensors"
func.func @unlabeled(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %w = qopt.weight @ckpt["a.weight"] : tensor<2x8xbf16>
  // expected-error-re @+1 {{qopt-quantize-weights: cannot quantize 'linear@loc("{{.*}}errors.mlir":{{[0-9]+}}:{{[0-9]+}})': group size 3 does not divide axis 1 of size 8}}
  %y = qopt.linear %x, %w : (tensor<?x8xf32>, tensor<2x8xbf16>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// The LM head (input dimension 7 here) is skipped, so only 'c' is reported.
qopt.weight_store @ckpt "w.safetensors"
func.func @lm_head_not_checked(%x: tensor<?x7xf32>, %h: tensor<4x7xbf16>, %w: tensor<2x7xbf16>) -> (tensor<?x4xf32>, tensor<?x2xf32>) {
  %wh = qopt.weight @ckpt["lm.weight"] : tensor<4x7xbf16>
  %l = qopt.linear %x, %wh {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x7xf32>, tensor<4x7xbf16>) -> tensor<?x4xf32>
  // Not a weight expression: not quantized, not checked.
  %f = qopt.linear %x, %w {label = "float"} : (tensor<?x7xf32>, tensor<2x7xbf16>) -> tensor<?x2xf32>
  %wc = qopt.weight @ckpt["c.weight"] : tensor<2x7xbf16>
  // expected-error @+1 {{qopt-quantize-weights: cannot quantize 'c': group size 3 does not divide axis 1 of size 7}}
  %c = qopt.linear %x, %wc {label = "c"} : (tensor<?x7xf32>, tensor<2x7xbf16>) -> tensor<?x2xf32>
  return %l, %c : tensor<?x4xf32>, tensor<?x2xf32>
}
