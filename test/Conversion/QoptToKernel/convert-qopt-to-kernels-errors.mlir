// Ops without a GPU kernel are errors naming the op, before any rewrite.
// RUN: qopt %s --convert-qopt-to-kernels -split-input-file -verify-diagnostics
// RUN: not qopt %S/convert-qopt-to-kernels.mlir --convert-qopt-to-kernels=kv-cache-type=f16 2>&1 | FileCheck %s --check-prefix=KV
// KV: error: convert-qopt-to-kernels: kv-cache-type must be bf16 or f32, got 'f16'

module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "w", vocab_size = 4, max_position_embeddings = 8>} {
  func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %t = arith.constant dense<1.0> : tensor<4x4xf32>
    %h = qopt.embedding %t[%ids] : (tensor<4x4xf32>, tensor<?xi32>) -> tensor<?x4xf32>
    // expected-error @+1 {{'qopt.gelu' has no GPU kernel; lower it at graph level before --lower-to-nvptx}}
    %g = qopt.gelu %h : tensor<?x4xf32>
    return %g : tensor<?x4xf32>
  }
}

// -----

// expected-error @+1 {{convert-qopt-to-kernels: the module has no qopt.model attribute}}
module {
}

// -----

// expected-error @+1 {{convert-qopt-to-kernels: the model function must take (token ids, positions) as tensor<?xi32>}}
module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "w", vocab_size = 4, max_position_embeddings = 8>} {
  func.func @forward(%ids: tensor<?xi32>) -> tensor<?xi32> {
    return %ids : tensor<?xi32>
  }
}
