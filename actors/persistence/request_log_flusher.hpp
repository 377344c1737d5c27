#pragma once
// The log writer's plain-C++ half: moves queued rows into the store in
// transactions and keeps the counters. The log actor owns one and calls
// flush() on its timer and when the queue reaches a batch.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "actors/persistence/request_log_queue.hpp"
#include "actors/persistence/request_log_store.hpp"

namespace troupe::actors {

struct request_log_options {
  size_t batch_rows = 64;   // a full batch triggers a flush before the timer
  int64_t flush_ms = 200;   // the longest a finished request waits to be written
  size_t queue_rows = 8192; // beyond this the oldest queued rows are dropped
  // Called after each committed transaction with the number of rows in it
  // (tests use it to know what is durable).
  std::function<void(size_t num_rows)> on_committed;
};

class request_log_flusher {
 public:
  request_log_flusher(std::unique_ptr<request_log_store> store, request_log_options options);

  request_log_queue& queue() { return queue_; }
  const request_log_options& options() const { return options_; }

  // Writes everything queued now. A failed transaction's rows are counted as
  // dropped (and the error reported on stderr), never retried forever.
  void flush();

  int64_t num_rows_written() const { return num_rows_written_.load(); }
  int64_t num_write_errors() const { return num_write_errors_.load(); }
  std::string metrics_text() const;

 private:
  std::unique_ptr<request_log_store> store_;
  request_log_options options_;
  request_log_queue queue_;
  std::atomic<int64_t> num_rows_written_{0};
  std::atomic<int64_t> num_write_errors_{0};
};

}  // namespace troupe::actors
