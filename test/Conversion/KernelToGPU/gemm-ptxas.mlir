// Every GEMM kind and the main epilogues, at the tiny model's and
// Llama-3-8B's shapes, lowered for each chip and assembled by ptxas
// (e4m3 needs sm_89 or newer). The PTX must hold the kind's mma.
// REQUIRES: ptxas
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=64 n=384 k=384 residual out=bf16 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.bf16.90a.ptx
// RUN: %ptxas -arch=sm_90a %t.bf16.90a.ptx -o %t.cubin && FileCheck %s --check-prefix=BF16 < %t.bf16.90a.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=64 n=384 k=384 residual out=bf16 chip=sm_89" --qopt-gpu-to-ptx=chip=sm_89 | %extract_ptx > %t.bf16.89.ptx
// RUN: %ptxas -arch=sm_89 %t.bf16.89.ptx -o %t.cubin && FileCheck %s --check-prefix=BF16 < %t.bf16.89.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=64 n=384 k=384 residual out=bf16 chip=sm_80" --qopt-gpu-to-ptx=chip=sm_80 | %extract_ptx > %t.bf16.80.ptx
// RUN: %ptxas -arch=sm_80 %t.bf16.80.ptx -o %t.cubin && FileCheck %s --check-prefix=BF16 < %t.bf16.80.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=64 n=1024 k=384 bk=128 a-scale=token b-scale=channel int-bias bias out=i8 out-asymmetric chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.s8.90a.ptx
// RUN: %ptxas -arch=sm_90a %t.s8.90a.ptx -o %t.cubin && FileCheck %s --check-prefix=S8 < %t.s8.90a.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=64 n=1024 k=384 bk=128 a-scale=token b-scale=channel int-bias bias out=i8 out-asymmetric chip=sm_89" --qopt-gpu-to-ptx=chip=sm_89 | %extract_ptx > %t.s8.89.ptx
// RUN: %ptxas -arch=sm_89 %t.s8.89.ptx -o %t.cubin && FileCheck %s --check-prefix=S8 < %t.s8.89.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=64 n=1024 k=384 bk=128 a-scale=token b-scale=channel int-bias bias out=i8 out-asymmetric chip=sm_80" --qopt-gpu-to-ptx=chip=sm_80 | %extract_ptx > %t.s8.80.ptx
// RUN: %ptxas -arch=sm_80 %t.s8.80.ptx -o %t.cubin && FileCheck %s --check-prefix=S8 < %t.s8.80.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 max-tokens=64 n=1024 k=384 bk=128 a-scale=token b-scale=channel out=bf16 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.e4m3.90a.ptx
// RUN: %ptxas -arch=sm_90a %t.e4m3.90a.ptx -o %t.cubin && FileCheck %s --check-prefix=E4M3 < %t.e4m3.90a.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 max-tokens=64 n=1024 k=384 bk=128 a-scale=token b-scale=channel out=bf16 chip=sm_89" --qopt-gpu-to-ptx=chip=sm_89 | %extract_ptx > %t.e4m3.89.ptx
// RUN: %ptxas -arch=sm_89 %t.e4m3.89.ptx -o %t.cubin && FileCheck %s --check-prefix=E4M3 < %t.e4m3.89.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 max-tokens=64 n=1024 k=384 bk=64 a-scale=token b-scale=block block-n=128 block-k=128 out=e4m3 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.e4m3blk.90a.ptx
// RUN: %ptxas -arch=sm_90a %t.e4m3blk.90a.ptx -o %t.cubin && FileCheck %s --check-prefix=E4M3 < %t.e4m3blk.90a.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=e4m3 max-tokens=64 n=1024 k=384 bk=64 a-scale=token b-scale=block block-n=128 block-k=128 out=e4m3 chip=sm_89" --qopt-gpu-to-ptx=chip=sm_89 | %extract_ptx > %t.e4m3blk.89.ptx
// RUN: %ptxas -arch=sm_89 %t.e4m3blk.89.ptx -o %t.cubin && FileCheck %s --check-prefix=E4M3 < %t.e4m3blk.89.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=w8a16 max-tokens=64 n=1024 k=384 b-scale=channel gated out=bf16 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.w8a16.90a.ptx
// RUN: %ptxas -arch=sm_90a %t.w8a16.90a.ptx -o %t.cubin && FileCheck %s --check-prefix=W8 < %t.w8a16.90a.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=w8a16 max-tokens=64 n=1024 k=384 b-scale=channel gated out=bf16 chip=sm_89" --qopt-gpu-to-ptx=chip=sm_89 | %extract_ptx > %t.w8a16.89.ptx
// RUN: %ptxas -arch=sm_89 %t.w8a16.89.ptx -o %t.cubin && FileCheck %s --check-prefix=W8 < %t.w8a16.89.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=w8a16 max-tokens=64 n=1024 k=384 b-scale=channel gated out=bf16 chip=sm_80" --qopt-gpu-to-ptx=chip=sm_80 | %extract_ptx > %t.w8a16.80.ptx
// RUN: %ptxas -arch=sm_80 %t.w8a16.80.ptx -o %t.cubin && FileCheck %s --check-prefix=W8 < %t.w8a16.80.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=128 k=384 b-scale=group group-size=128 zero-points residual chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.w4a16.90a.ptx
// RUN: %ptxas -arch=sm_90a %t.w4a16.90a.ptx -o %t.cubin && FileCheck %s --check-prefix=W4 < %t.w4a16.90a.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=128 k=384 b-scale=group group-size=128 zero-points residual chip=sm_89" --qopt-gpu-to-ptx=chip=sm_89 | %extract_ptx > %t.w4a16.89.ptx
// RUN: %ptxas -arch=sm_89 %t.w4a16.89.ptx -o %t.cubin && FileCheck %s --check-prefix=W4 < %t.w4a16.89.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=128 k=384 b-scale=group group-size=128 zero-points residual chip=sm_80" --qopt-gpu-to-ptx=chip=sm_80 | %extract_ptx > %t.w4a16.80.ptx
// RUN: %ptxas -arch=sm_80 %t.w4a16.80.ptx -o %t.cubin && FileCheck %s --check-prefix=W4 < %t.w4a16.80.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=384 k=384 b-scale=group group-size=32 bias chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.w4a16g32.90a.ptx
// RUN: %ptxas -arch=sm_90a %t.w4a16g32.90a.ptx -o %t.cubin && FileCheck %s --check-prefix=W4 < %t.w4a16g32.90a.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=384 k=384 b-scale=group group-size=32 bias chip=sm_89" --qopt-gpu-to-ptx=chip=sm_89 | %extract_ptx > %t.w4a16g32.89.ptx
// RUN: %ptxas -arch=sm_89 %t.w4a16g32.89.ptx -o %t.cubin && FileCheck %s --check-prefix=W4 < %t.w4a16g32.89.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=w4a16 max-tokens=64 n=384 k=384 b-scale=group group-size=32 bias chip=sm_80" --qopt-gpu-to-ptx=chip=sm_80 | %extract_ptx > %t.w4a16g32.80.ptx
// RUN: %ptxas -arch=sm_80 %t.w4a16g32.80.ptx -o %t.cubin && FileCheck %s --check-prefix=W4 < %t.w4a16g32.80.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=4096 n=128256 k=4096 bm=128 bn=128 bk=64 warps-m=2 warps-n=4 stages=3 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.lmhead.90a.ptx
// RUN: %ptxas -arch=sm_90a %t.lmhead.90a.ptx -o %t.cubin && FileCheck %s --check-prefix=BF16 < %t.lmhead.90a.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=4096 n=128256 k=4096 bm=128 bn=128 bk=64 warps-m=2 warps-n=4 stages=3 chip=sm_89" --qopt-gpu-to-ptx=chip=sm_89 | %extract_ptx > %t.lmhead.89.ptx
// RUN: %ptxas -arch=sm_89 %t.lmhead.89.ptx -o %t.cubin && FileCheck %s --check-prefix=BF16 < %t.lmhead.89.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=bf16 max-tokens=4096 n=128256 k=4096 bm=128 bn=128 bk=64 warps-m=2 warps-n=4 stages=3 chip=sm_80" --qopt-gpu-to-ptx=chip=sm_80 | %extract_ptx > %t.lmhead.80.ptx
// RUN: %ptxas -arch=sm_80 %t.lmhead.80.ptx -o %t.cubin && FileCheck %s --check-prefix=BF16 < %t.lmhead.80.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=256 n=14336 k=4096 bm=64 bn=128 bk=128 warps-m=2 warps-n=4 stages=4 a-scale=token b-scale=channel gated out=i8 chip=sm_90a" --qopt-gpu-to-ptx=chip=sm_90a | %extract_ptx > %t.s8mlp.90a.ptx
// RUN: %ptxas -arch=sm_90a %t.s8mlp.90a.ptx -o %t.cubin && FileCheck %s --check-prefix=S8 < %t.s8mlp.90a.ptx
// RUN: qopt %s --qopt-test-build-gemm="kind=s8 max-tokens=256 n=14336 k=4096 bm=64 bn=128 bk=128 warps-m=2 warps-n=4 stages=4 a-scale=token b-scale=channel gated out=i8 chip=sm_80" --qopt-gpu-to-ptx=chip=sm_80 | %extract_ptx > %t.s8mlp.80.ptx
// RUN: %ptxas -arch=sm_80 %t.s8mlp.80.ptx -o %t.cubin && FileCheck %s --check-prefix=S8 < %t.s8mlp.80.ptx

module {}

// BF16: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// W8: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// W4: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// S8: mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32
// E4M3: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32
