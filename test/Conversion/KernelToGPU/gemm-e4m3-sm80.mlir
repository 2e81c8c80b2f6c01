// sm_80 has no e4m3 tensor cores: the builder
// refuses, naming the kernel, and builds nothing.
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 a-scale=token b-scale=channel chip=sm_80" -verify-diagnostics | FileCheck %s --check-prefix=NONE --allow-empty

// expected-error@below {{cannot generate GEMM kernel 'gemm' (e4m3, N=128, K=128): e4m3 tensor cores need sm_89 or sm_90a, not sm_80}}
module {}

// NONE-NOT: gpu.func
