// RUN: qopt %s -split-input-file -verify-diagnostics

func.func @attention_window_not_positive(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) {
  // expected-error @+1 {{'qopt.attention' op sliding_window must be positive, got 0}}
  %a = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4, sliding_window = 0} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @attention_window_not_causal(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>) {
  // expected-error @+1 {{'qopt.attention' op sliding_window needs causal attention}}
  %a = qopt.attention %q, %k, %k {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 4, causal = false, sliding_window = 8} : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}
