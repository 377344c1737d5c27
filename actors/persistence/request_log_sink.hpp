#pragma once
// What the edge hands finished requests to. Kept free of CAF so that net/
// can depend on it without seeing actors; the log actor implements it.
#include <string>

#include "actors/persistence/request_log_store.hpp"

namespace troupe::actors {

class request_log_sink {
 public:
  virtual ~request_log_sink() = default;
  // Never blocks on I/O; may drop the oldest queued row (and count it).
  virtual void submit(request_log_row row) = 0;
  // Prometheus text lines for the sink's counters.
  virtual std::string metrics_text() const = 0;
};

}  // namespace troupe::actors
