#include "actors/persistence/request_log_flusher.hpp"

#include <cstdio>

namespace troupe::actors {
namespace {
constexpr size_t kMaxRowsPerTransaction = 4096;
}

request_log_flusher::request_log_flusher(std::unique_ptr<request_log_store> store,
                                         request_log_options options)
    : store_(std::move(store)), options_(std::move(options)), queue_(options_.queue_rows) {}

void request_log_flusher::flush() {
  for (;;) {
    auto rows = queue_.drain(kMaxRowsPerTransaction);
    if (rows.empty()) return;
    std::string error;
    if (!store_->append(rows, &error)) {
      queue_.count_dropped(int64_t(rows.size()));
      int64_t n = num_write_errors_.fetch_add(1) + 1;
      if (n <= 10 || n % 1000 == 0) {
        std::fprintf(stderr, "troupe: request log write failed (%zu rows dropped): %s\n",
                     rows.size(), error.c_str());
      }
      return;  // try again on the next tick rather than spin on a dead database
    }
    num_rows_written_.fetch_add(int64_t(rows.size()));
    if (options_.on_committed) options_.on_committed(rows.size());
  }
}

std::string request_log_flusher::metrics_text() const {
  return "# TYPE troupe:request_log_dropped_total counter\n"
         "troupe:request_log_dropped_total " + std::to_string(queue_.num_dropped()) + "\n" +
         "# TYPE troupe:request_log_rows_written_total counter\n"
         "troupe:request_log_rows_written_total " + std::to_string(num_rows_written()) + "\n" +
         "# TYPE troupe:request_log_write_errors_total counter\n"
         "troupe:request_log_write_errors_total " + std::to_string(num_write_errors()) + "\n" +
         "# TYPE troupe:request_log_queue_rows gauge\n"
         "troupe:request_log_queue_rows " + std::to_string(queue_.size()) + "\n";
}

}  // namespace troupe::actors
