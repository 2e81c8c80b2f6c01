// Smoothing computes the same function; smoothing then W8A8 / FP8
// quantization stays close to it. A one-layer model (layer norm with bias,
// GQA attention with a v_proj bias, gated MLP with an up_proj bias) is
// calibrated on two short sequences, transformed, and its logits on the same
// sequences compared with the original's.
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %python %S/Inputs/make_weights.py %S/Inputs/smooth-weights.json %t.dir/w.safetensors
// RUN: %python %S/Inputs/make_weights.py %S/Inputs/smooth-tokens.json %t.dir/tokens.safetensors
// RUN: cp %s %t.dir/model.mlir
// RUN: cd %t.dir && qopt-calibrate model.mlir --tokens tokens.safetensors:seqs -o cal.mlir 2>/dev/null | FileCheck %s --check-prefix=CAL
// CAL: calibrated 7 observers on 10 tokens (2 sequences of 5)
// DEFINE: %{logits} = qopt-run --backend=cpu --logits tokens.safetensors:seqs
// DEFINE: %{compare} = %python %S/Inputs/compare_tensors.py ref.safetensors
// RUN: cd %t.dir && %{logits} cal.mlir -o ref.safetensors

// RUN: cd %t.dir && qopt cal.mlir --qopt-smooth -o sq.mlir
// RUN: cd %t.dir && %{logits} sq.mlir -o sq.safetensors
// RUN: cd %t.dir && %{compare} sq.safetensors logits 1e-5 | FileCheck %s --check-prefix=SAME
// SAME: max |a - b| <= 1e-5

// The smoothed statistics (absmax, min, max) are those of the smoothed
// model: calibrating it again gives the same ones, up to rounding.
// RUN: cd %t.dir && qopt-calibrate sq.mlir --tokens tokens.safetensors:seqs -o sq-cal.mlir 2>/dev/null
// RUN: cd %t.dir && %python %S/Inputs/compare_stats.py sq.mlir sq-cal.mlir 1e-5 | FileCheck %s --check-prefix=STATS
// STATS: l0.down_proj.input same
// STATS-NEXT: l0.gate_proj.input same
// STATS-NEXT: l0.o_proj.input same
// STATS-NEXT: l0.q_proj.input same
// STATS-NEXT: layers.0.k same
// STATS-NEXT: layers.0.v same
// STATS-NEXT: lm_head.input same

// RUN: cd %t.dir && qopt sq.mlir --qopt-quantize-weights --qopt-quantize-activations="mode=static granularity=tensor symmetric=false" -o asym.mlir
// RUN: cd %t.dir && %{logits} asym.mlir -o asym.safetensors
// RUN: cd %t.dir && %{compare} asym.safetensors logits 0.1 | FileCheck %s --check-prefix=CLOSE
// RUN: cd %t.dir && qopt sq.mlir --qopt-quantize-weights --qopt-quantize-activations -o dyn.mlir
// RUN: cd %t.dir && %{logits} dyn.mlir -o dyn.safetensors
// RUN: cd %t.dir && %{compare} dyn.safetensors logits 0.1 | FileCheck %s --check-prefix=CLOSE
// CLOSE: not identical
// CLOSE-NEXT: max |a - b| <= 0.1

// All three passes in one run (quantization reads the factors smoothing
// has just written).
// RUN: cd %t.dir && qopt cal.mlir --qopt-smooth --qopt-quantize-weights="dtype=f8E4M3FN granularity=block block-size=2" --qopt-quantize-activations=dtype=f8E4M3FN -o fp8.mlir
// RUN: cd %t.dir && %{logits} fp8.mlir -o fp8.safetensors
// RUN: cd %t.dir && %{compare} fp8.safetensors logits 0.15 | FileCheck %s --check-prefix=FP8
// FP8: max |a - b| <= 0.15

qopt.weight_store @ckpt "w.safetensors"
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x6xf32> {
  %emb = qopt.weight @ckpt["embed"] : tensor<6x4xbf16>
  %x = qopt.embedding %emb[%ids] : (tensor<6x4xbf16>, tensor<?xi32>) -> tensor<?x4xf32>
  %g1 = qopt.weight @ckpt["ln.weight"] : tensor<4xbf16>
  %b1 = qopt.weight @ckpt["ln.bias"] : tensor<4xbf16>
  %n1 = qopt.layer_norm %x, %g1, %b1 {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>, tensor<4xbf16>) -> tensor<?x4xf32>
  %wq = qopt.weight @ckpt["l0.q_proj.weight"] : tensor<4x4xbf16>
  %q = qopt.linear %n1, %wq {label = "l0.q_proj", role = #qopt<role q_proj>} : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
  %wk = qopt.weight @ckpt["l0.k_proj.weight"] : tensor<2x4xbf16>
  %k = qopt.linear %n1, %wk {label = "l0.k_proj", role = #qopt<role k_proj>} : (tensor<?x4xf32>, tensor<2x4xbf16>) -> tensor<?x2xf32>
  %wv = qopt.weight @ckpt["l0.v_proj.weight"] : tensor<2x4xbf16>
  %bv = qopt.weight @ckpt["l0.v_proj.bias"] : tensor<2xbf16>
  %v = qopt.linear %n1, %wv, %bv {label = "l0.v_proj", role = #qopt<role v_proj>} : (tensor<?x4xf32>, tensor<2x4xbf16>, tensor<2xbf16>) -> tensor<?x2xf32>
  %qr = qopt.rope %q, %pos {head_dim = 2 : i64, num_heads = 2 : i64, theta = 1.000000e+04 : f64} : (tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x4xf32>
  %kr = qopt.rope %k, %pos {head_dim = 2 : i64, num_heads = 1 : i64, theta = 1.000000e+04 : f64} : (tensor<?x2xf32>, tensor<?xi32>) -> tensor<?x2xf32>
  %a = qopt.attention %qr, %kr, %v {head_dim = 2 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64} : (tensor<?x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>) -> tensor<?x4xf32>
  %wo = qopt.weight @ckpt["l0.o_proj.weight"] : tensor<4x4xbf16>
  %o = qopt.linear %a, %wo {label = "l0.o_proj", role = #qopt<role o_proj>} : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
  %h = qopt.add %x, %o : tensor<?x4xf32>
  %g2 = qopt.weight @ckpt["l0.post_norm"] : tensor<4xbf16>
  %n2 = qopt.rms_norm %h, %g2 {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
  %wg = qopt.weight @ckpt["l0.gate_proj.weight"] : tensor<8x4xbf16>
  %gt = qopt.linear %n2, %wg {label = "l0.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x4xf32>, tensor<8x4xbf16>) -> tensor<?x8xf32>
  %wu = qopt.weight @ckpt["l0.up_proj.weight"] : tensor<8x4xbf16>
  %bu = qopt.weight @ckpt["l0.up_proj.bias"] : tensor<8xbf16>
  %up = qopt.linear %n2, %wu, %bu {label = "l0.up_proj", role = #qopt<role up_proj>} : (tensor<?x4xf32>, tensor<8x4xbf16>, tensor<8xbf16>) -> tensor<?x8xf32>
  %sg = qopt.silu %gt : tensor<?x8xf32>
  %m = qopt.mul %sg, %up : tensor<?x8xf32>
  %wd = qopt.weight @ckpt["l0.down_proj.weight"] : tensor<4x8xbf16>
  %d = qopt.linear %m, %wd {label = "l0.down_proj", role = #qopt<role down_proj>} : (tensor<?x8xf32>, tensor<4x8xbf16>) -> tensor<?x4xf32>
  %h2 = qopt.add %h, %d : tensor<?x4xf32>
  %g3 = qopt.weight @ckpt["norm"] : tensor<4xbf16>
  %n3 = qopt.rms_norm %h2, %g3 {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
  %logits = qopt.linear %n3, %emb {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x4xf32>, tensor<6x4xbf16>) -> tensor<?x6xf32>
  return %logits : tensor<?x6xf32>
}
