#pragma once
// Per-principal token buckets for requests/minute and tokens/minute, held in
// this process (token_bucket.hpp has the arithmetic). When a request
// finishes, its token bucket is corrected by (estimate - real count).
// Memory is bounded: beyond max_principals the least recently seen principal
// is forgotten (its next request starts from a full bucket).
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "net/limits/token_bucket.hpp"

namespace troupe::net {

class rate_limiter final : public admission_limiter {
 public:
  using clock_fn = std::function<int64_t()>;  // monotonic milliseconds

  static int64_t steady_now_ms();

  explicit rate_limiter(size_t max_principals = 100000, clock_fn now_ms = steady_now_ms);

  rate_decision try_admit(const std::string& principal_id, const rate_limits& limits,
                          int64_t estimated_tokens) override;
  void finish(const std::string& principal_id, const rate_limits& limits,
              int64_t estimated_tokens, int64_t actual_tokens) override;

  size_t num_tracked_principals() const;

 private:
  struct entry {
    token_bucket requests;
    token_bucket tokens;
    int64_t last_ms = 0;
    std::list<std::string>::iterator lru_pos;
  };

  entry& touch(const std::string& principal_id, const rate_limits& limits, int64_t now);

  size_t max_principals_;
  clock_fn now_ms_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
  std::list<std::string> lru_;  // front = most recently used
};

}  // namespace troupe::net
