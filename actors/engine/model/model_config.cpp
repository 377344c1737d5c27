#include "actors/engine/model/model_config.hpp"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "actors/engine/model/json_fields.hpp"

namespace troupe::engine {
namespace {

using json_fields::get_bool;
using json_fields::get_int;
using json_fields::get_number;
using json_fields::get_string;

constexpr std::array<const char*, 3> k_supported_architectures = {
    "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"};

bool fail(std::string* error, const std::string& message) {
  if (error) *error = message;
  return false;
}

// An int32 field that must be present and positive.
bool read_required_positive(const nlohmann::json& cfg, const char* key, int32_t& out,
                            std::string& error) {
  auto v = get_int(cfg, key, error);
  if (!error.empty()) return false;
  if (!v) {
    error = std::string("missing required field '") + key + "'";
    return false;
  }
  if (*v <= 0 || *v > INT32_MAX) {
    error = std::string("field '") + key + "' must be a positive int32, got " +
            std::to_string(*v);
    return false;
  }
  out = static_cast<int32_t>(*v);
  return true;
}

bool read_optional_positive(const nlohmann::json& cfg, const char* key, int32_t& out,
                            std::string& error) {
  auto v = get_int(cfg, key, error);
  if (!error.empty()) return false;
  if (!v) return true;
  if (*v <= 0 || *v > INT32_MAX) {
    error = std::string("field '") + key + "' must be a positive int32, got " +
            std::to_string(*v);
    return false;
  }
  out = static_cast<int32_t>(*v);
  return true;
}

// Reads the llama3 parameters (and rope_theta, when present) from one rope
// object: either `rope_scaling` (published configs) or `rope_parameters`
// (transformers 5). An object without a type means "default".
bool read_rope_object(const nlohmann::json& obj, const char* object_name, gpu::rope_spec& rope,
                      std::string& error) {
  if (!obj.is_object()) {
    error = std::string("field '") + object_name + "' must be an object, got " +
            obj.type_name();
    return false;
  }
  if (auto theta = get_number(obj, "rope_theta", error)) rope.theta = static_cast<float>(*theta);
  auto type = get_string(obj, "rope_type", error);
  if (!type) type = get_string(obj, "type", error);
  if (!error.empty()) return false;
  if (!type || *type == "default") {
    rope.scaling = gpu::rope_scaling_kind::none;
    return true;
  }
  if (*type != "llama3") {
    error = std::string("unsupported rope type '") + *type + "' in '" + object_name +
            "' (supported: default, llama3)";
    return false;
  }
  rope.scaling = gpu::rope_scaling_kind::llama3;
  const std::array<std::pair<const char*, float*>, 3> factors = {{
      {"factor", &rope.factor},
      {"low_freq_factor", &rope.low_freq_factor},
      {"high_freq_factor", &rope.high_freq_factor},
  }};
  for (const auto& [key, dst] : factors) {
    auto v = get_number(obj, key, error);
    if (!error.empty()) return false;
    if (!v) {
      error = std::string("llama3 rope scaling in '") + object_name + "' is missing '" + key + "'";
      return false;
    }
    *dst = static_cast<float>(*v);
  }
  auto original = get_int(obj, "original_max_position_embeddings", error);
  if (!error.empty()) return false;
  if (!original || *original <= 0) {
    error = std::string("llama3 rope scaling in '") + object_name +
            "' needs a positive 'original_max_position_embeddings'";
    return false;
  }
  rope.original_max_position_embeddings = static_cast<int32_t>(*original);
  if (rope.factor <= 0.0f || rope.high_freq_factor <= rope.low_freq_factor) {
    error = std::string("llama3 rope scaling in '") + object_name +
            "' needs factor > 0 and high_freq_factor > low_freq_factor";
    return false;
  }
  return true;
}

bool read_rope(const nlohmann::json& cfg, gpu::rope_spec& rope, std::string& error) {
  if (auto theta = get_number(cfg, "rope_theta", error)) rope.theta = static_cast<float>(*theta);
  if (!error.empty()) return false;
  auto scaling = cfg.find("rope_scaling");
  if (scaling != cfg.end() && !scaling->is_null() &&
      !read_rope_object(*scaling, "rope_scaling", rope, error))
    return false;
  auto parameters = cfg.find("rope_parameters");
  if (parameters != cfg.end() && !parameters->is_null() &&
      !read_rope_object(*parameters, "rope_parameters", rope, error))
    return false;
  if (!(rope.theta > 0.0f)) {
    error = "field 'rope_theta' must be positive";
    return false;
  }
  return true;
}

bool read_architecture(const nlohmann::json& cfg, std::string& architecture, std::string& error) {
  auto it = cfg.find("architectures");
  if (it == cfg.end() || it->is_null()) {
    error = "missing required field 'architectures'";
    return false;
  }
  if (!it->is_array() || it->empty() || !(*it)[0].is_string()) {
    error = "field 'architectures' must be a non-empty array of strings";
    return false;
  }
  architecture = (*it)[0].get<std::string>();
  if (std::find(k_supported_architectures.begin(), k_supported_architectures.end(),
                architecture) == k_supported_architectures.end()) {
    error = "unsupported architecture '" + architecture +
            "' (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)";
    return false;
  }
  return true;
}

// Features of the family that this runtime does not implement are refused
// rather than silently computed wrong.
bool check_unsupported_features(const nlohmann::json& cfg, const gpu::model_spec& spec,
                                std::string& error) {
  auto act = get_string(cfg, "hidden_act", error);
  if (!error.empty()) return false;
  if (act && *act != "silu") {
    error = "unsupported hidden_act '" + *act + "' (supported: silu)";
    return false;
  }
  auto mlp_bias = get_bool(cfg, "mlp_bias", error);
  if (!error.empty()) return false;
  if (mlp_bias && *mlp_bias) {
    error = "unsupported 'mlp_bias': true";
    return false;
  }
  auto partial = get_number(cfg, "partial_rotary_factor", error);
  if (!error.empty()) return false;
  if (partial && *partial != 1.0) {
    error = "unsupported 'partial_rotary_factor' " + std::to_string(*partial);
    return false;
  }
  if (spec.num_heads % spec.num_kv_heads != 0) {
    error = "num_attention_heads (" + std::to_string(spec.num_heads) +
            ") must be a multiple of num_key_value_heads (" + std::to_string(spec.num_kv_heads) +
            ")";
    return false;
  }
  if (spec.head_dim % 2 != 0) {
    error = "head_dim must be even for rotary embeddings, got " + std::to_string(spec.head_dim);
    return false;
  }
  return true;
}

// Sliding-window attention (Mistral v0.1, Qwen2 with use_sliding_window) only
// differs from full attention past the window, so the context is capped at
// the window instead.
bool apply_sliding_window(const nlohmann::json& cfg, gpu::model_spec& spec, std::string& error) {
  bool uses_window = spec.architecture == "MistralForCausalLM";
  if (spec.architecture == "Qwen2ForCausalLM") {
    auto use = get_bool(cfg, "use_sliding_window", error);
    if (!error.empty()) return false;
    uses_window = use.value_or(false);
  }
  if (!uses_window) return true;
  auto window = get_int(cfg, "sliding_window", error);
  if (!error.empty()) return false;
  if (window && *window > 0 && *window < spec.max_position_embeddings)
    spec.max_position_embeddings = static_cast<int32_t>(*window);
  return true;
}

bool parse_fields(const nlohmann::json& cfg, gpu::model_spec& spec, std::string& error) {
  if (!read_architecture(cfg, spec.architecture, error)) return false;
  if (!read_required_positive(cfg, "vocab_size", spec.vocab_size, error) ||
      !read_required_positive(cfg, "hidden_size", spec.hidden_size, error) ||
      !read_required_positive(cfg, "intermediate_size", spec.intermediate_size, error) ||
      !read_required_positive(cfg, "num_hidden_layers", spec.num_layers, error) ||
      !read_required_positive(cfg, "num_attention_heads", spec.num_heads, error) ||
      !read_required_positive(cfg, "max_position_embeddings", spec.max_position_embeddings,
                              error))
    return false;
  spec.num_kv_heads = spec.num_heads;
  spec.head_dim = spec.hidden_size / spec.num_heads;
  if (!read_optional_positive(cfg, "num_key_value_heads", spec.num_kv_heads, error) ||
      !read_optional_positive(cfg, "head_dim", spec.head_dim, error))
    return false;
  if (auto eps = get_number(cfg, "rms_norm_eps", error)) spec.rms_norm_eps = static_cast<float>(*eps);
  if (auto tie = get_bool(cfg, "tie_word_embeddings", error)) spec.tie_word_embeddings = *tie;
  if (auto bias = get_bool(cfg, "attention_bias", error)) spec.attention_bias = *bias;
  // Qwen2's q/k/v projections always carry a bias; its config has no flag.
  if (spec.architecture == "Qwen2ForCausalLM") spec.attention_bias = true;
  if (!error.empty()) return false;
  auto dtype = get_string(cfg, "dtype", error);
  if (!dtype) dtype = get_string(cfg, "torch_dtype", error);
  if (!error.empty()) return false;
  if (dtype) spec.torch_dtype = *dtype;
  if (!read_rope(cfg, spec.rope, error)) return false;
  if (!check_unsupported_features(cfg, spec, error)) return false;
  return apply_sliding_window(cfg, spec, error);
}

std::optional<gpu::model_spec> parse(const std::string& json_text, std::string& error) {
  nlohmann::json cfg = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (cfg.is_discarded()) {
    error = "not valid JSON";
    return std::nullopt;
  }
  if (!cfg.is_object()) {
    error = "must be a JSON object";
    return std::nullopt;
  }
  gpu::model_spec spec;
  if (!parse_fields(cfg, spec, error)) return std::nullopt;
  return spec;
}

}  // namespace

std::optional<gpu::model_spec> parse_model_config(const std::string& json_text,
                                                  std::string* error) {
  std::string message;
  auto spec = parse(json_text, message);
  if (!spec) fail(error, "config.json: " + message);
  return spec;
}

std::optional<gpu::model_spec> load_model_config(const std::string& path, std::string* error) {
  auto text = json_fields::read_text_file(path, error);
  if (!text) return std::nullopt;
  std::string message;
  auto spec = parse(*text, message);
  if (!spec) fail(error, path + ": " + message);
  return spec;
}

}  // namespace troupe::engine
