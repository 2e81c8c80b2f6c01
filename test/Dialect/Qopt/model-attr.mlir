// RUN: qopt %s -split-input-file | FileCheck %s

// The `qopt.model` module attribute is a #qopt.model, which round-trips; the
// optional fields (tokenizer, max_position_embeddings, token ids, sliding
// window) are omitted when absent.

// CHECK: module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "ckpt/model.safetensors.index.json", tokenizer = "ckpt/tokenizer.json", vocab_size = 32000, max_position_embeddings = 1024, bos_token_id = 1, eos_token_id = 2>}
module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "ckpt/model.safetensors.index.json", tokenizer = "ckpt/tokenizer.json", vocab_size = 32000, max_position_embeddings = 1024, bos_token_id = 1, eos_token_id = 2>} {
}

// -----

// CHECK: module attributes {qopt.model = #qopt.model<architecture = "mistral", checkpoint = "m.safetensors", vocab_size = 100, sliding_window = 4096>}
module attributes {qopt.model = #qopt.model<architecture = "mistral", checkpoint = "m.safetensors", vocab_size = 100, sliding_window = 4096>} {
}
