#pragma once
// API keys in SQLite. Only SHA-256(key) is stored; the key text exists once,
// in the output of `troupe keys create`. Thread-safe (one connection behind a
// mutex: lookups are indexed and take microseconds).
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/persistence/sqlite_db.hpp"

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
  // Opens (creating and migrating) the database at path.
  static std::unique_ptr<key_store> open(const std::string& path, std::string* error);

  bool insert(const api_key_record& record, std::string* error);
  // The key with this hash, revoked or not; nullopt when unknown or on error.
  std::optional<api_key_record> find_by_hash(const std::string& key_sha256_hex,
                                             std::string* error = nullptr);
  std::vector<api_key_record> list(std::string* error = nullptr);
  revoke_outcome revoke(const std::string& id, int64_t now_unix_s, std::string* error = nullptr);

 private:
  explicit key_store(std::unique_ptr<sqlite_db> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<sqlite_db> db_;
};

// "a,b" ↔ {"a","b"} (model names never contain commas).
std::string join_models(const std::vector<std::string>& models);
std::vector<std::string> split_models(const std::string& text);

}  // namespace troupe::actors
