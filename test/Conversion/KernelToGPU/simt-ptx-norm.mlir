// REQUIRES: ptxas
// rms_norm and quantize kernels lower to PTX that ptxas assembles for each
// chip: 16-byte loads, IEEE sqrt / division (no approximations, no
// contraction), the hardware e4m3 conversion on sm_89 / sm_90a only.

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm max-tokens=8 hidden=4096 weight-type=bf16 out-type=i8 dynamic=1 chip=sm_90a" | %simt_ptx_sm_90a > %t.i8.ptx
// RUN: %ptxas -arch=sm_90a %t.i8.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=I8 < %t.i8.ptx

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm max-tokens=8 hidden=4096 out-type=e4m3 dynamic=1 chip=sm_90a" | %simt_ptx_sm_90a > %t.90.ptx
// RUN: %ptxas -arch=sm_90a %t.90.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=HW < %t.90.ptx
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm max-tokens=8 hidden=4096 out-type=e4m3 dynamic=1 chip=sm_89" | %simt_ptx_sm_89 > %t.89.ptx
// RUN: %ptxas -arch=sm_89 %t.89.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=HW < %t.89.ptx
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm max-tokens=8 hidden=4096 out-type=e4m3 dynamic=1 chip=sm_80" | %simt_ptx_sm_80 > %t.80.ptx
// RUN: %ptxas -arch=sm_80 %t.80.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=SW < %t.80.ptx

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rms_norm max-tokens=8 hidden=4095 out-type=bf16 block-threads=128 chip=sm_80" | %simt_ptx_sm_80 > %t.odd.ptx
// RUN: %ptxas -arch=sm_80 %t.odd.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=ODD < %t.odd.ptx

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=quantize max-tokens=8 hidden=4096 out-type=i8 asymmetric=1 chip=sm_90a" | %simt_ptx_sm_90a > %t.q.ptx
// RUN: %ptxas -arch=sm_90a %t.q.ptx -o %t.cubin
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=quantize max-tokens=8 hidden=4096 out-type=e4m3 dynamic=1 chip=sm_80" | %simt_ptx_sm_80 > %t.q80.ptx
// RUN: %ptxas -arch=sm_80 %t.q80.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=SW < %t.q80.ptx

// I8: .target sm_90a
// I8: .visible .entry rms_norm(
// I8: .maxntid 256, 1, 1
// I8-NOT: sqrt.approx
// I8-NOT: fma.rn.f32
// I8-NOT: call
// I8: ld.global.v4.b32
// I8: add.rn.f64
// I8: shfl.sync.bfly.b32
// I8: bar.sync
// I8: sqrt.rn.f32
// I8: rcp.rn.f32
// I8: ld.global.v4.b16
// I8: div.rn.f32
// I8-NOT: cvt.rni
// I8-NOT: cvt.rzi
// I8-NOT: sqrt.approx
// I8-NOT: fma.rn.f32

// HW: cvt.rn.satfinite.e4m3x2.f32
// SW-NOT: e4m3x2
// SW: .target sm_80
// SW-NOT: e4m3x2

// ODD: .maxntid 128, 1, 1
// ODD: ld.global.b32
// ODD: cvt.rn.bf16.f32

module {}
