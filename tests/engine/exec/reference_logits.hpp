#pragma once
// Reference logits made by Hugging Face transformers (tools/reference/*.py):
// per prompt, the logits of a fixed set of probe token ids at every position
// and a greedy continuation. Shared by the CPU and CUDA executor tests.
#include <gtest/gtest.h>

#include <cmath>
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

// The folder of a reference model: the bundled trained model, or a tiny
// random-weight test model of tests/data/models.
inline std::string model_dir(const std::string& model) {
  return model == "troupe-tiny-chat" ? source_path("models/" + model)
                                     : source_path("tests/data/models/" + model);
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

// ||ours[probe] - ref|| / ||ref|| summed over every position of a prompt;
// `logits` holds every position's full row of `vocab` values.
inline double prompt_error(const float* logits, int32_t vocab, const reference_prompt& p) {
  double diff = 0.0, norm = 0.0;
  for (std::size_t pos = 0; pos < p.input_ids.size(); ++pos)
    for (std::size_t i = 0; i < p.probe_ids.size(); ++i) {
      const double d = double{logits[pos * vocab + p.probe_ids[i]]} - p.logits[pos][i];
      diff += d * d;
      norm += double{p.logits[pos][i]} * p.logits[pos][i];
    }
  return std::sqrt(diff / norm);
}

inline std::size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace troupe::test
