// Small-M kernels (a GEMM's weight-streaming kernels, attention's split
// decode kernel) are one symbol, one launch and one ascending row count each.
// RUN: qopt %s --qk-plan-buffers --qk-verify-contract -split-input-file -verify-diagnostics -o /dev/null

module {
  gpu.module @qopt_kernels {
  }
  func.func @forward(%ids: tensor<?xi32>, %t: tensor<16x64xbf16>) -> tensor<?x64xf32> {
    %h = qk.embedding %t[%ids] {qk.kernel = @qopt_kernels::@k0, qk.launch = #qk.launch<block = [64, 1, 1], token_tile = 1, per_tile = 1, grid_y = 1, grid_z = 1, shared_bytes = 0>, qk.small_m_kernels = [@qopt_kernels::@k0_a, @qopt_kernels::@k0_b], qk.small_m_launches = [#qk.launch<block = [64, 1, 1], token_tile = 1, per_tile = 1, grid_y = 1, grid_z = 8, shared_bytes = 0>, #qk.launch<block = [64, 1, 1], token_tile = 1, per_tile = 1, grid_y = 1, grid_z = 4, shared_bytes = 0>], qk.small_m_rows = array<i64: 1, 4>} : (tensor<16x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
    return %h : tensor<?x64xf32>
  }
}

// -----

module {
  gpu.module @qopt_kernels {
  }
  func.func @forward(%ids: tensor<?xi32>, %t: tensor<16x64xbf16>) -> tensor<?x64xf32> {
    // expected-error @below {{qk-verify-contract: small-M kernels need one symbol, launch and ascending row count each (qk.small_m_kernels, qk.small_m_launches, qk.small_m_rows)}}
    %h = qk.embedding %t[%ids] {qk.kernel = @qopt_kernels::@k0, qk.launch = #qk.launch<block = [64, 1, 1], token_tile = 1, per_tile = 1, grid_y = 1, grid_z = 1, shared_bytes = 0>, qk.small_m_kernels = [@qopt_kernels::@k0_a], qk.small_m_launches = [#qk.launch<block = [64, 1, 1], token_tile = 1, per_tile = 1, grid_y = 1, grid_z = 8, shared_bytes = 0>]} : (tensor<16x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
    return %h : tensor<?x64xf32>
  }
}

// -----

module {
  gpu.module @qopt_kernels {
  }
  func.func @forward(%ids: tensor<?xi32>, %t: tensor<16x64xbf16>) -> tensor<?x64xf32> {
    // expected-error @below {{small-M kernels need one symbol, launch and ascending row count each}}
    %h = qk.embedding %t[%ids] {qk.kernel = @qopt_kernels::@k0, qk.launch = #qk.launch<block = [64, 1, 1], token_tile = 1, per_tile = 1, grid_y = 1, grid_z = 1, shared_bytes = 0>, qk.small_m_kernels = [@qopt_kernels::@k0_a, @qopt_kernels::@k0_b], qk.small_m_launches = [#qk.launch<block = [64, 1, 1], token_tile = 1, per_tile = 1, grid_y = 1, grid_z = 8, shared_bytes = 0>, #qk.launch<block = [64, 1, 1], token_tile = 1, per_tile = 1, grid_y = 1, grid_z = 4, shared_bytes = 0>], qk.small_m_rows = array<i64: 4, 1>} : (tensor<16x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
    return %h : tensor<?x64xf32>
  }
}

// -----

module {
  gpu.module @qopt_kernels {
  }
  func.func @forward(%ids: tensor<?xi32>, %t: tensor<16x64xbf16>) -> tensor<?x64xf32> {
    // expected-error @below {{small-M kernels need one symbol, launch and ascending row count each}}
    %h = qk.embedding %t[%ids] {qk.kernel = @qopt_kernels::@k0, qk.launch = #qk.launch<block = [64, 1, 1], token_tile = 1, per_tile = 1, grid_y = 1, grid_z = 1, shared_bytes = 0>, qk.small_m_kernels = [@qopt_kernels::@k0_a], qk.small_m_launches = [1 : i64], qk.small_m_rows = array<i64: 1>} : (tensor<16x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
    return %h : tensor<?x64xf32>
  }
}
