// RUN: qopt %s -split-input-file -verify-diagnostics --smoothquant=weights-out=%t.w
// RUN: qopt %s -split-input-file -verify-diagnostics --qopt-check-pipeline-input=pipeline=w4a16
// RUN: not qopt %s -split-input-file --fp8=weights-out=%t.w -o %t.out.mlir 2>&1 | FileCheck %s --check-prefix=FP8
// RUN: not test -e %t.out.mlir

// The quantization pipelines take a float model with a model function: an
// already quantized or smoothed model (a second --smoothquant, or one weight
// pipeline after another) and an empty module are errors naming the
// pipeline's flag.

// FP8: error: --fp8: the model is already quantized (it has qopt.quantized_linear layers); weight pipelines take the float model from qopt-calibrate
// FP8: error: --fp8: the model is already smoothed (qopt.scale_channels of a previous smoothing); weight pipelines take the float model from qopt-calibrate
// FP8: error: --fp8: the module has no model function

func.func @quantized(%x: tensor<?x8xf32>, %w: tensor<4x8xi8>, %s: tensor<4xf32>) -> tensor<?x4xf32> {
  // expected-error-re @+1 {{{{--(smoothquant|w4a16)}}: the model is already quantized (it has qopt.quantized_linear layers); weight pipelines take the float model from qopt-calibrate}}
  %y = qopt.quantized_linear %x, %w weight_scales(%s : tensor<4xf32>) {label = "q", weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x8xf32>, tensor<4x8xi8> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @smoothed(%x: tensor<?x4xf32>, %w: tensor<8x4xbf16>, %s: tensor<4xf32>) -> tensor<?x8xf32> {
  // expected-error-re @+1 {{{{--(smoothquant|w4a16)}}: the model is already smoothed (qopt.scale_channels of a previous smoothing)}}
  %ws = qopt.scale_channels %w, %s {axis = 1 : i64} : (tensor<8x4xbf16>, tensor<4xf32>) -> tensor<8x4xf32>
  %y = qopt.linear %x, %ws {label = "l"} : (tensor<?x4xf32>, tensor<8x4xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// expected-error-re @+1 {{{{--(smoothquant|w4a16)}}: the module has no model function}}
module {
}
