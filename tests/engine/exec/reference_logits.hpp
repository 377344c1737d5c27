#pragma once
// Reference logits made by Hugging Face transformers (tools/reference/*.py):
// per prompt, the logits of a fixed set of probe token ids at every position
// and a greedy continuation. Shared by the CPU and CUDA executor tests.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace troupe::test {

struct reference_prompt {
  std::string text;  // empty where the prompt was random token ids
  std::vector<int32_t> input_ids;
  std::vector<int32_t> probe_ids;
  std::vector<std::vector<float>> logits;  // [position][probe]
  std::vector<int32_t> greedy_ids;
};

inline std::string source_path(const std::string& relative) {
  return std::string(TROUPE_SOURCE_DIR) + "/" + relative;
}

// Reads a reference file ({"prompts": [...]}); empty, with a test failure, when missing.
inline std::vector<reference_prompt> load_reference_file_abs(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "reference data " << path << " is missing";
  if (!in) return {};
  auto doc = nlohmann::json::parse(in);
  std::vector<reference_prompt> out;
  for (const auto& p : doc.at("prompts"))
    out.push_back({p.value("text", std::string()), p.at("input_ids").get<std::vector<int32_t>>(),
                   p.at("probe_token_ids").get<std::vector<int32_t>>(),
                   p.at("logits").get<std::vector<std::vector<float>>>(),
                   p.at("greedy_ids").get<std::vector<int32_t>>()});
  return out;
}

// tests/data/reference/logits_<model>.json: transformers in fp32.
inline std::vector<reference_prompt> load_reference(const std::string& model) {
  return load_reference_file_abs(source_path("tests/data/reference/logits_" + model + ".json"));
}

}  // namespace troupe::test
