#pragma once
// Token-bucket rows in PostgreSQL that several gateways share, so a key's
// requests/minute and tokens/minute hold across all of them. Each update is
// one transaction that locks the principal's row: concurrent admissions on
// different gateways are serialised by the database, so the limit is exact
// (not limit × gateways). The refill clock is the database's, so gateways
// with skewed clocks still agree. Two round trips per update.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace troupe::actors {

// One principal's buckets as stored; limit -1 = not yet sized.
struct rate_bucket_row {
  double requests_level = 0;
  int64_t requests_limit = -1;
  double tokens_level = 0;
  int64_t tokens_limit = -1;
  int64_t updated_ms = 0;  // database clock, Unix ms, of the last refill
};

class shared_bucket_store {
 public:
  // Connects to the "postgresql://…" URL and creates the table when missing.
  static std::unique_ptr<shared_bucket_store> open(const std::string& url, size_t max_connections,
                                                   std::string* error);
  virtual ~shared_bucket_store() = default;

  // Locks the principal's row (creating it when missing), calls change with
  // the row and the database's clock (Unix ms), writes the row back and
  // commits. false with *error when the database cannot be reached; then
  // nothing changed.
  virtual bool update(const std::string& principal,
                      const std::function<void(rate_bucket_row& row, int64_t now_ms)>& change,
                      std::string* error) = 0;
};

}  // namespace troupe::actors
