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

#include "actors/node/local_service.hpp"
#include "config/load.hpp"
#include "net/api/edge_metrics.hpp"
#include "net/api/router.hpp"
#include "net/edge/static_key_hooks.hpp"
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
      value = "true";
    } else if (!has_value) {
      if (i + 1 >= argc) return *error = "--" + name + " needs a value", false;
      value = argv[++i];
    }
    if (auto e = config::apply_setting(cfg, key, value)) return *error = *e, false;
  }
  if (auto e = config::validate(*cfg)) return *error = *e, false;
  return true;
}

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
  if (cfg.auth.api_keys.empty() && !cfg.auth.disabled) {
    std::fprintf(stderr,
                 "troupe serve: no API key configured: pass --api-key KEY (or [auth] api_keys), "
                 "or --no-auth to serve without authentication\n");
    return 2;
  }
  if (cfg.model.path.empty()) {
    std::fprintf(stderr, "troupe serve: no model: pass --model DIR (or [model] path)\n");
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

  std::unique_ptr<actors::generation_service> service = actors::start_local_service(cfg, &error);
  if (!service) {
    std::fprintf(stderr, "troupe serve: %s\n", error.c_str());
    return 1;
  }
  raise_fd_limit();
  net::static_key_hooks hooks(cfg.auth.api_keys, cfg.auth.disabled);
  net::edge_metrics metrics;
  net::api_router router(*service, hooks, metrics);
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
  std::fprintf(stderr, "troupe: stopped\n");
  return 0;
}

}  // namespace troupe::cli
