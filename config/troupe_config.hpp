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
  int64_t stats_interval_s = 10;              // stats line on stderr this often; 0 = none
};

struct model_config {
  std::string path;                 // Hugging Face checkpoint directory
  std::string served_model_name;    // the `model` id clients send; empty = directory name
  std::string chat_template;        // Jinja file overriding tokenizer_config.json's
};

struct engine_config {
  std::string executor = "auto";    // "auto" | "cpu" | "cuda"
  std::string quantization = "none";  // "none" | "int8" | "fp8" | "nf4" | "fp4" | "int4" | "awq"
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
  std::string keys_db;                // `troupe keys` SQLite file; empty = <state_dir>/keys.db
  int64_t key_cache_ttl_ms = 5000;    // how long a key lookup is trusted (revocation delay)
  bool jwt_enabled = false;           // accept JWT bearer tokens as well as API keys
  std::string jwt_issuer;             // required "iss"
  std::string jwt_audience;           // required "aud"
  int64_t jwt_leeway_s = 60;          // clock skew allowed on exp / nbf / iat
  std::string jwt_jwks_file;          // JWKS document (keys selected by kid)
  int64_t jwt_jwks_reload_ms = 60000; // re-read the JWKS file this often; 0 = never
  std::string jwt_public_key_file;    // one PEM public key (RS256 or ES256)
  std::string jwt_public_key_alg = "RS256";  // the only algorithm that key verifies
  std::string jwt_public_key_kid;     // its kid; empty = any token
  std::string jwt_secret_env;         // environment variable holding an HS256 secret
  std::string jwt_rpm_claim = "troupe_rpm";       // claim with the principal's requests/minute
  std::string jwt_tpm_claim = "troupe_tpm";       // claim with its tokens/minute
  std::string jwt_models_claim = "troupe_models"; // claim listing the models it may use
};

struct limits_config {
  int64_t requests_per_minute = 0;    // per principal; 0 = unlimited (keys/JWTs may set their own)
  int64_t tokens_per_minute = 0;      // prompt + max_tokens, corrected at the end; 0 = unlimited
  int64_t max_tracked_principals = 100000;  // token buckets kept in memory
  std::string shared_url;             // "postgresql://…": buckets shared by every gateway; "" = per process
  int64_t shared_connections = 4;     // connections to shared_url per process
  int64_t max_auth_failures = 60;     // failed authentications a client address may burst; 0 = no throttle
  int64_t auth_failure_refill_ms = 1000;  // one failure's allowance comes back this often
};

struct log_config {
  std::string url;                    // "sqlite:PATH" or "postgresql://…"; empty = sqlite:<state_dir>/requests.db; "off" = no log
  bool store_text = false;            // also keep prompt and output text
  int64_t batch_rows = 64;            // rows per transaction (a full batch flushes early)
  int64_t flush_ms = 200;             // longest a finished request waits to be written
  int64_t queue_rows = 8192;          // queued rows; beyond, the oldest are dropped and counted
};

// Gateway and worker nodes (`troupe gateway`, `troupe worker`). Flags:
// --listen, --worker (repeatable), --gateway, --cluster-plaintext,
// --cluster-cert/--cluster-key/--cluster-ca, --heartbeat-ms, …
struct cluster_config {
  std::string listen;                 // worker: host:port it publishes its engine on;
                                      // gateway: host:port workers may join on ("" = none)
  std::vector<std::string> workers;   // gateway: worker host:port to dial (and redial)
  std::string gateway;                // worker: a gateway's join address to register with
  std::string advertise;              // worker: the host:port gateways know it by ("" = listen)
  bool plaintext = false;             // plain BASP: loopback addresses only, for tests
  std::string cert;                   // this node's certificate (PEM), signed by the cluster CA
  std::string key;                    // its private key (PEM)
  std::string ca;                     // the cluster CA certificate (PEM) peers must be signed by
  int64_t heartbeat_ms = 500;         // gateway → worker heartbeat period
  int64_t eject_after_ms = 3000;      // a worker silent this long is ejected
  int64_t connect_timeout_ms = 2000;  // one connection attempt to a worker
  int64_t affinity_max_imbalance = 8; // sequences a prefix-affine worker may carry above the least loaded
  int64_t drain_grace_ms = 30000;     // worker: SIGTERM waits this long for its streams
  int64_t max_in_flight = 4096;       // gateway: sequences admitted at once; beyond, 503
};

struct tracing_config {
  std::string otlp_endpoint;          // OTLP/HTTP traces URL (…/v1/traces); empty = no tracing
  std::vector<std::string> headers;   // "Name=Value" sent with each export (e.g. Authorization)
  std::string headers_env;            // env variable with more "Name=Value,…" (secrets stay out of files)
  std::string service_name = "troupe";  // the resource's service.name
  int64_t max_queued_spans = 8192;    // spans waiting for export; beyond, new ones are dropped
  int64_t export_interval_ms = 1000;  // a batch leaves at least this often
  int64_t export_timeout_ms = 10000;  // one export request may take this long
};

struct troupe_config {
  cluster_config cluster;
  server_config server;
  model_config model;
  engine_config engine;
  auth_config auth;
  limits_config limits;
  log_config log;
  tracing_config tracing;
};

}  // namespace troupe::config
