// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %python %S/Inputs/make_weights.py %S/Inputs/smooth-weights.json %t.dir/w.safetensors
// RUN: cp %s %t.dir/errors.mlir
// RUN: qopt %t.dir/errors.mlir --qopt-smooth -split-input-file -verify-diagnostics

// alpha outside [0, 1] is rejected before anything is read or written.
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-smooth="alpha=1.5 weights-out=%t.dir/w1" 2>&1 | FileCheck %s --check-prefix=ALPHA
// RUN: not qopt %t.dir/errors.mlir -split-input-file --qopt-smooth="alpha=-0.25 weights-out=%t.dir/w1" 2>&1 | FileCheck %s --check-prefix=NEG
// RUN: not ls %t.dir/w1
// (The value prints as a double: 1.5 or 1.500000e+00.)
// ALPHA: error: qopt-smooth: alpha must be in [0, 1], got 1.5{{(0*e\+00)?$}}
// NEG: error: qopt-smooth: alpha must be in [0, 1], got -{{(0\.25|2\.50*e-01)$}}

// Errors reading the weights (with a directory to write to). A failing
// pass leaves no side store behind.
// RUN: cp %S/Inputs/smooth-store-errors.mlir %t.dir/store-errors.mlir
// RUN: qopt %t.dir/store-errors.mlir --qopt-smooth=weights-out=%t.dir/w3 -split-input-file -verify-diagnostics
// RUN: not ls %t.dir/w3

qopt.weight_store @ckpt "w.safetensors"
func.func @observer_without_stats(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %g = qopt.weight @ckpt["norm"] : tensor<4xbf16>
  %n = qopt.rms_norm %x, %g {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
  %o = qopt.observe %n {label = "q.input"} : tensor<?x4xf32>
  %w = qopt.weight @ckpt["l0.q_proj.weight"] : tensor<4x4xbf16>
  // expected-error @+1 {{qopt-smooth: linear 'q' has no calibration statistics for its input; run qopt-calibrate on the model first}}
  %y = qopt.linear %o, %w {label = "q"} : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
  %w2 = qopt.weight @ckpt["l0.k_proj.weight"] : tensor<2x4xbf16>
  %y2 = qopt.linear %o, %w2 {label = "k"} : (tensor<?x4xf32>, tensor<2x4xbf16>) -> tensor<?x2xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Here the mul's result is not observed at all.
qopt.weight_store @ckpt "w.safetensors"
func.func @no_observer(%x: tensor<?x4xf32>, %h: tensor<?x8xf32>) -> tensor<?x4xf32> {
  %wu = qopt.weight @ckpt["l0.up_proj.weight"] : tensor<8x4xbf16>
  %up = qopt.linear %x, %wu {label = "up"} : (tensor<?x4xf32>, tensor<8x4xbf16>) -> tensor<?x8xf32>
  %m = qopt.mul %h, %up : tensor<?x8xf32>
  %wd = qopt.weight @ckpt["l0.down_proj.weight"] : tensor<4x8xbf16>
  // expected-error @+1 {{qopt-smooth: linear 'down' has no calibration statistics for its input; run qopt-calibrate on the model first}}
  %d = qopt.linear %m, %wd {label = "down"} : (tensor<?x8xf32>, tensor<4x8xbf16>) -> tensor<?x4xf32>
  return %d : tensor<?x4xf32>
}

// -----

// Without weights-out and without -o there is nowhere to write the factors.
// expected-error @+1 {{qopt-smooth: no directory for the weights this pass writes: give the pass option weights-out=DIR, or run qopt with -o FILE (the weights then go to FILE.weights/)}}
module {
  qopt.weight_store @ckpt "w.safetensors"
  func.func @no_directory(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
    %g = qopt.weight @ckpt["norm"] : tensor<4xbf16>
    %n = qopt.rms_norm %x, %g {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
    %o = qopt.observe %n {label = "q.input", stats = #qopt.stats<absmax = dense<[8.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, num_tokens = 16>} : tensor<?x4xf32>
    %w = qopt.weight @ckpt["l0.q_proj.weight"] : tensor<4x4xbf16>
    %y = qopt.linear %o, %w {label = "q"} : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
}
