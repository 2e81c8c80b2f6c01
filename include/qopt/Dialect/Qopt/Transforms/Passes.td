//===- Passes.td - qopt dialect passes ---------------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
#define QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QoptVerifyContract : Pass<"qopt-verify-contract", "::mlir::ModuleOp"> {
  let summary = "Checks that a module meets the contract of a pipeline stage";
  let description = [{
    Fails the pipeline (with one diagnostic per offending op) when the module
    is not in the form the named stage promises. Pipelines end with it, as
    torch-mlir's backend-contract check does.

    * `stage=graph`: the output of import. Only `func`, `arith.constant`
      and qopt ops without quantization schemes; every function argument and
      result is a ranked tensor; at most one `qopt.weight_store` per path.
    * `stage=quantized`: the output of the quantization pipelines. qopt ops
      may carry schemes, but calibration observers must be gone and every
      `qopt.linear` other than the LM head must have been quantized when
      `require-quantized-linears` is set.

    Example: this module fails `stage=graph` because it quantizes.

    ```mlir
    func.func @f(%x: tensor<4xf32>) -> tensor<4xi8> {
      %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>} : tensor<4xf32> -> tensor<4xi8>
      return %q : tensor<4xi8>
    }
    ```
  }];
  let options = [
    Option<"stage", "stage", "::mlir::qopt::ContractStage",
           /*default=*/"::mlir::qopt::ContractStage::Graph",
           "The contract to check", [{::llvm::cl::values(
             clEnumValN(::mlir::qopt::ContractStage::Graph, "graph",
                        "Output of import: no quantization schemes"),
             clEnumValN(::mlir::qopt::ContractStage::Quantized, "quantized",
                        "Output of the quantization pipelines"))}]>,
    Option<"requireQuantizedLinears", "require-quantized-linears", "bool",
           /*default=*/"false",
           "With stage=quantized: fail on float linears other than the LM head">,
  ];
  let dependentDialects = [];
}

def QoptStripObservers : Pass<"qopt-strip-observers"> {
  let summary = "Removes calibration observers";
  let description = [{
    Replaces every `qopt.observe` by its input. With `keep-stats`, an
    observer's statistics move to the ops that consume it as a discardable
    `qopt.input_stats` attribute, so quantization passes can still read them.

    Before:

    ```mlir
    %x1 = qopt.observe %x {label = "l0.q.in", stats = #qopt.stats<absmax = dense<[1.0, 2.0]> : tensor<2xf32>, num_tokens = 8>} : tensor<?x2xf32>
    %y = qopt.linear %x1, %w : (tensor<?x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32>
    ```

    After (`keep-stats=true`):

    ```mlir
    %y = qopt.linear %x, %w {qopt.input_stats = #qopt.stats<absmax = dense<[1.0, 2.0]> : tensor<2xf32>, num_tokens = 8>} : (tensor<?x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32>
    ```
  }];
  let options = [
    Option<"keepStats", "keep-stats", "bool", /*default=*/"false",
           "Move observer statistics onto the observed value's users">,
  ];
}

def QoptInsertObservers : Pass<"qopt-insert-observers", "::mlir::func::FuncOp"> {
  let summary = "Inserts calibration observers on linear inputs and K/V";
  let description = [{
    Places one `qopt.observe` on every distinct value that feeds a linear
    layer (any op implementing `LinearLikeOpInterface`), and, with `kv`, on
    the keys and values of every `qopt.attention`. The linear users (and the
    attention) then read the observed value. Calibration (`qopt-calibrate`)
    runs the model and fills in each observer's statistics; smoothing and
    quantization passes read them.

    Labels name what is observed: `<label of the first linear user>.input`
    (so q/k/v, which share their input, share one observer named after
    q_proj), and `layers.<i>.k` / `layers.<i>.v` for attention slot `i`.
    Values that already flow through an observer are left alone, so the pass
    is idempotent.

    Before:

    ```mlir
    %q = qopt.linear %x, %wq {label = "l0.q_proj"} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %k = qopt.linear %x, %wk {label = "l0.k_proj"} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    ```

    After:

    ```mlir
    %xo = qopt.observe %x {label = "l0.q_proj.input"} : tensor<?x4xf32>
    %q = qopt.linear %xo, %wq {label = "l0.q_proj"} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %k = qopt.linear %xo, %wk {label = "l0.k_proj"} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    ```
  }];
  let options = [
    Option<"kv", "kv", "bool", /*default=*/"true",
           "Also observe the keys and values of every attention">,
  ];
}

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
