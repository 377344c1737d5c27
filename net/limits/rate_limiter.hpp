#pragma once
// Per-principal token buckets for requests/minute and tokens/minute.
// Each bucket holds up to its per-minute limit and refills continuously at
// limit/60 per second, so a client may burst up to a minute's allowance and
// then proceeds at the steady rate. A request takes 1 from the request bucket
// and prompt + max_tokens from the token bucket, both or neither; when it
// finishes the token bucket is corrected by (estimate - real count).
// Memory is bounded: beyond max_principals the least recently seen principal
// is forgotten (its next request starts from a full bucket).
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace troupe::net {

struct rate_limits {
  int64_t max_requests_per_minute = 0;  // 0 = unlimited
  int64_t max_tokens_per_minute = 0;    // 0 = unlimited
};

// The state of one dimension after a decision, for the x-ratelimit-* headers.
struct bucket_report {
  bool limited = false;          // false: unlimited, no headers
  int64_t limit = 0;
  int64_t remaining = 0;
  int64_t reset_ms = 0;          // until the bucket is full again
};

struct rate_decision {
  bool admitted = false;
  bool refused_on_tokens = false;  // else on requests (when refused)
  bool too_large = false;          // estimate exceeds the whole per-minute budget
  int64_t retry_after_ms = 0;      // when refused: until the request would fit
  int64_t requested = 0;           // the amount the refused dimension asked for
  bucket_report requests;
  bucket_report tokens;
};

class rate_limiter {
 public:
  using clock_fn = std::function<int64_t()>;  // monotonic milliseconds

  static int64_t steady_now_ms();

  explicit rate_limiter(size_t max_principals = 100000, clock_fn now_ms = steady_now_ms);

  rate_decision try_admit(const std::string& principal_id, const rate_limits& limits,
                          int64_t estimated_tokens);

  // Gives back (estimate - actual) tokens; a larger actual count goes into debt.
  void finish(const std::string& principal_id, const rate_limits& limits,
              int64_t estimated_tokens, int64_t actual_tokens);

  size_t num_tracked_principals() const;

 private:
  struct bucket {
    double level = 0;       // available units
    int64_t limit = -1;     // per minute; -1 = not yet initialised
  };
  struct entry {
    bucket requests;
    bucket tokens;
    int64_t last_ms = 0;
    std::list<std::string>::iterator lru_pos;
  };

  entry& touch(const std::string& principal_id, const rate_limits& limits, int64_t now);
  static void refill(bucket& b, int64_t limit, int64_t elapsed_ms);
  static bucket_report report(const bucket& b);

  size_t max_principals_;
  clock_fn now_ms_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
  std::list<std::string> lru_;  // front = most recently used
};

// OpenAI-style duration text for x-ratelimit-reset-*: "12ms", "1s", "1.5s",
// "6m0s", "1h2m3s" (Go's time.Duration form, millisecond precision).
std::string format_reset_duration(int64_t ms);

// Retry-After value: whole seconds, rounded up, at least 1.
int64_t retry_after_seconds(int64_t ms);

}  // namespace troupe::net
