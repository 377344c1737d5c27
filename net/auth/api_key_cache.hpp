#pragma once
// A short-TTL cache in front of the key store, keyed by SHA-256 hex of the
// presented key. It remembers hits and misses (so a client retrying a bad key
// costs no database reads) for ttl_ms. A revocation in this process takes
// effect at once (invalidate); one made by another process (`troupe keys
// revoke` against the same file) within ttl_ms.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "actors/persistence/key_store.hpp"

namespace troupe::net {

class api_key_cache {
 public:
  using clock_fn = std::function<int64_t()>;  // monotonic milliseconds

  api_key_cache(int64_t ttl_ms, size_t max_entries, clock_fn now_ms);

  // Cached answer: outer nullopt = not cached; inner nullopt = known unknown.
  std::optional<std::optional<actors::api_key_record>> find(const std::string& key_sha256_hex);
  void put(const std::string& key_sha256_hex, std::optional<actors::api_key_record> record);
  // Forgets every entry for this key id.
  void invalidate_id(const std::string& key_id);
  void clear();

 private:
  struct entry {
    std::optional<actors::api_key_record> record;
    int64_t expires_at_ms = 0;
  };
  int64_t ttl_ms_;
  size_t max_entries_;
  clock_fn now_ms_;
  std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace troupe::net
