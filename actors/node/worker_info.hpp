#pragma once
// What a worker tells a gateway about itself when they meet: the protocol
// version both must share, the model it serves with its limits, and the
// tokenizer/template files the gateway needs to tokenize for it. The gateway
// loads the tokenizer from these texts, so a gateway host needs no model files.
#include <cstdint>
#include <string>

namespace troupe::actors {

// Bumped whenever a message between gateway and worker changes meaning or
// shape; nodes of different versions refuse each other.
constexpr int32_t cluster_protocol_version = 1;

struct worker_info {
  int32_t protocol_version = cluster_protocol_version;
  std::string model_id;             // served model name
  int32_t max_model_len = 0;        // context length the engine admits
  int32_t block_size = 16;          // KV block size (prefix affinity hashes whole blocks)
  int32_t max_num_seqs = 0;
  std::string executor;             // "cpu" / "cuda"
  std::string address;              // host:port it listens on ("" in-process)
  std::string tokenizer_json;       // tokenizer.json text
  std::string tokenizer_config_json;  // tokenizer_config.json text ("" if absent)
  std::string generation_config_json; // generation_config.json text ("" if absent)
  std::string chat_template_override; // template source replacing the model's, or ""
};

}  // namespace troupe::actors
