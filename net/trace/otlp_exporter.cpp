#include "net/trace/otlp_exporter.hpp"

#include <algorithm>
#include <cstdio>

#include "net/trace/otlp_http_post.hpp"

namespace troupe::net {

otlp_exporter::otlp_exporter(otlp_options options)
    : options_(std::move(options)), thread_([this] { run(); }) {}

otlp_exporter::~otlp_exporter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void otlp_exporter::submit(std::vector<span> spans) {
  {
    std::lock_guard lock(mu_);
    for (span& s : spans) {
      if (queue_.size() >= options_.max_queued_spans) {
        ++dropped_;
        continue;
      }
      queue_.push_back(std::move(s));
    }
  }
  cv_.notify_one();
}

// One batch per interval (or sooner when a batch's worth is queued); the
// queue is emptied once more on the way out.
void otlp_exporter::run() {
  constexpr size_t kBatchSpans = 2048;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.export_interval_ms),
                 [this] { return stopping_ || queue_.size() >= kBatchSpans; });
    const bool last = stopping_;
    while (!queue_.empty()) {
      std::vector<span> batch;
      while (!queue_.empty() && batch.size() < kBatchSpans) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      lock.unlock();
      export_batch(std::move(batch));
      lock.lock();
      if (!last) break;
    }
    if (last) return;
  }
}

void otlp_exporter::export_batch(std::vector<span> batch) {
  const std::string body =
      encode_export_request(batch, options_.service_name, options_.service_version);
  // The last export, at shutdown, must fit the shutdown deadline (grace + 2 s).
  bool stopping;
  {
    std::lock_guard lock(mu_);
    stopping = stopping_;
  }
  const int timeout_ms = stopping ? std::min(options_.export_timeout_ms, 800) : options_.export_timeout_ms;
  post_result r = http_post(options_.endpoint, options_.headers, "application/x-protobuf", body, timeout_ms);
  if (r.status >= 200 && r.status < 300) {
    exported_ += batch.size();
    return;
  }
  ++failed_;
  dropped_ += batch.size();
  // At most one line a minute: a collector that is down must not flood the log.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_error_print_ > std::chrono::minutes(1)) {
    last_error_print_ = now;
    std::fprintf(stderr, "troupe: trace export to %s failed (%s%s); %zu spans dropped\n",
                 options_.endpoint.c_str(), r.status ? ("HTTP " + std::to_string(r.status) + " ").c_str() : "",
                 r.error.c_str(), batch.size());
  }
}

std::string otlp_exporter::metrics_text() const {
  return "# HELP troupe:trace_spans_exported_total Spans accepted by the OTLP endpoint.\n"
         "# TYPE troupe:trace_spans_exported_total counter\n"
         "troupe:trace_spans_exported_total " + std::to_string(exported_.load()) + "\n"
         "# HELP troupe:trace_spans_dropped_total Spans dropped: queue full or export failed.\n"
         "# TYPE troupe:trace_spans_dropped_total counter\n"
         "troupe:trace_spans_dropped_total " + std::to_string(dropped_.load()) + "\n"
         "# HELP troupe:trace_export_failures_total Export requests that failed.\n"
         "# TYPE troupe:trace_export_failures_total counter\n"
         "troupe:trace_export_failures_total " + std::to_string(failed_.load()) + "\n";
}

bool parse_header_list(const std::string& text, std::vector<std::pair<std::string, std::string>>* out,
                       std::string* error) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return *error = "a tracing header must be Name=Value (got '" + item.substr(0, 40) + "')", false;
    out->emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return true;
}

}  // namespace troupe::net
