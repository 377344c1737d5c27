#pragma once
// Rate limits that hold across every gateway of a cluster: the buckets live
// in PostgreSQL (actors/persistence/shared_bucket_store), each admission is
// one locked read-modify-write of the principal's row with the same
// arithmetic as the in-process limiter, against the database's clock. Exact
// across gateways, at the cost of two database round trips per admission
// (and two more when a request's token estimate is corrected). When the
// database cannot be reached the request is refused with 503, never
// admitted unchecked.
#include <memory>
#include <string>

#include "actors/persistence/shared_bucket_store.hpp"
#include "net/limits/token_bucket.hpp"

namespace troupe::net {

class shared_rate_limiter final : public admission_limiter {
 public:
  explicit shared_rate_limiter(std::unique_ptr<actors::shared_bucket_store> store)
      : store_(std::move(store)) {}

  rate_decision try_admit(const std::string& principal_id, const rate_limits& limits,
                          int64_t estimated_tokens) override;
  void finish(const std::string& principal_id, const rate_limits& limits,
              int64_t estimated_tokens, int64_t actual_tokens) override;

 private:
  std::unique_ptr<actors::shared_bucket_store> store_;
};

}  // namespace troupe::net
