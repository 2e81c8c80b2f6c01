// Errors of qopt-awq. (The tiny Llama without Hessians is in
// qopt-gptq-errors.mlir.)
// RUN: rm -rf %t && mkdir -p %t
// RUN: cp %s %t/model.mlir

// RUN: not qopt %t/model.mlir --qopt-awq=dtype=f8E4M3FN -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not qopt %t/model.mlir --qopt-awq=grid=0 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GRID
// RUN: not qopt %t/model.mlir --qopt-awq=group-size=-128 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GROUPNEG
// RUN: not qopt %t/model.mlir --qopt-awq=packing=int8 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=PACKING
// RUN: not qopt %t/model.mlir --qopt-awq=clip=maybe -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=CLIP
// DTYPE: for the --dtype option: 'f8E4M3FN' is not a valid value (valid values: i8, i4)
// GRID: error: qopt-awq: grid must be positive, got 0
// GROUPNEG: error: qopt-awq: group-size must be non-negative, got -128
// PACKING: for the --packing option: 'int8' is not a valid value (valid values: int4x2, int4x8_offset)
// CLIP: for the --clip option: '{{.*}}maybe' is invalid value for boolean argument! Try 0 or 1

// A group size must divide the input channels (256).
// RUN: not qopt %t/model.mlir --qopt-awq=group-size=96 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GROUP
// GROUP: error: qopt-awq: cannot quantize 'q': group size 96 does not divide axis 1 of size 256

// Without the Hessian store, or without a layer's Hessian.
// RUN: not qopt %t/model.mlir --qopt-awq -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NOSTORE
// NOSTORE: error: qopt-awq: weight store @w: {{.*}}w.safetensors: cannot open: {{[Nn]}}o such file or directory
// RUN: %python %S/Inputs/pipeline_write.py %t/w.safetensors 'norm=BF16[256]:1.0' 'q.weight=BF16[8,256]:((i*37)%17-8)/8' 'k.weight=BF16[8,256]:((i*11)%13-6)/4' 'o.weight=BF16[8,256]:((i*5)%7-3)/2'
// RUN: %python %S/Inputs/pipeline_write.py %t/hessians.safetensors 'x.input.hessian=F32[256,256]:float(r==c)*(1+c%5)'
// RUN: not qopt %t/model.mlir --qopt-awq -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NOTENSOR
// NOTENSOR: error: qopt-awq: layer 'q': weight store @calib has no tensor 'q.input.hessian'

// A layer whose input has no Hessian at all (the second observer).
// RUN: sed -e 's/, hessian = "y.input.hessian"//' %t/model.mlir > %t/nohessian.mlir
// RUN: not qopt %t/nohessian.mlir --qopt-awq -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NOHESSIAN
// NOHESSIAN: error: qopt-awq: layer 'o' has no Hessian (X^T X) for its input; run qopt-calibrate on the model first
// RUN: not test -e %t/out.mlir

// With both Hessians the module quantizes: q and k share the norm's factor;
// o, fed by a function argument, is only clipped and rounded.
// RUN: %python %S/Inputs/pipeline_write.py %t/hessians.safetensors 'q.input.hessian=F32[256,256]:float(r==c)*(1+c%5)' 'y.input.hessian=F32[256,256]:float(r==c)'
// RUN: qopt %t/model.mlir --qopt-awq -o %t/good.mlir
// RUN: FileCheck %s --check-prefix=GOOD < %t/good.mlir
// GOOD: %[[N:.*]] = qopt.weight @awq_scales["norm.smoothed"] : tensor<256xf32>
// GOOD-NEXT: qopt.rms_norm %{{.*}}, %[[N]]
// GOOD: qopt.quantized_linear {{.*}}label = "q"
// GOOD: qopt.quantized_linear {{.*}}label = "k"
// GOOD: qopt.quantized_linear {{.*}}label = "o"
// RUN: %python %S/Inputs/pipeline_tensors.py list %t/good.weights/awq_scales-*.safetensors.index.json | FileCheck %s --check-prefix=GOOD-SCALES
// GOOD-SCALES: norm.smoothed F32 [256]
// GOOD-SCALES-NEXT: q.smooth F32 [256]
// GOOD-SCALES-NOT: {{.}}

// AWQ needs somewhere to write its stores.
// RUN: not qopt %t/model.mlir --qopt-awq 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: error: qopt-awq: no directory for the weights this pass writes

qopt.weight_store @w "w.safetensors"
qopt.weight_store @calib "hessians.safetensors"
func.func @f(%x: tensor<?x256xf32>, %y: tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %g = qopt.weight @w["norm"] : tensor<256xbf16>
  %n = qopt.rms_norm %x, %g {epsilon = 1.0e-05 : f64} : (tensor<?x256xf32>, tensor<256xbf16>) -> tensor<?x256xf32>
  %no = qopt.observe %n {label = "q.input", stats = #qopt.stats<absmax = dense<2.0> : tensor<256xf32>, num_tokens = 8, hessian = "q.input.hessian">} : tensor<?x256xf32>
  %wq = qopt.weight @w["q.weight"] : tensor<8x256xbf16>
  %q = qopt.linear %no, %wq {label = "q"} : (tensor<?x256xf32>, tensor<8x256xbf16>) -> tensor<?x8xf32>
  %wk = qopt.weight @w["k.weight"] : tensor<8x256xbf16>
  %k = qopt.linear %no, %wk {label = "k"} : (tensor<?x256xf32>, tensor<8x256xbf16>) -> tensor<?x8xf32>
  %yo = qopt.observe %y {label = "o.input", stats = #qopt.stats<absmax = dense<1.0> : tensor<256xf32>, num_tokens = 8, hessian = "y.input.hessian">} : tensor<?x256xf32>
  %wo = qopt.weight @w["o.weight"] : tensor<8x256xbf16>
  %o = qopt.linear %yo, %wo {label = "o"} : (tensor<?x256xf32>, tensor<8x256xbf16>) -> tensor<?x8xf32>
  return %q, %k, %o : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
}
