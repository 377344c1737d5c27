#include "net/limits/rate_limiter.hpp"

#include <algorithm>
#include <chrono>

namespace troupe::net {

int64_t rate_limiter::steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

rate_limiter::rate_limiter(size_t max_principals, clock_fn now_ms)
    : max_principals_(std::max<size_t>(1, max_principals)), now_ms_(std::move(now_ms)) {}

rate_limiter::entry& rate_limiter::touch(const std::string& principal_id,
                                         const rate_limits& limits, int64_t now) {
  auto it = entries_.find(principal_id);
  if (it == entries_.end()) {
    if (entries_.size() >= max_principals_) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(principal_id);
    it = entries_.emplace(principal_id, entry{}).first;
    it->second.last_ms = now;
    it->second.lru_pos = lru_.begin();
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
  }
  entry& e = it->second;
  int64_t elapsed = now - e.last_ms;
  refill(e.requests, limits.max_requests_per_minute, elapsed);
  refill(e.tokens, limits.max_tokens_per_minute, elapsed);
  e.last_ms = std::max(e.last_ms, now);
  return e;
}

rate_decision rate_limiter::try_admit(const std::string& principal_id,
                                      const rate_limits& limits, int64_t estimated_tokens) {
  int64_t now = now_ms_();
  std::lock_guard lock(mu_);
  entry& e = touch(principal_id, limits, now);
  return take(e.requests, e.tokens, estimated_tokens);
}

void rate_limiter::finish(const std::string& principal_id, const rate_limits& limits,
                          int64_t estimated_tokens, int64_t actual_tokens) {
  if (limits.max_tokens_per_minute <= 0) return;
  int64_t now = now_ms_();
  std::lock_guard lock(mu_);
  entry& e = touch(principal_id, limits, now);
  give_back(e.tokens, estimated_tokens, actual_tokens);
}

size_t rate_limiter::num_tracked_principals() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace troupe::net
