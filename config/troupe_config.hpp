#pragma once
// The whole configuration of a Troupe node as plain structs. Every field has a
// TOML key of the same name in the section of the same name
// (`[server] port = 8443`) and a command-line twin (`--port 8443`); see
// config/troupe.example.toml for units and defaults. Durations are in
// milliseconds (`_ms`), sizes in bytes (`_bytes`).
#include <cstdint>
#include <string>
#include <vector>

namespace troupe::config {

struct server_config {
  std::string host = "127.0.0.1";
  int64_t port = 8443;                        // 0 = an ephemeral port
  std::string tls_cert;                       // PEM chain; empty = self-signed in state_dir
  std::string tls_key;                        // PEM private key
  bool no_tls = false;                        // plain HTTP / ws:// (behind a TLS proxy)
  std::string state_dir = "./troupe-data";    // generated cert lives in <state_dir>/tls/
  int64_t max_connections = 1024;             // open sockets; more are closed at accept
  int64_t max_header_bytes = 16384;           // request line + headers → 431 beyond
  int64_t max_body_bytes = 4 * 1024 * 1024;   // request body (and WebSocket message) → 413
  int64_t header_timeout_ms = 10000;          // TLS handshake and whole header must arrive
  int64_t read_timeout_ms = 30000;            // whole body must arrive
  int64_t idle_timeout_ms = 60000;            // keep-alive connection with no request
  int64_t shutdown_grace_ms = 10000;          // in-flight requests may finish on SIGTERM
  int64_t max_queued_writes = 256;            // per connection; a slower reader is dropped
};

struct model_config {
  std::string path;                 // Hugging Face checkpoint directory
  std::string served_model_name;    // the `model` id clients send; empty = directory name
  std::string chat_template;        // Jinja file overriding tokenizer_config.json's
};

struct engine_config {
  std::string executor = "auto";    // "auto" | "cpu" | "cuda"
  std::string policy = "continuous";  // "continuous" | "static"
  int64_t max_num_seqs = 256;       // sequences running at once
  int64_t max_num_batched_tokens = 8192;  // token budget of one iteration
  int64_t max_model_len = 0;        // context length; 0 = the model's
  int64_t block_size = 16;          // tokens per KV block
  int64_t kv_cache_bytes = 1024LL * 1024 * 1024;  // KV pool on the CPU executor
  double gpu_memory_utilization = 0.9;  // fraction of GPU memory for weights + KV
  bool enable_prefix_caching = true;
  int64_t max_waiting = 1024;       // admission queue; a fuller queue answers 503
  int64_t num_threads = 0;          // CPU executor threads; 0 = all cores
};

struct auth_config {
  std::vector<std::string> api_keys;  // static bearer keys
  bool disabled = false;              // serve without authentication (explicit only)
};

struct troupe_config {
  server_config server;
  model_config model;
  engine_config engine;
  auth_config auth;
};

}  // namespace troupe::config
