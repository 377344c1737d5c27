#include "cli/serve_report.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "actors/engine/exec/cuda_executor_adapter.hpp"
#include "actors/engine/model/model_config.hpp"

namespace troupe::cli {
namespace {

std::string gib(double bytes) {
  char buf[64];
  if (bytes >= (1 << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / (1 << 30));
  else if (bytes >= (1 << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1 << 20));
  else std::snprintf(buf, sizeof buf, "%.0f KiB", bytes / 1024);
  return buf;
}

struct checkpoint_files {
  int num_files = 0;
  uintmax_t bytes = 0;
};

checkpoint_files weight_files(const std::string& dir) {
  checkpoint_files c;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".safetensors") continue;
    ++c.num_files;
    c.bytes += e.file_size(ec);
  }
  return c;
}

std::string resolved_executor(const std::string& executor) {
  if (executor != "auto") return executor;
  return engine::cuda_device_available() ? "cuda (auto: a GPU is visible)"
                                         : "cpu (auto: no GPU visible)";
}

}  // namespace

std::optional<double> metric_value(std::string_view text, std::string_view name,
                                   std::string_view label) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#' || line.substr(0, name.size()) != name) continue;
    std::string_view rest = line.substr(name.size());
    if (rest.empty()) continue;
    if (rest[0] == '{') {
      size_t close = rest.find('}');
      if (close == std::string_view::npos) continue;
      if (!label.empty() && rest.substr(0, close).find(label) == std::string_view::npos) continue;
      rest = rest.substr(close + 1);
    } else if (!label.empty()) {
      continue;
    }
    if (rest.empty() || rest[0] != ' ') continue;
    try {
      return std::stod(std::string(rest.substr(1)));
    } catch (...) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string model_summary(const config::troupe_config& cfg) {
  std::string error;
  auto spec = engine::load_model_config(cfg.model.path + "/config.json", &error);
  const checkpoint_files w = weight_files(cfg.model.path);
  std::string s = "troupe: model " + cfg.model.path;
  if (spec) {
    s += " (" + std::to_string(spec->num_layers) + " layers, hidden " +
         std::to_string(spec->hidden_size) + ", " + std::to_string(spec->num_kv_heads) +
         " KV heads of " + std::to_string(spec->head_dim) + "), dtype " + spec->torch_dtype;
  }
  s += ", " + std::to_string(w.num_files) + " weight file(s), " + gib(double(w.bytes)) +
       "; executor " + resolved_executor(cfg.engine.executor);
  return s;
}

std::string memory_plan(const actors::generation_service& service, const config::troupe_config& cfg) {
  std::optional<double> blocks;
  for (int i = 0; i < 100; ++i) {
    blocks = metric_value(service.metrics_text(), "troupe:kv_total_blocks");
    if (blocks && *blocks > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const actors::model_info m = service.model();
  const checkpoint_files w = weight_files(cfg.model.path);
  const int64_t num_blocks = blocks ? static_cast<int64_t>(*blocks) : 0;
  const int64_t kv_tokens = num_blocks * cfg.engine.block_size;
  char budget[96];
  if (cfg.engine.executor == "cpu" || !engine::cuda_device_available())
    std::snprintf(budget, sizeof budget, "KV budget %s (engine.kv_cache_bytes)",
                  gib(double(cfg.engine.kv_cache_bytes)).c_str());
  else
    std::snprintf(budget, sizeof budget, "KV sized to %.0f%% of GPU memory (engine.gpu_memory_utilization)",
                  cfg.engine.gpu_memory_utilization * 100);
  std::string s = "troupe: memory plan: weights " + gib(double(w.bytes)) + " on disk; " + budget +
                  ": " + std::to_string(num_blocks) + " blocks x " +
                  std::to_string(cfg.engine.block_size) + " tokens = " + std::to_string(kv_tokens) +
                  " KV tokens; max context " + std::to_string(m.max_model_len) + " tokens";
  if (kv_tokens > 0 && kv_tokens < m.max_model_len)
    s += " (one sequence of full length does not fit the KV cache)";
  else if (kv_tokens > 0 && m.max_model_len > 0)
    s += " (" + std::to_string(kv_tokens / m.max_model_len) + " full-length sequences fit)";
  return s + "; served as \"" + m.id + "\"";
}

loading_progress::loading_progress(std::string what)
    : thread_([this, what = std::move(what)] {
        const bool tty = isatty(fileno(stderr));
        const auto t0 = std::chrono::steady_clock::now();
        std::unique_lock lock(mu_);
        bool printed = false;
        while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) {
          const double s =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          // On a terminal the line is rewritten in place; in a log, one line
          // every 5 s is enough to show that loading goes on.
          if (tty) std::fprintf(stderr, "\rtroupe: loading weights (%s) … %.0f s", what.c_str(), s);
          else if (static_cast<int>(s) % 5 == 0)
            std::fprintf(stderr, "troupe: loading weights (%s) … %.0f s\n", what.c_str(), s);
          printed = true;
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (loaded_)
          std::fprintf(stderr, "%stroupe: weights loaded (%s) in %.1f s\n", tty && printed ? "\r" : "",
                       what.c_str(), s);
        else if (tty && printed)
          std::fputc('\n', stderr);
      }) {}

void loading_progress::stop(bool loaded) {
  {
    std::lock_guard lock(mu_);
    if (done_) return;
    done_ = true;
    loaded_ = loaded;
  }
  cv_.notify_one();
  thread_.join();
}

loading_progress::~loading_progress() { stop(); }

std::string stats_line(std::string_view before, std::string_view now, double seconds) {
  auto v = [](std::string_view t, std::string_view n) { return metric_value(t, n).value_or(0.0); };
  auto rate = [&](std::string_view n) { return seconds > 0 ? (v(now, n) - v(before, n)) / seconds : 0.0; };
  const double queries = v(now, "troupe:prefix_cache_queries_total") -
                         v(before, "troupe:prefix_cache_queries_total");
  const double hits =
      v(now, "troupe:prefix_cache_hits_total") - v(before, "troupe:prefix_cache_hits_total");
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "troupe: stats: running %.0f, waiting %.0f; prompt %.1f tok/s, generation %.1f tok/s; "
                "KV cache %.1f%% used; prefix cache hit rate %.1f%%",
                v(now, "troupe:num_requests_running"), v(now, "troupe:num_requests_waiting"),
                rate("troupe:prompt_tokens_total"), rate("troupe:generation_tokens_total"),
                100.0 * v(now, "troupe:kv_cache_usage_perc"), queries > 0 ? 100.0 * hits / queries : 0.0);
  return buf;
}

stats_reporter::stats_reporter(const actors::generation_service& service, int64_t interval_s) {
  if (interval_s <= 0) return;
  thread_ = std::thread([this, &service, interval_s] {
    std::string before = service.metrics_text();
    auto t0 = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(interval_s), [this] { return done_; })) {
      std::string now = service.metrics_text();
      const auto t1 = std::chrono::steady_clock::now();
      const std::string line = stats_line(before, now, std::chrono::duration<double>(t1 - t0).count());
      std::fprintf(stderr, "%s\n", line.c_str());
      before = std::move(now);
      t0 = t1;
    }
  });
}

stats_reporter::~stats_reporter() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

}  // namespace troupe::cli
