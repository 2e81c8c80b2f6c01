// The kernel-level contract: only kernels, weights, constants and RoPE
// tables; buffers planned; generated kernels when required.
// RUN: qopt %s --qk-plan-buffers --qk-verify-contract=require-kernels=0 -o /dev/null
// RUN: not qopt %s --qk-verify-contract=require-kernels=0 2>&1 | FileCheck %s --check-prefix=PLAN
// RUN: not qopt %s --qk-plan-buffers --qk-verify-contract 2>&1 | FileCheck %s --check-prefix=KERNELS
// RUN: not qopt %S/Inputs/not-a-kernel.mlir --qk-plan-buffers --qk-verify-contract=require-kernels=0 2>&1 | FileCheck %s --check-prefix=GRAPH

// PLAN: error: qk-verify-contract: buffers are not planned (run --qk-plan-buffers)
// KERNELS: error: qk-verify-contract: no generated kernel (qk.kernel and qk.launch)
// GRAPH: error: qk-verify-contract: 'qopt.silu' is not a kernel

func.func @forward(%ids: tensor<?xi32>, %t: tensor<16x64xbf16>) -> tensor<?x64xf32> {
  %h = qk.embedding %t[%ids] : (tensor<16x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
  return %h : tensor<?x64xf32>
}
