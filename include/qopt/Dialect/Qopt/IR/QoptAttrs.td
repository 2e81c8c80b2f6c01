//===- QoptAttrs.td - qopt attributes ----------------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTATTRS_TD
#define QOPT_DIALECT_QOPT_IR_QOPTATTRS_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "qopt/Dialect/Qopt/IR/QoptBase.td"
include "qopt/Dialect/Qopt/IR/QoptEnums.td"
include "qopt/Dialect/Qopt/IR/QoptInterfaces.td"

//===----------------------------------------------------------------------===//
// Granularities
//===----------------------------------------------------------------------===//

class Qopt_GranularityAttr<string name, string mnemonic>
    : Qopt_Attr<name, mnemonic, [DeclareAttrInterfaceMethods<
          Qopt_GranularityAttrInterface, ["isActivationOnly"]>]>;

def Qopt_PerTensorAttr : Qopt_GranularityAttr<"PerTensor", "per_tensor"> {
  let summary = "One scale for the whole tensor";
  let description = [{
    The scale tensor has rank 0.

    ```mlir
    #qopt.per_tensor
    ```
  }];
}

def Qopt_PerChannelAttr : Qopt_GranularityAttr<"PerChannel", "per_channel"> {
  let summary = "One scale per index of one axis";
  let description = [{
    One scale per slice along `axis` (for a weight `[out, in]`, `axis = 0`
    gives one scale per output channel). The scale tensor has shape
    `[dim(axis)]`.

    ```mlir
    #qopt.per_channel<axis = 0>
    ```
  }];
  let parameters = (ins "int64_t":$axis);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Qopt_PerTokenAttr : Qopt_GranularityAttr<"PerToken", "per_token"> {
  let summary = "One scale per token (row), computed at run time";
  let description = [{
    One scale per index of every dimension but the innermost (the feature
    dimension). The scales depend on the tokens seen, so schemes with this
    granularity are dynamic and apply to activations only. The scale tensor
    has the tensor's shape without its innermost dimension.

    ```mlir
    #qopt.per_token
    ```
  }];
}

def Qopt_PerGroupAttr : Qopt_GranularityAttr<"PerGroup", "per_group"> {
  let summary = "One scale per group of consecutive elements along one axis";
  let description = [{
    Elements along `axis` are split into groups of `size` consecutive
    elements, each with its own scale; `size` must divide the axis. For a
    weight `[out, in]` with `axis = 1, size = 128`, the scale tensor is
    `[out, in / 128]`.

    ```mlir
    #qopt.per_group<axis = 1, size = 128>
    ```
  }];
  let parameters = (ins "int64_t":$axis, "int64_t":$size);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Qopt_PerHeadAttr : Qopt_GranularityAttr<"PerHead", "per_head"> {
  let summary = "One scale per attention head";
  let description = [{
    The dimension `axis` is split into `heads` equal parts (one per attention
    head), each with its own scale. Used for KV-cache schemes: a key tensor
    `[tokens, kv_heads * head_dim]` with `axis = 1, heads = kv_heads`. The
    scale tensor is `[heads]`.

    ```mlir
    #qopt.per_head<axis = 1, heads = 2>
    ```
  }];
  let parameters = (ins "int64_t":$axis, "int64_t":$heads);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Qopt_BlockAttr : Qopt_GranularityAttr<"Block", "block"> {
  let summary = "One scale per 2-D block of the two innermost dimensions";
  let description = [{
    The two innermost dimensions are tiled into `rows x cols` blocks (the last
    block of a dimension may be partial), each with its own scale: a weight
    `[out, in]` gets a scale tensor `[ceil(out / rows), ceil(in / cols)]`.

    ```mlir
    #qopt.block<rows = 128, cols = 128>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols);
  let assemblyFormat = "`<` struct(params) `>`";
}

//===----------------------------------------------------------------------===//
// Quantization scheme
//===----------------------------------------------------------------------===//

def Qopt_QuantSchemeAttr : Qopt_Attr<"QuantScheme", "scheme"> {
  let summary = "A quantization scheme";
  let description = [{
    Describes how real values `x` map to storage values `q`:

    * integer storage (`i8`, `i4`):
      `q = clamp(round_half_even(x / scale) + zero_point, qmin, qmax)`,
      `x' = (q - zero_point) * scale`. Symmetric `i8` uses `[-127, 127]`,
      asymmetric `i8` `[-128, 127]`; symmetric `i4` uses `[-7, 7]`,
      asymmetric `i4` `[-8, 7]`.
    * float8 storage (`f8E4M3FN`, max 448; `f8E5M2`, max 57344):
      `q = fp8(clamp(x / scale, -max, max))` rounding to nearest even,
      `x' = q * scale`. Float8 schemes are symmetric.

    Parameters:
    * the storage type;
    * a granularity attribute (`#qopt.per_tensor`, `#qopt.per_channel`,
      `#qopt.per_token`, `#qopt.per_group`, `#qopt.per_head`, `#qopt.block`);
    * `sym` or `asym`;
    * `static` (calibrated scales, stored inline as `scales = ...` or passed
      as an operand of the op using the scheme) or `dynamic` (computed at run
      time from the values being quantized);
    * optional float32 `scales` and int32 `zero_points` (static only);
    * `packing` for sub-byte storage (`i4` must say how it is packed).

    ```mlir
    #qopt.scheme<i8, #qopt.per_token, sym, dynamic>
    #qopt.scheme<i8, #qopt.per_tensor, asym, static,
                 scales = dense<0.02> : tensor<f32>,
                 zero_points = dense<-3> : tensor<i32>>
    #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 128>, sym, static,
                 packing = int4x2>
    #qopt.scheme<f8E4M3FN, #qopt.per_channel<axis = 0>, sym, static>
    ```
  }];
  let parameters = (ins
    "::mlir::Type":$storage,
    "::mlir::qopt::GranularityAttrInterface":$granularity,
    EnumParameter<Qopt_Symmetry>:$symmetry,
    EnumParameter<Qopt_ScaleMode>:$mode,
    OptionalParameter<"::mlir::ElementsAttr">:$scales,
    OptionalParameter<"::mlir::ElementsAttr">:$zeroPoints,
    DefaultValuedParameter<"::mlir::qopt::Packing",
                           "::mlir::qopt::Packing::None">:$packing
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isStatic() const { return getMode() == ScaleMode::Static; }
    bool isDynamic() const { return getMode() == ScaleMode::Dynamic; }
    bool isSymmetric() const { return getSymmetry() == Symmetry::Symmetric; }
    bool isFloat8() const;
    bool isInteger() const { return !isFloat8(); }
    /// The storage kind for the MLIR-free numerics library.
    ::qnum::StorageKind getStorageKind() const;
    /// Scales of a static scheme that carries them inline.
    bool hasInlineScales() const { return static_cast<bool>(getScales()); }
    /// The inline scale values; empty when there are none or when they live
    /// in a resource blob that is not loaded yet.
    ::llvm::SmallVector<float> getScaleValues() const;
    /// The zero points: all zero (one per scale) when the scheme has none,
    /// empty when they live in a resource blob that is not loaded yet.
    ::llvm::SmallVector<int32_t> getZeroPointValues() const;
    /// Checks this scheme against the shape of the tensor it quantizes (the
    /// real-valued or storage tensor); `what` names that tensor in messages.
    ::llvm::LogicalResult
    verifyForShape(::llvm::ArrayRef<int64_t> shape,
                   ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError,
                   ::llvm::StringRef what) const;
    /// The shape of the scale tensor for a tensor of `shape`.
    ::llvm::SmallVector<int64_t> getScaleShape(::llvm::ArrayRef<int64_t> shape) const {
      return getGranularity().getScaleShape(shape);
    }
    /// The scheme's numbers for the MLIR-free numerics library, with its
    /// inline scales and zero points (empty when it has none).
    ::qnum::TensorScheme getTensorScheme() const;
    /// The same scheme with `scales` and `zero_points` dropped.
    QuantSchemeAttr withoutValues() const;
  }];
}

//===----------------------------------------------------------------------===//
// Calibration statistics and model metadata
//===----------------------------------------------------------------------===//

def Qopt_ActStatsAttr : Qopt_Attr<"ActStats", "stats"> {
  let summary = "Per-channel activation statistics gathered by calibration";
  let description = [{
    Statistics of a tensor's innermost (channel) dimension over the
    calibration tokens: per-channel `absmax` and optional per-channel `min` and
    `max` (clipped by the observer's rule: min/max, percentile or MSE), the
    number of tokens seen, and an optional `hessian`: the name of the tensor
    `X^T X` (`[channels, channels]`, float32) in the module's `@calib` weight
    store, which `qopt-calibrate` writes beside its output; GPTQ and AWQ read
    it. It is kept out of the IR text.

    ```mlir
    #qopt.stats<absmax = dense<[1.5, 0.25]> : tensor<2xf32>, num_tokens = 4096>
    ```
  }];
  let parameters = (ins
    "::mlir::ElementsAttr":$absmax,
    OptionalParameter<"::mlir::ElementsAttr">:$min,
    OptionalParameter<"::mlir::ElementsAttr">:$max,
    "int64_t":$num_tokens,
    OptionalParameter<"::mlir::StringAttr">:$hessian
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Qopt_RopeScalingAttr : Qopt_Attr<"RopeScaling", "rope_scaling"> {
  let summary = "RoPE frequency scaling";
  let description = [{
    `linear` divides positions by `factor`. `llama3` rescales the inverse
    frequencies by wavelength as Llama 3.1 does, with `low_freq_factor`,
    `high_freq_factor` and `original_max_position`.

    ```mlir
    #qopt.rope_scaling<kind = linear, factor = 2.0>
    #qopt.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 1.0,
                       high_freq_factor = 4.0, original_max_position = 8192>
    ```
  }];
  let parameters = (ins
    EnumParameter<Qopt_RopeScalingKind>:$kind,
    "::mlir::FloatAttr":$factor,
    OptionalParameter<"::mlir::FloatAttr">:$low_freq_factor,
    OptionalParameter<"::mlir::FloatAttr">:$high_freq_factor,
    OptionalParameter<"std::optional<int64_t>">:$original_max_position
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Qopt_ModelAttr : Qopt_Attr<"Model", "model"> {
  let summary = "What the importer records about a model";
  let description = [{
    The `qopt.model` attribute of a module: the checkpoint's architecture
    (`model_type`: `llama`, `mistral` or `qwen2`), the paths of its weights
    (`checkpoint`) and tokenizer (relative paths resolve against the IR
    file's directory), the vocabulary size, and the optional
    `max_position_embeddings`, BOS / EOS token ids and sliding window
    (omitted when the checkpoint's config has none). The dialect checks that
    `qopt.model` is one.

    ```mlir
    module attributes {qopt.model = #qopt.model<architecture = "llama", checkpoint = "model.safetensors.index.json", tokenizer = "tokenizer.json", vocab_size = 32000, max_position_embeddings = 1024, bos_token_id = 1, eos_token_id = 2>} {
    }
    ```
  }];
  let parameters = (ins
    StringRefParameter<"model_type of the checkpoint">:$architecture,
    StringRefParameter<"path of the checkpoint's weights">:$checkpoint,
    StringRefParameter<"path of tokenizer.json", [{""}]>:$tokenizer,
    "int64_t":$vocab_size,
    DefaultValuedParameter<"int64_t", "0">:$max_position_embeddings,
    DefaultValuedParameter<"int64_t", "-1">:$bos_token_id,
    DefaultValuedParameter<"int64_t", "-1">:$eos_token_id,
    DefaultValuedParameter<"int64_t", "0">:$sliding_window
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The same model with `fn` applied to its checkpoint and (when it has
    /// one) tokenizer paths.
    ModelAttr
    mapPaths(::llvm::function_ref<std::string(::llvm::StringRef)> fn) const;
  }];
}

#endif // QOPT_DIALECT_QOPT_IR_QOPTATTRS_TD
