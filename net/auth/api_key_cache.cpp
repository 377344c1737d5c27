#include "net/auth/api_key_cache.hpp"

#include <algorithm>

namespace troupe::net {

api_key_cache::api_key_cache(int64_t ttl_ms, size_t max_entries, clock_fn now_ms)
    : ttl_ms_(ttl_ms), max_entries_(std::max<size_t>(1, max_entries)), now_ms_(std::move(now_ms)) {}

std::optional<std::optional<actors::api_key_record>> api_key_cache::find(
    const std::string& key_sha256_hex) {
  if (ttl_ms_ <= 0) return std::nullopt;
  int64_t now = now_ms_();
  std::lock_guard lock(mu_);
  auto it = entries_.find(key_sha256_hex);
  if (it == entries_.end()) return std::nullopt;
  if (now >= it->second.expires_at_ms) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.record;
}

void api_key_cache::put(const std::string& key_sha256_hex,
                        std::optional<actors::api_key_record> record) {
  if (ttl_ms_ <= 0) return;
  int64_t now = now_ms_();
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_entries_) {
    std::erase_if(entries_, [&](const auto& kv) { return now >= kv.second.expires_at_ms; });
    if (entries_.size() >= max_entries_) entries_.clear();  // all fresh: start over, stay bounded
  }
  entries_[key_sha256_hex] = entry{std::move(record), now + ttl_ms_};
}

void api_key_cache::invalidate_id(const std::string& key_id) {
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [&](const auto& kv) {
    return kv.second.record && kv.second.record->id == key_id;
  });
}

void api_key_cache::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

}  // namespace troupe::net
