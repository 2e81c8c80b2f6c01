//===- GGUF.cpp - llama.cpp's GGUF files ----------------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One GGUF file with the "llama" architecture's metadata, the tokenizer as
// llama.cpp's "llama" (SentencePiece) vocabulary, and the tensors under
// llama.cpp's names. Quantized linears map to ggml's block types only where
// qopt's scheme is the block type exactly:
//   Q8_0   symmetric int8 weights, groups of 32 along K: blocks of one fp16
//          scale and 32 int8 values
//   Q4_0   symmetric int4 weights, groups of 32 along K: blocks of one fp16
//          scale and 16 bytes, element j in the low nibble of byte j and
//          element j + 16 in its high nibble, each stored as value + 8
// so the integer values are qopt's own, never re-rounded (a GPTQ or AWQ
// result keeps its values); the scales become fp16, as the format stores
// them. Other matrices are F16, BF16 or F32 (--float-dtype; by default as
// stored), vectors (norms, biases) F32. llama.cpp applies rope to adjacent
// pairs where Hugging Face rotates the two halves of each head, so the rows
// of q_proj and k_proj are permuted per head (row 2i + j of a head is the
// Hugging Face row j * head_dim / 2 + i), as llama.cpp's converter does.
// llama.cpp quantizes activations and the KV cache itself: layers with
// quantized activations or KV caches are refused.
//
//===----------------------------------------------------------------------===//

#include "ExportInternal.h"
#include "GGUFFile.h"

#include "qopt-runtime/QuantMath.h"

#include "llvm/Support/Path.h"

#include <cmath>
#include <cstring>
#include <map>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::exporter;
using json = llvm::json::Value;

namespace {
class GGUFWriter : public FormatWriter {
public:
  explicit GGUFWriter(const ExportOptions &options) : floats(options.floats) {}
  bool writesFile() const override { return true; }
  LogicalResult addLinear(const QuantizedLinearData &d, Checkpoint &ckpt,
                          std::string &error) override;
  LogicalResult addAttention(AttentionOp op, Checkpoint &ckpt,
                             std::string &error) override;
  LogicalResult writeFile(Checkpoint &ckpt, const SourceCheckpoint &source,
                          StringRef path, std::string &error) override;

private:
  ExportFloatType floats;
  /// The block type of each quantized tensor (by Hugging Face name).
  std::map<std::string, gguf::TensorType> blockTypes;
};

/// The llama architecture's hyperparameters, from config.json.
struct LlamaConfig {
  int64_t hidden = 0, layers = 0, heads = 0, kvHeads = 0, ffn = 0, context = 0,
          headDim = 0, vocab = 0;
  double eps = 1e-5, ropeTheta = 10000;
};
} // namespace

LogicalResult GGUFWriter::addLinear(const QuantizedLinearData &d,
                                    Checkpoint &ckpt, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = "layer '" + d.name + "': " + what;
    return failure();
  };
  if (d.inputScheme)
    return fail("its activations are quantized; GGUF holds weight-only "
                "schemes (llama.cpp quantizes activations itself): export "
                "a --w8a16=group=32 or --w4a16=group=32 model");
  QuantSchemeAttr s = d.weightScheme;
  Type storage = s.getStorage();
  bool int8 = storage.isSignlessInteger(8), int4 = storage.isSignlessInteger(4);
  auto group = dyn_cast<PerGroupAttr>(s.getGranularity());
  if (!(int8 || int4) || !s.isSymmetric() || !group || group.getAxis() != 1 ||
      group.getSize() != 32) {
    std::string what = group
                           ? "groups of " + std::to_string(group.getSize())
                           : std::string(isa<PerChannelAttr>(s.getGranularity())
                                             ? "per-channel scales"
                                             : "scales that are not per group");
    return fail("its weights have " + what +
                (s.isSymmetric() ? "" : ", asymmetric") +
                "; GGUF's Q8_0 and Q4_0 hold symmetric int8 / int4 weights "
                "in groups of 32 along the input dimension (--w8a16=group=32, "
                "--w4a16=group=32)");
  }
  size_t count = size_t(d.out * d.in);
  std::vector<int8_t> values;
  if (int8) {
    values.assign(d.weightBytes.begin(), d.weightBytes.end());
  } else if (d.packing == Packing::Int4x8Offset) {
    std::vector<int32_t> words(d.weightBytes.size() / 4);
    std::memcpy(words.data(), d.weightBytes.data(), words.size() * 4);
    values = ::qnum::unpackInt4x8Offset(words, count);
  } else {
    values = ::qnum::unpackInt4x2(d.weightBytes, count);
  }
  if (values.size() != count || d.weightScales.size() != count / 32)
    return fail("its stored weight or scales have the wrong size");
  gguf::TensorType type =
      int8 ? gguf::TensorType::Q8_0 : gguf::TensorType::Q4_0;
  int64_t bytesPerBlock = gguf::blockBytes(type);
  std::vector<uint8_t> blocks(count / 32 * bytesPerBlock);
  for (size_t b = 0; b < count / 32; ++b) {
    float scale = d.weightScales[b];
    uint16_t h = qrt::floatToHalf(scale);
    if (!std::isfinite(::qnum::halfToFloat(h)) ||
        (scale != 0 && ::qnum::halfToFloat(h) == 0))
      return fail("scale " + std::to_string(scale) +
                  " is outside fp16's range, which GGUF stores scales in");
    uint8_t *out = blocks.data() + b * bytesPerBlock;
    std::memcpy(out, &h, 2);
    const int8_t *v = values.data() + b * 32;
    if (int8) {
      std::memcpy(out + 2, v, 32);
      continue;
    }
    for (int j = 0; j < 16; ++j)
      out[2 + j] = uint8_t((v[j] + 8) | ((v[j + 16] + 8) << 4));
  }
  std::string name = d.name + ".weight";
  blockTypes[name] = type;
  ckpt.addBytes(name, qrt::DType::U8, {d.out, d.in}, std::move(blocks));
  if (!d.bias.empty())
    ckpt.addFloat(d.name + ".bias", {d.out}, d.bias);
  return success();
}

LogicalResult GGUFWriter::addAttention(AttentionOp op, Checkpoint &,
                                       std::string &error) {
  if (!op.getKeySchemeAttr() && !op.getValueSchemeAttr())
    return success();
  error = "layer " + std::to_string(op.getLayer()) +
          " has a quantized KV cache; GGUF has no KV-cache scales (llama.cpp "
          "chooses its cache type at run time: --cache-type-k / -v)";
  return failure();
}

/// llama.cpp's name of a Hugging Face tensor name (empty: none).
static std::string ggufName(StringRef hf) {
  static const std::pair<const char *, const char *> kTop[] = {
      {"model.embed_tokens.", "token_embd."},
      {"model.norm.", "output_norm."},
      {"lm_head.", "output."}};
  for (auto [from, to] : kTop)
    if (hf.starts_with(from))
      return to + hf.drop_front(strlen(from)).str();
  static const std::pair<const char *, const char *> kLayer[] = {
      {"input_layernorm.", "attn_norm."},
      {"post_attention_layernorm.", "ffn_norm."},
      {"self_attn.q_proj.", "attn_q."},
      {"self_attn.k_proj.", "attn_k."},
      {"self_attn.v_proj.", "attn_v."},
      {"self_attn.o_proj.", "attn_output."},
      {"mlp.gate_proj.", "ffn_gate."},
      {"mlp.up_proj.", "ffn_up."},
      {"mlp.down_proj.", "ffn_down."}};
  if (!hf.consume_front("model.layers."))
    return "";
  auto [layer, rest] = hf.split('.');
  unsigned n;
  if (layer.getAsInteger(10, n))
    return "";
  for (auto [from, to] : kLayer)
    if (rest.starts_with(from))
      return "blk." + layer.str() + "." + to +
             rest.drop_front(strlen(from)).str();
  return "";
}

static FailureOr<int64_t> intKey(const llvm::json::Object &c, StringRef key,
                                 std::optional<int64_t> fallback,
                                 std::string &error) {
  if (std::optional<int64_t> v = c.getInteger(key))
    return *v;
  if (fallback)
    return *fallback;
  error = "config.json has no integer \"" + key.str() + "\"";
  return failure();
}

static LogicalResult readConfig(const llvm::json::Object &c, LlamaConfig &l,
                                std::string &error) {
  std::optional<StringRef> type = c.getString("model_type");
  if (!type || (*type != "llama" && *type != "mistral")) {
    error = "model_type \"" + (type ? type->str() : std::string()) +
            "\": qopt's GGUF export writes llama.cpp's \"llama\" "
            "architecture (model_type llama or mistral)";
    return failure();
  }
  for (auto [key, field, fallback] :
       {std::tuple<const char *, int64_t *, std::optional<int64_t>>{
            "hidden_size", &l.hidden, std::nullopt},
        {"num_hidden_layers", &l.layers, std::nullopt},
        {"num_attention_heads", &l.heads, std::nullopt},
        {"intermediate_size", &l.ffn, std::nullopt},
        {"max_position_embeddings", &l.context, 4096},
        {"vocab_size", &l.vocab, std::nullopt}}) {
    FailureOr<int64_t> v = intKey(c, key, fallback, error);
    if (failed(v))
      return failure();
    *field = *v;
  }
  FailureOr<int64_t> kv = intKey(c, "num_key_value_heads", l.heads, error);
  FailureOr<int64_t> hd =
      intKey(c, "head_dim", l.heads ? l.hidden / l.heads : 0, error);
  if (failed(kv) || failed(hd))
    return failure();
  l.kvHeads = *kv;
  l.headDim = *hd;
  if (std::optional<double> e = c.getNumber("rms_norm_eps"))
    l.eps = *e;
  const llvm::json::Object *rope = c.getObject("rope_parameters");
  if (!rope)
    rope = c.getObject("rope_scaling");
  if (std::optional<double> t = c.getNumber("rope_theta"))
    l.ropeTheta = *t;
  if (rope) {
    if (std::optional<double> t = rope->getNumber("rope_theta"))
      l.ropeTheta = *t;
    std::optional<StringRef> rt = rope->getString("rope_type");
    if (!rt)
      rt = rope->getString("type");
    if (rt && *rt != "default") {
      error = "rope_type \"" + rt->str() +
              "\": qopt's GGUF export writes the default rope only";
      return failure();
    }
  }
  return success();
}

/// Permutes the rows of a [heads * headDim, ...] tensor from Hugging Face's
/// rotate-half order to llama.cpp's adjacent pairs.
static std::vector<uint8_t> permuteRows(const std::vector<uint8_t> &data,
                                        int64_t rows, int64_t heads) {
  size_t rowBytes = data.size() / rows;
  int64_t headDim = rows / heads, half = headDim / 2;
  std::vector<uint8_t> out(data.size());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        std::memcpy(out.data() + (h * headDim + 2 * i + j) * rowBytes,
                    data.data() + (h * headDim + j * half + i) * rowBytes,
                    rowBytes);
  return out;
}

/// A float tensor's values.
static std::vector<float> decodeFloats(const qrt::TensorData &t) {
  size_t n = t.data.size() / qrt::dtypeSize(t.dtype);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    if (t.dtype == qrt::DType::F32) {
      std::memcpy(&v[i], t.data.data() + 4 * i, 4);
      continue;
    }
    uint16_t h;
    std::memcpy(&h, t.data.data() + 2 * i, 2);
    v[i] = t.dtype == qrt::DType::BF16 ? ::qnum::bf16ToFloat(h)
                                       : ::qnum::halfToFloat(h);
  }
  return v;
}

LogicalResult GGUFWriter::writeFile(Checkpoint &ckpt,
                                    const SourceCheckpoint &source,
                                    StringRef path, std::string &error) {
  LlamaConfig l;
  if (failed(readConfig(source.config, l, error))) {
    error = source.dir + "/config.json: " + error;
    return failure();
  }
  gguf::Writer w;
  w.addString("general.architecture", "llama");
  w.addString("general.name", llvm::sys::path::filename(source.dir));
  w.addUInt32("general.quantization_version", 2);
  w.addUInt32("llama.vocab_size", l.vocab);
  w.addUInt32("llama.context_length", l.context);
  w.addUInt32("llama.embedding_length", l.hidden);
  w.addUInt32("llama.block_count", l.layers);
  w.addUInt32("llama.feed_forward_length", l.ffn);
  w.addUInt32("llama.attention.head_count", l.heads);
  w.addUInt32("llama.attention.head_count_kv", l.kvHeads);
  w.addUInt32("llama.attention.key_length", l.headDim);
  w.addUInt32("llama.attention.value_length", l.headDim);
  w.addUInt32("llama.rope.dimension_count", l.headDim);
  w.addFloat32("llama.rope.freq_base", l.ropeTheta);
  w.addFloat32("llama.attention.layer_norm_rms_epsilon", l.eps);

  // The file type is that of the quantized tensors, else of the matrices.
  std::optional<gguf::TensorType> fileType;
  for (const qrt::TensorData &t : ckpt.tensors)
    if (blockTypes.count(t.name))
      fileType = fileType.value_or(blockTypes[t.name]);
  for (qrt::TensorData &t : ckpt.tensors) {
    std::string name = ggufName(t.name);
    if (name.empty()) {
      error = "tensor '" + t.name + "' has no llama.cpp name";
      return failure();
    }
    gguf::TensorType type;
    if (auto it = blockTypes.find(t.name); it != blockTypes.end()) {
      type = it->second;
    } else {
      std::vector<float> values = decodeFloats(t);
      qrt::DType dtype = t.dtype;
      if (t.shape.size() < 2)
        dtype = qrt::DType::F32;
      else if (floats != ExportFloatType::Model)
        dtype = floats == ExportFloatType::F16    ? qrt::DType::F16
                : floats == ExportFloatType::BF16 ? qrt::DType::BF16
                                                  : qrt::DType::F32;
      bool exact = true;
      t.data = floatBytes(values, dtype, exact);
      type = dtype == qrt::DType::F32   ? gguf::TensorType::F32
             : dtype == qrt::DType::F16 ? gguf::TensorType::F16
                                        : gguf::TensorType::BF16;
      if (t.shape.size() >= 2)
        fileType = fileType.value_or(type);
    }
    bool q = StringRef(name).ends_with(".attn_q.weight") ||
             StringRef(name).ends_with(".attn_q.bias");
    bool k = StringRef(name).ends_with(".attn_k.weight") ||
             StringRef(name).ends_with(".attn_k.bias");
    if (q || k)
      t.data = permuteRows(t.data, t.shape[0], q ? l.heads : l.kvHeads);
    std::vector<int64_t> dims(t.shape.rbegin(), t.shape.rend());
    w.addTensor(name, std::move(dims), type, std::move(t.data));
  }
  // llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7,
  // MOSTLY_BF16 32.
  uint32_t ftype = 0;
  switch (fileType.value_or(gguf::TensorType::F32)) {
  case gguf::TensorType::F32:
    ftype = 0;
    break;
  case gguf::TensorType::F16:
    ftype = 1;
    break;
  case gguf::TensorType::Q4_0:
    ftype = 2;
    break;
  case gguf::TensorType::Q8_0:
    ftype = 7;
    break;
  case gguf::TensorType::BF16:
    ftype = 32;
    break;
  }
  w.addUInt32("general.file_type", ftype);
  if (failed(gguf::addLlamaVocab(source.dir, source.config, w, error)))
    return failure();
  return writeOutputFile(
      path,
      [&](llvm::raw_ostream &os) {
        w.write(os);
        return success();
      },
      error);
}

std::unique_ptr<FormatWriter>
exporter::createGGUFWriter(const ExportOptions &options) {
  return std::make_unique<GGUFWriter>(options);
}
