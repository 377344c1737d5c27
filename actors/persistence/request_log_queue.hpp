#pragma once
// The bounded hand-off between request threads and the log writer. Pushing
// never blocks beyond a short mutex; when the queue is full the OLDEST row is
// dropped and counted (troupe:request_log_dropped_total), so a stalled
// database costs old log rows, never request latency or memory.
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "actors/persistence/request_log_store.hpp"

namespace troupe::actors {

class request_log_queue {
 public:
  explicit request_log_queue(size_t max_rows);

  // Returns the number of rows queued after the push.
  size_t push(request_log_row row);
  // Removes and returns up to max_rows of the oldest rows.
  std::vector<request_log_row> drain(size_t max_rows);
  // Counts rows lost elsewhere (a failed write) in the same metric.
  void count_dropped(int64_t num_rows);

  size_t size() const;
  int64_t num_dropped() const { return num_dropped_.load(std::memory_order_relaxed); }

 private:
  size_t max_rows_;
  mutable std::mutex mu_;
  std::deque<request_log_row> rows_;
  std::atomic<int64_t> num_dropped_{0};
};

}  // namespace troupe::actors
