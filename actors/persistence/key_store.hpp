#pragma once
// API keys, in SQLite (one file beside the server) or PostgreSQL (shared by
// every gateway of a cluster). Only SHA-256(key) is stored; the key text
// exists once, in the output of `troupe keys create`. Implementations are
// thread-safe (one connection behind a mutex: lookups are indexed and cached
// by the caller).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace troupe::actors {

struct api_key_record {
  std::string id;                // "key_…", public
  std::string name;
  std::string key_sha256_hex;
  std::optional<int64_t> max_requests_per_minute;
  std::optional<int64_t> max_tokens_per_minute;
  std::vector<std::string> allowed_models;  // empty = all
  int64_t created_at_unix_s = 0;
  std::optional<int64_t> revoked_at_unix_s;
};

enum class revoke_outcome { revoked, already_revoked, not_found, failed };

class key_store {
 public:
  // Opens (creating and migrating) the store at `location`: a
  // "postgresql://…"/"postgres://…" URL, else a SQLite file ("sqlite:" prefix
  // optional).
  static std::unique_ptr<key_store> open(const std::string& location, std::string* error);

  virtual ~key_store() = default;
  virtual bool insert(const api_key_record& record, std::string* error) = 0;
  // The key with this hash, revoked or not; nullopt when unknown or on error.
  virtual std::optional<api_key_record> find_by_hash(const std::string& key_sha256_hex,
                                                     std::string* error = nullptr) = 0;
  virtual std::vector<api_key_record> list(std::string* error = nullptr) = 0;
  virtual revoke_outcome revoke(const std::string& id, int64_t now_unix_s,
                                std::string* error = nullptr) = 0;
};

// The factories behind key_store::open.
std::unique_ptr<key_store> open_sqlite_key_store(const std::string& path, std::string* error);
std::unique_ptr<key_store> open_postgres_key_store(const std::string& url, std::string* error);

// "a,b" ↔ {"a","b"} (model names never contain commas).
std::string join_models(const std::vector<std::string>& models);
std::vector<std::string> split_models(const std::string& text);

}  // namespace troupe::actors
