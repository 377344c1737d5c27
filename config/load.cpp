#include "config/load.hpp"

#include <charconv>
#include <cstdlib>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>
#include <variant>

#include <toml++/toml.h>

namespace troupe::config {
namespace {

// One configurable field: where it lives and what values it takes.
using field_ref = std::variant<std::string*, bool*, int64_t*, double*, std::vector<std::string>*>;

struct field {
  const char* section;
  const char* key;
  const char* help;  // meaning and unit, shown by --help and in the example file
  std::function<field_ref(troupe_config&)> ref;
  int64_t min_int = 0;
  int64_t max_int = INT64_MAX;
  std::vector<std::string> choices;  // strings: allowed values (empty = any)
};

const std::vector<field>& schema() {
  static const std::vector<field> fields = [] {
    std::vector<field> f;
    auto add = [&](const char* s, const char* k, const char* h,
                   std::function<field_ref(troupe_config&)> r, int64_t lo = 0,
                   int64_t hi = INT64_MAX, std::vector<std::string> ch = {}) {
      f.push_back(field{s, k, h, std::move(r), lo, hi, std::move(ch)});
    };
    add("server", "host",
        "address to listen on (\"0.0.0.0\" for every interface)",
        [](troupe_config& c) -> field_ref { return &c.server.host; });
    add("server", "port",
        "TCP port; 0 picks a free one (printed at start)",
        [](troupe_config& c) -> field_ref { return &c.server.port; }, 0, 65535);
    add("server", "tls_cert",
        "PEM certificate chain; empty = self-signed cert in state_dir/tls/",
        [](troupe_config& c) -> field_ref { return &c.server.tls_cert; });
    add("server", "tls_key",
        "PEM private key for tls_cert",
        [](troupe_config& c) -> field_ref { return &c.server.tls_key; });
    add("server", "no_tls",
        "serve plain http:// and ws:// (behind a TLS-terminating proxy)",
        [](troupe_config& c) -> field_ref { return &c.server.no_tls; });
    add("server", "state_dir",
        "where the generated certificate is kept and reused",
        [](troupe_config& c) -> field_ref { return &c.server.state_dir; });
    add("server", "max_connections",
        "open connections; more are closed at accept",
        [](troupe_config& c) -> field_ref { return &c.server.max_connections; }, 1, 1 << 20);
    add("server", "max_header_bytes",
        "bytes of request line + headers; beyond → 431",
        [](troupe_config& c) -> field_ref { return &c.server.max_header_bytes; }, 1024, 1 << 24);
    add("server", "max_body_bytes",
        "bytes of request body or WebSocket message (4 MiB); beyond → 413 / close 1009",
        [](troupe_config& c) -> field_ref { return &c.server.max_body_bytes; }, 1024, 1LL << 32);
    add("server", "header_timeout_ms",
        "ms for the TLS handshake and a whole request header (drops slowloris clients)",
        [](troupe_config& c) -> field_ref { return &c.server.header_timeout_ms; }, 1);
    add("server", "read_timeout_ms",
        "ms for a whole request body",
        [](troupe_config& c) -> field_ref { return &c.server.read_timeout_ms; }, 1);
    add("server", "idle_timeout_ms",
        "ms a keep-alive connection may wait for its next request",
        [](troupe_config& c) -> field_ref { return &c.server.idle_timeout_ms; }, 1);
    add("server", "shutdown_grace_ms",
        "ms in-flight requests may finish after SIGTERM/SIGINT",
        [](troupe_config& c) -> field_ref { return &c.server.shutdown_grace_ms; }, 0);
    add("server", "max_queued_writes",
        "stream events queued per connection; a slower reader is dropped",
        [](troupe_config& c) -> field_ref { return &c.server.max_queued_writes; }, 1, 1 << 20);
    add("server", "stats_interval_s",
        "seconds between stats lines on stderr (running/waiting, tokens/s, KV use); 0 = none",
        [](troupe_config& c) -> field_ref { return &c.server.stats_interval_s; }, 0, 86400);
    add("model", "path",
        "Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json)",
        [](troupe_config& c) -> field_ref { return &c.model.path; });
    add("model", "served_model_name",
        "the \"model\" id clients send; empty = the directory's name",
        [](troupe_config& c) -> field_ref { return &c.model.served_model_name; });
    add("model", "chat_template",
        "Jinja file that overrides tokenizer_config.json's chat_template",
        [](troupe_config& c) -> field_ref { return &c.model.chat_template; });
    add("engine", "executor",
        "\"auto\" (CUDA when a GPU is visible), \"cpu\" or \"cuda\"",
        [](troupe_config& c) -> field_ref { return &c.engine.executor; }, 0,
        0, {"auto", "cpu", "cuda"});
    add("engine", "quantization",
        "weights: \"none\" (as stored), \"int8\", \"fp8\", \"nf4\", \"fp4\", \"int4\" quantized at load, or \"awq\" (an AutoAWQ checkpoint)",
        [](troupe_config& c) -> field_ref { return &c.engine.quantization; }, 0, 0,
        {"none", "int8", "fp8", "nf4", "fp4", "int4", "awq"});
    add("engine", "policy",
        "\"continuous\" batching or \"static\" batches",
        [](troupe_config& c) -> field_ref { return &c.engine.policy; }, 0, 0,
        {"continuous", "static"});
    add("engine", "max_num_seqs",
        "sequences running at once",
        [](troupe_config& c) -> field_ref { return &c.engine.max_num_seqs; },
        1, 1 << 20);
    add("engine", "max_num_batched_tokens",
        "tokens one iteration may process (prefill chunks + decodes)",
        [](troupe_config& c) -> field_ref { return &c.engine.max_num_batched_tokens; }, 1, 1 << 24);
    add("engine", "max_model_len",
        "context length in tokens; 0 = the model's own",
        [](troupe_config& c) -> field_ref { return &c.engine.max_model_len; }, 0, 1 << 24);
    add("engine", "block_size",
        "tokens per KV-cache block",
        [](troupe_config& c) -> field_ref { return &c.engine.block_size; },
        1, 1024);
    add("engine", "kv_cache_bytes",
        "bytes of KV cache on the CPU executor (1 GiB)",
        [](troupe_config& c) -> field_ref { return &c.engine.kv_cache_bytes; }, 0);
    add("engine", "gpu_memory_utilization",
        "fraction (0, 1] of GPU memory for weights + KV cache",
        [](troupe_config& c) -> field_ref { return &c.engine.gpu_memory_utilization; });
    add("engine", "enable_prefix_caching",
        "reuse KV blocks of identical prompt prefixes",
        [](troupe_config& c) -> field_ref { return &c.engine.enable_prefix_caching; });
    add("engine", "max_waiting",
        "requests queued for admission; a fuller queue answers 503 + Retry-After",
        [](troupe_config& c) -> field_ref { return &c.engine.max_waiting; },
        0, 1 << 24);
    add("engine", "num_threads",
        "CPU executor threads; 0 = every core",
        [](troupe_config& c) -> field_ref { return &c.engine.num_threads; },
        0, 4096);
    add("auth", "api_keys",
        "static bearer keys (Authorization: Bearer KEY); --api-key KEY, repeatable",
        [](troupe_config& c) -> field_ref { return &c.auth.api_keys; });
    add("auth", "disabled",
        "true serves without authentication (--no-auth); never the default",
        [](troupe_config& c) -> field_ref { return &c.auth.disabled; });
    add("auth", "keys_db",
        "SQLite file or postgresql:// URL of `troupe keys` (a URL shares keys across gateways); empty = state_dir/keys.db (troupe keys uses the same default)",
        [](troupe_config& c) -> field_ref { return &c.auth.keys_db; });
    add("auth", "key_cache_ttl_ms",
        "ms a key lookup is cached: a key revoked by `troupe keys revoke` stops working within this",
        [](troupe_config& c) -> field_ref { return &c.auth.key_cache_ttl_ms; }, 0, 3600000);
    add("auth", "jwt_enabled",
        "also accept JWT bearer tokens (HS256, RS256, ES256)",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_enabled; });
    add("auth", "jwt_issuer",
        "required exact \"iss\" (needed when jwt_enabled)",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_issuer; });
    add("auth", "jwt_audience",
        "required \"aud\" (needed when jwt_enabled)",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_audience; });
    add("auth", "jwt_leeway_s",
        "seconds of clock skew allowed on exp / nbf / iat",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_leeway_s; },
        0, 600);
    add("auth", "jwt_jwks_file",
        "JWKS document; keys chosen by \"kid\", each bound to its own algorithm",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_jwks_file; });
    add("auth", "jwt_jwks_reload_ms",
        "ms between re-reads of the JWKS file (key rotation); 0 = never",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_jwks_reload_ms; }, 0);
    add("auth", "jwt_public_key_file",
        "one PEM public key instead of (or beside) a JWKS file",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_public_key_file; });
    add("auth", "jwt_public_key_alg",
        "\"RS256\" or \"ES256\": the only algorithm that key verifies",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_public_key_alg; }, 0, 0,
        {"RS256", "ES256"});
    add("auth", "jwt_public_key_kid",
        "the key's kid; empty = it verifies tokens with any or no kid",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_public_key_kid; });
    add("auth", "jwt_secret_env",
        "name of an environment variable holding an HS256 secret (>= 32 bytes)",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_secret_env; });
    add("auth", "jwt_rpm_claim",
        "claim giving the subject's requests per minute",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_rpm_claim; });
    add("auth", "jwt_tpm_claim",
        "claim giving the subject's tokens per minute",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_tpm_claim; });
    add("auth", "jwt_models_claim",
        "claim listing the models the subject may use",
        [](troupe_config& c) -> field_ref { return &c.auth.jwt_models_claim; });
    add("limits", "requests_per_minute",
        "default per-principal request rate; 0 = unlimited (a key or JWT claim overrides)",
        [](troupe_config& c) -> field_ref { return &c.limits.requests_per_minute; }, 0);
    add("limits", "tokens_per_minute",
        "default per-principal tokens (prompt + max_tokens) per minute; 0 = unlimited",
        [](troupe_config& c) -> field_ref { return &c.limits.tokens_per_minute; }, 0);
    add("limits", "max_auth_failures",
        "failed authentications a client address may burst before it is refused (429); 0 = no throttle",
        [](troupe_config& c) -> field_ref { return &c.limits.max_auth_failures; }, 0, 1 << 24);
    add("limits", "auth_failure_refill_ms",
        "ms after which an address earns back one failed authentication",
        [](troupe_config& c) -> field_ref { return &c.limits.auth_failure_refill_ms; }, 1, 1LL << 32);
    add("limits", "max_tracked_principals",
        "token buckets held in memory (least recently used are forgotten)",
        [](troupe_config& c) -> field_ref { return &c.limits.max_tracked_principals; }, 1, 1 << 24);
    add("limits", "shared_url",
        "postgresql:// URL holding the buckets, so limits hold across every gateway using it (exact; two round trips per request); empty = per process",
        [](troupe_config& c) -> field_ref { return &c.limits.shared_url; });
    add("limits", "shared_connections",
        "connections each process opens to shared_url",
        [](troupe_config& c) -> field_ref { return &c.limits.shared_connections; }, 1, 256);
    add("log", "url",
        "request log: \"sqlite:PATH\" or \"postgresql://user@host/db\"; empty = sqlite:state_dir/requests.db; \"off\" = none",
        [](troupe_config& c) -> field_ref { return &c.log.url; });
    add("log", "store_text",
        "also store prompt and output text (off: only counts, timings and ids)",
        [](troupe_config& c) -> field_ref { return &c.log.store_text; });
    add("log", "batch_rows",
        "rows per transaction; a full batch is written at once",
        [](troupe_config& c) -> field_ref { return &c.log.batch_rows; }, 1,
        1 << 20);
    add("log", "flush_ms",
        "ms a finished request may wait to be written (a crash loses at most this much)",
        [](troupe_config& c) -> field_ref { return &c.log.flush_ms; }, 1, 600000);
    add("log", "queue_rows",
        "rows waiting to be written; beyond, the oldest are dropped and counted in a metric",
        [](troupe_config& c) -> field_ref { return &c.log.queue_rows; }, 1,
        1 << 24);
    add("tracing", "otlp_endpoint",
        "OTLP/HTTP (protobuf) traces URL, e.g. http://collector:4318/v1/traces; empty = no tracing",
        [](troupe_config& c) -> field_ref { return &c.tracing.otlp_endpoint; });
    add("tracing", "headers",
        "\"Name=Value\" headers sent with every export (Langfuse: \"Authorization=Basic …\")",
        [](troupe_config& c) -> field_ref { return &c.tracing.headers; });
    add("tracing", "headers_env",
        "name of an environment variable holding more headers as \"Name=Value,Name2=Value2\"",
        [](troupe_config& c) -> field_ref { return &c.tracing.headers_env; });
    add("tracing", "service_name", "service.name of the exported spans",
        [](troupe_config& c) -> field_ref { return &c.tracing.service_name; });
    add("tracing", "max_queued_spans",
        "spans waiting for export; when full, new spans are dropped (and counted), never waited for",
        [](troupe_config& c) -> field_ref { return &c.tracing.max_queued_spans; }, 1, 1 << 24);
    add("tracing", "export_interval_ms", "ms between exports of the queued spans (one batch each)",
        [](troupe_config& c) -> field_ref { return &c.tracing.export_interval_ms; }, 10, 600000);
    add("tracing", "export_timeout_ms", "ms one export request may take before it counts as failed",
        [](troupe_config& c) -> field_ref { return &c.tracing.export_timeout_ms; }, 100, 600000);
    add("cluster", "listen",
        "worker: host:port its engine is published on; gateway: host:port workers may join on (\"\" = none)",
        [](troupe_config& c) -> field_ref { return &c.cluster.listen; });
    add("cluster", "workers",
        "gateway: worker addresses \"host:port\" to dial and redial (flag --worker, repeatable)",
        [](troupe_config& c) -> field_ref { return &c.cluster.workers; });
    add("cluster", "gateway", "worker: a gateway's join address to register with",
        [](troupe_config& c) -> field_ref { return &c.cluster.gateway; });
    add("cluster", "advertise", "worker: the host:port gateways know it by; empty = listen",
        [](troupe_config& c) -> field_ref { return &c.cluster.advertise; });
    add("cluster", "plaintext",
        "plain BASP without TLS between nodes: loopback addresses only, for tests (flag --cluster-plaintext)",
        [](troupe_config& c) -> field_ref { return &c.cluster.plaintext; });
    add("cluster", "cert", "this node's certificate (PEM), signed by the cluster CA (flag --cluster-cert)",
        [](troupe_config& c) -> field_ref { return &c.cluster.cert; });
    add("cluster", "key", "its private key (PEM) (flag --cluster-key)",
        [](troupe_config& c) -> field_ref { return &c.cluster.key; });
    add("cluster", "ca",
        "the cluster CA certificate (PEM); peers without a certificate it signed are refused (flag --cluster-ca)",
        [](troupe_config& c) -> field_ref { return &c.cluster.ca; });
    add("cluster", "heartbeat_ms", "ms between the gateway's heartbeats to each worker (also the BASP heartbeat)",
        [](troupe_config& c) -> field_ref { return &c.cluster.heartbeat_ms; }, 50, 60000);
    add("cluster", "eject_after_ms",
        "ms of silence after which a worker is ejected and its streams fail over",
        [](troupe_config& c) -> field_ref { return &c.cluster.eject_after_ms; }, 200, 600000);
    add("cluster", "connect_timeout_ms", "ms one connection attempt to a worker may take",
        [](troupe_config& c) -> field_ref { return &c.cluster.connect_timeout_ms; }, 100, 600000);
    add("cluster", "affinity_max_imbalance",
        "sequences a prefix-affine worker may carry above the least loaded one before load wins",
        [](troupe_config& c) -> field_ref { return &c.cluster.affinity_max_imbalance; }, 0, 1 << 20);
    add("cluster", "drain_grace_ms",
        "worker: ms SIGTERM waits for running streams before exiting (the rest fail over)",
        [](troupe_config& c) -> field_ref { return &c.cluster.drain_grace_ms; }, 0);
    add("cluster", "max_in_flight", "gateway: sequences admitted at once; beyond, 503 (serve: max_num_seqs + max_waiting)",
        [](troupe_config& c) -> field_ref { return &c.cluster.max_in_flight; }, 1, 1 << 24);
    return f;
  }();
  return fields;
}

const field* find_field(std::string_view dotted) {
  for (const field& f : schema()) {
    if (dotted == std::string(f.section) + "." + f.key) return &f;
  }
  return nullptr;
}

std::string name_of(const field& f) { return std::string(f.section) + "." + f.key; }

std::string quoted(const field& f) {
  std::string q(1, '\'');
  q += name_of(f);
  q += '\'';
  return q;
}

std::optional<std::string> check_int(const field& f, int64_t v) {
  if (v < f.min_int || v > f.max_int) {
    return "config: " + quoted(f) + " must be between " + std::to_string(f.min_int) + " and " +
           std::to_string(f.max_int) + " (got " + std::to_string(v) + ")";
  }
  return std::nullopt;
}

std::optional<std::string> check_choice(const field& f, const std::string& v) {
  if (f.choices.empty()) return std::nullopt;
  for (const auto& c : f.choices)
    if (c == v) return std::nullopt;
  std::string list;
  for (const auto& c : f.choices) list += (list.empty() ? "" : ", ") + ("\"" + c + "\"");
  return "config: " + quoted(f) + " must be one of " + list + " (got \"" + v + "\")";
}

std::optional<std::string> set_from_node(const field& f, const toml::node& node, troupe_config* out) {
  field_ref ref = f.ref(*out);
  if (auto* s = std::get_if<std::string*>(&ref)) {
    if (!node.is_string()) return "config: " + quoted(f) + " must be a string";
    std::string v = node.as_string()->get();
    if (auto e = check_choice(f, v)) return e;
    **s = v;
  } else if (auto* b = std::get_if<bool*>(&ref)) {
    if (!node.is_boolean()) return "config: " + quoted(f) + " must be a boolean (true or false)";
    **b = node.as_boolean()->get();
  } else if (auto* i = std::get_if<int64_t*>(&ref)) {
    if (!node.is_integer()) return "config: " + quoted(f) + " must be an integer";
    int64_t v = node.as_integer()->get();
    if (auto e = check_int(f, v)) return e;
    **i = v;
  } else if (auto* d = std::get_if<double*>(&ref)) {
    double v = 0;
    if (node.is_floating_point()) v = node.as_floating_point()->get();
    else if (node.is_integer()) v = static_cast<double>(node.as_integer()->get());
    else return "config: " + quoted(f) + " must be a number";
    if (!(v > 0.0 && v <= 1.0)) return "config: " + quoted(f) + " must be in (0, 1]";
    **d = v;
  } else if (auto* l = std::get_if<std::vector<std::string>*>(&ref)) {
    if (!node.is_array()) return "config: " + quoted(f) + " must be an array of strings";
    std::vector<std::string> values;
    for (const toml::node& e : *node.as_array()) {
      if (!e.is_string()) return "config: " + quoted(f) + " must be an array of strings";
      values.push_back(e.as_string()->get());
    }
    **l = std::move(values);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> load_toml_text(std::string_view text, std::string_view source_name,
                                          troupe_config* out) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config: " << source_name << ":" << e.source().begin.line << ":"
        << e.source().begin.column << ": " << e.description();
    return msg.str();
  }
  for (auto&& [section_key, section_node] : root) {
    std::string section(section_key.str());
    bool known_section = false;
    for (const field& f : schema()) known_section = known_section || section == f.section;
    if (!known_section) return "config: unknown key '" + section + "'";
    if (!section_node.is_table()) return "config: '" + section + "' must be a table ([" + section + "])";
    for (auto&& [key, node] : *section_node.as_table()) {
      std::string dotted = section + "." + std::string(key.str());
      const field* f = find_field(dotted);
      if (f == nullptr) return "config: unknown key '" + dotted + "'";
      if (auto e = set_from_node(*f, node, out)) return e;
    }
  }
  return std::nullopt;
}

std::optional<std::string> load_toml_file(const std::string& path, troupe_config* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "config: cannot read '" + path + "'";
  std::stringstream buf;
  buf << in.rdbuf();
  return load_toml_text(buf.str(), path, out);
}

std::optional<std::string> apply_setting(troupe_config* out, std::string_view dotted_key,
                                         std::string_view text) {
  const field* f = find_field(dotted_key);
  if (f == nullptr) return "config: unknown key '" + std::string(dotted_key) + "'";
  field_ref ref = f->ref(*out);
  std::string value(text);
  if (auto* s = std::get_if<std::string*>(&ref)) {
    if (auto e = check_choice(*f, value)) return e;
    **s = value;
  } else if (auto* b = std::get_if<bool*>(&ref)) {
    if (value == "true" || value == "1") **b = true;
    else if (value == "false" || value == "0") **b = false;
    else return "config: " + quoted(*f) + " must be true or false (got \"" + value + "\")";
  } else if (auto* i = std::get_if<int64_t*>(&ref)) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty())
      return "config: " + quoted(*f) + " must be an integer (got \"" + value + "\")";
    if (auto e = check_int(*f, v)) return e;
    **i = v;
  } else if (auto* d = std::get_if<double*>(&ref)) {
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size())
      return "config: " + quoted(*f) + " must be a number (got \"" + value + "\")";
    if (!(v > 0.0 && v <= 1.0)) return "config: " + quoted(*f) + " must be in (0, 1]";
    **d = v;
  } else if (auto* l = std::get_if<std::vector<std::string>*>(&ref)) {
    (*l)->push_back(value);
  }
  return std::nullopt;
}

std::string key_for_flag(std::string_view flag_name) {
  std::string key(flag_name);
  for (char& ch : key)
    if (ch == '-') ch = '_';
  if (key.find('.') != std::string::npos) return find_field(key) ? key : std::string();
  for (const field& f : schema())
    if (key == f.key) return name_of(f);
  // `--cluster-cert` names `cluster.cert`: a section prefix disambiguates
  // keys whose bare name would read poorly as a flag.
  for (const field& f : schema()) {
    const std::string prefix = std::string(f.section) + "_";
    if (key.rfind(prefix, 0) == 0 && key.substr(prefix.size()) == f.key) return name_of(f);
  }
  return {};
}

bool is_boolean_key(std::string_view dotted_key) {
  const field* f = find_field(dotted_key);
  if (f == nullptr) return false;
  troupe_config scratch;
  field_ref ref = f->ref(scratch);
  return std::holds_alternative<bool*>(ref);
}

std::vector<std::string> all_keys() {
  std::vector<std::string> keys;
  for (const field& f : schema()) keys.push_back(name_of(f));
  return keys;
}

std::vector<key_doc> describe_keys() {
  const troupe_config defaults;
  std::vector<key_doc> docs;
  for (const field& f : schema()) {
    field_ref ref = f.ref(const_cast<troupe_config&>(defaults));
    std::string value;
    if (auto* s = std::get_if<std::string*>(&ref)) {
      value = "\"" + **s + "\"";
    } else if (auto* b = std::get_if<bool*>(&ref)) {
      value = **b ? "true" : "false";
    } else if (auto* i = std::get_if<int64_t*>(&ref)) {
      value = std::to_string(**i);
    } else if (auto* d = std::get_if<double*>(&ref)) {
      std::ostringstream o;
      o << **d;
      value = o.str();
    } else if (auto* l = std::get_if<std::vector<std::string>*>(&ref)) {
      value = "[]";  // no list key has a non-empty default
    }
    docs.push_back(key_doc{f.section, f.key, std::move(value), f.help});
  }
  return docs;
}

std::string example_toml() {
  std::string out =
      "# Troupe configuration. Every key is optional; the value shown is the default.\n"
      "# Every key also has a command-line twin: `[engine] max_num_seqs` is\n"
      "# `--max-num-seqs N` (flags override this file). Durations are milliseconds,\n"
      "# sizes are bytes. Use with: troupe serve --config troupe.toml\n"
      "# (Generated from the schema in config/load.cpp: `troupe serve --example-config`.)\n";
  std::string section;
  for (const key_doc& d : describe_keys()) {
    if (d.section != section) {
      section = d.section;
      out += "\n[" + section + "]\n";
    }
    std::string line = "# " + d.key + " = " + d.default_text;
    // The comments line up at column 30 where the assignment is short enough.
    if (line.size() < 30) line.resize(30, ' ');
    else line += "  ";
    out += line + "# " + d.help + "\n";
  }
  return out;
}

std::string resolved_keys_db(const troupe_config& c) {
  if (!c.auth.keys_db.empty()) return c.auth.keys_db;
  const char* env = std::getenv("TROUPE_KEYS_DB");
  if (env && *env) return env;
  return c.server.state_dir + "/keys.db";
}

std::string resolved_log_url(const troupe_config& c) {
  if (!c.log.url.empty()) return c.log.url;
  const char* env = std::getenv("TROUPE_LOG_URL");
  if (env && *env) return env;
  return "sqlite:" + c.server.state_dir + "/requests.db";
}

std::optional<std::string> validate(const troupe_config& c) {
  if (c.server.tls_cert.empty() != c.server.tls_key.empty())
    return "config: 'server.tls_cert' and 'server.tls_key' must be given together";
  if (c.server.no_tls && !c.server.tls_cert.empty())
    return "config: 'server.no_tls' conflicts with 'server.tls_cert'";
  if (c.auth.jwt_enabled && (c.auth.jwt_issuer.empty() || c.auth.jwt_audience.empty()))
    return "config: 'auth.jwt_enabled' needs 'auth.jwt_issuer' and 'auth.jwt_audience'";
  if (c.auth.jwt_enabled && c.auth.jwt_jwks_file.empty() && c.auth.jwt_public_key_file.empty() &&
      c.auth.jwt_secret_env.empty())
    return "config: 'auth.jwt_enabled' needs a key: 'auth.jwt_jwks_file', "
           "'auth.jwt_public_key_file' or 'auth.jwt_secret_env'";
  if (c.engine.max_model_len > 0 && c.engine.max_num_batched_tokens < 1)
    return "config: 'engine.max_num_batched_tokens' must be positive";
  return std::nullopt;
}

}  // namespace troupe::config
