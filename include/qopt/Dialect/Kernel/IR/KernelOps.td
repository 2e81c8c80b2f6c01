//===- KernelOps.td - qk operations ------------------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_KERNEL_IR_KERNELOPS_TD
#define QOPT_DIALECT_KERNEL_IR_KERNELOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "qopt/Dialect/Kernel/IR/KernelBase.td"
include "qopt/Dialect/Kernel/IR/KernelAttrs.td"
include "qopt/Dialect/Kernel/IR/KernelInterfaces.td"
include "qopt/Dialect/Qopt/IR/QoptAttrs.td"

def QK_Tensor : RankedTensorOf<[F32, BF16, F16, I8, I<4>, I32, F8E4M3FN]>;
def QK_F32Tensor : RankedTensorOf<[F32]>;
def QK_IndexTensor : RankedTensorOf<[I32]>;

/// The KV caches of the model: appends write them, attention reads them.
def QK_KVCacheResource : Resource<"::mlir::qopt::KVCacheResource">;

class QK_KernelOp<string mnemonic, list<Trait> traits = []>
    : QK_Op<mnemonic, !listconcat(traits, [QK_KernelOpInterface])>;

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

def QK_KVCacheOp : QK_Op<"kv_cache", [Symbol, HasParent<"ModuleOp">]> {
  let summary = "Declares the KV cache of one attention layer";
  let description = [{
    Row `p` of each cache (`[max_seq, num_kv_heads * head_dim]`) holds the
    key (after RoPE) or value of position `p`, stored as `key_type` /
    `value_type`; a quantized cache's scheme has its scales dropped (static
    scales are operands of the ops that use the cache; a dynamic per-token
    scheme keeps one scale per cached row beside the cache). The runtime
    allocates the cache for `--max-seq-len` rows.

    ```mlir
    qk.kv_cache @kv0 {layer = 0, num_kv_heads = 2, head_dim = 64, key_type = bf16, value_type = bf16}
    qk.kv_cache @kv1 {layer = 1, num_kv_heads = 2, head_dim = 64, key_type = i8, value_type = i8,
                      key_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>,
                      value_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$layer,
                       I64Attr:$num_kv_heads, I64Attr:$head_dim,
                       TypeAttr:$key_type, TypeAttr:$value_type,
                       OptionalAttr<Qopt_QuantSchemeAttr>:$key_scheme,
                       OptionalAttr<Qopt_QuantSchemeAttr>:$value_scheme);
  let assemblyFormat = "$sym_name attr-dict";
  let hasVerifier = 1;
}

def QK_RopeTableOp : QK_Op<"rope_table", [Pure]> {
  let summary = "The cos / sin table of a rotary embedding";
  let description = [{
    Row `p` holds `cos(p * f_i)` for `i < head_dim / 2`, then `sin(p * f_i)`,
    with the inverse frequencies `f_i` of `theta` and `scaling` (computed by
    the runtime's RoPE code, so the compiled model and the reference use the
    same numbers). The bundle writer materializes it; the IR never holds it.

    ```mlir
    %t = qk.rope_table {head_dim = 64, theta = 1.0e+04} : tensor<1024x64xf32>
    ```
  }];
  let arguments = (ins I64Attr:$head_dim, F64Attr:$theta,
                       OptionalAttr<Qopt_RopeScalingAttr>:$scaling);
  let results = (outs QK_F32Tensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def QK_EmbeddingOp : QK_KernelOp<"embedding", [Pure]> {
  let summary = "Embedding gather";
  let description = [{
    `result[r, :] = table[ids[r], :]` converted to the result type.

    ```mlir
    %h = qk.embedding %table[%ids] : (tensor<32000x384xbf16>, tensor<?xi32>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins QK_Tensor:$table, QK_IndexTensor:$ids);
  let results = (outs QK_Tensor:$result);
  let assemblyFormat =
      "$table `[` $ids `]` attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "embedding"; }
  }];
  let hasVerifier = 1;
}

def QK_RmsNormOp : QK_KernelOp<"rms_norm", [Pure, AttrSizedOperandSegments]> {
  let summary = "rms_norm, optionally with its output quantized";
  let description = [{
    `y = x / sqrt(mean(x^2) + epsilon) * weight` in float32, stored as the
    result's element type. With `out_scheme` (after
    `--qk-fuse-norm-quantize`) the output is quantized in the same kernel:
    dynamic per-token (a second result holds one scale per row) or static
    per-tensor (`out_scale`, and `out_zero_point` when asymmetric).

    ```mlir
    %y = qk.rms_norm %x, %w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xbf16>) -> tensor<?x384xbf16>
    %q, %s = qk.rms_norm %x, %w {epsilon = 1.0e-05, out_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : (tensor<?x384xf32>, tensor<384xf32>) -> (tensor<?x384xi8>, tensor<?xf32>)
    ```
  }];
  let arguments = (ins QK_F32Tensor:$input, QK_Tensor:$weight,
                       Optional<QK_F32Tensor>:$out_scale,
                       Optional<QK_IndexTensor>:$out_zero_point,
                       F64Attr:$epsilon,
                       OptionalAttr<Qopt_QuantSchemeAttr>:$out_scheme);
  let results = (outs QK_Tensor:$result, Optional<QK_F32Tensor>:$scales);
  let assemblyFormat = [{
    $input `,` $weight (`out_scale` `(` $out_scale^ `:` type($out_scale) `)`)?
    (`out_zero_point` `(` $out_zero_point^ `:` type($out_zero_point) `)`)?
    attr-dict `:` `(` type($input) `,` type($weight) `)` `->`
    type($result) (`,` type($scales)^)?
  }];
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "rms_norm"; }
  }];
  let hasVerifier = 1;
}

def QK_QuantizeOp : QK_KernelOp<"quantize", [Pure, AttrSizedOperandSegments]> {
  let summary = "Per-row quantization or conversion of an activation";
  let description = [{
    Quantizes a float32 activation with `scheme` (dynamic per-token: the
    second result holds a scale per row; static per-tensor: `scale` and,
    when asymmetric, `zero_point`), or, without a scheme, converts it to the
    result's float type (bf16 for a bf16 GEMM's input).

    ```mlir
    %q, %s = qk.quantize %x {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x384xf32> -> tensor<?x384xi8>, tensor<?xf32>
    %b = qk.quantize %x : tensor<?x384xf32> -> tensor<?x384xbf16>
    ```
  }];
  let arguments = (ins QK_F32Tensor:$input, Optional<QK_F32Tensor>:$scale,
                       Optional<QK_IndexTensor>:$zero_point,
                       OptionalAttr<Qopt_QuantSchemeAttr>:$scheme);
  let results = (outs QK_Tensor:$result, Optional<QK_F32Tensor>:$scales);
  let assemblyFormat = [{
    $input (`scale` `(` $scale^ `:` type($scale) `)`)?
    (`zero_point` `(` $zero_point^ `:` type($zero_point) `)`)?
    attr-dict `:` type($input) `->` type($result) (`,` type($scales)^)?
  }];
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "quantize"; }
  }];
  let hasVerifier = 1;
}

def QK_GemmOp : QK_KernelOp<"gemm", [Pure, AttrSizedOperandSegments]> {
  let summary = "Tensor-core GEMM `A B^T` with a fused epilogue";
  let description = [{
    `A` is `[tokens, K]` (bf16, or storage values of `a_scheme`), `B` the
    weight `[N, K]` (bf16, or storage of `b_scheme`; int4 packed two per
    byte along K). The accumulator (int32 for s8 x s8, float32 otherwise) is
    dequantized with `a_scales` (per token or per tensor) and `b_scales`
    (per tensor, per channel, per group of K, or per 128 x 128 block),
    `int_bias` (an asymmetric input's folded zero point) and `b_zero_points`
    (asymmetric int4 groups) apply before scaling, `bias` after; with `up`
    (after `--qk-fuse-gated-mlp`) a second weight shares `A` and the result
    is `silu(gate) * up`; `residual` is added last (after
    `--qk-fuse-gemm-epilogue`); the result is stored as its element type,
    quantized with `out_scheme` (static per-tensor, `out_scale`,
    `out_zero_point`) when present. `tile` (set by `--qk-select-tiles`) is
    the thread-block tile; `gemv` (also set there) asks for weight-streaming
    kernels for launches of few tokens, and `wgmma` for an sm_90a
    warpgroup-MMA kernel for launches of many.

    ```mlir
    %y = qk.gemm %xq, %w a_scales(%xs : tensor<?xf32>) b_scales(%ws : tensor<384xf32>) residual(%h : tensor<?x384xf32>) {a_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, b_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : (tensor<?x384xi8>, tensor<384x384xi8>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins QK_Tensor:$a, QK_Tensor:$b,
                       Optional<QK_F32Tensor>:$a_scales,
                       Optional<QK_F32Tensor>:$b_scales,
                       Optional<QK_IndexTensor>:$b_zero_points,
                       Optional<QK_IndexTensor>:$int_bias,
                       Optional<QK_F32Tensor>:$bias,
                       Optional<QK_Tensor>:$up,
                       Optional<QK_F32Tensor>:$up_scales,
                       Optional<QK_IndexTensor>:$up_zero_points,
                       Optional<QK_IndexTensor>:$up_int_bias,
                       Optional<QK_F32Tensor>:$up_bias,
                       Optional<QK_F32Tensor>:$residual,
                       Optional<QK_F32Tensor>:$out_scale,
                       Optional<QK_IndexTensor>:$out_zero_point,
                       OptionalAttr<Qopt_QuantSchemeAttr>:$a_scheme,
                       OptionalAttr<Qopt_QuantSchemeAttr>:$b_scheme,
                       OptionalAttr<Qopt_QuantSchemeAttr>:$out_scheme,
                       OptionalAttr<QK_TileAttr>:$tile,
                       OptionalAttr<QK_GemvAttr>:$gemv,
                       OptionalAttr<QK_WgmmaAttr>:$wgmma,
                       OptionalAttr<StrAttr>:$label);
  let results = (outs QK_Tensor:$result);
  let assemblyFormat = [{
    $a `,` $b
    (`a_scales` `(` $a_scales^ `:` type($a_scales) `)`)?
    (`b_scales` `(` $b_scales^ `:` type($b_scales) `)`)?
    (`b_zero_points` `(` $b_zero_points^ `:` type($b_zero_points) `)`)?
    (`int_bias` `(` $int_bias^ `:` type($int_bias) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`up` `(` $up^ `:` type($up) `)`)?
    (`up_scales` `(` $up_scales^ `:` type($up_scales) `)`)?
    (`up_zero_points` `(` $up_zero_points^ `:` type($up_zero_points) `)`)?
    (`up_int_bias` `(` $up_int_bias^ `:` type($up_int_bias) `)`)?
    (`up_bias` `(` $up_bias^ `:` type($up_bias) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    (`out_scale` `(` $out_scale^ `:` type($out_scale) `)`)?
    (`out_zero_point` `(` $out_zero_point^ `:` type($out_zero_point) `)`)?
    attr-dict `:` `(` type($a) `,` type($b) `)` `->` type($result)
  }];
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "gemm"; }
    ::llvm::StringRef getOperandLayout(unsigned index);
    int64_t getN() { return ::llvm::cast<::mlir::RankedTensorType>(getB().getType()).getDimSize(0); }
    int64_t getK() { return ::llvm::cast<::mlir::RankedTensorType>(getA().getType()).getDimSize(1); }
  }];
  let hasVerifier = 1;
}

def QK_RopeOp : QK_KernelOp<"rope", [Pure]> {
  let summary = "Rotary embedding of the heads of an activation";
  let description = [{
    Rotates each of `num_heads` heads of `input` (rotate_half layout) by the
    row `positions[r]` of the cos / sin `table`.

    ```mlir
    %q2 = qk.rope %q, %pos, %t {num_heads = 6, head_dim = 64} : (tensor<?x384xf32>, tensor<?xi32>, tensor<1024x64xf32>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins QK_F32Tensor:$input, QK_IndexTensor:$positions,
                       QK_F32Tensor:$table, I64Attr:$num_heads,
                       I64Attr:$head_dim);
  let results = (outs QK_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $positions `,` $table attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "rope"; }
  }];
  let hasVerifier = 1;
}

def QK_KVAppendOp : QK_KernelOp<"kv_append", [AttrSizedOperandSegments,
    MemoryEffects<[MemWrite<QK_KVCacheResource>]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Appends keys and values to a KV cache";
  let description = [{
    Writes row `r` of `key` and `value` to row `positions[r]` of the caches
    of `cache`, quantized with the cache's schemes (`key_scale` /
    `value_scale` for static ones).

    ```mlir
    qk.kv_append %k, %v, %pos {cache = @kv0} : tensor<?x128xf32>, tensor<?x128xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins QK_F32Tensor:$key, QK_F32Tensor:$value,
                       QK_IndexTensor:$positions,
                       Optional<QK_F32Tensor>:$key_scale,
                       Optional<QK_F32Tensor>:$value_scale,
                       FlatSymbolRefAttr:$cache);
  let assemblyFormat = [{
    $key `,` $value `,` $positions
    (`key_scale` `(` $key_scale^ `:` type($key_scale) `)`)?
    (`value_scale` `(` $value_scale^ `:` type($value_scale) `)`)?
    attr-dict `:` type($key) `,` type($value) `,` type($positions)
  }];
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "kv_append"; }
  }];
}

def QK_RopeKVAppendOp : QK_KernelOp<"rope_kv_append", [AttrSizedOperandSegments,
    MemoryEffects<[MemWrite<QK_KVCacheResource>]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "RoPE of queries and keys fused with the KV-cache append";
  let description = [{
    One kernel: rotates `query` (`num_heads` heads) and `key` with the
    `table`, writes the rotated query to the result, and appends the
    rotated key and `value` to the caches of `cache` at rows `positions`
    (quantizing them with the cache's schemes).

    ```mlir
    %q2 = qk.rope_kv_append %q, %k, %v, %pos, %t {cache = @kv0, num_heads = 6} : (tensor<?x384xf32>, tensor<?x128xf32>, tensor<?x128xf32>, tensor<?xi32>, tensor<1024x64xf32>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins QK_F32Tensor:$query, QK_F32Tensor:$key,
                       QK_F32Tensor:$value, QK_IndexTensor:$positions,
                       QK_F32Tensor:$table,
                       Optional<QK_F32Tensor>:$key_scale,
                       Optional<QK_F32Tensor>:$value_scale,
                       FlatSymbolRefAttr:$cache, I64Attr:$num_heads);
  let results = (outs QK_F32Tensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $positions `,` $table
    (`key_scale` `(` $key_scale^ `:` type($key_scale) `)`)?
    (`value_scale` `(` $value_scale^ `:` type($value_scale) `)`)?
    attr-dict `:` `(` type($query) `,` type($key) `,` type($value) `,`
    type($positions) `,` type($table) `)` `->` type($result)
  }];
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "rope_kv_append"; }
  }];
}

def QK_AttentionOp : QK_KernelOp<"attention", [AttrSizedOperandSegments,
    MemoryEffects<[MemRead<QK_KVCacheResource>]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Attention of queries over a KV cache (GQA / MQA)";
  let description = [{
    Query row `r` (at `positions[r]`, `num_heads` heads) attends over the
    rows of `cache` (query head `h` uses KV head `h / (num_heads /
    num_kv_heads)`): causal rows see positions `0 .. p` (with
    `sliding_window = W`, `p - W + 1 .. p`), non-causal rows every row up to
    the last position of the launch. Quantized caches are dequantized with
    `key_scales` / `value_scales` (static) or their per-row scales.

    ```mlir
    %o = qk.attention %q, %pos {cache = @kv0, num_heads = 6, scale = 0.125} : (tensor<?x384xf32>, tensor<?xi32>) -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins QK_F32Tensor:$query, QK_IndexTensor:$positions,
                       Optional<QK_F32Tensor>:$key_scales,
                       Optional<QK_F32Tensor>:$value_scales,
                       FlatSymbolRefAttr:$cache, I64Attr:$num_heads,
                       F64Attr:$scale,
                       DefaultValuedAttr<BoolAttr, "true">:$causal,
                       OptionalAttr<I64Attr>:$sliding_window);
  let results = (outs QK_Tensor:$result);
  let assemblyFormat = [{
    $query `,` $positions
    (`key_scales` `(` $key_scales^ `:` type($key_scales) `)`)?
    (`value_scales` `(` $value_scales^ `:` type($value_scales) `)`)?
    attr-dict `:` `(` type($query) `,` type($positions) `)` `->` type($result)
  }];
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "attention"; }
  }];
  let hasVerifier = 1;
}

class QK_ElementwiseOp<string mnemonic, string family>
    : QK_KernelOp<mnemonic, [Pure]> {
  let arguments = (ins QK_F32Tensor:$lhs, QK_F32Tensor:$rhs);
  let results = (outs QK_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "}] # family # [{"; }
  }];
  let hasVerifier = 1;
}

def QK_AddOp : QK_ElementwiseOp<"add", "add"> {
  let summary = "Elementwise addition (a residual no GEMM absorbed)";
  let description = [{
    ```mlir
    %y = qk.add %a, %b : (tensor<?x384xf32>, tensor<?x384xf32>) -> tensor<?x384xf32>
    ```
  }];
}

def QK_MulOp : QK_ElementwiseOp<"mul", "mul"> {
  let summary = "Elementwise multiplication";
  let description = [{
    ```mlir
    %y = qk.mul %a, %b : (tensor<?x1024xf32>, tensor<?x1024xf32>) -> tensor<?x1024xf32>
    ```
  }];
}

def QK_SiluMulOp : QK_ElementwiseOp<"silu_mul", "silu_mul"> {
  let summary = "`silu(lhs) * rhs` (a gated MLP no GEMM absorbed)";
  let description = [{
    ```mlir
    %y = qk.silu_mul %g, %u : (tensor<?x1024xf32>, tensor<?x1024xf32>) -> tensor<?x1024xbf16>
    ```
  }];
}

def QK_PermuteColumnsOp : QK_KernelOp<"permute_columns", [Pure]> {
  let summary = "Reorders the columns of an activation";
  let description = [{
    `result[m, j] = input[m, permutation[j]]` (qopt.permute_channels: the
    input of a GPTQ act-order layer, whose weight stores its channels sorted
    by group). The result may be bf16, a conversion for the GEMM that reads
    it fused in. The runtime checks that `permutation` is a permutation when
    it loads the weights.

    ```mlir
    %xp = qk.permute_columns %x, %perm : (tensor<?x384xf32>, tensor<384xi32>) -> tensor<?x384xbf16>
    ```
  }];
  let arguments = (ins QK_Tensor:$input, QK_IndexTensor:$permutation);
  let results = (outs QK_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $permutation attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "permute_columns"; }
  }];
  let hasVerifier = 1;
}

def QK_ArgmaxOp : QK_KernelOp<"argmax", [Pure]> {
  let summary = "Greedy decoding on the device";
  let description = [{
    The index of the largest logit of the launch's last row (the lowest
    index among equal maxima).

    ```mlir
    %next = qk.argmax %logits : (tensor<?x32000xf32>) -> tensor<1xi32>
    ```
  }];
  let arguments = (ins QK_F32Tensor:$logits);
  let results = (outs QK_IndexTensor:$result);
  let assemblyFormat = "$logits attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    ::llvm::StringRef getKernelFamily() { return "argmax"; }
  }];
}

#endif // QOPT_DIALECT_KERNEL_IR_KERNELOPS_TD
