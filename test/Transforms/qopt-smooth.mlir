// The test model reads its weights from w.safetensors beside it: build the
// store from hand-picked (bf16-exact) values and copy this file next to it.
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %python %S/Inputs/make_weights.py %S/Inputs/smooth-weights.json %t.dir/w.safetensors
// RUN: %python %S/Inputs/make_weights.py %S/Inputs/smooth-tokens.json %t.dir/tokens.safetensors
// RUN: cp %s %t.dir/model.mlir

// RUN: qopt %t.dir/model.mlir --qopt-smooth=weights-out=%t.dir/sq.w | FileCheck %s
// RUN: %python %S/Inputs/dump_weights.py %t.dir/sq.w/smooth-*.safetensors.index.json | FileCheck %s --check-prefix=STORE

// alpha = 1 moves everything into the weights (s = max|X|), alpha = 0
// gives s = 1 / max|W|.
// RUN: qopt %t.dir/model.mlir --qopt-smooth="alpha=1 weights-out=%t.dir/a1.w" | FileCheck %s --check-prefix=A1
// RUN: %python %S/Inputs/dump_weights.py %t.dir/a1.w/smooth-*.safetensors.index.json | FileCheck %s --check-prefix=A1-STORE
// RUN: qopt %t.dir/model.mlir --qopt-smooth="alpha=0 weights-out=%t.dir/a0.w" | FileCheck %s --check-prefix=A0
// RUN: %python %S/Inputs/dump_weights.py %t.dir/a0.w/smooth-*.safetensors.index.json | FileCheck %s --check-prefix=A0-STORE

// With -o, the side store goes to <stem>.weights/ beside the output and the
// IR names it relative to the output file, which then runs as is and
// computes the same function as the original.
// RUN: cd %t.dir && qopt model.mlir --qopt-smooth -o sq.mlir
// RUN: FileCheck %s --check-prefix=OUT < %t.dir/sq.mlir
// RUN: ls %t.dir/sq.weights | FileCheck %s --check-prefix=FILES
// RUN: qopt-run --backend=cpu %t.dir/model.mlir --logits %t.dir/tokens.safetensors:seqs -o %t.dir/ref.safetensors
// RUN: qopt-run --backend=cpu %t.dir/sq.mlir --logits %t.dir/tokens.safetensors:seqs -o %t.dir/sq.safetensors
// RUN: %python %S/Inputs/compare_tensors.py %t.dir/ref.safetensors %t.dir/sq.safetensors logits 1e-5 | FileCheck %s --check-prefix=SAME
// SAME: max |a - b| <= 1e-5

// OUT: qopt.weight_store @ckpt "w.safetensors"
// OUT-NEXT: qopt.weight_store @smooth "sq.weights/smooth-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// Shard and index are named by the hash of their content.
// FILES-DAG: {{^}}smooth-{{[0-9a-f]{16}[.]}}safetensors{{$}}
// FILES-DAG: {{^}}smooth-{{[0-9a-f]{16}[.]}}safetensors.index.json{{$}}

// CHECK: qopt.weight_store @ckpt "w.safetensors"
// CHECK-NEXT: qopt.weight_store @smooth "/{{.*}}/sq.w/smooth-{{[0-9a-f]{16}[.]}}safetensors.index.json"

// q/k/v after the input norm: s = sqrt(max|X|) / sqrt(max|W|) per input
// channel, with max|W| over the three weights (2, 1, 4, 0.5); a channel
// whose activation maximum is 0 keeps s = 1. The norm weight becomes
// weight / s, and the statistics describe X / s (the Hessian is dropped).
// CHECK-LABEL: func.func @forward
// CHECK: %[[EMB:.*]] = qopt.weight @ckpt["embed"] : tensor<6x4xbf16>
// CHECK: %[[X:.*]] = qopt.embedding %[[EMB]]
// CHECK: %[[G1:.*]] = qopt.weight @smooth["l0.input_norm.smoothed"] : tensor<4xf32>
// CHECK-NEXT: %[[N1:.*]] = qopt.rms_norm %[[X]], %[[G1]] {epsilon = 1.000000e-05 : f64} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
// CHECK-NEXT: %[[O1:.*]] = qopt.observe %[[N1]] {label = "l0.q_proj.input", stats = #qopt.stats<absmax = dense<[4.000000e+00, 1.000000e+00, 2.000000e+00, 0.000000e+00]> : tensor<4xf32>, min = dense<[-4.000000e+00, -1.000000e+00, -1.000000e+00, 0.000000e+00]> : tensor<4xf32>, max = dense<[3.000000e+00, 5.000000e-01, 2.000000e+00, 0.000000e+00]> : tensor<4xf32>, num_tokens = 16>} : tensor<?x4xf32>
// CHECK-NEXT: %[[WQ:.*]] = qopt.weight @ckpt["l0.q_proj.weight"] : tensor<4x4xbf16>
// CHECK-NEXT: %[[S1:.*]] = qopt.weight @smooth["l0.q_proj.smooth"] : tensor<4xf32>
// CHECK-NEXT: %[[WQS:.*]] = qopt.scale_channels %[[WQ]], %[[S1]] {axis = 1 : i64} : (tensor<4x4xbf16>, tensor<4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: qopt.linear %[[O1]], %[[WQS]] {label = "l0.q_proj", role = #qopt<role q_proj>} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
// CHECK-NEXT: %[[WK:.*]] = qopt.weight @ckpt["l0.k_proj.weight"] : tensor<2x4xbf16>
// CHECK-NEXT: %[[WKS:.*]] = qopt.scale_channels %[[WK]], %[[S1]] {axis = 1 : i64} : (tensor<2x4xbf16>, tensor<4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: qopt.linear %[[O1]], %[[WKS]] {label = "l0.k_proj"

// v_proj is both a consumer of the norm group (columns * s) and the
// producer of o_proj's input (rows / s_v).
// CHECK-NEXT: %[[WV:.*]] = qopt.weight @ckpt["l0.v_proj.weight"] : tensor<2x4xbf16>
// CHECK-NEXT: %[[WVS:.*]] = qopt.scale_channels %[[WV]], %[[S1]] {axis = 1 : i64} : (tensor<2x4xbf16>, tensor<4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: %[[VINV:.*]] = qopt.weight @smooth["l0.v_proj.smooth_inv"] : tensor<2xf32>
// CHECK-NEXT: %[[WVSS:.*]] = qopt.scale_channels %[[WVS]], %[[VINV]] {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: %[[V:.*]] = qopt.linear %[[O1]], %[[WVSS]] {label = "l0.v_proj"

// GQA: value channel c feeds o_proj input channels c and c + 2, so
// s_v[c] comes from max(|A_c|, |A_c+2|) = (8, 1) and max|W_o| over the same
// columns (2, 4): s_v = (2, 0.5), s_o = (2, 0.5, 2, 0.5). The K statistics
// are untouched; the V statistics are divided by s_v.
// CHECK: qopt.observe %{{.*}} {label = "layers.0.k", stats = #qopt.stats<absmax = dense<[5.000000e+00, 7.000000e+00]> : tensor<2xf32>, num_tokens = 16>}
// CHECK: qopt.observe %[[V]] {label = "layers.0.v", stats = #qopt.stats<absmax = dense<[2.000000e+00, 6.000000e+00]> : tensor<2xf32>, num_tokens = 16>}
// CHECK: qopt.attention
// CHECK-NEXT: %[[AO:.*]] = qopt.observe %{{.*}} {label = "l0.o_proj.input", stats = #qopt.stats<absmax = dense<[1.000000e+00, 2.000000e+00, 4.000000e+00, 1.000000e+00]> : tensor<4xf32>, num_tokens = 16>}
// CHECK-NEXT: %[[WO:.*]] = qopt.weight @ckpt["l0.o_proj.weight"] : tensor<4x4xbf16>
// CHECK-NEXT: %[[SO:.*]] = qopt.weight @smooth["l0.o_proj.smooth"] : tensor<4xf32>
// CHECK-NEXT: %[[WOS:.*]] = qopt.scale_channels %[[WO]], %[[SO]] {axis = 1 : i64} : (tensor<4x4xbf16>, tensor<4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: qopt.linear %[[AO]], %[[WOS]] {label = "l0.o_proj"

// gate/up after the post-attention norm; up_proj also produces down_proj's
// input through the mul.
// CHECK: %[[G2:.*]] = qopt.weight @smooth["l0.post_norm.smoothed"] : tensor<4xf32>
// CHECK-NEXT: %[[N2:.*]] = qopt.rms_norm %{{.*}}, %[[G2]]
// CHECK-NEXT: %[[O2:.*]] = qopt.observe %[[N2]] {label = "l0.gate_proj.input", stats = #qopt.stats<absmax = dense<[4.000000e+00, 2.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>, num_tokens = 16>}
// CHECK-NEXT: %[[WG:.*]] = qopt.weight @ckpt["l0.gate_proj.weight"]
// CHECK-NEXT: %[[S2:.*]] = qopt.weight @smooth["l0.gate_proj.smooth"] : tensor<4xf32>
// CHECK-NEXT: %[[WGS:.*]] = qopt.scale_channels %[[WG]], %[[S2]] {axis = 1 : i64} : (tensor<8x4xbf16>, tensor<4xf32>) -> tensor<8x4xf32>
// CHECK-NEXT: %[[GATE:.*]] = qopt.linear %[[O2]], %[[WGS]] {label = "l0.gate_proj"
// CHECK-NEXT: %[[WU:.*]] = qopt.weight @ckpt["l0.up_proj.weight"]
// CHECK-NEXT: %[[WUS:.*]] = qopt.scale_channels %[[WU]], %[[S2]] {axis = 1 : i64}
// CHECK-NEXT: %[[UINV:.*]] = qopt.weight @smooth["l0.up_proj.smooth_inv"] : tensor<8xf32>
// CHECK-NEXT: %[[WUSS:.*]] = qopt.scale_channels %[[WUS]], %[[UINV]] {axis = 0 : i64} : (tensor<8x4xf32>, tensor<8xf32>) -> tensor<8x4xf32>
// CHECK-NEXT: %[[UP:.*]] = qopt.linear %[[O2]], %[[WUSS]] {label = "l0.up_proj"
// CHECK-NEXT: %[[SILU:.*]] = qopt.silu %[[GATE]]
// CHECK-NEXT: %[[MUL:.*]] = qopt.mul %[[SILU]], %[[UP]]
// CHECK-NEXT: %[[MO:.*]] = qopt.observe %[[MUL]] {label = "l0.down_proj.input", stats = #qopt.stats<absmax = dense<[2.000000e+00, 2.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 3.000000e+00]> : tensor<8xf32>, num_tokens = 16>}
// CHECK-NEXT: %[[WD:.*]] = qopt.weight @ckpt["l0.down_proj.weight"]
// CHECK-NEXT: %[[SD:.*]] = qopt.weight @smooth["l0.down_proj.smooth"] : tensor<8xf32>
// CHECK-NEXT: %[[WDS:.*]] = qopt.scale_channels %[[WD]], %[[SD]] {axis = 1 : i64} : (tensor<4x8xbf16>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: qopt.linear %[[MO]], %[[WDS]] {label = "l0.down_proj"

// The LM head group is not smoothed: final norm, statistics and the (tied)
// embedding weight stay as they were.
// CHECK-NOT: @smooth
// CHECK: %[[G3:.*]] = qopt.weight @ckpt["norm"] : tensor<4xbf16>
// CHECK-NEXT: %[[N3:.*]] = qopt.rms_norm %{{.*}}, %[[G3]] {epsilon = 1.000000e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
// CHECK-NEXT: %[[O3:.*]] = qopt.observe %[[N3]] {label = "lm_head.input", stats = #qopt.stats<absmax = dense<[1.600000e+01, 1.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>, num_tokens = 16>}
// CHECK-NEXT: qopt.linear %[[O3]], %[[EMB]] {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x4xf32>, tensor<6x4xbf16>) -> tensor<?x6xf32>

// CHECK-LABEL: func.func @layer_norm
// CHECK-DAG: %[[LG:.*]] = qopt.weight @smooth["ln.weight.smoothed"] : tensor<4xf32>
// CHECK-DAG: %[[LB:.*]] = qopt.weight @smooth["ln.bias.smoothed"] : tensor<4xf32>
// CHECK: %[[LN:.*]] = qopt.layer_norm %{{.*}}, %[[LG]], %[[LB]] {{.*}} : (tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
// CHECK-NEXT: qopt.observe %[[LN]] {label = "ln.q.input", stats = #qopt.stats<absmax = dense<[4.000000e+00, 1.000000e+00, 2.000000e+00, 0.000000e+00]> : tensor<4xf32>, num_tokens = 4>}
// CHECK: qopt.scale_channels %{{.*}}, %{{.*}} {axis = 1 : i64}

// CHECK-LABEL: func.func @not_smoothable
// CHECK-NOT: @smooth
// CHECK-NOT: qopt.scale_channels
// CHECK: return

// The factors, exactly (the norm and up_proj get 1 / s).
// STORE: l0.down_proj.smooth F32 [8] 2 0.5 1 1 1 1 1 3
// STORE-NEXT: l0.gate_proj.smooth F32 [4] 2 2 1 0.5
// STORE-NEXT: l0.input_norm.smoothed F32 [4] 1 1 2 3
// STORE-NEXT: l0.o_proj.smooth F32 [4] 2 0.5 2 0.5
// STORE-NEXT: l0.post_norm.smoothed F32 [4] 0.5 1 4 2
// STORE-NEXT: l0.q_proj.smooth F32 [4] 2 1 0.5 1
// STORE-NEXT: l0.up_proj.smooth_inv F32 [8] 0.5 2 1 1 1 1 1 0.333333
// STORE-NEXT: l0.v_proj.smooth_inv F32 [2] 0.5 2
// STORE-NEXT: ln.bias.smoothed F32 [4] 0.25 -1 4 0.25
// STORE-NEXT: ln.q.smooth F32 [4] 2 1 0.5 1
// STORE-NEXT: ln.weight.smoothed F32 [4] 1 1 2 3
// STORE-NOT: {{.}}

// A1: {label = "l0.q_proj.input", stats = #qopt.stats<absmax = dense<[1.000000e+00, 1.000000e+00, 1.000000e+00, 0.000000e+00]> : tensor<4xf32>
// A1: {label = "l0.o_proj.input", stats = #qopt.stats<absmax = dense<[2.500000e-01, 1.000000e+00, 1.000000e+00, 5.000000e-01]> : tensor<4xf32>
// A1: {label = "l0.gate_proj.input", stats = #qopt.stats<absmax = dense<1.000000e+00> : tensor<4xf32>
// A1: {label = "l0.down_proj.input", stats = #qopt.stats<absmax = dense<1.000000e+00> : tensor<8xf32>
// A1-STORE: l0.down_proj.smooth F32 [8] 4 1 1 1 1 1 1 9
// A1-STORE-NEXT: l0.gate_proj.smooth F32 [4] 8 4 1 0.5
// A1-STORE-NEXT: l0.input_norm.smoothed F32 [4] 0.25 1 1 3
// A1-STORE-NEXT: l0.o_proj.smooth F32 [4] 8 1 8 1
// A1-STORE-NEXT: l0.post_norm.smoothed F32 [4] 0.125 0.5 4 2
// A1-STORE-NEXT: l0.q_proj.smooth F32 [4] 8 1 1 1
// A1-STORE-NEXT: l0.up_proj.smooth_inv F32 [8] 0.25 1 1 1 1 1 1 0.111111
// A1-STORE-NEXT: l0.v_proj.smooth_inv F32 [2] 0.125 1

// A0: {label = "l0.q_proj.input", stats = #qopt.stats<absmax = dense<[1.600000e+01, 1.000000e+00, 4.000000e+00, 0.000000e+00]> : tensor<4xf32>
// A0: {label = "l0.o_proj.input", stats = #qopt.stats<absmax = dense<[4.000000e+00, 4.000000e+00, 1.600000e+01, 2.000000e+00]> : tensor<4xf32>
// A0: {label = "l0.gate_proj.input", stats = #qopt.stats<absmax = dense<[1.600000e+01, 4.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>
// A0: {label = "l0.down_proj.input", stats = #qopt.stats<absmax = dense<[4.000000e+00, 4.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 9.000000e+00]> : tensor<8xf32>
// A0-STORE: l0.down_proj.smooth F32 [8] 1 0.25 1 1 1 1 1 1
// A0-STORE-NEXT: l0.gate_proj.smooth F32 [4] 0.5 1 1 0.5
// A0-STORE-NEXT: l0.input_norm.smoothed F32 [4] 4 1 4 3
// A0-STORE-NEXT: l0.o_proj.smooth F32 [4] 0.5 0.25 0.5 0.25
// A0-STORE-NEXT: l0.post_norm.smoothed F32 [4] 2 2 4 2
// A0-STORE-NEXT: l0.q_proj.smooth F32 [4] 0.5 1 0.25 1
// A0-STORE-NEXT: l0.up_proj.smooth_inv F32 [8] 1 4 1 1 1 1 1 1
// A0-STORE-NEXT: l0.v_proj.smooth_inv F32 [2] 2 4

qopt.weight_store @ckpt "w.safetensors"

// One Llama layer, hidden 4, 2 query heads sharing 1 KV head of size 2, MLP 8.
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x6xf32> {
  %emb = qopt.weight @ckpt["embed"] : tensor<6x4xbf16>
  %x = qopt.embedding %emb[%ids] : (tensor<6x4xbf16>, tensor<?xi32>) -> tensor<?x4xf32>
  %g1 = qopt.weight @ckpt["l0.input_norm"] : tensor<4xbf16>
  %n1 = qopt.rms_norm %x, %g1 {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
  %o1 = qopt.observe %n1 {label = "l0.q_proj.input", stats = #qopt.stats<absmax = dense<[8.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, min = dense<[-8.0, -1.0, -0.5, 0.0]> : tensor<4xf32>, max = dense<[6.0, 0.5, 1.0, 0.0]> : tensor<4xf32>, num_tokens = 16, hessian = "l0.q_proj.input.hessian">} : tensor<?x4xf32>
  %wq = qopt.weight @ckpt["l0.q_proj.weight"] : tensor<4x4xbf16>
  %q = qopt.linear %o1, %wq {label = "l0.q_proj", role = #qopt<role q_proj>} : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
  %wk = qopt.weight @ckpt["l0.k_proj.weight"] : tensor<2x4xbf16>
  %k = qopt.linear %o1, %wk {label = "l0.k_proj", role = #qopt<role k_proj>} : (tensor<?x4xf32>, tensor<2x4xbf16>) -> tensor<?x2xf32>
  %wv = qopt.weight @ckpt["l0.v_proj.weight"] : tensor<2x4xbf16>
  %v = qopt.linear %o1, %wv {label = "l0.v_proj", role = #qopt<role v_proj>} : (tensor<?x4xf32>, tensor<2x4xbf16>) -> tensor<?x2xf32>
  %qr = qopt.rope %q, %pos {head_dim = 2 : i64, num_heads = 2 : i64, theta = 1.000000e+04 : f64} : (tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x4xf32>
  %kr = qopt.rope %k, %pos {head_dim = 2 : i64, num_heads = 1 : i64, theta = 1.000000e+04 : f64} : (tensor<?x2xf32>, tensor<?xi32>) -> tensor<?x2xf32>
  %ko = qopt.observe %kr {label = "layers.0.k", stats = #qopt.stats<absmax = dense<[5.0, 7.0]> : tensor<2xf32>, num_tokens = 16>} : tensor<?x2xf32>
  %vo = qopt.observe %v {label = "layers.0.v", stats = #qopt.stats<absmax = dense<[4.0, 3.0]> : tensor<2xf32>, num_tokens = 16>} : tensor<?x2xf32>
  %a = qopt.attention %qr, %ko, %vo {head_dim = 2 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64} : (tensor<?x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>) -> tensor<?x4xf32>
  %ao = qopt.observe %a {label = "l0.o_proj.input", stats = #qopt.stats<absmax = dense<[2.0, 1.0, 8.0, 0.5]> : tensor<4xf32>, num_tokens = 16>} : tensor<?x4xf32>
  %wo = qopt.weight @ckpt["l0.o_proj.weight"] : tensor<4x4xbf16>
  %o = qopt.linear %ao, %wo {label = "l0.o_proj", role = #qopt<role o_proj>} : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
  %h = qopt.add %x, %o : tensor<?x4xf32>
  %g2 = qopt.weight @ckpt["l0.post_norm"] : tensor<4xbf16>
  %n2 = qopt.rms_norm %h, %g2 {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
  %o2 = qopt.observe %n2 {label = "l0.gate_proj.input", stats = #qopt.stats<absmax = dense<[8.0, 4.0, 1.0, 0.5]> : tensor<4xf32>, num_tokens = 16>} : tensor<?x4xf32>
  %wg = qopt.weight @ckpt["l0.gate_proj.weight"] : tensor<8x4xbf16>
  %gt = qopt.linear %o2, %wg {label = "l0.gate_proj", role = #qopt<role gate_proj>} : (tensor<?x4xf32>, tensor<8x4xbf16>) -> tensor<?x8xf32>
  %wu = qopt.weight @ckpt["l0.up_proj.weight"] : tensor<8x4xbf16>
  %up = qopt.linear %o2, %wu {label = "l0.up_proj", role = #qopt<role up_proj>} : (tensor<?x4xf32>, tensor<8x4xbf16>) -> tensor<?x8xf32>
  %sg = qopt.silu %gt : tensor<?x8xf32>
  %m = qopt.mul %sg, %up : tensor<?x8xf32>
  %mo = qopt.observe %m {label = "l0.down_proj.input", stats = #qopt.stats<absmax = dense<[4.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 9.0]> : tensor<8xf32>, num_tokens = 16>} : tensor<?x8xf32>
  %wd = qopt.weight @ckpt["l0.down_proj.weight"] : tensor<4x8xbf16>
  %d = qopt.linear %mo, %wd {label = "l0.down_proj", role = #qopt<role down_proj>} : (tensor<?x8xf32>, tensor<4x8xbf16>) -> tensor<?x4xf32>
  %h2 = qopt.add %h, %d : tensor<?x4xf32>
  %g3 = qopt.weight @ckpt["norm"] : tensor<4xbf16>
  %n3 = qopt.rms_norm %h2, %g3 {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
  %o3 = qopt.observe %n3 {label = "lm_head.input", stats = #qopt.stats<absmax = dense<[16.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, num_tokens = 16>} : tensor<?x4xf32>
  %logits = qopt.linear %o3, %emb {label = "lm_head", role = #qopt<role lm_head>} : (tensor<?x4xf32>, tensor<6x4xbf16>) -> tensor<?x6xf32>
  return %logits : tensor<?x6xf32>
}

// A layer norm with a bias: both are divided by s.
func.func @layer_norm(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %g = qopt.weight @ckpt["ln.weight"] : tensor<4xbf16>
  %b = qopt.weight @ckpt["ln.bias"] : tensor<4xbf16>
  %n = qopt.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>, tensor<4xbf16>) -> tensor<?x4xf32>
  %o = qopt.observe %n {label = "ln.q.input", stats = #qopt.stats<absmax = dense<[8.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, num_tokens = 4>} : tensor<?x4xf32>
  %w = qopt.weight @ckpt["l0.q_proj.weight"] : tensor<4x4xbf16>
  %y = qopt.linear %o, %w {label = "ln.q"} : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// The norm's result also feeds an add: there is nothing to fold the
// division into, so the group is left alone (and needs no statistics).
func.func @not_smoothable(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %g = qopt.weight @ckpt["norm"] : tensor<4xbf16>
  %n = qopt.rms_norm %x, %g {epsilon = 1.0e-05 : f64} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
  %o = qopt.observe %n {label = "skip.q.input"} : tensor<?x4xf32>
  %w = qopt.weight @ckpt["l0.q_proj.weight"] : tensor<4x4xbf16>
  %y = qopt.linear %o, %w {label = "skip.q"} : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
  %r = qopt.add %y, %n : tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}
