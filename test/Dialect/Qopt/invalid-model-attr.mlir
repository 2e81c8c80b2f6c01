// RUN: qopt %s -split-input-file -verify-diagnostics

// The verifiers of #qopt.model and of the `qopt.model` module attribute:
// each error names the bad field.

// expected-error @+1 {{'qopt.model' must be a #qopt.model attribute, got {architecture = "llama"}}}
module attributes {qopt.model = {architecture = "llama"}} {
}

// -----

// expected-error @+1 {{unknown architecture 'gpt2' (known: llama, mistral, qwen2)}}
module attributes {qopt.model = #qopt.model<architecture = "gpt2", checkpoint = "c", vocab_size = 8>} {
}

// -----

// expected-error @+1 {{vocab_size must be positive, got 0}}
module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "c", vocab_size = 0>} {
}

// -----

// expected-error @+1 {{max_position_embeddings must be positive, got -5}}
module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "c", vocab_size = 8, max_position_embeddings = -5>} {
}

// -----

// expected-error @+1 {{bos_token_id must be a token id in [0, 8), got 8}}
module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "c", vocab_size = 8, bos_token_id = 8>} {
}

// -----

// expected-error @+1 {{eos_token_id must be a token id in [0, 8), got -2}}
module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "c", vocab_size = 8, eos_token_id = -2>} {
}

// -----

// expected-error @+1 {{checkpoint must name the model's weights}}
module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "", vocab_size = 8>} {
}

// -----

// expected-error @+1 {{'qopt.model' is a module attribute}}
func.func @f() attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "c", vocab_size = 8>} {
  return
}
