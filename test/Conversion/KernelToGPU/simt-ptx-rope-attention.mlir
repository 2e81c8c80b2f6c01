// REQUIRES: ptxas
// rope_append and attention kernels lower to PTX that ptxas assembles for
// each chip and cache kind, without libdevice calls.

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rope_append max-tokens=64 heads=32 kv-heads=8 head-dim=128 max-seq=4096 chip=sm_90a" | %simt_ptx_sm_90a > %t.rope.ptx
// RUN: %ptxas -arch=sm_90a %t.rope.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=ROPE < %t.rope.ptx
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rope_append max-tokens=64 heads=32 kv-heads=8 head-dim=128 max-seq=4096 k-storage=i8 k-scales=token v-storage=e4m3 v-scales=head chip=sm_89" | %simt_ptx_sm_89 > %t.rope89.ptx
// RUN: %ptxas -arch=sm_89 %t.rope89.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=ROPE-HW < %t.rope89.ptx
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rope_append max-tokens=64 heads=14 kv-heads=2 head-dim=64 max-seq=512 k-storage=e4m3 k-scales=tensor v-storage=i8 v-scales=token chip=sm_80" | %simt_ptx_sm_80 > %t.rope80.ptx
// RUN: %ptxas -arch=sm_80 %t.rope80.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=ROPE-SW < %t.rope80.ptx
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=rope_append max-tokens=4 heads=2 kv-heads=1 head-dim=6 max-seq=8 k-storage=f32 v-storage=f32 chip=sm_80" | %simt_ptx_sm_80 | %ptxas -arch=sm_80 - -o %t.cubin

// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention max-tokens=64 heads=32 kv-heads=8 head-dim=128 max-seq=4096 chip=sm_90a" | %simt_ptx_sm_90a > %t.att.ptx
// RUN: %ptxas -arch=sm_90a %t.att.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=ATT < %t.att.ptx
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention name=dec max-tokens=64 heads=32 kv-heads=8 head-dim=128 max-seq=4096 k-storage=i8 k-scales=token v-storage=e4m3 v-scales=head warps=16 splits=8 chip=sm_90a" | %simt_ptx_sm_90a > %t.split.ptx
// RUN: %ptxas -arch=sm_90a %t.split.ptx -o %t.cubin
// RUN: FileCheck %s --check-prefix=SPLIT < %t.split.ptx
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention max-tokens=64 heads=32 kv-heads=8 head-dim=128 max-seq=4096 k-storage=i8 k-scales=token v-storage=e4m3 v-scales=head out-type=bf16 sliding-window=256 chip=sm_89" | %simt_ptx_sm_89 | %ptxas -arch=sm_89 - -o %t.cubin
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention max-tokens=16 heads=12 kv-heads=12 head-dim=80 max-seq=2048 causal=0 k-storage=f32 v-storage=f32 chip=sm_80" | %simt_ptx_sm_80 | %ptxas -arch=sm_80 - -o %t.cubin
// RUN: qopt %s --qopt-test-build-simt-kernels="kind=attention max-tokens=16 heads=8 kv-heads=1 head-dim=256 max-seq=1024 k-storage=e4m3 k-scales=tensor v-storage=i8 v-scales=token chip=sm_80" | %simt_ptx_sm_80 | %ptxas -arch=sm_80 - -o %t.cubin

// ROPE: .target sm_90a
// ROPE-NOT: call
// ROPE: ld.global.v4.b32
// ROPE: st.global.v4.b32
// ROPE: cvt.rn.bf16x2.f32

// ROPE-HW: shfl.sync.bfly.b32
// ROPE-HW: bar.sync
// ROPE-HW: div.rn.f32
// ROPE-HW: add.rn.f32 {{.*}}, 0f4B400000;
// ROPE-HW: cvt.rn.satfinite.e4m3x2.f32

// ROPE-SW-NOT: e4m3x2
// ROPE-SW-NOT: call

// ATT: .maxntid 128, 1, 1
// ATT-NOT: call
// ATT: ld.global.v4.b32
// ATT: ld.global.v4.b16
// ATT: shfl.sync.bfly.b32
// ATT: ex2.approx.ftz.f32
// ATT: bar.sync
// ATT: rcp.rn.f32

// The split decode kernel: a compile-time cluster of 8 (a plain launch runs
// it), its states read from the other blocks' shared memory.
// SPLIT: .entry dec(
// SPLIT: .explicitcluster
// SPLIT-NEXT: .reqnctapercluster 1, 1, 8
// SPLIT: barrier.cluster.arrive;
// SPLIT-NEXT: barrier.cluster.wait;
// SPLIT: mapa.shared::cluster.u64
// SPLIT-NEXT: ld.shared::cluster.b32
// SPLIT: barrier.cluster.arrive;
// SPLIT-NEXT: barrier.cluster.wait;

module {}
