// The CUDA-core kernel builders reject specs they cannot generate with a
// diagnostic and write nothing.

// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rms_norm hidden=64 out-type=i8" 2>&1 | FileCheck %s --check-prefix=NOSCALE
// NOSCALE: error: rms_norm kernel 'rms_norm': i8 output needs a dynamic or a static scale
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rms_norm hidden=64 out-type=i8 dynamic=1 static-scale=1" 2>&1 | FileCheck %s --check-prefix=BOTH
// BOTH: error: rms_norm kernel 'rms_norm': a dynamic and a static scale exclude each other
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rms_norm hidden=64 dynamic=1" 2>&1 | FileCheck %s --check-prefix=FLOATSCALE
// FLOATSCALE: error: rms_norm kernel 'rms_norm': a scale needs an i8 or e4m3 output, not f32
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rms_norm hidden=64 block-threads=100" 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: error: rms_norm kernel 'rms_norm': blockThreads must be a multiple of 32 in [32, 1024], got 100
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rms_norm hidden=0" 2>&1 | FileCheck %s --check-prefix=SIZE
// SIZE: error: rms_norm kernel 'rms_norm': maxTokens and hidden must be positive
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rms_norm hidden=64 out-type=e4m3 static-scale=1 asymmetric=1" 2>&1 | FileCheck %s --check-prefix=ASYM
// ASYM: error: rms_norm kernel 'rms_norm': an asymmetric scale needs a static scale and i8 output
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=quantize hidden=64 out-type=i32" 2>&1 | FileCheck %s --check-prefix=QOUT
// QOUT: error: quantize kernel 'quantize': unsupported output type i32
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=embedding hidden=64 vocab=10 table-type=i8" 2>&1 | FileCheck %s --check-prefix=TABLE
// TABLE: error: embedding kernel 'embedding': unsupported table type i8
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=elementwise hidden=64 out-type=i8" 2>&1 | FileCheck %s --check-prefix=EWOUT
// EWOUT: error: elementwise kernel 'elementwise': unsupported output type i8
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=argmax vocab=0" 2>&1 | FileCheck %s --check-prefix=VOCAB
// VOCAB: error: argmax kernel 'argmax': maxTokens and vocab must be positive
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rope_append heads=6 kv-heads=4 head-dim=64 max-seq=64" 2>&1 | FileCheck %s --check-prefix=GQA
// GQA: error: rope_append kernel 'rope_append': 6 heads do not split into 4 kv heads
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rope_append heads=8 kv-heads=4 head-dim=63 max-seq=64" 2>&1 | FileCheck %s --check-prefix=ODD
// ODD: error: rope_append kernel 'rope_append': headDim must be even, got 63
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rope_append heads=8 kv-heads=4 head-dim=64 max-seq=64 k-storage=i8" 2>&1 | FileCheck %s --check-prefix=KSCALES
// KSCALES: error: rope_append kernel 'rope_append': key cache: i8 storage needs scales
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rope_append heads=8 kv-heads=4 head-dim=64 max-seq=64 v-scales=token" 2>&1 | FileCheck %s --check-prefix=VSCALES
// VSCALES: error: rope_append kernel 'rope_append': value cache: a float cache has no scales
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=attention heads=8 kv-heads=4 head-dim=64 max-seq=64 out-type=i8" 2>&1 | FileCheck %s --check-prefix=AOUT
// AOUT: error: attention kernel 'attention': unsupported output type i8
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=attention heads=8 kv-heads=4 head-dim=64 max-seq=0" 2>&1 | FileCheck %s --check-prefix=SEQ
// SEQ: error: attention kernel 'attention': key cache: maxSeq must be positive
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=argmax vocab=10" --qopt-test-build-simt-kernels="kind=argmax vocab=10" 2>&1 | FileCheck %s --check-prefix=DUP
// DUP: error: kernel 'argmax': the GPU module already has a symbol of that name

// The test pass's own option checks.
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=bogus" 2>&1 | FileCheck %s --check-prefix=KIND
// KIND: error: qopt-test-build-simt-kernels: unknown kind 'bogus'
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rms_norm chip=sm_70" 2>&1 | FileCheck %s --check-prefix=CHIP
// CHIP: error: qopt-test-build-simt-kernels: unknown chip 'sm_70'
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rms_norm out-type=f64" 2>&1 | FileCheck %s --check-prefix=TYPE
// TYPE: error: qopt-test-build-simt-kernels: unknown out-type 'f64'
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=elementwise hidden=64 op=div" 2>&1 | FileCheck %s --check-prefix=OP
// OP: error: qopt-test-build-simt-kernels: unknown op 'div'

// Nothing is written on failure.
// RUN: not qopt %s --qopt-test-build-simt-kernels="kind=rms_norm hidden=64 out-type=i8" 2>&1 | FileCheck %s --check-prefix=NOFUNC
// NOFUNC-NOT: gpu.func

module {}
