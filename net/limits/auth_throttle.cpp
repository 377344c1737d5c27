#include "net/limits/auth_throttle.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::net {

auth_throttle::auth_throttle(auth_throttle_options options) : options_(options) {}

void auth_throttle::refill(entry& e, int64_t now_ms) const {
  const int64_t elapsed = std::max<int64_t>(0, now_ms - e.updated_ms);
  e.tokens = std::min<double>(static_cast<double>(options_.max_failures),
                              e.tokens + static_cast<double>(elapsed) / options_.refill_ms);
  e.updated_ms = now_ms;
}

std::optional<int64_t> auth_throttle::retry_after_ms(const std::string& source, int64_t now_ms) {
  if (options_.max_failures <= 0) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = entries_.find(source);
  if (it == entries_.end()) return std::nullopt;
  refill(it->second, now_ms);
  if (it->second.tokens >= 1.0) return std::nullopt;
  ++num_refused_;
  return static_cast<int64_t>(std::ceil((1.0 - it->second.tokens) * options_.refill_ms));
}

void auth_throttle::on_failure(const std::string& source, int64_t now_ms) {
  if (options_.max_failures <= 0) return;
  std::lock_guard lock(mu_);
  auto it = entries_.find(source);
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_sources && !lru_.empty()) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(source);
    entry e;
    e.tokens = static_cast<double>(options_.max_failures);
    e.updated_ms = now_ms;
    e.lru = lru_.begin();
    it = entries_.emplace(source, e).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    refill(it->second, now_ms);
  }
  it->second.tokens = std::max(0.0, it->second.tokens - 1.0);
}

int64_t auth_throttle::num_refused() const {
  std::lock_guard lock(mu_);
  return num_refused_;
}

std::size_t auth_throttle::num_sources() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace troupe::net
