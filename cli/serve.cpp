// `troupe serve [--model DIR] [--config FILE] [--FLAG VALUE]…`: builds the
// configuration (defaults < TOML file < flags), starts the local engine
// service, and serves HTTP(S)/WebSocket until SIGTERM or SIGINT.
#include "cli/serve.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/log_actor.hpp"
#include "actors/node/local_service.hpp"
#include "cli/cli_args.hpp"
#include "actors/persistence/request_log_store.hpp"
#include "config/load.hpp"
#include "net/api/edge_metrics.hpp"
#include "net/api/router.hpp"
#include "net/auth/security_hooks.hpp"
#include "net/server/server.hpp"
#include "net/tls/self_signed.hpp"

namespace troupe::cli {
namespace {

void print_usage() {
  std::printf(
      "usage: troupe serve [--model DIR] [--config FILE] [--host H] [--port N]\n"
      "                    [--api-key KEY]... [--no-auth]\n"
      "                    [--tls-cert FILE --tls-key FILE | --no-tls] [--state-dir DIR]\n"
      "                    [--max-num-seqs N] [--policy continuous|static] [--executor auto|cpu|cuda]\n"
      "                    [--KEY VALUE]...\n\n"
      "Every key of the TOML file is also a flag (underscores as dashes); flags override the file.\n"
      "Keys:\n");
  for (const auto& k : config::all_keys()) std::printf("  %s\n", k.c_str());
}

// argv (argv[1] == "serve") → config, in two passes so that --config is read before the flags
// that override it.
bool build_config(int argc, char** argv, config::troupe_config* cfg, std::string* error) {
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0) {
      if (i + 1 >= argc) return *error = "--config needs a file", false;
      if (auto e = config::load_toml_file(argv[i + 1], cfg)) return *error = *e, false;
    }
  }
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return *error = "unexpected argument '" + arg + "'", false;
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == "config") {
      ++i;
      continue;
    }
    std::string key;
    if (name == "model") key = "model.path";
    else if (name == "api-key") key = "auth.api_keys";
    else if (name == "no-auth") key = "auth.disabled";
    else key = config::key_for_flag(name);
    if (key.empty()) return *error = "unknown flag '--" + name + "'", false;
    if (config::is_boolean_key(key) && !has_value) {
      // `--store-text` alone means true; `--store-text false` (the form every
      // other flag takes) is accepted too rather than failing on 'false'.
      const bool next_is_bool = i + 1 < argc && (std::strcmp(argv[i + 1], "true") == 0 ||
                                                 std::strcmp(argv[i + 1], "false") == 0);
      value = next_is_bool ? argv[++i] : "true";
    } else if (!has_value) {
      if (i + 1 >= argc) return *error = "--" + name + " needs a value", false;
      value = argv[++i];
    }
    if (auto e = config::apply_setting(cfg, key, value)) return *error = *e, false;
  }
  if (auto e = config::validate(*cfg)) return *error = *e, false;
  return true;
}

// The [auth] and [limits] tables as the security layer's options. Secrets
// named by environment variable are read here, never stored in the config.
bool security_options_from(const config::troupe_config& cfg, net::security_options* o,
                           std::string* error) {
  o->auth_disabled = cfg.auth.disabled;
  for (size_t i = 0; i < cfg.auth.api_keys.size(); ++i) {
    net::static_api_key k;
    k.key = cfg.auth.api_keys[i];
    k.name = std::to_string(i);
    o->static_keys.push_back(std::move(k));
  }
  o->keys_db = config::resolved_keys_db(cfg);
  o->key_cache_ttl_ms = cfg.auth.key_cache_ttl_ms;
  o->jwt_enabled = cfg.auth.jwt_enabled;
  o->jwt.issuer = cfg.auth.jwt_issuer;
  o->jwt.audience = cfg.auth.jwt_audience;
  o->jwt.leeway_s = cfg.auth.jwt_leeway_s;
  o->jwt.rpm_claim = cfg.auth.jwt_rpm_claim;
  o->jwt.tpm_claim = cfg.auth.jwt_tpm_claim;
  o->jwt.models_claim = cfg.auth.jwt_models_claim;
  o->jwt_jwks_file = cfg.auth.jwt_jwks_file;
  o->jwt_jwks_reload_ms = cfg.auth.jwt_jwks_reload_ms;
  if (!cfg.auth.jwt_public_key_file.empty()) {
    net::jwt_key_source k;
    k.kid = cfg.auth.jwt_public_key_kid;
    k.alg = cfg.auth.jwt_public_key_alg;
    k.public_key_file = cfg.auth.jwt_public_key_file;
    o->jwt_keys.push_back(std::move(k));
  }
  if (!cfg.auth.jwt_secret_env.empty()) {
    const char* secret = std::getenv(cfg.auth.jwt_secret_env.c_str());
    if (!secret || !*secret)
      return *error = "config: 'auth.jwt_secret_env' names $" + cfg.auth.jwt_secret_env +
                      ", which is not set",
             false;
    net::jwt_key_source k;
    k.alg = "HS256";
    k.secret = secret;
    o->jwt_keys.push_back(std::move(k));
  }
  o->default_max_requests_per_minute = cfg.limits.requests_per_minute;
  o->default_max_tokens_per_minute = cfg.limits.tokens_per_minute;
  o->max_rate_limited_principals = static_cast<size_t>(cfg.limits.max_tracked_principals);
  o->log_store_text = cfg.log.store_text;
  return true;
}

// The request log actor runs in an actor system of its own: it is part of the
// edge, not of the engine node, and a gateway-only process has no engine.
struct request_log {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  std::shared_ptr<actors::request_log_writer> writer;

  bool start(const config::troupe_config& c, std::string* error) {
    const std::string url = config::resolved_log_url(c);
    if (url == "off") return true;
    auto store = actors::open_request_log_store(url, actors::store_access::write, error);
    if (!store) return false;
    cfg.set("scheduler.max-threads", 1);
    system = std::make_unique<caf::actor_system>(cfg);
    actors::request_log_options o;
    o.batch_rows = static_cast<size_t>(c.log.batch_rows);
    o.flush_ms = c.log.flush_ms;
    o.queue_rows = static_cast<size_t>(c.log.queue_rows);
    writer = actors::request_log_writer::start(*system, std::move(store), o);
    const bool sqlite = url.rfind("sqlite:", 0) == 0;
    // The URL of a PostgreSQL store may hold a password: never print it.
    std::fprintf(stderr,
                 "troupe: request log %s, written every %lld ms or %lld rows (prompt/output text %s)\n",
                 sqlite ? url.c_str() : "on PostgreSQL", static_cast<long long>(c.log.flush_ms),
                 static_cast<long long>(c.log.batch_rows), c.log.store_text ? "kept" : "not kept");
    return true;
  }
  // The security hooks share the writer: they must be gone first, or the
  // actor system would wait forever for the log actor's last handle.
  void stop() {
    if (writer) writer->stop();
    writer.reset();
    system.reset();
  }
  ~request_log() { stop(); }
};

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

int run_serve(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      print_usage();
      return 0;
    }
  }
  config::troupe_config cfg;
  std::string error;
  if (!build_config(argc, argv, &cfg, &error)) {
    std::fprintf(stderr, "troupe serve: %s\n", error.c_str());
    return 2;
  }
  if (cfg.model.path.empty()) cfg.model.path = default_model_dir();  // the bundled model

  net::server_options opt;
  opt.limits = cfg.server;
  opt.num_threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  if (!cfg.server.no_tls) {
    std::optional<net::tls_files> files;
    if (!cfg.server.tls_cert.empty()) {
      files = net::load_tls_files(cfg.server.tls_cert, cfg.server.tls_key, &error);
    } else {
      const std::string dir = (std::filesystem::path(cfg.server.state_dir) / "tls").string();
      files = net::load_or_create_self_signed(dir, &error);
      if (files)
        std::fprintf(stderr, "troupe: %s self-signed certificate %s (trust it with curl --cacert %s)\n",
                     files->created ? "created" : "using", files->cert_path.c_str(),
                     files->cert_path.c_str());
    }
    if (!files) {
      std::fprintf(stderr, "troupe serve: %s\n", error.c_str());
      return 2;
    }
    opt.cert_pem = files->cert_pem;
    opt.key_pem = files->key_pem;
  }

  net::security_options sec;
  if (!security_options_from(cfg, &sec, &error)) {
    std::fprintf(stderr, "troupe serve: %s\n", error.c_str());
    return 2;
  }
  request_log log;
  if (!log.start(cfg, &error)) {
    std::fprintf(stderr, "troupe serve: request log: %s\n", error.c_str());
    return 2;
  }
  std::unique_ptr<net::security_hooks> hooks = net::security_hooks::create(sec, log.writer, &error);
  if (!hooks) {
    std::fprintf(stderr, "troupe serve: %s\n", error.c_str());
    return 2;
  }
  // (security_hooks announces a disabled auth loudly itself.)
  if (!cfg.auth.disabled) {
    std::fprintf(stderr, "troupe: auth: %zu static key(s), API keys from %s%s\n",
                 cfg.auth.api_keys.size(), sec.keys_db.c_str(),
                 cfg.auth.jwt_enabled ? ", JWT bearer tokens" : "");
  }

  std::unique_ptr<actors::generation_service> service = actors::start_local_service(cfg, &error);
  if (!service) {
    std::fprintf(stderr, "troupe serve: %s\n", error.c_str());
    return 1;
  }
  raise_fd_limit();
  net::edge_metrics metrics;
  net::auth_throttle_options throttle;
  throttle.max_failures = cfg.limits.max_auth_failures;
  throttle.refill_ms = cfg.limits.auth_failure_refill_ms;
  net::api_router router(*service, *hooks, metrics, throttle);
  std::unique_ptr<net::server> srv = net::server::create(opt, router, &error);
  if (!srv) {
    std::fprintf(stderr, "troupe serve: %s\n", error.c_str());
    return 1;
  }
  std::printf("troupe: listening on %s://%s:%u\n", srv->tls() ? "https" : "http", cfg.server.host.c_str(),
              unsigned(srv->port()));
  std::fflush(stdout);
  srv->run_until_signal();
  srv.reset();
  service.reset();
  hooks.reset();
  log.stop();  // writes what is still queued
  std::fprintf(stderr, "troupe: stopped\n");
  return 0;
}

}  // namespace troupe::cli
