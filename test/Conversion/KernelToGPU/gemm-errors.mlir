// Specs the GEMM builder cannot generate fail with a diagnostic that names
// the kernel and the constraint; no partial function is left behind.
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 out=e4m3 chip=sm_80" 2>&1 | FileCheck %s --check-prefix=OUT8
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 k=96 bk=64" 2>&1 | FileCheck %s --check-prefix=KDIV
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 bm=48" 2>&1 | FileCheck %s --check-prefix=BM
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 bn=96 warps-n=4" 2>&1 | FileCheck %s --check-prefix=BN
// RUN: not qopt %s --qopt-test-build-gemm="kind=s8 bk=16" 2>&1 | FileCheck %s --check-prefix=BK
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 stages=1" 2>&1 | FileCheck %s --check-prefix=STAGES
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 bm=256 bn=256 bk=128 warps-m=4 warps-n=4 stages=4 chip=sm_89" 2>&1 | FileCheck %s --check-prefix=SMEM
// RUN: not qopt %s --qopt-test-build-gemm="kind=w4a16 b-scale=group group-size=48" 2>&1 | FileCheck %s --check-prefix=GROUP
// RUN: not qopt %s --qopt-test-build-gemm="kind=w4a16 k=384 b-scale=group group-size=96 bk=64" 2>&1 | FileCheck %s --check-prefix=GROUP16
// RUN: not qopt %s --qopt-test-build-gemm="kind=w8a16 b-scale=channel zero-points" 2>&1 | FileCheck %s --check-prefix=ZP
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 int-bias" 2>&1 | FileCheck %s --check-prefix=IBIAS
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 a-scale=channel" 2>&1 | FileCheck %s --check-prefix=ASCALE
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 out-asymmetric" 2>&1 | FileCheck %s --check-prefix=ASYM
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 n=129" 2>&1 | FileCheck %s --check-prefix=NODD
// RUN: not qopt %s --qopt-test-build-gemm="kind=e4m3 b-scale=block block-n=128 block-k=48 bk=32 k=384" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 chip=sm_70" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not qopt %s --qopt-gpu-to-ptx=chip=sm_70 2>&1 | FileCheck %s --check-prefix=PIPE
// Weight-streaming kernels:
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 k=100 gemv-rows=1" 2>&1 | FileCheck %s --check-prefix=GVK
// RUN: not qopt %s --qopt-test-build-gemm="kind=w4a16 b-scale=group group-size=16 gemv-rows=1" 2>&1 | FileCheck %s --check-prefix=GVGROUP
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 gemv-rows=40" 2>&1 | FileCheck %s --check-prefix=GVROWS
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 gemv-rows=1 gemv-k-split=3" 2>&1 | FileCheck %s --check-prefix=GVSPLIT
// sm_90a warpgroup-MMA tiles:
// RUN: not qopt %s --qopt-test-build-gemm="kind=s8 k=256 wgmma bm=128 bn=128 bk=128 warps-m=8 warps-n=1 stages=4 chip=sm_89" 2>&1 | FileCheck %s --check-prefix=WGCHIP
// RUN: not qopt %s --qopt-test-build-gemm="kind=w8a16 b-scale=channel k=256 wgmma bm=128 bn=128 bk=128 warps-m=8 warps-n=1 stages=4" 2>&1 | FileCheck %s --check-prefix=WGWO
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 k=256 wgmma bm=128 bn=128 bk=128 warps-m=8 warps-n=1 stages=3" 2>&1 | FileCheck %s --check-prefix=WGBK
// RUN: not qopt %s --qopt-test-build-gemm="kind=s8 k=256 wgmma bm=128 bn=128 bk=128 warps-m=4 warps-n=2 stages=4" 2>&1 | FileCheck %s --check-prefix=WGWARPS
// RUN: not qopt %s --qopt-test-build-gemm="kind=s8 k=256 wgmma bm=32 bn=128 bk=128 warps-m=2 warps-n=1 stages=4" 2>&1 | FileCheck %s --check-prefix=WGBM
// RUN: not qopt %s --qopt-test-build-gemm="kind=bf16 n=512 k=256 wgmma bm=128 bn=256 bk=64 warps-m=8 warps-n=1 stages=3 gated" 2>&1 | FileCheck %s --check-prefix=WGGATED
// RUN: not qopt %s --qopt-test-build-gemm="kind=s8 k=256 wgmma bm=128 bn=128 bk=128 warps-m=8 warps-n=1 stages=2" 2>&1 | FileCheck %s --check-prefix=WGSTAGES
// RUN: not qopt %s --qopt-test-build-gemm="kind=e4m3 n=256 k=512 wgmma bm=128 bn=128 bk=128 warps-m=8 warps-n=1 stages=4 a-scale=token b-scale=block block-n=128 block-k=64" 2>&1 | FileCheck %s --check-prefix=WGGROUP
// RUN: not qopt %s --qopt-test-build-gemm="kind=s8 n=1024 k=256 wgmma bm=128 bn=256 bk=128 warps-m=8 warps-n=1 stages=8" 2>&1 | FileCheck %s --check-prefix=WGSMEM
// Two kernels of one name:
// RUN: not qopt %s --qopt-test-build-gemm --qopt-test-build-gemm="kind=s8" 2>&1 | FileCheck %s --check-prefix=TWICE

module {}

// OUT8: error: cannot generate GEMM kernel 'gemm' (bf16, N=128, K=128): an e4m3 output needs sm_89 or sm_90a, not sm_80
// OUT8-NOT: gpu.func
// KDIV: error: cannot generate GEMM kernel 'gemm' (bf16, N=128, K=96): K is not a multiple of the tile's bk (64)
// BM: bm (48) must be a multiple of 16 * warpsM (32)
// BN: bn (96) must be a multiple of 16 * warpsN (64)
// BK: bk (16) must be a power of two >= 32
// STAGES: the tile needs stages >= 2 (got 1)
// SMEM: the tile needs 524288 bytes of shared memory, more than the 101376 a block can have
// GROUP: groupSize (48) must be positive and divide K
// GROUP16: groupSize (96) and bk (64) must divide one another
// ZP: zero points are for W4A16 with per-group scales
// IBIAS: int_bias is for S8 without per-group or block scales
// ASCALE: A scales are per-tensor or per-token
// ASYM: an asymmetric output is i8
// NODD: N must be even
// BLOCK: blockK (48) must be a multiple of 32 (the mma's K)
// CHIP: qopt-test-build-gemm: unknown chip 'sm_70'
// PIPE: --qopt-gpu-to-ptx: unknown chip 'sm_70' (expected sm_80, sm_89 or sm_90a)
// TWICE: error: cannot generate GEMM kernel 'gemm': the gpu.module already has a symbol of that name

// GVK: error: cannot generate weight-streaming GEMM kernel 'gemm' (N=128, K=100): K is not a multiple of the 8 weights of a 16-byte vector
// GVK-NOT: gpu.func
// GVGROUP: error: cannot generate weight-streaming GEMM kernel 'gemm' (N=128, K=128): the weight group (16) is not a multiple of the 32 weights of a 16-byte vector
// GVGROUP-NOT: gpu.func
// GVROWS: rows must be 1 to 32, got 40
// GVSPLIT: warps (8) must be 1 to 32 and a multiple of k_split (3)

// WGCHIP: error: cannot generate GEMM kernel 'gemm' (s8, N=128, K=256): wgmma tiles need sm_90a
// WGCHIP-NOT: gpu.func
// WGWO: wgmma tiles take bf16, s8 or e4m3 operands, not weights converted in registers
// WGBK: a wgmma tile's K step is 128 bytes (bk = 64), not 128
// WGWARPS: a wgmma tile has bm / 16 warps along M and one along N
// WGBM: a wgmma tile has bm 64 or 128 (one or two warpgroups), not 32
// WGGATED: a gated wgmma tile has bn <= 128
// WGSTAGES: a wgmma tile needs stages >= 3 (got 2)
// WGGROUP: blockK (64) must be a multiple of the wgmma tile's bk (128)
// WGSMEM: the tile needs 394240 bytes of shared memory, more than the 232448 a block can have
