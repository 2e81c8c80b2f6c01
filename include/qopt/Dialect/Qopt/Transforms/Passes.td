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
           "The contract to check",
           [{::mlir::qopt::optionValues(
               ::mlir::qopt::contractStageSpellings())}]>,
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

def QoptSmooth : Pass<"qopt-smooth", "::mlir::ModuleOp"> {
  let summary = "SmoothQuant: migrates activation outliers into the weights";
  let description = [{
    For every group of linear layers that read one activation `X`, computes
    per input channel `s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)` (the
    weight maximum over all layers of the group; `s_j = 1` when either is
    0) and rewrites `X W^T` as `(X / s) (W s)^T`, which is the same function
    but has flatter activations. The division is folded into the producer of
    `X`, found structurally:

    * a normalization (`qopt.rms_norm`, `qopt.layer_norm`) whose result only
      feeds linears: its weight becomes `weight / s` (q/k/v after the input
      norm, gate/up after the post-attention norm);
    * a `qopt.attention` whose values come from a linear used only there
      (v_proj -> o_proj): the value projection's rows become `W_v / s`. With
      grouped-query attention one value channel feeds `num_heads /
      num_kv_heads` query heads, so each value channel's factor is computed
      from all the o_proj input channels it feeds, and those share it;
    * a `qopt.mul` with a linear operand used only there (up_proj ->
      down_proj in a gated MLP): the up projection's rows become `W_up / s`.

    The weights are not rewritten: each becomes `qopt.scale_channels` of the
    original weight by a factor vector written to a side store (`@smooth`),
    which weight quantization later folds into the quantized weight. The
    calibration statistics of `X` (and of the attention values) are divided
    by `s` so later passes see the smoothed activations; a Hessian recorded
    for `X` no longer applies and is dropped. Statistics come from
    `qopt-calibrate`; a group without them is an error. The LM head is not
    smoothed.

    Example (one norm group, alpha = 0.5):

    ```mlir
    %n = qopt.rms_norm %x, %g {epsilon = 1.0e-05} : (tensor<?x4xf32>, tensor<4xbf16>) -> tensor<?x4xf32>
    %o = qopt.observe %n {label = "q.input", stats = #qopt.stats<absmax = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, num_tokens = 16>} : tensor<?x4xf32>
    %y = qopt.linear %o, %w {label = "q"} : (tensor<?x4xf32>, tensor<8x4xbf16>) -> tensor<?x8xf32>
    ```

    becomes

    ```mlir
    %g2 = qopt.weight @smooth["norm.weight.smoothed"] : tensor<4xf32>
    %n = qopt.rms_norm %x, %g2 {epsilon = 1.0e-05} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
    %o = qopt.observe %n {label = "q.input", stats = ...} : tensor<?x4xf32>
    %s = qopt.weight @smooth["q.smooth"] : tensor<4xf32>
    %w2 = qopt.scale_channels %w, %s {axis = 1 : i64} : (tensor<8x4xbf16>, tensor<4xf32>) -> tensor<8x4xf32>
    %y = qopt.linear %o, %w2 {label = "q"} : (tensor<?x4xf32>, tensor<8x4xf32>) -> tensor<?x8xf32>
    ```
  }];
  let options = [
    Option<"alpha", "alpha", "double", /*default=*/"0.5",
           "Migration strength in [0, 1]: 1 flattens the activations "
           "completely (s = max|X|), 0 flattens the weights (s = 1 / max|W|)">,
    Option<"weightsOut", "weights-out", "std::string", /*default=*/"\"\"",
           "Directory of the side store (default: beside the -o file)">,
  ];
}

def QoptQuantizeWeights : Pass<"qopt-quantize-weights", "::mlir::ModuleOp"> {
  let summary = "Round-to-nearest weight quantization of linear layers";
  let description = [{
    Replaces every `qopt.linear` whose weight is a weight expression
    (`qopt.weight`, or smoothing's `qopt.scale_channels` of weights) by a
    weight-only `qopt.quantized_linear`. The weight is evaluated (smoothing
    factors folded in), quantized by round-to-nearest with scales from its
    own range (`absmax / qmax`, or min/max with a zero point when
    asymmetric), and written with its scales (and zero points) to a side
    store (`@rtn`), one layer at a time. The LM head stays in float unless
    `include-lm-head` is set. `qopt-quantize-activations` then makes W8A8 /
    FP8 layers of the weight-only ones.

    Granularities: `channel` (one scale per output row), `group` (rows
    split into groups of `group-size` input channels), `block`
    (`block-size` x `block-size` tiles, DeepSeek-style FP8), `tensor`.

    With `at-load`, no weight is read or written here: the side store is an
    at-load store (`rtn-HASH.at-load.json`) that records, for each tensor,
    its checkpoint source, the smoothing factors folded into it and the
    recipe (`i8:channel`, `i4:group128`, ...), and the runtime quantizes the
    weights from the bf16 / fp16 checkpoint while it loads a bundle built
    with `qopt-bundle --weights-at-load` (vLLM's online quantization). The
    IR is the same as without it; reading such a tensor (the CPU executor,
    `qopt-bundle` without `--weights-at-load`) computes it with the same
    code, so both give the same bytes. `int4x8_offset` packing is not
    available at load.

    ```mlir
    %y = qopt.linear %x, %w {label = "l"} : (tensor<?x256xf32>, tensor<64x256xbf16>) -> tensor<?x64xf32>
    ```

    becomes, with `dtype=i4 granularity=group group-size=128`:

    ```mlir
    %q = qopt.weight @rtn["l.qweight"] {packing = #qopt<packing int4x2>} : tensor<64x256xi4>
    %s = qopt.weight @rtn["l.scales"] : tensor<64x2xf32>
    %y = qopt.quantized_linear %x, %q weight_scales(%s : tensor<64x2xf32>) {label = "l", weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static, packing = int4x2>} : tensor<?x256xf32>, tensor<64x256xi4> -> tensor<?x64xf32>
    ```
  }];
  let options = [
    Option<"dtype", "dtype", "::qnum::StorageKind",
           /*default=*/"::qnum::StorageKind::Int8",
           "Weight storage: i8, i4, f8E4M3FN",
           [{::mlir::qopt::optionValues(::mlir::qopt::dtypeSpellings(), {
               ::qnum::StorageKind::Int8, ::qnum::StorageKind::Int4,
               ::qnum::StorageKind::Float8E4M3FN})}]>,
    Option<"granularity", "granularity", "::qnum::GranularityKind",
           /*default=*/"::qnum::GranularityKind::PerChannel",
           "channel, group, block or tensor",
           [{::mlir::qopt::optionValues(::mlir::qopt::granularitySpellings(), {
               ::qnum::GranularityKind::PerChannel,
               ::qnum::GranularityKind::PerGroup,
               ::qnum::GranularityKind::Block,
               ::qnum::GranularityKind::PerTensor})}]>,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Input channels per scale with granularity=group">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "Tile size with granularity=block">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Symmetric (no zero point) or asymmetric integer weights">,
    Option<"packing", "packing", "::mlir::qopt::Packing",
           /*default=*/"::mlir::qopt::Packing::Int4x2",
           "How i4 weights are packed: int4x2 or int4x8_offset",
           [{::mlir::qopt::optionValues(::mlir::qopt::packingSpellings())}]>,
    Option<"includeLmHead", "include-lm-head", "bool", /*default=*/"false",
           "Also quantize the LM head">,
    Option<"atLoad", "at-load", "bool", /*default=*/"false",
           "Describe the quantization for the runtime to do at load "
           "instead of writing quantized weights">,
    Option<"weightsOut", "weights-out", "std::string", /*default=*/"\"\"",
           "Directory of the side store (default: beside the -o file)">,
  ];
}

def QoptQuantizeActivations
    : Pass<"qopt-quantize-activations", "::mlir::ModuleOp"> {
  let summary = "Quantizes the inputs of weight-quantized linear layers";
  let description = [{
    Turns each weight-only `qopt.quantized_linear` into one with quantized
    inputs: a `qopt.quantize` of the input feeds it, and its `input_scheme`
    is set.

    * `mode=dynamic`, `granularity=token` (default): one scale per token,
      computed at run time (`qopt.quantize` returns it).
    * `mode=dynamic`, `granularity=tensor`: one scale per call.
    * `mode=static`, `granularity=tensor`: one calibrated scale from the
      input's statistics (absmax, or min/max when asymmetric). An
      asymmetric integer scheme's zero point is folded into an `int_bias`
      operand, `int_bias[n] = -zp * sum_k Wq[n, k]`, written to a side store
      (`@zp`), so the kernel multiplies raw int8 values.

    The input storage type must match the weight's kind (i8 with i8
    weights, float8 with float8 weights); i4 weights stay weight-only.
    Static scales need statistics from `qopt-calibrate`.
  }];
  let options = [
    Option<"dtype", "dtype", "::qnum::StorageKind",
           /*default=*/"::qnum::StorageKind::Int8",
           "Input storage: i8 or f8E4M3FN",
           [{::mlir::qopt::optionValues(::mlir::qopt::dtypeSpellings(), {
               ::qnum::StorageKind::Int8,
               ::qnum::StorageKind::Float8E4M3FN})}]>,
    Option<"mode", "mode", "::mlir::qopt::ScaleMode",
           /*default=*/"::mlir::qopt::ScaleMode::Dynamic", "dynamic or static",
           [{::mlir::qopt::optionValues(
               ::mlir::qopt::scaleModeSpellings())}]>,
    Option<"granularity", "granularity", "::qnum::GranularityKind",
           /*default=*/"::qnum::GranularityKind::PerToken", "token or tensor",
           [{::mlir::qopt::optionValues(::mlir::qopt::granularitySpellings(), {
               ::qnum::GranularityKind::PerToken,
               ::qnum::GranularityKind::PerTensor})}]>,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Symmetric or asymmetric (static integer only)">,
    Option<"weightsOut", "weights-out", "std::string", /*default=*/"\"\"",
           "Directory of the side store for int_bias (default: beside the "
           "-o file)">,
  ];
}

def QoptQuantizeKVCache : Pass<"qopt-quantize-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Quantizes the KV cache of every attention";
  let description = [{
    Sets `key_scheme` and `value_scheme` on every `qopt.attention`:

    * `granularity=tensor` (static): one scale for the keys and one for the
      values of each layer, `absmax / max(storage)` from the statistics of
      the attention's K and V observers (`qopt-calibrate`), or, with
      `scales=FILE`, from a vLLM-style `kv_cache_scales.json`
      (`{"kv_cache": {"dtype": "float8_e4m3fn", "scaling_factor": {"0":
      {"0": s0, "1": s1, ...}}}}`: tensor-parallel rank 0, one scale per
      layer, used for both keys and values). The file must name exactly the
      model's layers and the pass's dtype (`float8_e4m3fn` or `int8`).
    * `granularity=head` (static): one scale per KV head, from statistics,
      or with `scales=FILE` from per-head lists (`"0": [s_h0, s_h1, ...]`,
      one per KV head, as `qopt-export --format=kv-cache-scales` writes
      them).
    * `granularity=token` (dynamic): one scale per cached position, computed
      when it is appended; needs no statistics.

    ```mlir
    %o = qopt.attention %q, %k, %v {head_dim = 64 : i64, layer = 0 : i64, num_heads = 6 : i64, num_kv_heads = 2 : i64, key_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, value_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    ```
  }];
  let options = [
    Option<"dtype", "dtype", "::qnum::StorageKind",
           /*default=*/"::qnum::StorageKind::Int8",
           "Cache storage: i8 or f8E4M3FN",
           [{::mlir::qopt::optionValues(::mlir::qopt::dtypeSpellings(), {
               ::qnum::StorageKind::Int8,
               ::qnum::StorageKind::Float8E4M3FN})}]>,
    Option<"granularity", "granularity", "::qnum::GranularityKind",
           /*default=*/"::qnum::GranularityKind::PerToken",
           "tensor, head or token",
           [{::mlir::qopt::optionValues(::mlir::qopt::granularitySpellings(), {
               ::qnum::GranularityKind::PerToken,
               ::qnum::GranularityKind::PerHead,
               ::qnum::GranularityKind::PerTensor})}]>,
    Option<"scales", "scales", "std::string", /*default=*/"\"\"",
           "A vLLM kv_cache_scales.json with per-layer scales "
           "(granularity=tensor) or per-head lists (granularity=head)">,
  ];
}

def QoptLegalizeForTarget
    : Pass<"qopt-legalize-for-target", "::mlir::ModuleOp"> {
  let summary = "Rewrites what a GPU target cannot run into what it can";
  let description = [{
    Checks every quantized op against what qopt's kernels support on
    `target` and rewrites the rest, with a remark on each rewritten op
    (never silently); what cannot be rewritten is an error.

    * `sm_80` (Ampere) has no float8 tensor cores: FP8 W8A8 layers become
      FP8 weight-only layers (the input quantization is dropped; the weight
      is dequantized in the kernel).
    * Dynamic per-tensor activation scales need a device-wide reduction
      before the GEMM; qopt's kernels compute scales per token in the GEMM
      prologue, so they become dynamic per-token scales (finer, never less
      accurate) on every target.
    * Integer W8A8 needs per-channel or per-tensor weight scales (the int32
      accumulator is rescaled once, in the epilogue); per-group or block
      weight scales with integer inputs are an error.
    * Supported targets: `sm_80`, `sm_89`, `sm_90a`.
  }];
  let options = [
    Option<"target", "target", "::mlir::qopt::Target",
           /*default=*/"::mlir::qopt::Target::SM90a",
           "GPU target: sm_80, sm_89 or sm_90a",
           [{::mlir::qopt::optionValues(::mlir::qopt::targetSpellings())}]>,
  ];
}

def QoptGPTQ : Pass<"qopt-gptq", "::mlir::ModuleOp"> {
  let summary = "GPTQ weight quantization with calibration Hessians";
  let description = [{
    Quantizes every float linear (other than the LM head) with GPTQ
    (Frantar et al., 2022): columns are quantized one at a time and the
    error of each is spread over the columns not yet quantized through the
    inverse Hessian `H = X^T X` of the layer's input, which `qopt-calibrate`
    records. `dampening` adds that fraction of `mean(diag H)` to the
    diagonal, `block-size` columns are updated lazily together, `act-order`
    processes columns by decreasing `diag H` (groups stay consecutive
    columns). The Cholesky factor of `H^-1` is shared by the layers that read
    one input. Results replace the layers like `qopt-quantize-weights` (side
    store `@gptq`). A layer without a Hessian is an error that says to run
    `qopt-calibrate`.
  }];
  let options = [
    Option<"dtype", "dtype", "::qnum::StorageKind",
           /*default=*/"::qnum::StorageKind::Int4", "Weight storage: i4 or i8",
           [{::mlir::qopt::optionValues(::mlir::qopt::dtypeSpellings(), {
               ::qnum::StorageKind::Int4, ::qnum::StorageKind::Int8})}]>,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Input channels per scale (0: one scale per output channel)">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Symmetric or asymmetric weights">,
    Option<"dampening", "dampening", "double", /*default=*/"0.01",
           "Fraction of mean(diag H) added to the diagonal">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "Columns per lazy batch update">,
    Option<"actOrder", "act-order", "bool", /*default=*/"false",
           "Quantize columns by decreasing diag(H)">,
    Option<"packing", "packing", "::mlir::qopt::Packing",
           /*default=*/"::mlir::qopt::Packing::Int4x2",
           "How i4 weights are packed: int4x2 or int4x8_offset",
           [{::mlir::qopt::optionValues(::mlir::qopt::packingSpellings())}]>,
    Option<"weightsOut", "weights-out", "std::string", /*default=*/"\"\"",
           "Directory of the side store (default: beside the -o file)">,
  ];
}

def QoptAWQ : Pass<"qopt-awq", "::mlir::ModuleOp"> {
  let summary = "AWQ: activation-aware scaling and clipping, then RTN";
  let description = [{
    Activation-aware weight quantization (Lin et al., 2023). For each group
    of linears that read one smoothable activation (as `qopt-smooth`
    finds them: q/k/v after the input norm, gate/up after the
    post-attention norm, down after up; o_proj after v only without
    grouped-query attention), searches `s = xScale^a` over a grid of `a` in
    [0, 1) (`xScale` is each input channel's RMS, `sqrt(diag(H) / tokens)`),
    minimizing the output error of the whole group measured with the
    calibration Hessian `||X W^T - X Q(W s)^T / s||^2`; `a = 0` is plain
    RTN, so the search never does worse than RTN on this objective. The
    factor is folded into the producer and the weights, then each weight's
    per-group clipping ratio is searched (`clip`) and it is quantized by
    round-to-nearest (side store `@awq`). Needs `qopt-calibrate` Hessians.
  }];
  let options = [
    Option<"dtype", "dtype", "::qnum::StorageKind",
           /*default=*/"::qnum::StorageKind::Int4", "Weight storage: i4 or i8",
           [{::mlir::qopt::optionValues(::mlir::qopt::dtypeSpellings(), {
               ::qnum::StorageKind::Int4, ::qnum::StorageKind::Int8})}]>,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Input channels per scale (0: one scale per output channel)">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Symmetric or asymmetric weights">,
    Option<"grid", "grid", "int64_t", /*default=*/"20",
           "Number of exponents a tried in [0, 1)">,
    Option<"clip", "clip", "bool", /*default=*/"true",
           "Search per-group clipping ratios">,
    Option<"packing", "packing", "::mlir::qopt::Packing",
           /*default=*/"::mlir::qopt::Packing::Int4x2",
           "How i4 weights are packed: int4x2 or int4x8_offset",
           [{::mlir::qopt::optionValues(::mlir::qopt::packingSpellings())}]>,
    Option<"weightsOut", "weights-out", "std::string", /*default=*/"\"\"",
           "Directory of the side stores (default: beside the -o file)">,
  ];
}

def QoptCheckPipelineInput
    : Pass<"qopt-check-pipeline-input", "::mlir::ModuleOp"> {
  let summary = "Checks that a module is something a pipeline can quantize";
  let description = [{
    Every quantization pipeline starts with it. It fails, naming the
    pipeline's flag, when the module has no model function (`func.func`)
    and, for the weight pipelines (`pipeline` other than `kv-cache`), when
    the model has already been smoothed or quantized: a `qopt.scale_channels`
    left by smoothing or a `qopt.quantized_linear` means the weights are no
    longer the checkpoint's, and a weight pipeline takes a float model.
  }];
  let options = [
    Option<"pipeline", "pipeline", "::mlir::qopt::QuantPipeline",
           /*default=*/"::mlir::qopt::QuantPipeline::SmoothQuant",
           "The pipeline whose input is checked",
           [{::mlir::qopt::optionValues(
               ::mlir::qopt::quantPipelineSpellings())}]>,
  ];
}

def QoptRebaseWeightStores
    : Pass<"qopt-rebase-weight-stores", "::mlir::ModuleOp"> {
  let summary = "Rewrites relative weight-store paths for another directory";
  let description = [{
    Relative `qopt.weight_store` paths (and the `checkpoint` and
    `tokenizer` paths of the `qopt.model` attribute) resolve against the
    directory of the IR file. When the IR is written to another directory,
    this pass rewrites them so they still name the same files: each becomes
    the path from `to` to `from/<path>`, computed lexically (symbolic links
    are not resolved, so a path through a Hugging Face cache snapshot stays
    one). Side stores written earlier in the pipeline are relative to the
    module's directory like every other store, so they are rebased too.
    `qopt -o` runs it last when the output goes to another directory than the
    input.
  }];
  let options = [
    Option<"from", "from", "std::string", /*default=*/"\"\"",
           "Directory the paths are relative to now">,
    Option<"to", "to", "std::string", /*default=*/"\"\"",
           "Directory they must be relative to">,
  ];
}

def QoptSetWeightsOutput
    : Pass<"qopt-set-weights-output", "::mlir::ModuleOp"> {
  let summary = "Sets or clears the default directory of side stores";
  let description = [{
    With `dir=DIR`, sets the module attribute `qopt.weights_output = "DIR"`
    (made absolute): weight-writing passes whose `weights-out` option is
    empty put their side stores there. Without `dir`, removes that attribute
    and `qopt.created_weight_files` (the list of files this run's passes
    created, kept for the clean-up after a failure). `qopt -o FILE` runs
    `qopt-set-weights-output{dir=FILE.weights}` before the user's pipeline
    and `qopt-set-weights-output` after it, so neither attribute reaches the
    output.
  }];
  let options = [
    Option<"dir", "dir", "std::string", /*default=*/"\"\"",
           "Directory of side stores (empty: remove the attributes)">,
  ];
}

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
