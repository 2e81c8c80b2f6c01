// What codegen rejects: an unknown chip, a scheme the chip cannot run (the
// legalization pass rewrites FP8 GEMMs for sm_80 before this point; one that
// reaches codegen anyway is an error naming it), unplanned buffers, and an
// unfused RoPE.
// RUN: qopt %s --convert-kernels-to-gpu=chip=sm_80 -split-input-file -verify-diagnostics
// RUN: not qopt %s --convert-kernels-to-gpu=chip=sm_99 -split-input-file 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not qopt %s --lower-to-nvptx=chip=sm_99 2>&1 | FileCheck %s --check-prefix=PIPELINE
// CHIP: error: convert-kernels-to-gpu: unknown chip 'sm_99'; expected sm_80, sm_89 or sm_90a
// RUN: not qopt %s --convert-kernels-to-gpu=attention-warps=0 -split-input-file 2>&1 | FileCheck %s --check-prefix=WARPS
// WARPS: error: convert-kernels-to-gpu: attention-warps must be 1 to 32, got 0
// RUN: not qopt %s --convert-kernels-to-gpu=attention-splits=9 -split-input-file 2>&1 | FileCheck %s --check-prefix=SPLITS
// SPLITS: error: convert-kernels-to-gpu: attention-splits must be 0 to 8, got 9
// RUN: not qopt %s --convert-kernels-to-gpu="chip=sm_89 attention-splits=2" -split-input-file 2>&1 | FileCheck %s --check-prefix=SPLITS89
// SPLITS89: error: convert-kernels-to-gpu: attention-splits > 1 needs thread-block clusters (sm_90a), not sm_89
// PIPELINE: error: --lower-to-nvptx: unknown chip 'sm_99'; expected sm_80, sm_89 or sm_90a

module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "w", vocab_size = 4, max_position_embeddings = 16>} {
  func.func @forward(%a: tensor<?x64xf8E4M3FN>, %s: tensor<?xf32>, %w: tensor<64x64xf8E4M3FN>, %ws: tensor<64xf32>) -> tensor<?x64xf32> attributes {qk.arena_bytes = 1024 : i64, qk.max_tokens = 4 : i64} {
    // expected-error @+1 {{e4m3}}
    %y = qk.gemm %a, %w a_scales(%s : tensor<?xf32>) b_scales(%ws : tensor<64xf32>) {a_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>, tile = #qk.tile<bm = 64, bn = 64, bk = 64, warps_m = 2, warps_n = 2, stages = 2>, qk.buffers = array<i64: 0>} : (tensor<?x64xf8E4M3FN>, tensor<64x64xf8E4M3FN>) -> tensor<?x64xf32>
    return %y : tensor<?x64xf32>
  }
}

// -----

// expected-error @+1 {{convert-kernels-to-gpu: buffers are not planned (run --qk-plan-buffers)}}
module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "w", vocab_size = 4, max_position_embeddings = 16>} {
  func.func @forward(%ids: tensor<?xi32>, %t: tensor<4x64xbf16>) -> tensor<?x64xf32> {
    %h = qk.embedding %t[%ids] : (tensor<4x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
    return %h : tensor<?x64xf32>
  }
}

// -----

module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "w", vocab_size = 4, max_position_embeddings = 16>} {
  func.func @forward(%x: tensor<?x64xf32>, %p: tensor<?xi32>) -> tensor<?x64xf32> attributes {qk.arena_bytes = 1024 : i64, qk.max_tokens = 4 : i64} {
    %t = qk.rope_table {head_dim = 64, theta = 1.0e+04} : tensor<16x64xf32>
    // expected-error @+1 {{has no kernel of its own; --qk-fuse-rope-kv-append fuses RoPE with the KV-cache append}}
    %r = qk.rope %x, %p, %t {num_heads = 1, head_dim = 64, qk.buffers = array<i64: 0>} : (tensor<?x64xf32>, tensor<?xi32>, tensor<16x64xf32>) -> tensor<?x64xf32>
    return %r : tensor<?x64xf32>
  }
}
