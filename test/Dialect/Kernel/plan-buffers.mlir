// One arena, first fit, 256-byte aligned, slots reused once a value dies.
// RUN: qopt %s --qk-plan-buffers=max-tokens=4 | FileCheck %s
// RUN: not qopt %s --qk-plan-buffers=max-tokens=0 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: qk-plan-buffers: max-tokens must be positive

// CHECK-LABEL: func.func @chain
// CHECK-SAME: attributes {qk.arena_bytes = 3072 : i64, qk.max_tokens = 4 : i64}
func.func @chain(%ids: tensor<?xi32>, %t: tensor<16x64xbf16>, %w: tensor<64xf32>) -> tensor<?x64xf32> {
  // 4 rows x 64 x f32 = 1024 bytes each; a result never shares a slot with
  // an operand of its own kernel.
  // CHECK: qk.embedding {{.*}}qk.buffers = array<i64: 0>
  %h = qk.embedding %t[%ids] : (tensor<16x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
  // CHECK: qk.rms_norm {{.*}}qk.buffers = array<i64: 1024>
  %n = qk.rms_norm %h, %w {epsilon = 1.0e-05} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  // CHECK: qk.add {{.*}}qk.buffers = array<i64: 2048>
  %s = qk.add %h, %n : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  // Both inputs of the add are dead now: the next result takes slot 0.
  // CHECK: qk.rms_norm {{.*}}qk.buffers = array<i64: 0>
  %n2 = qk.rms_norm %s, %w {epsilon = 1.0e-05} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return %n2 : tensor<?x64xf32>
}
