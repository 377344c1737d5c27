// `troupe serve [--model DIR] [--config FILE] [--FLAG VALUE]…` and
// `troupe gateway --worker HOST:PORT … [--FLAG VALUE]…`: build the
// configuration (defaults < TOML file < flags), start the node's
// generation_service (an in-process worker, or remote ones), and serve
// HTTP(S)/WebSocket until SIGTERM or SIGINT.
#include "cli/serve.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/engine/model/model_path_check.hpp"
#include "actors/log_actor.hpp"
#include "actors/node/config_mapping.hpp"
#include "actors/persistence/key_store.hpp"
#include "actors/persistence/postgres_db.hpp"
#include "cli/serve_report.hpp"
#include "cli/cli_args.hpp"
#include "actors/persistence/request_log_store.hpp"
#include "config/load.hpp"
#include "net/api/edge_metrics.hpp"
#include "net/api/router.hpp"
#include "net/auth/security_hooks.hpp"
#include "net/server/server.hpp"
#include "net/tls/self_signed.hpp"
#include "net/trace/otlp_exporter.hpp"
#include "config/version.hpp"

namespace troupe::cli {
namespace {

enum class edge_role { serve, gateway };

void print_usage(edge_role role) {
  if (role == edge_role::gateway)
    std::printf(
        "usage: troupe gateway --worker HOST:PORT [--worker HOST:PORT]... [--listen HOST:PORT]\n"
        "                      [--cluster-cert F --cluster-key F --cluster-ca F | --cluster-plaintext]\n"
        "                      [edge flags as for serve: --host H --port N --api-key KEY --no-tls ...]\n\n"
        "The network edge (TLS, auth, limits, request log, OpenAI/WebSocket API) without an engine:\n"
        "it dials the workers (and, with --listen, admits workers that join it), learns their models\n"
        "and tokenizers from them, and routes by model, load and prompt prefix. See docs/cluster.md.\n\n");
  std::printf(
      "usage: troupe serve [--model DIR] [--config FILE] [--host H] [--port N]\n"
      "                    [--api-key KEY]... [--no-auth]\n"
      "                    [--tls-cert FILE --tls-key FILE | --no-tls] [--state-dir DIR]\n"
      "                    [--max-num-seqs N] [--policy continuous|static] [--executor auto|cpu|cuda]\n"
      "                    [--quantization none|int8|fp8|nf4|fp4|int4|awq]\n"
      "                    [--KEY VALUE]...\n\n"
      "       troupe serve --example-config   (prints a commented TOML file of every key)\n\n"
      "Every key of the TOML file is also a flag (underscores as dashes); flags override the file.\n"
      "Durations are in the unit their name ends with (_ms, _s), sizes in bytes.\n");
  std::string section;
  for (const config::key_doc& d : config::describe_keys()) {
    if (d.section != section) {
      section = d.section;
      std::printf("\n[%s]\n", section.c_str());
    }
    std::string flag = "--" + d.key;
    for (char& c : flag)
      if (c == '_') c = '-';
    std::printf("  %-28s %s (default: %s)\n", flag.c_str(), d.help.c_str(), d.default_text.c_str());
  }
}

}  // namespace

// argv (argv[1] == the command) → config, in two passes so that --config is
// read before the flags that override it.
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
    else if (name == "worker") key = "cluster.workers";
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

namespace {

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
  o->shared_limits_url = cfg.limits.shared_url;
  o->shared_limits_connections = static_cast<size_t>(cfg.limits.shared_connections);
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

// The last resort of shutdown: the server has already ended every stream and
// cancelled every request; the teardown after that (engine, hooks, request
// log) gets kTeardownMs, after which the process exits with status 1 and a
// line saying so. Together with the server's 500 ms to write error events,
// SIGTERM ends the process within shutdown_grace_ms + 2 s.
class shutdown_watchdog {
 public:
  static constexpr int kTeardownMs = 1300;
  shutdown_watchdog()
      : thread_([this] {
          std::unique_lock lock(mu_);
          if (cv_.wait_for(lock, std::chrono::milliseconds(kTeardownMs), [this] { return done_; }))
            return;
          std::fprintf(stderr, "troupe: shutdown did not finish within %d ms after the grace period; "
                               "exiting now (queued request-log rows may be lost)\n", kTeardownMs);
          std::fflush(stderr);
          std::_Exit(1);
        }) {}
  ~shutdown_watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Whether the key database holds a key that is not revoked (without
// creating the file when it is missing).
bool has_usable_key(const std::string& keys_db) {
  if (!actors::is_postgres_url(keys_db) && !std::filesystem::exists(keys_db)) return false;
  std::string error;
  auto store = actors::key_store::open(keys_db, &error);
  if (!store) return true;  // the hooks reported what is wrong with it already
  for (const auto& k : store->list())
    if (!k.revoked_at_unix_s) return true;
  return false;
}

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}


// The engine side of the edge: one in-process worker (serve) or remote ones (gateway).
std::unique_ptr<actors::generation_service> start_service(edge_role role,
                                                          const config::troupe_config& cfg,
                                                          std::string* error) {
  if (role == edge_role::serve) return actors::start_local_service(cfg, error);
  auto options = actors::gateway_options_from(cfg, error);
  if (!options) return nullptr;
  auto service = actors::cluster_service::create(*options, error);
  if (service && options->registry)
    std::fprintf(stderr, "troupe gateway: workers may join on %s:%u\n", options->registry->host.c_str(),
                 unsigned(service->registry_port()));
  for (const auto& w : options->workers)
    std::fprintf(stderr, "troupe gateway: dialing worker %s:%u\n", w.host.c_str(), unsigned(w.port));
  return service;
}

int run_edge(edge_role role, int argc, char** argv) {
  const char* name = role == edge_role::serve ? "troupe serve" : "troupe gateway";
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      print_usage(role);
      return 0;
    }
    if (std::strcmp(argv[i], "--example-config") == 0) {
      std::fputs(config::example_toml().c_str(), stdout);
      return 0;
    }
  }
  config::troupe_config cfg;
  std::string error;
  if (!build_config(argc, argv, &cfg, &error)) {
    std::fprintf(stderr, "%s: %s\n", name, error.c_str());
    return 2;
  }
  if (role == edge_role::serve &&
      (!cfg.cluster.workers.empty() || !cfg.cluster.listen.empty() || !cfg.cluster.gateway.empty())) {
    std::fprintf(stderr, "troupe serve: cluster.workers/listen/gateway belong to `troupe gateway` and "
                         "`troupe worker`; serve runs its engine in-process\n");
    return 2;
  }
  if (role == edge_role::gateway && !cfg.model.path.empty()) {
    std::fprintf(stderr, "troupe gateway: --model belongs to `troupe worker`; a gateway learns its "
                         "models from its workers\n");
    return 2;
  }
  if (cfg.model.path.empty()) cfg.model.path = default_model_dir();  // the bundled model
  // Before the state folder, keys or certificates are created.
  if (auto bad = engine::check_model_path(cfg.model.path)) {
    std::fprintf(stderr, "troupe serve: %s\n", bad->c_str());
    return 2;
  }

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
    // A PostgreSQL URL may carry a password: it is never printed.
    const bool keys_in_postgres = actors::is_postgres_url(sec.keys_db);
    std::fprintf(stderr, "troupe: auth: %zu static key(s), API keys from %s%s%s\n",
                 cfg.auth.api_keys.size(), keys_in_postgres ? "PostgreSQL" : sec.keys_db.c_str(),
                 cfg.auth.jwt_enabled ? ", JWT bearer tokens" : "",
                 sec.shared_limits_url.empty() ? "" : ", rate limits shared in PostgreSQL");
  }

  if (!cfg.auth.disabled && cfg.auth.api_keys.empty() && !cfg.auth.jwt_enabled &&
      !has_usable_key(sec.keys_db)) {
    const std::string db = actors::is_postgres_url(sec.keys_db)
                               ? std::string("\"$KEYS_URL\"  # the [auth] keys_db URL")
                               : std::filesystem::absolute(sec.keys_db).lexically_normal().string();
    std::fprintf(stderr,
                 "troupe: no API key exists yet, so every request will be refused with 401. "
                 "Create one (the server accepts it within %lld ms):\n"
                 "  troupe keys create --name admin --db %s\n"
                 "or start with --api-key KEY (or --no-auth for a local experiment).\n",
                 static_cast<long long>(cfg.auth.key_cache_ttl_ms), db.c_str());
  }

  std::unique_ptr<actors::generation_service> service;
  if (role == edge_role::serve) {
    std::fprintf(stderr, "%s\n", model_summary(cfg).c_str());
    loading_progress progress(cfg.model.path);
    service = start_service(role, cfg, &error);
    progress.stop(service != nullptr);
  } else {
    service = start_service(role, cfg, &error);
  }
  if (!service) {
    std::fprintf(stderr, "%s: %s\n", name, error.c_str());
    return 1;
  }
  std::fprintf(stderr, "%s\n", memory_plan(*service, cfg).c_str());
  raise_fd_limit();
  std::unique_ptr<net::otlp_exporter> tracer;
  if (!cfg.tracing.otlp_endpoint.empty()) {
    net::otlp_options o;
    o.endpoint = cfg.tracing.otlp_endpoint;
    for (const std::string& h : cfg.tracing.headers)
      if (!net::parse_header_list(h, &o.headers, &error)) {
        std::fprintf(stderr, "troupe serve: config: 'tracing.headers': %s\n", error.c_str());
        return 2;
      }
    if (!cfg.tracing.headers_env.empty()) {
      const char* v = std::getenv(cfg.tracing.headers_env.c_str());
      if (!v) {
        std::fprintf(stderr, "troupe serve: config: 'tracing.headers_env' names $%s, which is not set\n",
                     cfg.tracing.headers_env.c_str());
        return 2;
      }
      if (!net::parse_header_list(v, &o.headers, &error)) {
        std::fprintf(stderr, "troupe serve: $%s: %s\n", cfg.tracing.headers_env.c_str(), error.c_str());
        return 2;
      }
    }
    o.service_name = cfg.tracing.service_name;
    o.service_version = config::version();
    o.max_queued_spans = static_cast<size_t>(cfg.tracing.max_queued_spans);
    o.export_interval_ms = static_cast<int>(cfg.tracing.export_interval_ms);
    o.export_timeout_ms = static_cast<int>(cfg.tracing.export_timeout_ms);
    tracer = std::make_unique<net::otlp_exporter>(std::move(o));
    std::fprintf(stderr, "troupe: tracing: OTLP/HTTP to %s every %lld ms\n",
                 cfg.tracing.otlp_endpoint.c_str(), static_cast<long long>(cfg.tracing.export_interval_ms));
  }
  net::edge_metrics metrics;
  net::auth_throttle_options throttle;
  throttle.max_failures = cfg.limits.max_auth_failures;
  throttle.refill_ms = cfg.limits.auth_failure_refill_ms;
  net::api_router router(*service, *hooks, metrics, throttle);
  router.set_tracer(tracer.get());
  std::unique_ptr<net::server> srv = net::server::create(opt, router, &error);
  if (!srv) {
    std::fprintf(stderr, "troupe serve: %s\n", error.c_str());
    return 1;
  }
  std::printf("troupe: listening on %s://%s:%u\n", srv->tls() ? "https" : "http", cfg.server.host.c_str(),
              unsigned(srv->port()));
  std::fflush(stdout);
  std::optional<stats_reporter> stats;
  stats.emplace(*service, cfg.server.stats_interval_s);
  srv->run_until_signal();
  stats.reset();
  // Past the grace period every request has been cancelled, so the engine
  // stops at once; should anything still hang (an engine step that does not
  // return), the watchdog ends the process rather than leave it running.
  shutdown_watchdog watchdog;
  srv.reset();
  service.reset();
  hooks.reset();
  tracer.reset();  // exports what is queued (bounded: the watchdog is still on)
  log.stop();  // writes what is still queued
  std::fprintf(stderr, "troupe: stopped\n");
  return 0;
}

std::atomic<bool> worker_stop{false};

void on_worker_signal(int) {
  if (worker_stop.exchange(true)) _exit(1);  // a second signal: leave now
}

}  // namespace

int run_serve(int argc, char** argv) { return run_edge(edge_role::serve, argc, argv); }
int run_gateway(int argc, char** argv) { return run_edge(edge_role::gateway, argc, argv); }

int run_worker(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf(
          "usage: troupe worker --model DIR [--listen HOST:PORT] [--gateway HOST:PORT]\n"
          "                     [--cluster-cert F --cluster-key F --cluster-ca F | --cluster-plaintext]\n"
          "                     [--advertise HOST:PORT] [--drain-grace-ms MS]\n"
          "                     [engine flags as for serve: --executor, --max-num-seqs, ...]\n\n"
          "One engine (scheduler, KV pool, executor) for gateways: published on --listen for gateways\n"
          "that dial it, and/or registered with the gateway at --gateway. SIGTERM drains it. See\n"
          "docs/cluster.md; `troupe serve --help` lists the engine keys.\n");
      return 0;
    }
  }
  config::troupe_config cfg;
  std::string error;
  if (!build_config(argc, argv, &cfg, &error)) {
    std::fprintf(stderr, "troupe worker: %s\n", error.c_str());
    return 2;
  }
  if (cfg.model.path.empty()) cfg.model.path = default_model_dir();
  auto options = actors::worker_options_from(cfg, &error);
  if (!options) {
    std::fprintf(stderr, "troupe worker: %s\n", error.c_str());
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_worker_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  return actors::run_worker_node(*options, worker_stop);
}

}  // namespace troupe::cli
