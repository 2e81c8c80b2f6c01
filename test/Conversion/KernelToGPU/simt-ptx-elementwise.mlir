// REQUIRES: ptxas
// embedding, elementwise and argmax kernels lower to PTX that ptxas
// assembles for each chip, without libdevice calls.

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=embedding max-tokens=8 vocab=32000 hidden=4096 chip=sm_90a" | %simt_ptx_sm_90a > %t.emb.ptx
// RUN: %ptxas -arch=sm_90a %t.emb.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=EMB < %t.emb.ptx
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=embedding max-tokens=8 vocab=100 hidden=100 table-type=f32 chip=sm_80" | %simt_ptx_sm_80 | %ptxas -arch=sm_80 - -o %t.cubin

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=elementwise max-tokens=8 hidden=11008 op=silu_mul out-type=bf16 chip=sm_89" | %simt_ptx_sm_89 > %t.silu.ptx
// RUN: %ptxas -arch=sm_89 %t.silu.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=SILU < %t.silu.ptx
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=elementwise max-tokens=8 hidden=7 op=mul chip=sm_80" | %simt_ptx_sm_80 | %ptxas -arch=sm_80 - -o %t.cubin
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=elementwise max-tokens=8 hidden=4096 op=add chip=sm_90a" | %simt_ptx_sm_90a | %ptxas -arch=sm_90a - -o %t.cubin

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=argmax max-tokens=8 vocab=128256 chip=sm_90a" | %simt_ptx_sm_90a > %t.argmax.ptx
// RUN: %ptxas -arch=sm_90a %t.argmax.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=ARGMAX < %t.argmax.ptx
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=argmax max-tokens=8 vocab=32001 chip=sm_80" | %simt_ptx_sm_80 | %ptxas -arch=sm_80 - -o %t.cubin
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=permute_columns max-tokens=8 hidden=14336 in-type=bf16 out-type=bf16 chip=sm_90a" | %simt_ptx_sm_90a | %ptxas -arch=sm_90a - -o %t.cubin

// EMB: .entry embedding(
// EMB-NOT: call
// EMB: ld.global.v4.b32
// EMB: st.global.v4.b32
// EMB: st.global.v4.b32

// SILU: .target sm_89
// SILU-NOT: call
// SILU: ld.global.v4.b32
// SILU: cvt.sat.f32.f32
// SILU: fma.rm.f32
// SILU: ex2.approx.ftz.f32
// SILU: div.rn.f32
// SILU: cvt.rn.bf16x2.f32
// SILU-NOT: call

// ARGMAX: .maxntid 1024, 1, 1
// ARGMAX-NOT: call
// ARGMAX: ld.global.v4.b32
// ARGMAX: shfl.sync.bfly.b32
// ARGMAX: bar.sync
// ARGMAX: st.global.b32

module {}
