#include "net/limits/rate_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace troupe::net {
namespace {

constexpr double kMsPerMinute = 60000.0;

double rate_per_ms(int64_t limit) { return double(limit) / kMsPerMinute; }

int64_t ms_until(double level, double target, int64_t limit) {
  if (level >= target) return 0;
  return int64_t(std::ceil((target - level) / rate_per_ms(limit)));
}

}  // namespace

int64_t rate_limiter::steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

rate_limiter::rate_limiter(size_t max_principals, clock_fn now_ms)
    : max_principals_(std::max<size_t>(1, max_principals)), now_ms_(std::move(now_ms)) {}

void rate_limiter::refill(bucket& b, int64_t limit, int64_t elapsed_ms) {
  if (limit <= 0) {
    b.limit = 0;
    return;
  }
  if (b.limit != limit) {
    // First use, or the limit changed (key edited): start from a full bucket
    // of the new size, but never hand out more than was left before.
    b.level = b.limit <= 0 ? double(limit) : std::min(b.level, double(limit));
    b.limit = limit;
  }
  b.level = std::min(double(limit), b.level + double(std::max<int64_t>(0, elapsed_ms)) *
                                                  rate_per_ms(limit));
}

bucket_report rate_limiter::report(const bucket& b) {
  bucket_report r;
  if (b.limit <= 0) return r;
  r.limited = true;
  r.limit = b.limit;
  r.remaining = std::max<int64_t>(0, int64_t(std::floor(b.level)));
  r.reset_ms = ms_until(b.level, double(b.limit), b.limit);
  return r;
}

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
  rate_decision d;
  estimated_tokens = std::max<int64_t>(0, estimated_tokens);

  if (e.requests.limit > 0 && e.requests.level < 1.0) {
    d.retry_after_ms = ms_until(e.requests.level, 1.0, e.requests.limit);
    d.requested = 1;
  } else if (e.tokens.limit > 0 && e.tokens.level < double(estimated_tokens)) {
    d.refused_on_tokens = true;
    d.requested = estimated_tokens;
    d.too_large = estimated_tokens > e.tokens.limit;
    double target = double(std::min(estimated_tokens, e.tokens.limit));
    d.retry_after_ms = ms_until(e.tokens.level, target, e.tokens.limit);
  } else {
    d.admitted = true;
    if (e.requests.limit > 0) e.requests.level -= 1.0;
    if (e.tokens.limit > 0) e.tokens.level -= double(estimated_tokens);
  }
  d.requests = report(e.requests);
  d.tokens = report(e.tokens);
  return d;
}

void rate_limiter::finish(const std::string& principal_id, const rate_limits& limits,
                          int64_t estimated_tokens, int64_t actual_tokens) {
  if (limits.max_tokens_per_minute <= 0) return;
  int64_t now = now_ms_();
  std::lock_guard lock(mu_);
  entry& e = touch(principal_id, limits, now);
  e.tokens.level = std::min(double(e.tokens.limit),
                            e.tokens.level + double(std::max<int64_t>(0, estimated_tokens) -
                                                    std::max<int64_t>(0, actual_tokens)));
}

size_t rate_limiter::num_tracked_principals() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::string format_reset_duration(int64_t ms) {
  if (ms <= 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t hours = ms / 3600000;
  int64_t minutes = (ms / 60000) % 60;
  int64_t whole_s = (ms / 1000) % 60;
  int64_t frac_ms = ms % 1000;
  std::string seconds = std::to_string(whole_s);
  if (frac_ms != 0) {
    std::string frac = std::to_string(1000 + frac_ms).substr(1);  // zero-padded to 3
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    seconds += "." + frac;
  }
  std::string out;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + seconds + "s";
}

int64_t retry_after_seconds(int64_t ms) { return std::max<int64_t>(1, (ms + 999) / 1000); }

}  // namespace troupe::net
