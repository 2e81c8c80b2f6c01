//===- ModelConfig.cpp - Hugging Face config.json -------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/ModelConfig.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace qrt;
using json = nlohmann::json;

namespace {
/// Reads typed keys from a JSON object, remembering the first error.
class Reader {
public:
  Reader(const json &object, const std::string &origin, std::string &error)
      : object(object), origin(origin), error(error) {}

  bool ok() const { return !failed; }

  bool fail(const std::string &msg) {
    if (!failed)
      error = origin + ": " + msg;
    failed = true;
    return false;
  }

  bool has(const char *key) const {
    return object.contains(key) && !object[key].is_null();
  }

  int64_t positiveInt(const char *key) {
    if (!has(key))
      return fail(std::string("missing required key '") + key + "'"), 0;
    return positiveIntValue(key, object[key]);
  }

  int64_t optionalPositiveInt(const char *key, int64_t dflt) {
    return has(key) ? positiveIntValue(key, object[key]) : dflt;
  }

  double positiveNumber(const json &obj, const char *key, double dflt) {
    if (!obj.contains(key) || obj[key].is_null())
      return dflt;
    if (!obj[key].is_number() || !(obj[key].get<double>() > 0.0))
      return fail(std::string("'") + key + "' must be a positive number"), dflt;
    return obj[key].get<double>();
  }

  bool boolean(const char *key, bool dflt) {
    if (!has(key))
      return dflt;
    if (!object[key].is_boolean())
      return fail(std::string("'") + key + "' must be true or false"), dflt;
    return object[key].get<bool>();
  }

  std::string string(const char *key, const std::string &dflt) {
    if (!has(key))
      return dflt;
    if (!object[key].is_string())
      return fail(std::string("'") + key + "' must be a string"), dflt;
    return object[key].get<std::string>();
  }

  /// A token id: an integer, or the first element of a list of integers.
  int64_t tokenId(const char *key) {
    if (!has(key))
      return -1;
    const json &v = object[key];
    if (v.is_array() && !v.empty())
      return v[0].is_number_integer() ? v[0].get<int64_t>() : -1;
    if (!v.is_number_integer())
      return fail(std::string("'") + key + "' must be an integer"), -1;
    return v.get<int64_t>();
  }

  const json &object;

private:
  /// Sizes are capped at 2^31 so that products of two of them (e.g.
  /// heads x head_dim, vocab x hidden) cannot overflow int64_t.
  int64_t positiveIntValue(const char *key, const json &v) {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0)
      return fail(std::string("'") + key + "' must be a positive integer"), 0;
    if (v.get<int64_t>() > (int64_t(1) << 31))
      return fail(std::string("'") + key + "' is out of range"), 0;
    return v.get<int64_t>();
  }

  const std::string &origin;
  std::string &error;
  bool failed = false;
};
} // namespace

/// The RoPE object of `key` (`rope_parameters` or `rope_scaling`), or null
/// when it is absent, null or empty (transformers treats `{}` as absent).
static const json *ropeObject(Reader &r, const char *key) {
  if (!r.has(key))
    return nullptr;
  const json &o = r.object[key];
  if (!o.is_object()) {
    r.fail(std::string("'") + key + "' must be an object");
    return nullptr;
  }
  return o.empty() ? nullptr : &o;
}

/// The scaling type of a RoPE object: `rope_type`, else the legacy `type`,
/// else "default".
static std::string ropeType(const json &o) {
  for (const char *key : {"rope_type", "type"})
    if (o.contains(key) && o[key].is_string() &&
        !o[key].get<std::string>().empty())
      return o[key].get<std::string>();
  return "default";
}

/// Resolves rope_theta and picks the object that describes the RoPE scaling,
/// with transformers 5's precedence (PreTrainedConfig's
/// convert_rope_params_to_dict): a non-empty legacy `rope_scaling` replaces
/// `rope_parameters`, and the chosen object's `rope_theta` wins over the
/// top-level `rope_theta` (default 10000). What that precedence ignores must
/// agree with what it keeps: a `rope_parameters` key or a top-level
/// `rope_theta` that says something else is an error naming both, never
/// silently dropped. Returns the chosen object (null: no scaling).
static const json *parseRope(Reader &r, const json &root, ModelConfig &c) {
  const json *params = ropeObject(r, "rope_parameters");
  const json *legacy = ropeObject(r, "rope_scaling");
  if (!r.ok())
    return nullptr;
  const json *chosen = legacy ? legacy : params;
  const char *chosenKey = legacy ? "rope_scaling" : "rope_parameters";
  bool topLevel = r.has("rope_theta");
  double top = r.positiveNumber(root, "rope_theta", 10000.0);
  c.ropeTheta = top;
  if (chosen && chosen->contains("rope_theta")) {
    c.ropeTheta = r.positiveNumber(*chosen, "rope_theta", 10000.0);
    if (r.ok() && topLevel && top != c.ropeTheta)
      r.fail("'rope_theta' " + root["rope_theta"].dump() + " disagrees with '" +
             chosenKey + ".rope_theta' " + (*chosen)["rope_theta"].dump() +
             ", which transformers 5 uses; make them agree or remove one");
  }
  if (!r.ok() || !legacy || !params)
    return chosen;
  // Both objects: every key of the ignored `rope_parameters` must agree.
  auto disagree = [&](const std::string &key, const std::string &kept,
                      const std::string &ignored) {
    r.fail("'rope_scaling' and 'rope_parameters' disagree on '" + key + "' (" +
           kept + " vs " + ignored +
           "); transformers 5 uses 'rope_scaling': make them agree or remove "
           "one");
    return nullptr;
  };
  if (ropeType(*legacy) != ropeType(*params))
    return disagree("rope_type", ropeType(*legacy), ropeType(*params));
  for (auto it = params->begin(); it != params->end(); ++it) {
    const std::string &key = it.key();
    const json &value = it.value();
    if (key == "rope_type" || key == "type") {
      continue;
    } else if (key == "rope_theta") {
      if (!value.is_number() || value.get<double>() != c.ropeTheta) {
        std::string kept = json(c.ropeTheta).dump();
        if (!legacy->contains(key))
          kept +=
              topLevel ? " from the top-level 'rope_theta'" : " (the default)";
        return disagree(key, kept, value.dump());
      }
    } else if (!legacy->contains(key) || (*legacy)[key] != value) {
      return disagree(key,
                      legacy->contains(key) ? (*legacy)[key].dump()
                                            : std::string("absent"),
                      value.dump());
    }
  }
  return chosen;
}

std::optional<ModelConfig> ModelConfig::fromFile(const std::string &path,
                                                 std::string &error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return fromJson(ss.str(), path, error);
}

std::optional<ModelConfig> ModelConfig::fromJson(const std::string &text,
                                                 const std::string &origin,
                                                 std::string &error) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    error = origin + ": not valid JSON";
    return std::nullopt;
  }
  if (!root.is_object()) {
    error = origin + ": not a JSON object";
    return std::nullopt;
  }
  Reader r(root, origin, error);
  ModelConfig c;
  c.modelType = r.string("model_type", "");
  if (!r.ok())
    return std::nullopt;
  if (c.modelType != "llama" && c.modelType != "mistral" &&
      c.modelType != "qwen2") {
    error = origin + ": unsupported model_type '" + c.modelType +
            "'; qopt supports llama, mistral and qwen2";
    return std::nullopt;
  }
  c.hiddenSize = r.positiveInt("hidden_size");
  c.numLayers = r.positiveInt("num_hidden_layers");
  c.numHeads = r.positiveInt("num_attention_heads");
  c.intermediateSize = r.positiveInt("intermediate_size");
  c.vocabSize = r.positiveInt("vocab_size");
  c.numKvHeads = r.optionalPositiveInt("num_key_value_heads", c.numHeads);
  c.maxPositionEmbeddings = r.optionalPositiveInt("max_position_embeddings", 0);
  if (!r.ok())
    return std::nullopt;
  if (r.has("head_dim")) {
    c.headDim = r.optionalPositiveInt("head_dim", 0);
  } else {
    if (c.hiddenSize % c.numHeads != 0) {
      r.fail("hidden_size " + std::to_string(c.hiddenSize) +
             " is not divisible by num_attention_heads " +
             std::to_string(c.numHeads) + " (and no head_dim is given)");
      return std::nullopt;
    }
    c.headDim = c.hiddenSize / c.numHeads;
  }
  if (c.numHeads % c.numKvHeads != 0) {
    r.fail("num_attention_heads " + std::to_string(c.numHeads) +
           " is not a multiple of num_key_value_heads " +
           std::to_string(c.numKvHeads));
    return std::nullopt;
  }
  if (c.headDim % 2 != 0) {
    r.fail("head_dim " + std::to_string(c.headDim) +
           " must be even for rotary embeddings");
    return std::nullopt;
  }
  c.rmsNormEps = r.positiveNumber(root, "rms_norm_eps", 1e-6);

  std::string act = r.string("hidden_act", "silu");
  if (r.ok() && act != "silu") {
    r.fail("unsupported hidden_act '" + act + "'; expected 'silu'");
    return std::nullopt;
  }

  const json *scaling = parseRope(r, root, c);
  if (!r.ok())
    return std::nullopt;
  if (scaling) {
    std::string type = ropeType(*scaling);
    if (type == "default") {
      c.ropeScaling = RopeScaling::None;
    } else if (type == "linear") {
      c.ropeScaling = RopeScaling::Linear;
      c.ropeFactor = r.positiveNumber(*scaling, "factor", 0.0);
      if (c.ropeFactor == 0.0)
        r.fail("linear rope scaling needs a positive 'factor'");
    } else if (type == "llama3") {
      c.ropeScaling = RopeScaling::Llama3;
      c.ropeFactor = r.positiveNumber(*scaling, "factor", 0.0);
      c.ropeLowFreqFactor = r.positiveNumber(*scaling, "low_freq_factor", 0.0);
      c.ropeHighFreqFactor =
          r.positiveNumber(*scaling, "high_freq_factor", 0.0);
      double originalMax =
          r.positiveNumber(*scaling, "original_max_position_embeddings", 0.0);
      if (originalMax > 1e12)
        r.fail("'original_max_position_embeddings' is out of range");
      else
        c.ropeOriginalMaxPosition = static_cast<int64_t>(originalMax);
      if (r.ok() &&
          (c.ropeFactor == 0.0 || c.ropeLowFreqFactor == 0.0 ||
           c.ropeHighFreqFactor == 0.0 || c.ropeOriginalMaxPosition == 0))
        r.fail("llama3 rope scaling needs factor, low_freq_factor, "
               "high_freq_factor and original_max_position_embeddings");
    } else {
      r.fail("unsupported rope scaling type '" + type +
             "'; qopt supports default, linear and llama3");
    }
  }

  c.tieWordEmbeddings = r.boolean("tie_word_embeddings", false);
  bool attentionBias = r.boolean("attention_bias", false);
  // Qwen2 checkpoints carry q/k/v biases whether or not the key is present.
  c.qkvBias = attentionBias || c.modelType == "qwen2";
  c.oBias = attentionBias && c.modelType != "qwen2";
  c.mlpBias = r.boolean("mlp_bias", false);
  if (c.modelType == "mistral" || c.modelType == "qwen2") {
    bool useSliding =
        c.modelType == "mistral" || r.boolean("use_sliding_window", false);
    if (useSliding && r.has("sliding_window"))
      c.slidingWindow = r.optionalPositiveInt("sliding_window", 0);
    // Which layers use the window: `layer_types` when the config lists them
    // (transformers 5), else Mistral's every layer and Qwen2's layers from
    // max_window_layers on (its default is 28).
    if (c.slidingWindow > 0 && r.has("layer_types")) {
      const json &types = r.object["layer_types"];
      if (!types.is_array())
        r.fail("'layer_types' must be a list");
      else
        for (const json &t : types) {
          if (!t.is_string() ||
              (t != "sliding_attention" && t != "full_attention")) {
            r.fail("'layer_types' entries must be \"sliding_attention\" or "
                   "\"full_attention\"");
            break;
          }
          c.slidingLayers.push_back(t == "sliding_attention");
        }
    } else if (c.slidingWindow > 0 && c.modelType == "qwen2") {
      int64_t first = 28;
      if (r.has("max_window_layers")) {
        const json &v = r.object["max_window_layers"];
        if (!v.is_number_integer() || v.get<int64_t>() < 0)
          r.fail("'max_window_layers' must be a non-negative integer");
        else
          first = v.get<int64_t>();
      }
      for (int64_t l = 0; l < c.numLayers; ++l)
        c.slidingLayers.push_back(l >= first);
    }
    if (r.ok() && !c.slidingLayers.empty() &&
        static_cast<int64_t>(c.slidingLayers.size()) != c.numLayers)
      r.fail("'layer_types' has " + std::to_string(c.slidingLayers.size()) +
             " entries but num_hidden_layers is " +
             std::to_string(c.numLayers));
  }
  c.dtype = r.string("dtype", r.string("torch_dtype", "float32"));
  if (r.ok() && c.dtype != "bfloat16" && c.dtype != "float16" &&
      c.dtype != "float32")
    r.fail("unsupported dtype '" + c.dtype +
           "'; expected bfloat16, float16 or float32");
  c.bosTokenId = r.tokenId("bos_token_id");
  c.eosTokenId = r.tokenId("eos_token_id");
  if (!r.ok())
    return std::nullopt;
  return c;
}

int64_t ModelConfig::slidingWindowOfLayer(int64_t layer) const {
  if (slidingWindow <= 0)
    return 0;
  if (slidingLayers.empty())
    return slidingWindow;
  return slidingLayers[layer] ? slidingWindow : 0;
}

std::vector<TensorSpec> ModelConfig::checkpointTensors() const {
  int64_t h = hiddenSize, q = numHeads * headDim, kv = numKvHeads * headDim,
          inter = intermediateSize;
  std::vector<TensorSpec> out;
  auto linear = [&](const std::string &prefix, int64_t rows, int64_t cols,
                    bool bias) {
    out.push_back({prefix + ".weight", {rows, cols}});
    if (bias)
      out.push_back({prefix + ".bias", {rows}});
  };
  out.push_back({"model.embed_tokens.weight", {vocabSize, h}});
  for (int64_t l = 0; l < numLayers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    linear(p + "self_attn.q_proj", q, h, qkvBias);
    linear(p + "self_attn.k_proj", kv, h, qkvBias);
    linear(p + "self_attn.v_proj", kv, h, qkvBias);
    linear(p + "self_attn.o_proj", h, q, oBias);
    linear(p + "mlp.gate_proj", inter, h, mlpBias);
    linear(p + "mlp.up_proj", inter, h, mlpBias);
    linear(p + "mlp.down_proj", h, inter, mlpBias);
    out.push_back({p + "input_layernorm.weight", {h}});
    out.push_back({p + "post_attention_layernorm.weight", {h}});
  }
  out.push_back({"model.norm.weight", {h}});
  if (!tieWordEmbeddings)
    out.push_back({"lm_head.weight", {vocabSize, h}});
  return out;
}
