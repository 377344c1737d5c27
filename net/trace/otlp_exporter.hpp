#pragma once
// Sends finished spans to an OTLP/HTTP endpoint in batches from its own
// thread. submit() never blocks a request: it appends to a bounded queue, and
// a span that does not fit is dropped and counted.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "net/trace/span.hpp"

namespace troupe::net {

struct otlp_options {
  std::string endpoint;                                      // http(s)://…/v1/traces
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every export
  std::string service_name = "troupe";
  std::string service_version;
  size_t max_queued_spans = 8192;
  int export_interval_ms = 1000;
  int export_timeout_ms = 10000;
};

class otlp_exporter {
 public:
  explicit otlp_exporter(otlp_options options);
  // Exports what is queued (one last batch, bounded by the timeout), then stops.
  ~otlp_exporter();

  void submit(std::vector<span> spans);

  uint64_t num_exported() const { return exported_; }
  uint64_t num_dropped() const { return dropped_; }
  uint64_t num_failed_exports() const { return failed_; }
  std::string metrics_text() const;

 private:
  void run();
  void export_batch(std::vector<span> batch);

  otlp_options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<span> queue_;
  bool stopping_ = false;
  std::atomic<uint64_t> exported_{0}, dropped_{0}, failed_{0};
  std::chrono::steady_clock::time_point last_error_print_{};
  std::thread thread_;
};

// "Name=Value" entries (and "Name=Value,Name2=Value2" lists) → header pairs;
// nullopt-like empty result with *error set on a malformed entry.
bool parse_header_list(const std::string& text, std::vector<std::pair<std::string, std::string>>* out,
                       std::string* error);

}  // namespace troupe::net
