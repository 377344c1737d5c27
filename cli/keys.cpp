#include "cli/keys.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "actors/persistence/key_store.hpp"
#include "actors/persistence/postgres_db.hpp"
#include "actors/persistence/request_log_export.hpp"
#include "cli/cli_args.hpp"
#include "config/load.hpp"
#include "net/auth/api_key.hpp"

namespace troupe::cli {
namespace {

constexpr const char* kUsage =
    "usage: troupe keys create [--name N] [--rpm R] [--tpm T] [--models M1,M2] [--db PATH|URL]\n"
    "       troupe keys list [--db PATH|URL]\n"
    "       troupe keys revoke ID [--db PATH|URL]\n"
    "\n"
    "API keys live in a SQLite file (default $TROUPE_KEYS_DB, else ./troupe-data/keys.db; the\n"
    "server reads the same file: [auth] keys_db), or in PostgreSQL when --db is a\n"
    "postgresql:// URL (the store several gateways share). Only SHA-256 of each key is stored:\n"
    "create prints the key once, on stdout; it cannot be shown again.\n"
    "--rpm / --tpm: requests / tokens per minute for this key (default: the server's).\n"
    "--models: the only models this key may use (default: all).\n";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string default_db() { return config::resolved_keys_db(config::troupe_config{}); }

// `create` makes the database when it is missing; `list` and `revoke` refuse
// instead, because an empty database made in the wrong folder is one the
// server never reads (it would list nothing, and hide where the keys are).
std::unique_ptr<actors::key_store> open_store(const cli_args& args, bool create_if_missing) {
  std::string error;
  const std::string path = args.get_or("db", default_db());
  if (!create_if_missing && !actors::is_postgres_url(path) && !std::filesystem::exists(path)) {
    std::fprintf(stderr,
                 "troupe keys: no key database at %s (resolved from %s).\n"
                 "The server reads [auth] keys_db, else $TROUPE_KEYS_DB, else <state_dir>/keys.db "
                 "relative to the folder it runs in.\nRun this where the server runs, or pass "
                 "--db PATH; `troupe keys create` makes the database.\n",
                 std::filesystem::absolute(path).lexically_normal().string().c_str(),
                 args.has("db")                      ? "--db"
                 : std::getenv("TROUPE_KEYS_DB")     ? "$TROUPE_KEYS_DB"
                                                     : "the default ./troupe-data/keys.db");
    return nullptr;
  }
  auto store = actors::key_store::open(path, &error);
  if (!store) std::fprintf(stderr, "troupe keys: %s\n", error.c_str());
  return store;
}

std::string text_or_dash(const std::optional<int64_t>& v) {
  return v ? std::to_string(*v) : "-";
}

// Unix seconds → "2026-01-05T08:00:00Z".
std::string date_text(int64_t unix_s) {
  return actors::format_iso8601_ms(unix_s * 1000).substr(0, 19) + "Z";
}

int create(cli_args& args) {
  actors::api_key_record r;
  r.name = args.get_or("name", "");
  for (const char* opt : {"rpm", "tpm"}) {
    if (!args.has(opt)) continue;
    int64_t v = args.get_int(opt, -1);
    if (!args.ok() || v < 0) {
      std::fprintf(stderr, "troupe keys: --%s needs a whole number ≥ 0\n", opt);
      return 2;
    }
    (std::string(opt) == "rpm" ? r.max_requests_per_minute : r.max_tokens_per_minute) = v;
  }
  r.allowed_models = actors::split_models(args.get_or("models", ""));
  auto key = net::generate_api_key();
  auto id = net::generate_api_key_id();
  if (!key || !id) {
    std::fprintf(stderr, "troupe keys: the random number generator failed; no key created\n");
    return 1;
  }
  r.id = *id;
  r.key_sha256_hex = net::api_key_sha256_hex(*key);
  r.created_at_unix_s = unix_now();
  auto store = open_store(args, /*create_if_missing=*/true);
  if (!store) return 1;
  std::string error;
  if (!store->insert(r, &error)) {
    std::fprintf(stderr, "troupe keys: %s\n", error.c_str());
    return 1;
  }
  std::string label = r.name.empty() ? r.id : r.id + " (" + r.name + ")";
  std::fprintf(stderr, "Created %s. The key below is shown only this once:\n", label.c_str());
  std::printf("%s\n", key->c_str());
  return 0;
}

int list(cli_args& args) {
  auto store = open_store(args, /*create_if_missing=*/false);
  if (!store) return 1;
  std::printf("%-16s  %-20s  %8s  %10s  %-20s  %-20s  %s\n", "ID", "NAME", "RPM", "TPM",
              "CREATED", "REVOKED", "MODELS");
  for (const auto& r : store->list()) {
    std::printf("%-16s  %-20s  %8s  %10s  %-20s  %-20s  %s\n", r.id.c_str(), r.name.c_str(),
                text_or_dash(r.max_requests_per_minute).c_str(),
                text_or_dash(r.max_tokens_per_minute).c_str(), date_text(r.created_at_unix_s).c_str(),
                r.revoked_at_unix_s ? date_text(*r.revoked_at_unix_s).c_str() : "-",
                r.allowed_models.empty() ? "*" : actors::join_models(r.allowed_models).c_str());
  }
  return 0;
}

int revoke(cli_args& args) {
  if (args.positional().size() != 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string& id = args.positional()[1];
  auto store = open_store(args, /*create_if_missing=*/false);
  if (!store) return 1;
  std::string error;
  switch (store->revoke(id, unix_now(), &error)) {
    case actors::revoke_outcome::revoked:
      std::printf("Revoked %s.\n", id.c_str());
      return 0;
    case actors::revoke_outcome::already_revoked:
      std::printf("%s was already revoked.\n", id.c_str());
      return 0;
    case actors::revoke_outcome::not_found:
      std::fprintf(stderr, "troupe keys: no key with id '%s'\n", id.c_str());
      return 1;
    case actors::revoke_outcome::failed:
      break;
  }
  std::fprintf(stderr, "troupe keys: %s\n", error.c_str());
  return 1;
}

}  // namespace

int run_keys(int argc, char** argv) {
  cli_args args(argc, argv, 2, {"name", "rpm", "tpm", "models", "db"}, {"help"});
  if (!args.ok()) {
    std::fprintf(stderr, "troupe keys: %s\n\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  const auto& pos = args.positional();
  if (args.has("help") || pos.empty()) {
    std::fputs(kUsage, args.has("help") ? stdout : stderr);
    return args.has("help") ? 0 : 2;
  }
  if (pos[0] == "create" && pos.size() == 1) return create(args);
  if (pos[0] == "list" && pos.size() == 1) return list(args);
  if (pos[0] == "revoke") return revoke(args);
  std::fprintf(stderr, "troupe keys: unknown action '%s'\n\n%s", pos[0].c_str(), kUsage);
  return 2;
}

}  // namespace troupe::cli
