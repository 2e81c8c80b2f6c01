// Weight-streaming kernels at Llama-3-8B shapes for every weight kind,
// assembled by ptxas for sm_90a with no spills (a spill would put the
// 16-row accumulators in local memory and halve the kernel's bandwidth).
// REQUIRES: ptxas
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=28672 k=4096 b-scale=group group-size=128 gemv-rows=1 gemv-k-split=1 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.1.ptx
// RUN: %ptxas -arch=sm_90a -v %t.1.ptx -o %t.1.cubin 2>&1 | FileCheck %s
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=6144 k=4096 b-scale=group group-size=128 zero-points gemv-rows=16 gemv-k-split=2 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.2.ptx
// RUN: %ptxas -arch=sm_90a -v %t.2.ptx -o %t.2.cubin 2>&1 | FileCheck %s
// RUN: qopt %s --qopt-test-build-gemm="kind=w8a16 max-tokens=64 n=4096 k=14336 b-scale=channel residual out=bf16 gemv-rows=16 gemv-k-split=4 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.3.ptx
// RUN: %ptxas -arch=sm_90a -v %t.3.ptx -o %t.3.cubin 2>&1 | FileCheck %s
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=64 n=28672 k=4096 a-scale=token b-scale=channel gated out=i8 gemv-rows=16 gemv-k-split=1 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.4.ptx
// RUN: %ptxas -arch=sm_90a -v %t.4.ptx -o %t.4.cubin 2>&1 | FileCheck %s
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 max-tokens=64 n=4096 k=4096 a-scale=token b-scale=block block-n=128 block-k=128 out=bf16 gemv-rows=1 gemv-k-split=4 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.5.ptx
// RUN: %ptxas -arch=sm_90a -v %t.5.ptx -o %t.5.cubin 2>&1 | FileCheck %s
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=64 n=4096 k=14336 residual out=bf16 gemv-rows=16 gemv-k-split=8 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.6.ptx
// RUN: %ptxas -arch=sm_90a -v %t.6.ptx -o %t.6.cubin 2>&1 | FileCheck %s

module {}

// CHECK: Compiling entry function 'gemm' for 'sm_90a'
// CHECK: 0 bytes spill stores, 0 bytes spill loads
