#pragma once
// The arithmetic of Troupe's rate limits, shared by the in-process limiter
// and the one whose buckets live in PostgreSQL: a bucket holds up to its
// per-minute limit and refills continuously at limit/60 per second, so a
// client may burst a minute's allowance and then proceeds at the steady
// rate. A request takes 1 from the request bucket and its token estimate
// from the token bucket, both or neither.
#include <cstdint>
#include <string>

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
  bool unavailable = false;        // the shared bucket store could not be reached
  bool refused_on_tokens = false;  // else on requests (when refused)
  bool too_large = false;          // estimate exceeds the whole per-minute budget
  int64_t retry_after_ms = 0;      // when refused: until the request would fit
  int64_t requested = 0;           // the amount the refused dimension asked for
  bucket_report requests;
  bucket_report tokens;
};

struct token_bucket {
  double level = 0;    // available units
  int64_t limit = -1;  // per minute; -1 = not yet sized, 0 = unlimited
};

// Adds what elapsed_ms earned. A first use, or a changed limit (key edited),
// starts from a full bucket of the new size but never hands out more than
// was left before.
void refill(token_bucket& b, int64_t limit, int64_t elapsed_ms);

bucket_report report(const token_bucket& b);

// Takes 1 request and estimated_tokens from refilled buckets, or nothing.
rate_decision take(token_bucket& requests, token_bucket& tokens, int64_t estimated_tokens);

// Gives back (estimate - actual) tokens; a larger actual count goes into debt.
void give_back(token_bucket& tokens, int64_t estimated_tokens, int64_t actual_tokens);

// OpenAI-style duration text for x-ratelimit-reset-*: "12ms", "1s", "1.5s",
// "6m0s", "1h2m3s" (Go's time.Duration form, millisecond precision).
std::string format_reset_duration(int64_t ms);

// Retry-After value: whole seconds, rounded up, at least 1.
int64_t retry_after_seconds(int64_t ms);

// Decides admissions for principals; implementations are thread-safe.
class admission_limiter {
 public:
  virtual ~admission_limiter() = default;
  virtual rate_decision try_admit(const std::string& principal_id, const rate_limits& limits,
                                  int64_t estimated_tokens) = 0;
  // Corrects the token bucket once the real count is known.
  virtual void finish(const std::string& principal_id, const rate_limits& limits,
                      int64_t estimated_tokens, int64_t actual_tokens) = 0;
};

}  // namespace troupe::net
