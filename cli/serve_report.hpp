#pragma once
// What `troupe serve` tells the operator on stderr: the model and executor
// before loading, a progress line while the weights load, the memory plan
// once the engine runs, and a stats line every server.stats_interval_s.
// Everything after start is read from the service's own metrics text, so the
// lines say what /metrics says.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "actors/generation_service.hpp"
#include "config/troupe_config.hpp"

namespace troupe::cli {

// The value of an unlabelled sample ("name value") or of the first sample of
// `name` whose labels contain `label` in Prometheus text; nullopt if absent.
std::optional<double> metric_value(std::string_view metrics_text, std::string_view name,
                                   std::string_view label = {});

// "model …: dtype …, N weight files, X GiB; executor …" (before loading).
std::string model_summary(const config::troupe_config& cfg);

// "memory plan: …" once the service runs (waits up to 2 s for the scheduler's
// first KV figures).
std::string memory_plan(const actors::generation_service& service, const config::troupe_config& cfg);

// Prints "loading weights … s" on stderr once a second (in place on a
// terminal) until stop(): the executor loads inside start_local_service and
// reports no fraction, so the line shows time and the checkpoint's size.
class loading_progress {
 public:
  explicit loading_progress(std::string what);
  ~loading_progress();
  // Ends the line: "weights loaded … in N s" when loaded, nothing more when not
  // (the caller prints the error).
  void stop(bool loaded = false);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool loaded_ = false;
  std::thread thread_;
};

// Prints one stats line every interval_s seconds (none when 0):
// running/waiting requests, prompt and generation tokens/s over the interval,
// KV usage, prefix-cache hit rate over the interval.
class stats_reporter {
 public:
  stats_reporter(const actors::generation_service& service, int64_t interval_s);
  ~stats_reporter();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// One stats line from two metrics snapshots taken `seconds` apart.
std::string stats_line(std::string_view before, std::string_view now, double seconds);

}  // namespace troupe::cli
