// KV-cache quantization: dynamic per-token schemes need no statistics;
// static per-tensor and per-head scales are absmax / max(storage) (127 for
// i8, 448 for f8E4M3FN) from the K/V observers' statistics; scales=FILE
// reads a vLLM kv_cache_scales.json instead.
// RUN: qopt %s --qopt-quantize-kv-cache | FileCheck %s --check-prefix=TOKEN
// RUN: qopt %s --qopt-quantize-kv-cache="granularity=token dtype=f8E4M3FN" | FileCheck %s --check-prefix=TOKEN-F8
// RUN: qopt %s --qopt-quantize-kv-cache=granularity=tensor | FileCheck %s --check-prefix=TENSOR
// RUN: qopt %s --qopt-quantize-kv-cache="granularity=tensor dtype=f8E4M3FN" | FileCheck %s --check-prefix=TENSOR-F8
// RUN: qopt %s --qopt-quantize-kv-cache=granularity=head | FileCheck %s --check-prefix=HEAD
// RUN: qopt %s --qopt-quantize-kv-cache="granularity=head dtype=f8E4M3FN" | FileCheck %s --check-prefix=HEAD-F8

// A vLLM kv_cache_scales.json (tensor-parallel rank 0, one scale per layer,
// used for keys and values alike) overrides the statistics.
// RUN: echo '{"kv_cache": {"dtype": "float8_e4m3fn", "scaling_factor": {"0": {"0": 0.5, "1": 0.25}}}}' > %t.json
// RUN: qopt %s --qopt-quantize-kv-cache="granularity=tensor dtype=f8E4M3FN scales=%t.json" | FileCheck %s --check-prefix=FILE
// RUN: printf '{"kv_cache": {"dtype": "int8",\n "scaling_factor": {"0": {"1": 3, "0": 0.125}}}}\n' > %t.int8.json
// RUN: qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.int8.json" | FileCheck %s --check-prefix=FILE-I8

// Per-head lists (one scale per KV head, for keys and values alike) with
// granularity=head.
// RUN: echo '{"kv_cache": {"dtype": "float8_e4m3fn", "scaling_factor": {"0": {"0": [0.5, 2.0], "1": [0.25, 4]}}}}' > %t.head.json
// RUN: qopt %s --qopt-quantize-kv-cache="granularity=head dtype=f8E4M3FN scales=%t.head.json" | FileCheck %s --check-prefix=FILE-HEAD

// The --kv-cache pipeline runs the same pass.
// RUN: qopt %s --kv-cache="dtype=f8E4M3FN granularity=head" | FileCheck %s --check-prefix=HEAD-F8

// The schemes pass the 'quantized' contract once the observers are gone.
// RUN: qopt %s --qopt-quantize-kv-cache=granularity=head --qopt-strip-observers --qopt-verify-contract=stage=quantized -o /dev/null

func.func @two_layers(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x4xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  // Layer 0: K heads (channels 0-1, 2-3) reach 127 and 63.5, V 254 and 381.
  %k0 = qopt.observe %k {label = "layers.0.k", stats = #qopt.stats<absmax = dense<[1.0, 127.0, 2.0, 63.5]> : tensor<4xf32>, num_tokens = 8>} : tensor<?x4xf32>
  %v0 = qopt.observe %v {label = "layers.0.v", stats = #qopt.stats<absmax = dense<[254.0, 0.5, 0.25, 381.0]> : tensor<4xf32>, num_tokens = 8>} : tensor<?x4xf32>
  %a0 = qopt.attention %q, %k0, %v0 {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 2} : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  // Layer 1: K heads reach 448 and 224; V's first head is all zero.
  %k1 = qopt.observe %k {label = "layers.1.k", stats = #qopt.stats<absmax = dense<[448.0, 0.0, 224.0, 0.0]> : tensor<4xf32>, num_tokens = 8>} : tensor<?x4xf32>
  %v1 = qopt.observe %v {label = "layers.1.v", stats = #qopt.stats<absmax = dense<[0.0, 0.0, 0.0, 896.0]> : tensor<4xf32>, num_tokens = 8>} : tensor<?x4xf32>
  %a1 = qopt.attention %q, %k1, %v1 {layer = 1, num_heads = 4, num_kv_heads = 2, head_dim = 2} : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  return %a0, %a1 : tensor<?x8xf32>, tensor<?x8xf32>
}

// TOKEN-LABEL: func.func @two_layers
// TOKEN: qopt.attention {{.*}}key_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, layer = 0 : i64, {{.*}}value_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>}
// TOKEN: qopt.attention {{.*}}key_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, layer = 1 : i64, {{.*}}value_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>}
// TOKEN-NOT: qopt.attention

// TOKEN-F8: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, layer = 0 : i64, {{.*}}value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>}
// TOKEN-F8: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, layer = 1 : i64, {{.*}}value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>}

// Per tensor, i8: layer 0 K 127 / 127, V 381 / 127; layer 1 K 448 / 127,
// V 896 / 127.
// TENSOR: qopt.attention {{.*}}key_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<1.000000e+00> : tensor<f32>>, layer = 0 : i64, {{.*}}value_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<3.000000e+00> : tensor<f32>>}
// TENSOR: qopt.attention {{.*}}key_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<3.52755904> : tensor<f32>>, layer = 1 : i64, {{.*}}value_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<7.05511808> : tensor<f32>>}

// Per tensor, f8E4M3FN: layer 0 K 127 / 448, V 381 / 448; layer 1 K
// 448 / 448, V 896 / 448.
// TENSOR-F8: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.283482134> : tensor<f32>>, layer = 0 : i64, {{.*}}value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<0.850446403> : tensor<f32>>}
// TENSOR-F8: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<1.000000e+00> : tensor<f32>>, layer = 1 : i64, {{.*}}value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<2.000000e+00> : tensor<f32>>}

// Per head: the 4 channels split into num_kv_heads = 2 groups of head_dim
// channels, one scale each along the last axis.
// HEAD: qopt.attention {{.*}}key_scheme = #qopt.scheme<i8, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[1.000000e+00, 5.000000e-01]> : tensor<2xf32>>, layer = 0 : i64, {{.*}}value_scheme = #qopt.scheme<i8, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[2.000000e+00, 3.000000e+00]> : tensor<2xf32>>}
// HEAD: qopt.attention {{.*}}key_scheme = #qopt.scheme<i8, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[3.52755904, 1.76377952]> : tensor<2xf32>>, layer = 1 : i64,

// An all-zero head gets scale 1 rather than 0.
// HEAD-F8: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[0.283482134, 0.141741067]> : tensor<2xf32>>, layer = 0 : i64, {{.*}}value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[0.566964269, 0.850446403]> : tensor<2xf32>>}
// HEAD-F8: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[1.000000e+00, 5.000000e-01]> : tensor<2xf32>>, layer = 1 : i64, {{.*}}value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>>}

// FILE: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<5.000000e-01> : tensor<f32>>, layer = 0 : i64, {{.*}}value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<5.000000e-01> : tensor<f32>>}
// FILE: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<2.500000e-01> : tensor<f32>>, layer = 1 : i64, {{.*}}value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_tensor, sym, static, scales = dense<2.500000e-01> : tensor<f32>>}

// FILE-I8: qopt.attention {{.*}}key_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<1.250000e-01> : tensor<f32>>, layer = 0 : i64, {{.*}}value_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<1.250000e-01> : tensor<f32>>}
// FILE-I8: qopt.attention {{.*}}key_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<3.000000e+00> : tensor<f32>>, layer = 1 : i64, {{.*}}value_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<3.000000e+00> : tensor<f32>>}

// FILE-HEAD: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[5.000000e-01, 2.000000e+00]> : tensor<2xf32>>, layer = 0 : i64, {{.*}}value_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[5.000000e-01, 2.000000e+00]> : tensor<2xf32>>}
// FILE-HEAD: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = 2>, sym, static, scales = dense<[2.500000e-01, 4.000000e+00]> : tensor<2xf32>>, layer = 1 : i64,
