#pragma once
// A deterministic generation_service for net tests: a "token" is one byte of
// text, the chat template is "<role>: content\n" per message, and generation
// echoes the prompt's characters back one per event, honoring max_tokens and
// stop strings, from its own thread (as the real actors do).
#include <optional>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "actors/generation_service.hpp"

namespace troupe::net::testing {

class fake_service final : public actors::generation_service {
 public:
  struct options {
    int32_t max_model_len = 256;
    bool has_chat_template = true;
    int step_delay_ms = 1;        // between events
    size_t max_running = 100000;  // start() answers overloaded beyond
    int32_t num_blocks = 64;      // pretend KV pool: one block per running request
    std::optional<float> default_temperature;  // as from generation_config.json
    std::optional<int32_t> default_top_k;
  };
  fake_service();
  explicit fake_service(options o);
  ~fake_service() override;

  std::vector<actors::model_info> models() const override;
  bool ready() const override { return ready_.load(); }
  std::vector<int32_t> tokenize(const std::string& model, const std::string& text,
                                bool add_special_tokens) const override;
  std::string detokenize(const std::string& model, const std::vector<int32_t>& ids) const override;
  std::optional<std::string> render_chat(const std::string& model,
                                         const std::vector<actors::chat_message>& messages,
                                         bool add_generation_prompt, std::string* error) const override;
  actors::service_error start(actors::generation_request request, actors::event_sink sink,
                              std::string* error_message) override;
  void cancel(const std::string& request_id) override;
  std::string metrics_text() const override;

  void set_ready(bool r) { ready_ = r; }
  size_t num_running() const;
  size_t num_cancelled() const;
  std::vector<actors::generation_request> started() const;

  static constexpr int32_t kBos = 1;  // tokenize(…, add_special_tokens=true) prepends it

 private:
  struct running {
    actors::generation_request request;
    actors::event_sink sink;
    std::string output_source;  // the prompt text echoed back
    size_t emitted = 0;
  };
  void loop();

  options opt_;
  std::atomic<bool> ready_{true};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, running> running_;
  std::set<std::string> cancelled_;
  std::vector<actors::generation_request> started_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace troupe::net::testing
