#include "net/limits/shared_rate_limiter.hpp"

#include <cstdio>

namespace troupe::net {
namespace {

// Refills a stored row to now_ms, with this request's limits.
void refill_row(actors::rate_bucket_row& row, const rate_limits& limits, int64_t now_ms,
                token_bucket* requests, token_bucket* tokens) {
  const int64_t elapsed = now_ms - row.updated_ms;
  *requests = {row.requests_level, row.requests_limit};
  *tokens = {row.tokens_level, row.tokens_limit};
  refill(*requests, limits.max_requests_per_minute, elapsed);
  refill(*tokens, limits.max_tokens_per_minute, elapsed);
  row.updated_ms = std::max(row.updated_ms, now_ms);
}

void store_row(actors::rate_bucket_row& row, const token_bucket& requests,
               const token_bucket& tokens) {
  row.requests_level = requests.level;
  row.requests_limit = requests.limit;
  row.tokens_level = tokens.level;
  row.tokens_limit = tokens.limit;
}

}  // namespace

rate_decision shared_rate_limiter::try_admit(const std::string& principal_id,
                                             const rate_limits& limits, int64_t estimated_tokens) {
  rate_decision decision;
  if (limits.max_requests_per_minute <= 0 && limits.max_tokens_per_minute <= 0) {
    decision.admitted = true;  // unlimited: no round trip
    return decision;
  }
  std::string error;
  bool ok = store_->update(
      principal_id,
      [&](actors::rate_bucket_row& row, int64_t now_ms) {
        token_bucket requests, tokens;
        refill_row(row, limits, now_ms, &requests, &tokens);
        decision = take(requests, tokens, estimated_tokens);
        store_row(row, requests, tokens);
      },
      &error);
  if (!ok) {
    std::fprintf(stderr, "troupe: shared rate limit check failed: %s\n", error.c_str());
    rate_decision down;
    down.unavailable = true;
    down.retry_after_ms = 1000;
    return down;
  }
  return decision;
}

void shared_rate_limiter::finish(const std::string& principal_id, const rate_limits& limits,
                                 int64_t estimated_tokens, int64_t actual_tokens) {
  if (limits.max_tokens_per_minute <= 0 || estimated_tokens == actual_tokens) return;
  std::string error;
  bool ok = store_->update(
      principal_id,
      [&](actors::rate_bucket_row& row, int64_t now_ms) {
        token_bucket requests, tokens;
        refill_row(row, limits, now_ms, &requests, &tokens);
        give_back(tokens, estimated_tokens, actual_tokens);
        store_row(row, requests, tokens);
      },
      &error);
  // A lost correction only leaves the bucket as the estimate left it.
  if (!ok) std::fprintf(stderr, "troupe: shared rate limit correction failed: %s\n", error.c_str());
}

}  // namespace troupe::net
