// RUN: qopt %qopt_src_root/examples/tiny-llama.mlir --qopt-verify-contract=stage=graph | FileCheck %s
// RUN: qopt %qopt_src_root/examples/tiny-llama.mlir | qopt | FileCheck %s

// The bundled example model (the real qopt-tiny-llama checkpoint's graph)
// parses, verifies, meets the graph contract and round-trips.

// CHECK: qopt.weight_store @ckpt "../../shared/models/qopt-tiny-llama/model.safetensors.index.json"
// CHECK-LABEL: func.func @forward
// CHECK: qopt.embedding
// CHECK-COUNT-6: qopt.attention {{.*}} {head_dim = 64 : i64, layer = {{[0-5]}} : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64}
// CHECK: qopt.linear {{.*}}role = #qopt<role lm_head>{{.*}} -> tensor<?x32000xf32>
