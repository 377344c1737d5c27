#include <gtest/gtest.h>

#include <filesystem>

#include "actors/engine/model/checkpoint.hpp"
#include "tests/engine/model/tiny_checkpoint.hpp"

using troupe::engine::check_weights;
using troupe::engine::checkpoint;
using namespace troupe::test;

namespace {

std::string open_error(const scratch_dir& dir) {
  std::string error;
  EXPECT_FALSE(checkpoint::open(dir.path().string(), &error).has_value());
  return error;
}

std::vector<tensor_entry> without(std::vector<tensor_entry> tensors, const std::string& name) {
  std::erase_if(tensors, [&](const tensor_entry& t) { return t.name == name; });
  return tensors;
}

}  // namespace

TEST(Checkpoint, OpensASingleFileCheckpointAndKeepsViewsValidAfterMove) {
  scratch_dir dir;
  auto spec = tiny_llama_spec();
  write_tiny_checkpoint(dir, spec);
  std::string error;
  auto ckpt = checkpoint::open(dir.path().string(), &error);
  ASSERT_TRUE(ckpt) << error;
  EXPECT_EQ(ckpt->spec().hidden_size, 32);
  // 1 embedding + 9 per layer + final norm + lm_head.
  EXPECT_EQ(ckpt->weights().size(), 1u + 9u * 2 + 1 + 1);
  auto moved = std::move(*ckpt);
  const auto& norm = moved.weights().at("model.norm.weight");
  ASSERT_EQ(norm.num_elements(), 32);
  std::string expected;
  for (const auto& t : tiny_tensors(spec, 1))
    if (t.name == "model.norm.weight") expected = t.bytes;
  EXPECT_EQ(std::string(static_cast<const char*>(norm.data), norm.num_bytes), expected);
}

TEST(Checkpoint, OpensAShardedCheckpointThroughItsIndex) {
  scratch_dir dir;
  auto spec = tiny_llama_spec();
  write_text(dir.file("config.json"), config_json(spec).dump());
  auto tensors = tiny_tensors(spec, 3);
  std::vector<tensor_entry> first(tensors.begin(), tensors.begin() + 7);
  std::vector<tensor_entry> second(tensors.begin() + 7, tensors.end());
  write_bytes(dir.file("model-00001-of-00002.safetensors"), safetensors_image(first));
  write_bytes(dir.file("model-00002-of-00002.safetensors"), safetensors_image(second));
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  for (const auto& t : first) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : second) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  write_text(dir.file("model.safetensors.index.json"), index.dump());

  std::string error;
  auto ckpt = checkpoint::open(dir.path().string(), &error);
  ASSERT_TRUE(ckpt) << error;
  EXPECT_EQ(ckpt->weights().size(), tensors.size());

  // An index that places a tensor in the wrong shard is refused.
  index["weight_map"][first[0].name] = "model-00002-of-00002.safetensors";
  write_text(dir.file("model.safetensors.index.json"), index.dump());
  error = open_error(dir);
  EXPECT_NE(error.find(first[0].name), std::string::npos) << error;
}

TEST(Checkpoint, AMissingTensorIsNamed) {
  scratch_dir dir;
  auto spec = tiny_llama_spec();
  write_text(dir.file("config.json"), config_json(spec).dump());
  write_bytes(dir.file("model.safetensors"),
              safetensors_image(without(tiny_tensors(spec, 1), "model.layers.1.mlp.up_proj.weight")));
  auto error = open_error(dir);
  EXPECT_NE(error.find("missing tensor 'model.layers.1.mlp.up_proj.weight'"), std::string::npos)
      << error;
}

TEST(Checkpoint, AWrongShapeIsNamedWithBothShapes) {
  scratch_dir dir;
  auto spec = tiny_llama_spec();
  write_text(dir.file("config.json"), config_json(spec).dump());
  auto tensors = tiny_tensors(spec, 1);
  for (auto& t : tensors) {
    if (t.name == "model.layers.0.self_attn.k_proj.weight") t.shape = {32, 16};  // [kv_dim, hidden] swapped
  }
  write_bytes(dir.file("model.safetensors"), safetensors_image(tensors));
  auto error = open_error(dir);
  EXPECT_NE(error.find("'model.layers.0.self_attn.k_proj.weight' has shape [32, 16], expected "
                       "[16, 32]"),
            std::string::npos)
      << error;
}

TEST(Checkpoint, TiedEmbeddingsNeedNoLmHeadButBiasedAttentionNeedsBiases) {
  auto spec = tiny_llama_spec();
  spec.tie_word_embeddings = true;
  spec.attention_bias = true;
  auto tensors = tiny_tensors(spec, 1);
  troupe::gpu::weight_map weights;
  for (const auto& t : tensors)
    weights[t.name] = {troupe::gpu::dtype::bf16, t.shape, t.bytes.data(), t.bytes.size()};
  std::string error;
  EXPECT_TRUE(check_weights(spec, weights, &error)) << error;
  weights.erase("model.layers.0.self_attn.v_proj.bias");
  EXPECT_FALSE(check_weights(spec, weights, &error));
  EXPECT_NE(error.find("model.layers.0.self_attn.v_proj.bias"), std::string::npos);
  spec.tie_word_embeddings = false;
  spec.attention_bias = false;
  EXPECT_FALSE(check_weights(spec, weights, &error));
  EXPECT_NE(error.find("lm_head.weight"), std::string::npos);
}

TEST(Checkpoint, ADirectoryWithoutWeightsOrConfigSaysWhatIsMissing) {
  scratch_dir dir;
  EXPECT_NE(open_error(dir).find("config.json"), std::string::npos);
  write_text(dir.file("config.json"), config_json(tiny_llama_spec()).dump());
  EXPECT_NE(open_error(dir).find("no model.safetensors"), std::string::npos);
  write_bytes(dir.file("model.safetensors"), "\x05\x00\x00");
  auto error = open_error(dir);
  EXPECT_NE(error.find("model.safetensors"), std::string::npos) << error;
  EXPECT_NE(error.find("too short"), std::string::npos) << error;
}
