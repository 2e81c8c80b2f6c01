//===- QoptOps.td - qopt operations ------------------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTOPS_TD
#define QOPT_DIALECT_QOPT_IR_QOPTOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "qopt/Dialect/Qopt/IR/QoptBase.td"
include "qopt/Dialect/Qopt/IR/QoptEnums.td"
include "qopt/Dialect/Qopt/IR/QoptInterfaces.td"
include "qopt/Dialect/Qopt/IR/QoptAttrs.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Qopt_FloatTensor : RankedTensorOf<[F16, BF16, F32]>;
def Qopt_IndexTensor : RankedTensorOf<[I32, I64]>;
def Qopt_StorageTensor : RankedTensorOf<[I8, I<4>, F8E4M3FN, F8E5M2]>;
def Qopt_ScaleTensor : RankedTensorOf<[F32]>;
def Qopt_ZeroPointTensor : RankedTensorOf<[I32]>;
def Qopt_WeightTensor : RankedTensorOf<[F16, BF16, F32, I8, I<4>, I32, UI8,
                                        F8E4M3FN, F8E5M2]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Qopt_WeightStoreOp : Qopt_Op<"weight_store", [Symbol, HasParent<"ModuleOp">]> {
  let summary = "Declares an external tensor store (a safetensors checkpoint)";
  let description = [{
    Names a store of tensors that `qopt.weight` ops reference: a `.safetensors`
    file, a sharded checkpoint's `model.safetensors.index.json`, or a checkpoint
    directory. Relative paths are resolved against the directory of the IR
    file. The data is never part of the IR.

    ```mlir
    qopt.weight_store @ckpt "models/tiny/model.safetensors.index.json"
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$path);
  let assemblyFormat = "$sym_name $path attr-dict";
  let hasVerifier = 1;
}

def Qopt_WeightOp : Qopt_Op<"weight", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "References a named tensor of a weight store";
  let description = [{
    Yields the tensor `name` of the store `store`. The result type gives its
    shape and element type; loaders check them against the store. Sub-byte
    (`i4`) results have a logical shape and must say how the store packs them.

    ```mlir
    %w = qopt.weight @ckpt["model.layers.0.mlp.up_proj.weight"] : tensor<1024x384xbf16>
    %q = qopt.weight @q["layers.0.mlp.up_proj.qweight"] {packing = #qopt<packing int4x2>} : tensor<1024x384xi4>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$store, StrAttr:$name,
                       OptionalAttr<Qopt_PackingAttr>:$packing);
  let results = (outs Qopt_WeightTensor:$result);
  let assemblyFormat = "$store `[` $name `]` attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Graph ops
//===----------------------------------------------------------------------===//

def Qopt_EmbeddingOp : Qopt_Op<"embedding", [Pure]> {
  let summary = "Looks up rows of an embedding table";
  let description = [{
    `result[..., :] = table[ids[...], :]` for a table `[vocab, hidden]`. The
    result has the shape of `ids` with `hidden` appended.

    ```mlir
    %h = qopt.embedding %table[%ids] : (tensor<32000x384xbf16>, tensor<?xi32>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$table, Qopt_IndexTensor:$ids);
  let results = (outs Qopt_FloatTensor:$result);
  let assemblyFormat =
      "$table `[` $ids `]` attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Qopt_RMSNormOp : Qopt_Op<"rms_norm", [Pure]> {
  let summary = "Root-mean-square normalization over the innermost dimension";
  let description = [{
    `y = x / sqrt(mean(x^2) + epsilon) * weight`, computed in float32, over the
    innermost dimension; `weight` has one element per feature.

    ```mlir
    %y = qopt.rms_norm %x, %w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$input, Qopt_FloatTensor:$weight,
                       F64Attr:$epsilon);
  let results = (outs Qopt_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $weight attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Qopt_LayerNormOp : Qopt_Op<"layer_norm", [Pure]> {
  let summary = "Layer normalization over the innermost dimension";
  let description = [{
    `y = (x - mean(x)) / sqrt(var(x) + epsilon) * weight + bias` over the
    innermost dimension; `bias` is optional.

    ```mlir
    %y = qopt.layer_norm %x, %w, %b {epsilon = 1.0e-05} : (tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$input, Qopt_FloatTensor:$weight,
                       Optional<Qopt_FloatTensor>:$bias, F64Attr:$epsilon);
  let results = (outs Qopt_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Qopt_LinearOp : Qopt_Op<"linear", [Pure, Qopt_LinearLikeOpInterface]> {
  let summary = "Float linear layer `y = x W^T + b`";
  let description = [{
    `x` is `[..., in]`, the weight `[out, in]` (the PyTorch layout), the
    optional bias `[out]`, the result `[..., out]`. `role` records which
    projection of a transformer block the layer is (smoothing and
    quantization passes group layers by it); `label` is the checkpoint's
    module name.

    ```mlir
    %y = qopt.linear %x, %w {role = #qopt<role q_proj>, label = "model.layers.0.self_attn.q_proj"} : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$input, Qopt_FloatTensor:$weight,
                       Optional<Qopt_FloatTensor>:$bias,
                       OptionalAttr<Qopt_LinearRoleAttr>:$role,
                       OptionalAttr<StrAttr>:$label);
  let results = (outs Qopt_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Qopt_RopeOp : Qopt_Op<"rope", [Pure]> {
  let summary = "Rotary position embedding";
  let description = [{
    Rotates each head of `input` (`[tokens, num_heads * head_dim]`) by the
    angle `position * theta^(-2i / head_dim)` in the `rotate_half` layout used
    by Hugging Face Llama (dimension `i` pairs with `i + head_dim / 2`).
    `positions` has one entry per token. `scaling` rescales frequencies.

    ```mlir
    %q2 = qopt.rope %q, %pos {num_heads = 6, head_dim = 64, theta = 1.0e+04} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$input, Qopt_IndexTensor:$positions,
                       I64Attr:$num_heads, I64Attr:$head_dim, F64Attr:$theta,
                       OptionalAttr<Qopt_RopeScalingAttr>:$scaling);
  let results = (outs Qopt_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $positions attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

/// The KV cache of a model: every attention op reads and appends to its
/// slot, so no transformation may drop, merge, hoist or reorder it.
def Qopt_KVCacheResource : Resource<"::mlir::qopt::KVCacheResource">;

def Qopt_AttentionOp : Qopt_Op<"attention", [
    MemoryEffects<[MemRead<Qopt_KVCacheResource>,
                   MemWrite<Qopt_KVCacheResource>]>,
    DeclareOpInterfaceMethods<Qopt_QuantSchemeOpInterface>]> {
  let summary = "Multi-head attention over a KV cache (MHA, GQA, MQA)";
  let description = [{
    `query` is `[tokens, num_heads * head_dim]`, `key` and `value`
    `[tokens, num_kv_heads * head_dim]`; query head `h` uses KV head
    `h / (num_heads / num_kv_heads)`. The new keys and values are appended to
    the KV cache of slot `layer`; a query attends to every cached position at
    or before its own when `causal` is set, and with `sliding_window = W`
    (causal only) to the last `W` of those: a query at position `p` sees
    positions `p - W + 1 .. p` (Mistral's and Qwen2's sliding window, as
    Hugging Face masks it). Scores are scaled by `scale`
    (default `1 / sqrt(head_dim)`). `key_scheme` and `value_scheme`, given
    together, quantize the cache: each new key (after RoPE) and value is
    quantized with its scheme when it is appended, and attention reads the
    dequantized values. Static schemes carry their scales inline (one per
    tensor, or one per KV head); dynamic per-token schemes compute one scale
    per cached position.

    Appending to the cache is a side effect, declared as a read and a write
    of the `qopt::KVCache` resource: two identical attention ops are not
    merged, an unused one is not erased, and none moves across another.

    ```mlir
    %o = qopt.attention %q, %k, %v {layer = 0, num_heads = 6, num_kv_heads = 2, head_dim = 64} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    %w = qopt.attention %q, %k, %v {layer = 1, num_heads = 6, num_kv_heads = 2, head_dim = 64, sliding_window = 4096} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$query, Qopt_FloatTensor:$key,
                       Qopt_FloatTensor:$value, I64Attr:$layer,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim,
                       DefaultValuedAttr<BoolAttr, "true">:$causal,
                       OptionalAttr<F64Attr>:$scale,
                       OptionalAttr<I64Attr>:$sliding_window,
                       OptionalAttr<Qopt_QuantSchemeAttr>:$key_scheme,
                       OptionalAttr<Qopt_QuantSchemeAttr>:$value_scheme);
  let results = (outs Qopt_FloatTensor:$result);
  let assemblyFormat = "$query `,` $key `,` $value attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

class Qopt_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Qopt_Op<mnemonic, !listconcat(traits,
          [Pure, Elementwise, SameOperandsAndResultType])> {
  let results = (outs Qopt_FloatTensor:$result);
}

def Qopt_SiluOp : Qopt_UnaryOp<"silu"> {
  let summary = "Elementwise SiLU, `x * sigmoid(x)`";
  let description = [{
    ```mlir
    %y = qopt.silu %x : tensor<?x1024xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$input);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Qopt_GeluOp : Qopt_UnaryOp<"gelu"> {
  let summary = "Elementwise GELU (exact or tanh approximation)";
  let description = [{
    `approximate = false` computes `x * Phi(x)` with the error function;
    `approximate = true` uses the tanh approximation.

    ```mlir
    %y = qopt.gelu %x {approximate = true} : tensor<?x1024xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$input,
                       DefaultValuedAttr<BoolAttr, "false">:$approximate);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

class Qopt_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Qopt_Op<mnemonic, !listconcat(traits,
          [Pure, Elementwise, SameOperandsAndResultType])> {
  let arguments = (ins Qopt_FloatTensor:$lhs, Qopt_FloatTensor:$rhs);
  let results = (outs Qopt_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Qopt_MulOp : Qopt_BinaryOp<"mul", [Commutative]> {
  let summary = "Elementwise multiplication";
  let description = [{
    ```mlir
    %y = qopt.mul %a, %b : tensor<?x1024xf32>
    ```
  }];
}

def Qopt_AddOp : Qopt_BinaryOp<"add", [Commutative]> {
  let summary = "Elementwise addition (residual connections)";
  let description = [{
    ```mlir
    %y = qopt.add %a, %b : tensor<?x384xf32>
    ```
  }];
}

def Qopt_ScaleChannelsOp : Qopt_Op<"scale_channels", [Pure]> {
  let summary = "Multiplies a tensor by a vector along one axis";
  let description = [{
    `result[..., i, ...] = input[..., i, ...] * scales[i]` with `i` the index
    along `axis`, computed in float32. Smoothing passes use it to migrate a
    per-channel factor into a weight (columns: `axis = 1`; rows: `axis = 0`)
    without rewriting the checkpoint; weight quantization folds it into the
    quantized weight it writes.

    ```mlir
    %w2 = qopt.scale_channels %w, %s {axis = 1 : i64} : (tensor<1024x384xbf16>, tensor<384xf32>) -> tensor<1024x384xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$input, Qopt_FloatTensor:$scales,
                       I64Attr:$axis);
  let results = (outs Qopt_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $scales attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Qopt_PermuteChannelsOp : Qopt_Op<"permute_channels", [Pure]> {
  let summary = "Reorders the channels (innermost dimension) of a tensor";
  let description = [{
    `result[..., j] = input[..., permutation[j]]`, with `permutation` a
    permutation of `[0, C)` for `C` channels (int32 `[C]`, usually a
    `qopt.weight`). It is how a GPTQ act-order (`desc_act`) layer imports
    without re-quantization: the importer sorts the layer's input channels
    by group, stores the weight in that order (contiguous groups) and the
    sort as `permutation`, and reorders the activation before the layer.
    Executors check that every index is in range.

    ```mlir
    %xp = qopt.permute_channels %x, %perm : (tensor<?x384xf32>, tensor<384xi32>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$input, Qopt_ZeroPointTensor:$permutation);
  let results = (outs Qopt_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $permutation attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Quantization ops
//===----------------------------------------------------------------------===//

def Qopt_QuantizeOp : Qopt_Op<"quantize", [Pure, AttrSizedResultSegments,
    DeclareOpInterfaceMethods<Qopt_QuantSchemeOpInterface>]> {
  let summary = "Quantizes a real-valued tensor with a scheme";
  let description = [{
    Maps `input` to storage values following `scheme` (see
    `#qopt.scheme`). A static scheme carries its scales inline. A dynamic
    scheme computes them from `input` at run time and returns them as
    `scales` (and, when asymmetric, `zero_points`), shaped by the scheme's
    granularity.

    ```mlir
    %q = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.05> : tensor<f32>>} : tensor<?x384xf32> -> tensor<?x384xi8>
    %q2, %s = qopt.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x384xf32> -> tensor<?x384xi8>, tensor<?xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$input, Qopt_QuantSchemeAttr:$scheme);
  let results = (outs Qopt_StorageTensor:$output,
                      Optional<Qopt_ScaleTensor>:$scales,
                      Optional<Qopt_ZeroPointTensor>:$zero_points);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($output)
    (`,` type($scales)^)? (`,` type($zero_points)^)?
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Qopt_DequantizeOp : Qopt_Op<"dequantize", [Pure,
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<Qopt_QuantSchemeOpInterface>]> {
  let summary = "Maps storage values back to real values";
  let description = [{
    `x = (q - zero_point) * scale` (integer storage) or `x = q * scale`
    (float8 storage). Scales come from the scheme when it carries them inline,
    otherwise from the `scales` operand (dynamic schemes, or static scales
    kept in a weight store); `zero_points` likewise.

    ```mlir
    %x = qopt.dequantize %q {scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.05> : tensor<f32>>} : tensor<?x384xi8> -> tensor<?x384xf32>
    %y = qopt.dequantize %q2 scales(%s : tensor<?xf32>) {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x384xi8> -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins Qopt_StorageTensor:$input,
                       Optional<Qopt_ScaleTensor>:$scales,
                       Optional<Qopt_ZeroPointTensor>:$zero_points,
                       Qopt_QuantSchemeAttr:$scheme);
  let results = (outs Qopt_FloatTensor:$output);
  let assemblyFormat = [{
    $input (`scales` `(` $scales^ `:` type($scales) `)`)?
    (`zero_points` `(` $zero_points^ `:` type($zero_points) `)`)?
    attr-dict `:` type($input) `->` type($output)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Qopt_RequantizeOp : Qopt_Op<"requantize", [Pure,
    DeclareOpInterfaceMethods<Qopt_QuantSchemeOpInterface>]> {
  let summary = "Converts storage values from one static scheme to another";
  let description = [{
    Defined as `quantize(dequantize(input, in_scheme), out_scheme)`, computed
    without materializing the real values. Both schemes are static with
    inline scales.

    ```mlir
    %r = qopt.requantize %q {in_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.1> : tensor<f32>>, out_scheme = #qopt.scheme<i8, #qopt.per_tensor, sym, static, scales = dense<0.2> : tensor<f32>>} : tensor<16xi8> -> tensor<16xi8>
    ```
  }];
  let arguments = (ins Qopt_StorageTensor:$input,
                       Qopt_QuantSchemeAttr:$in_scheme,
                       Qopt_QuantSchemeAttr:$out_scheme);
  let results = (outs Qopt_StorageTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Qopt_QuantizedLinearOp : Qopt_Op<"quantized_linear", [Pure,
    AttrSizedOperandSegments, Qopt_LinearLikeOpInterface,
    DeclareOpInterfaceMethods<Qopt_QuantSchemeOpInterface>]> {
  let summary = "Linear layer on quantized weights (and activations)";
  let description = [{
    Computes `y = act(dequant(x) dequant(W)^T + bias) + residual`, where the
    weight `[out, in]` is stored with `weight_scheme` and, when
    `input_scheme` is present, the input is storage values of that scheme
    (W8A8, FP8); without `input_scheme` the input is real-valued (weight-only
    W8A16 / W4A16). Scales that a scheme does not carry inline are operands:
    `input_scales` for dynamic activation schemes, `weight_scales` for weight
    scales kept in a store. `activation` and `residual` form the fused
    epilogue.

    With integer input and weight schemes (W8A8), products accumulate exactly
    in int32 and the epilogue is `y = float(acc + int_bias) * (sx * sw) +
    bias`. `int_bias` (int32, one per output) is how an asymmetric static
    input's zero point is folded away, as Ascend's `quant_bias`:
    `int_bias[n] = -zp_x * sum_k Wq[n, k]`, so the kernel multiplies raw
    storage values. Float8 inputs and weights accumulate in float32 (exact
    products); weight-only layers dequantize the weight to float32.

    ```mlir
    %y = qopt.quantized_linear %xq, %wq input_scales(%xs : tensor<?xf32>) weight_scales(%ws : tensor<1024xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x384xi8>, tensor<1024x384xi8> -> tensor<?x1024xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, Qopt_StorageTensor:$weight,
                       Optional<Qopt_FloatTensor>:$bias,
                       Optional<Qopt_ZeroPointTensor>:$int_bias,
                       Optional<Qopt_ScaleTensor>:$input_scales,
                       Optional<Qopt_ZeroPointTensor>:$input_zero_points,
                       Optional<Qopt_ScaleTensor>:$weight_scales,
                       Optional<Qopt_ZeroPointTensor>:$weight_zero_points,
                       Optional<Qopt_FloatTensor>:$residual,
                       OptionalAttr<Qopt_QuantSchemeAttr>:$input_scheme,
                       Qopt_QuantSchemeAttr:$weight_scheme,
                       DefaultValuedAttr<Qopt_ActivationAttr,
                           "::mlir::qopt::Activation::None">:$activation,
                       OptionalAttr<Qopt_LinearRoleAttr>:$role,
                       OptionalAttr<StrAttr>:$label);
  let results = (outs Qopt_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`int_bias` `(` $int_bias^ `:` type($int_bias) `)`)?
    (`input_scales` `(` $input_scales^ `:` type($input_scales) `)`)?
    (`input_zero_points` `(` $input_zero_points^ `:` type($input_zero_points) `)`)?
    (`weight_scales` `(` $weight_scales^ `:` type($weight_scales) `)`)?
    (`weight_zero_points` `(` $weight_zero_points^ `:` type($weight_zero_points) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    attr-dict `:` type($input) `,` type($weight) `->` type($output)
  }];
  let hasVerifier = 1;
}

def Qopt_ObserveOp : Qopt_Op<"observe", [Pure, SameOperandsAndResultType]> {
  let summary = "Marks a tensor whose statistics calibration collects";
  let description = [{
    Returns `input` unchanged. Calibration runs the model and records the
    per-channel statistics of `input` under `label` with the `observer` rule
    (`minmax`, `percentile` with `percentile`, or `mse`), then attaches them as
    `stats`. Quantization passes read the statistics; lowering drops the op.

    ```mlir
    %x2 = qopt.observe %x {label = "model.layers.0.self_attn.q_proj.input", observer = #qopt<observer minmax>} : tensor<?x384xf32>
    ```
  }];
  let arguments = (ins Qopt_FloatTensor:$input, StrAttr:$label,
                       DefaultValuedAttr<Qopt_ObserverKindAttr,
                           "::mlir::qopt::ObserverKind::MinMax">:$observer,
                       OptionalAttr<F64Attr>:$percentile,
                       OptionalAttr<Qopt_ActStatsAttr>:$stats);
  let results = (outs Qopt_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

#endif // QOPT_DIALECT_QOPT_IR_QOPTOPS_TD
