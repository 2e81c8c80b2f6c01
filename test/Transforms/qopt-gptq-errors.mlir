// Errors of qopt-gptq (and of AWQ, which needs the same Hessians).
// RUN: rm -rf %t && mkdir -p %t
// RUN: cp %s %t/model.mlir

// Bad options are rejected before anything is read.
// RUN: not qopt %t/model.mlir --qopt-gptq=dtype=f8E4M3FN -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not qopt %t/model.mlir --qopt-gptq=dtype=i2 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=DTYPE-I2
// RUN: not qopt %t/model.mlir --qopt-gptq=dampening=0 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=DAMP0
// RUN: not qopt %t/model.mlir --qopt-gptq=dampening=1 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=DAMP1
// RUN: not qopt %t/model.mlir --qopt-gptq=dampening=-0.5 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=DAMPNEG
// RUN: not qopt %t/model.mlir --qopt-gptq=block-size=0 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not qopt %t/model.mlir --qopt-gptq=group-size=-1 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GROUPNEG
// RUN: not qopt %t/model.mlir --qopt-gptq=packing=int4x4 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=PACKING
// RUN: not qopt %t/model.mlir --qopt-awq=dtype=f8E4M3FN -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=AWQ-DTYPE
// DTYPE: for the --dtype option: 'f8E4M3FN' is not a valid value (valid values: i8, i4)
// DTYPE-I2: for the --dtype option: 'i2' is not a valid value (valid values: i8, i4)
// DAMP0: error: qopt-gptq: dampening must be in (0, 1), got 0
// DAMP1: error: qopt-gptq: dampening must be in (0, 1), got 1
// DAMPNEG: error: qopt-gptq: dampening must be in (0, 1), got -0.5
// BLOCK: error: qopt-gptq: block-size must be positive, got 0
// GROUPNEG: error: qopt-gptq: group-size must be non-negative, got -1
// PACKING: for the --packing option: 'int4x4' is not a valid value (valid values: int4x2, int4x8_offset)
// AWQ-DTYPE: for the --dtype option: 'f8E4M3FN' is not a valid value (valid values: i8, i4)
// RUN: not test -e %t/out.mlir

// A group size must divide the input channels (256 here).
// RUN: not qopt %t/model.mlir --qopt-gptq=group-size=100 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GROUP
// GROUP: model.mlir:{{[0-9]+}}:{{[0-9]+}}: error: qopt-gptq: cannot quantize 'a': group size 100 does not divide axis 1 of size 256

// Hessians come from the @calib store; a missing store, a missing tensor,
// a Hessian of the wrong size or one that is not positive definite are
// errors that name the layer.
// RUN: %python %S/Inputs/pipeline_write.py %t/w.safetensors 'a.weight=BF16[8,256]:((i*37)%17-8)/8'
// RUN: not qopt %t/model.mlir --qopt-gptq -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NOSTORE
// NOSTORE: error: qopt-gptq: weight store @calib: {{.*}}hessians.safetensors: cannot open: {{[Nn]}}o such file or directory
// RUN: %python %S/Inputs/pipeline_write.py %t/hessians.safetensors 'other.hessian=F32[256,256]:float(r==c)'
// RUN: not qopt %t/model.mlir --qopt-gptq -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NOTENSOR
// NOTENSOR: error: qopt-gptq: layer 'a': weight store @calib has no tensor 'a.input.hessian'
// RUN: %python %S/Inputs/pipeline_write.py %t/hessians.safetensors 'a.input.hessian=F32[4,4]:float(r==c)'
// RUN: not qopt %t/model.mlir --qopt-gptq -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: error: qopt-gptq: layer 'a': Hessian 'a.input.hessian' has shape [4, 4] but the input has 256 channels
// RUN: %python %S/Inputs/pipeline_write.py %t/hessians.safetensors 'a.input.hessian=F32[256,256]:-float(r==c)'
// RUN: not qopt %t/model.mlir --qopt-gptq -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NOTPD
// NOTPD: error: qopt-gptq: layer 'a': the Hessian is not positive definite after dampening (at input {{[0-9]+}})
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights/gptq-*.safetensors.index.json

// With a good Hessian the same module quantizes (so the errors above come
// from what they name).
// RUN: %python %S/Inputs/pipeline_write.py %t/hessians.safetensors 'a.input.hessian=F32[256,256]:float(r==c)'
// RUN: qopt %t/model.mlir --qopt-gptq -o %t/good.mlir
// RUN: FileCheck %s --check-prefix=GOOD < %t/good.mlir
// GOOD: qopt.weight_store @gptq "good.weights/gptq-{{[0-9a-f]{16}[.]}}safetensors.index.json"
// GOOD: qopt.quantized_linear {{.*}}label = "a", weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static, packing = int4x2>}
// GOOD: qopt.linear {{.*}}label = "b"

// A weight-writing pass needs somewhere to write.
// RUN: not qopt %t/model.mlir --qopt-gptq 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: error: qopt-gptq: no directory for the weights this pass writes: give the pass option weights-out=DIR, or run qopt with -o FILE (the weights then go to FILE.weights/)

// The tiny Llama calibrated without Hessians: no hessians file, no @calib
// store, and GPTQ and AWQ say to run qopt-calibrate.
// RUN: qopt-import %shared_models/qopt-tiny-llama -o %t/m.mlir
// RUN: qopt-calibrate %t/m.mlir --tokens %shared_data/tiny-llama-reference.safetensors:calib_tokens --max-sequences 1 --hessian=false -o %t/calib.mlir 2>/dev/null
// RUN: not test -e %t/calib.hessians.safetensors
// RUN: FileCheck %s --check-prefix=NOHESSIAN-IR < %t/calib.mlir
// NOHESSIAN-IR-NOT: hessian
// NOHESSIAN-IR-NOT: @calib
// NOHESSIAN-IR: qopt.observe %{{.*}} {label = "model.layers.0.self_attn.q_proj.input", stats = #qopt.stats<{{.*}}num_tokens = 512>}
// NOHESSIAN-IR-NOT: hessian
// NOHESSIAN-IR-NOT: @calib
// RUN: not qopt %t/calib.mlir --qopt-gptq -o %t/tiny-gptq.mlir 2>&1 | FileCheck %s --check-prefix=TINY-GPTQ
// RUN: not qopt %t/calib.mlir --qopt-awq -o %t/tiny-awq.mlir 2>&1 | FileCheck %s --check-prefix=TINY-AWQ
// RUN: not qopt %t/calib.mlir --w4a16=method=gptq -o %t/tiny-w4a16.mlir 2>&1 | FileCheck %s --check-prefix=TINY-GPTQ
// TINY-GPTQ: error: qopt-gptq: layer 'model.layers.0.self_attn.q_proj' has no Hessian (X^T X) for its input; run qopt-calibrate on the model first
// TINY-AWQ: error: qopt-awq: layer 'model.layers.0.self_attn.q_proj' has no Hessian (X^T X) for its input; run qopt-calibrate on the model first
// RUN: not test -e %t/tiny-gptq.mlir
// RUN: not test -e %t/tiny-awq.mlir
// RUN: not test -e %t/tiny-w4a16.mlir
// An uncalibrated model fails the same way.
// RUN: not qopt %t/m.mlir --qopt-gptq -o %t/tiny-gptq.mlir 2>&1 | FileCheck %s --check-prefix=TINY-GPTQ
// Group size 100 does not divide the tiny Llama's 384 channels.
// RUN: not qopt %t/calib.mlir --qopt-gptq=group-size=100 -o %t/tiny-gptq.mlir 2>&1 | FileCheck %s --check-prefix=TINY-GROUP
// TINY-GROUP: error: qopt-gptq: cannot quantize 'model.layers.0.self_attn.q_proj': group size 100 does not divide axis 1 of size 384

qopt.weight_store @w "w.safetensors"
qopt.weight_store @calib "hessians.safetensors"
func.func @f(%x: tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %xo = qopt.observe %x {label = "a.input", stats = #qopt.stats<absmax = dense<1.0> : tensor<256xf32>, num_tokens = 8, hessian = "a.input.hessian">} : tensor<?x256xf32>
  %w = qopt.weight @w["a.weight"] : tensor<8x256xbf16>
  %y = qopt.linear %xo, %w {label = "a"} : (tensor<?x256xf32>, tensor<8x256xbf16>) -> tensor<?x8xf32>
  %lm = qopt.linear %xo, %w {label = "b", role = #qopt<role lm_head>} : (tensor<?x256xf32>, tensor<8x256xbf16>) -> tensor<?x8xf32>
  return %y, %lm : tensor<?x8xf32>, tensor<?x8xf32>
}
