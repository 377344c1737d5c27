#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "actors/engine/model/model_config.hpp"

using troupe::engine::parse_model_config;
using troupe::gpu::rope_scaling_kind;

namespace {

// config.json of meta-llama/Llama-3.2-1B as published (transformers 4.45).
const char* k_llama32_published = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu",
  "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
  "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256})";

// The same model as transformers 5 writes it: rope_parameters and dtype.
const char* k_llama32_transformers5 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "dtype": "bfloat16", "eos_token_id": 128001, "head_dim": 64,
  "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
  "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16,
  "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_parameters": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                      "original_max_position_embeddings": 8192, "rope_theta": 500000.0,
                      "rope_type": "llama3"},
  "tie_word_embeddings": true, "transformers_version": "5.0.0", "use_cache": true,
  "vocab_size": 128256})";

// Qwen/Qwen2.5-0.5B-Instruct as published.
const char* k_qwen25 = R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 896,
  "initializer_range": 0.02, "intermediate_size": 4864, "max_position_embeddings": 32768,
  "max_window_layers": 21, "model_type": "qwen2", "num_attention_heads": 14,
  "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
  "torch_dtype": "bfloat16", "transformers_version": "4.43.1", "use_cache": true,
  "use_sliding_window": false, "vocab_size": 151936})";

// mistralai/Mistral-7B-v0.1 as published.
const char* k_mistral_v01 = R"({
  "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
  "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
  "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0",
  "use_cache": true, "vocab_size": 32000})";

void expect_llama32(const troupe::gpu::model_spec& spec) {
  EXPECT_EQ(spec.architecture, "LlamaForCausalLM");
  EXPECT_EQ(spec.vocab_size, 128256);
  EXPECT_EQ(spec.hidden_size, 2048);
  EXPECT_EQ(spec.intermediate_size, 8192);
  EXPECT_EQ(spec.num_layers, 16);
  EXPECT_EQ(spec.num_heads, 32);
  EXPECT_EQ(spec.num_kv_heads, 8);
  EXPECT_EQ(spec.head_dim, 64);
  EXPECT_EQ(spec.max_position_embeddings, 131072);
  EXPECT_FLOAT_EQ(spec.rms_norm_eps, 1e-5f);
  EXPECT_TRUE(spec.tie_word_embeddings);
  EXPECT_FALSE(spec.attention_bias);
  EXPECT_EQ(spec.torch_dtype, "bfloat16");
  EXPECT_FLOAT_EQ(spec.rope.theta, 500000.0f);
  EXPECT_EQ(spec.rope.scaling, rope_scaling_kind::llama3);
  EXPECT_FLOAT_EQ(spec.rope.factor, 32.0f);
  EXPECT_FLOAT_EQ(spec.rope.low_freq_factor, 1.0f);
  EXPECT_FLOAT_EQ(spec.rope.high_freq_factor, 4.0f);
  EXPECT_EQ(spec.rope.original_max_position_embeddings, 8192);
}

std::string error_of(const std::string& json) {
  std::string error;
  EXPECT_FALSE(parse_model_config(json, &error).has_value()) << json;
  return error;
}

// `json` with field `key` set to the JSON value `value`.
std::string with_field(const std::string& json, const std::string& key, const std::string& value) {
  auto obj = nlohmann::json::parse(json);
  obj[key] = nlohmann::json::parse(value);
  return obj.dump();
}

}  // namespace

TEST(ModelConfig, ReadsAPublishedLlama3ConfigWithTopLevelRopeScaling) {
  std::string error;
  auto spec = parse_model_config(k_llama32_published, &error);
  ASSERT_TRUE(spec) << error;
  expect_llama32(*spec);
}

TEST(ModelConfig, ReadsTheTransformers5SpellingWithRopeParametersAndDtype) {
  std::string error;
  auto spec = parse_model_config(k_llama32_transformers5, &error);
  ASSERT_TRUE(spec) << error;
  expect_llama32(*spec);
}

TEST(ModelConfig, Transformers5DefaultRopeTypeMeansNoScaling) {
  auto spec = parse_model_config(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 100,
      "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
      "num_attention_heads": 4, "max_position_embeddings": 256, "dtype": "float32",
      "rope_parameters": {"rope_theta": 250000.0, "rope_type": "default"}})",
                                 nullptr);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->rope.scaling, rope_scaling_kind::none);
  EXPECT_FLOAT_EQ(spec->rope.theta, 250000.0f);
  EXPECT_EQ(spec->torch_dtype, "float32");
}

TEST(ModelConfig, Qwen2AlwaysHasAttentionBias) {
  std::string error;
  auto spec = parse_model_config(k_qwen25, &error);
  ASSERT_TRUE(spec) << error;
  EXPECT_EQ(spec->architecture, "Qwen2ForCausalLM");
  EXPECT_TRUE(spec->attention_bias);
  EXPECT_TRUE(spec->tie_word_embeddings);
  EXPECT_EQ(spec->num_kv_heads, 2);
  EXPECT_EQ(spec->head_dim, 64);  // 896 / 14
  EXPECT_FLOAT_EQ(spec->rope.theta, 1e6f);
  EXPECT_EQ(spec->rope.scaling, rope_scaling_kind::none);
  EXPECT_EQ(spec->max_position_embeddings, 32768);
}

TEST(ModelConfig, MistralSlidingWindowCapsTheContext) {
  std::string error;
  auto spec = parse_model_config(k_mistral_v01, &error);
  ASSERT_TRUE(spec) << error;
  EXPECT_EQ(spec->architecture, "MistralForCausalLM");
  EXPECT_EQ(spec->max_position_embeddings, 4096);
  EXPECT_FALSE(spec->attention_bias);
  EXPECT_EQ(spec->head_dim, 128);
}

TEST(ModelConfig, KvHeadsDefaultToHeadsAndHeadDimToHiddenOverHeads) {
  auto spec = parse_model_config(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 100,
      "hidden_size": 96, "intermediate_size": 128, "num_hidden_layers": 2,
      "num_attention_heads": 6, "num_key_value_heads": null, "head_dim": null,
      "max_position_embeddings": 256})",
                                 nullptr);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->num_kv_heads, 6);
  EXPECT_EQ(spec->head_dim, 16);
  EXPECT_FLOAT_EQ(spec->rope.theta, 10000.0f);
  EXPECT_FALSE(spec->tie_word_embeddings);
}

TEST(ModelConfig, LlamaAttentionBiasFlagIsHonoured) {
  auto spec = parse_model_config(with_field(k_llama32_published, "attention_bias", "true"),
                                 nullptr);
  ASSERT_TRUE(spec);
  EXPECT_TRUE(spec->attention_bias);
}

TEST(ModelConfig, UnsupportedRopeTypesAreRefusedByName) {
  for (const char* type : {"linear", "dynamic", "yarn", "longrope"}) {
    std::string published = R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 100,
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "max_position_embeddings": 256,
        "rope_scaling": {"type": ")" + std::string(type) + R"(", "factor": 2.0}})";
    EXPECT_NE(error_of(published).find(std::string("'") + type + "'"), std::string::npos);
    std::string v5 = R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 100,
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "max_position_embeddings": 256,
        "rope_parameters": {"rope_type": ")" + std::string(type) + R"(", "rope_theta": 1e4}})";
    auto error = error_of(v5);
    EXPECT_NE(error.find(std::string("'") + type + "'"), std::string::npos) << error;
    EXPECT_NE(error.find("rope_parameters"), std::string::npos) << error;
  }
}

TEST(ModelConfig, UnsupportedArchitectureIsRefusedByName) {
  auto error = error_of(R"({"architectures": ["GPT2LMHeadModel"], "vocab_size": 100})");
  EXPECT_NE(error.find("GPT2LMHeadModel"), std::string::npos) << error;
  EXPECT_NE(error_of(R"({"vocab_size": 100})").find("architectures"), std::string::npos);
}

TEST(ModelConfig, MissingOrWrongTypedRequiredFieldsAreNamed) {
  std::string no_hidden = R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 100,
      "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
      "max_position_embeddings": 256})";
  auto error = error_of(no_hidden);
  EXPECT_NE(error.find("missing required field 'hidden_size'"), std::string::npos) << error;

  std::string string_heads = R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 100,
      "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
      "num_attention_heads": "4", "max_position_embeddings": 256})";
  error = error_of(string_heads);
  EXPECT_NE(error.find("'num_attention_heads' must be an integer"), std::string::npos) << error;

  error = error_of(with_field(k_llama32_published, "rms_norm_eps", R"("small")"));
  EXPECT_NE(error.find("rms_norm_eps"), std::string::npos) << error;

  error = error_of(with_field(k_qwen25, "tie_word_embeddings", "1"));
  EXPECT_NE(error.find("tie_word_embeddings"), std::string::npos) << error;

  std::string llama3_missing_factor = R"({"architectures": ["LlamaForCausalLM"],
      "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
      "num_attention_heads": 4, "max_position_embeddings": 256,
      "rope_scaling": {"rope_type": "llama3", "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                       "original_max_position_embeddings": 8192}})";
  error = error_of(llama3_missing_factor);
  EXPECT_NE(error.find("'factor'"), std::string::npos) << error;
}

TEST(ModelConfig, InconsistentHeadCountsAreRefused) {
  auto error = error_of(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 100,
      "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 3, "max_position_embeddings": 256})");
  EXPECT_NE(error.find("num_key_value_heads"), std::string::npos) << error;
}

TEST(ModelConfig, InvalidJsonIsAnErrorNotACrash) {
  EXPECT_NE(error_of("{\"architectures\": [").find("JSON"), std::string::npos);
  EXPECT_NE(error_of("[1, 2]").find("object"), std::string::npos);
}
