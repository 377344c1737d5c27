#include <gtest/gtest.h>

#include "actors/engine/model/generation_config.hpp"
#include "tests/engine/model/test_files.hpp"

using troupe::engine::load_generation_config;
using troupe::engine::parse_generation_config;

TEST(GenerationConfig, ReadsAListOfEosIdsAndSamplingDefaults) {
  // meta-llama/Llama-3.2-1B-Instruct's generation_config.json.
  auto gen = parse_generation_config(R"({"bos_token_id": 128000, "do_sample": true,
      "eos_token_id": [128001, 128008, 128009], "temperature": 0.6, "top_p": 0.9,
      "transformers_version": "4.45.0.dev0"})",
                                     nullptr);
  ASSERT_TRUE(gen);
  EXPECT_EQ(gen->eos_token_ids, (std::vector<int32_t>{128001, 128008, 128009}));
  EXPECT_EQ(gen->bos_token_id, 128000);
  EXPECT_EQ(gen->do_sample, true);
  EXPECT_FLOAT_EQ(*gen->temperature, 0.6f);
  EXPECT_FLOAT_EQ(*gen->top_p, 0.9f);
  EXPECT_FALSE(gen->top_k);
  EXPECT_FALSE(gen->repetition_penalty);
}

TEST(GenerationConfig, ReadsASingleEosIdAndTopKAndRepetitionPenalty) {
  // Qwen/Qwen2.5-0.5B-Instruct's generation_config.json.
  auto gen = parse_generation_config(R"({"bos_token_id": 151643, "pad_token_id": 151643,
      "do_sample": true, "eos_token_id": [151645, 151643], "repetition_penalty": 1.1,
      "temperature": 0.7, "top_p": 0.8, "top_k": 20})",
                                     nullptr);
  ASSERT_TRUE(gen);
  EXPECT_EQ(gen->eos_token_ids, (std::vector<int32_t>{151645, 151643}));
  EXPECT_EQ(gen->top_k, 20);
  EXPECT_FLOAT_EQ(*gen->repetition_penalty, 1.1f);

  auto single = parse_generation_config(R"({"eos_token_id": 2})", nullptr);
  ASSERT_TRUE(single);
  EXPECT_EQ(single->eos_token_ids, (std::vector<int32_t>{2}));
  EXPECT_FALSE(single->bos_token_id);
  EXPECT_FALSE(single->do_sample);
}

TEST(GenerationConfig, MalformedFieldsAreNamed) {
  std::string error;
  EXPECT_FALSE(parse_generation_config(R"({"eos_token_id": "</s>"})", &error));
  EXPECT_NE(error.find("eos_token_id"), std::string::npos) << error;
  EXPECT_FALSE(parse_generation_config(R"({"temperature": "hot"})", &error));
  EXPECT_NE(error.find("temperature"), std::string::npos) << error;
  EXPECT_FALSE(parse_generation_config("not json", &error));
}

TEST(GenerationConfig, AMissingFileMeansAnEmptyConfig) {
  troupe::test::scratch_dir dir;
  std::string error;
  auto gen = load_generation_config(dir.path().string(), &error);
  ASSERT_TRUE(gen) << error;
  EXPECT_TRUE(gen->eos_token_ids.empty());

  troupe::test::write_text(dir.file("generation_config.json"), R"({"eos_token_id": 7})");
  gen = load_generation_config(dir.path().string(), &error);
  ASSERT_TRUE(gen) << error;
  EXPECT_EQ(gen->eos_token_ids, (std::vector<int32_t>{7}));
}
