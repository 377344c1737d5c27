#include "tests/net/fake_service.hpp"

#include <chrono>

namespace troupe::net::testing {
namespace {

size_t code_point_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  return 4;
}

}  // namespace

fake_service::fake_service() : fake_service(options{}) {}

fake_service::fake_service(options o) : opt_(o), thread_([this] { loop(); }) {}

fake_service::~fake_service() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::vector<actors::model_info> fake_service::models() const {
  actors::model_info m;
  m.id = "fake-model";
  m.created = 1700000000;
  m.max_model_len = opt_.max_model_len;
  m.has_chat_template = opt_.has_chat_template;
  m.default_temperature = opt_.default_temperature;
  m.default_top_k = opt_.default_top_k;
  return {m};
}

std::vector<int32_t> fake_service::tokenize(const std::string&, const std::string& text,
                                            bool add_special_tokens) const {
  std::vector<int32_t> ids;
  if (add_special_tokens) ids.push_back(kBos);
  for (unsigned char c : text) ids.push_back(int32_t(c) + 3);
  return ids;
}

std::string fake_service::detokenize(const std::string&, const std::vector<int32_t>& ids) const {
  std::string text;
  for (int32_t id : ids)
    if (id >= 3 && id < 259) text += char(id - 3);
  return text;
}

std::optional<std::string> fake_service::render_chat(const std::string&,
                                                     const std::vector<actors::chat_message>& messages,
                                                     bool, std::string* error) const {
  if (!opt_.has_chat_template) {
    *error = "tokenizer_config.json has no chat_template";
    return std::nullopt;
  }
  std::string text;
  for (const auto& m : messages) text += m.content;
  return text;
}

actors::service_error fake_service::start(actors::generation_request request, actors::event_sink sink,
                                          std::string* error_message) {
  if (request.prompt_token_ids.size() > size_t(opt_.max_model_len)) {
    *error_message = "prompt too long";
    return actors::service_error::context_length_exceeded;
  }
  std::lock_guard lock(mu_);
  if (running_.size() >= opt_.max_running) {
    *error_message = "queue full";
    return actors::service_error::overloaded;
  }
  running r;
  r.output_source = detokenize("", request.prompt_token_ids);
  r.sink = std::move(sink);
  r.request = request;
  started_.push_back(request);
  running_.emplace(request.request_id, std::move(r));
  cv_.notify_all();
  return actors::service_error::none;
}

void fake_service::cancel(const std::string& request_id) {
  std::lock_guard lock(mu_);
  if (running_.erase(request_id) > 0) cancelled_.insert(request_id);
}

std::string fake_service::metrics_text() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# TYPE troupe:num_requests_running gauge\ntroupe:num_requests_running " +
         std::to_string(running_.size()) + "\n";
  out += "# TYPE troupe:kv_free_blocks gauge\ntroupe:kv_free_blocks " +
         std::to_string(opt_.num_blocks - int32_t(std::min<size_t>(running_.size(), opt_.num_blocks))) + "\n";
  out += "# TYPE troupe:kv_total_blocks gauge\ntroupe:kv_total_blocks " + std::to_string(opt_.num_blocks) + "\n";
  return out;
}

size_t fake_service::num_running() const {
  std::lock_guard lock(mu_);
  return running_.size();
}

size_t fake_service::num_cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_.size();
}

std::vector<actors::generation_request> fake_service::started() const {
  std::lock_guard lock(mu_);
  return started_;
}

// One step: every running request emits the next code point of its prompt on
// each of its n choices (all choices advance together and end together).
void fake_service::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (running_.empty()) {
      cv_.wait(lock, [&] { return stopping_ || !running_.empty(); });
      continue;
    }
    std::vector<std::pair<actors::event_sink, std::vector<actors::generation_event>>> batch;
    for (auto it = running_.begin(); it != running_.end();) {
      running& r = it->second;
      const auto& p = r.request.params;
      std::vector<actors::generation_event> events;
      actors::generation_event ev;
      const int32_t produced = int32_t(r.emitted);
      bool finished = false;
      std::string reason;
      // ignore_eos: the echo repeats until max_tokens (benchmark mode).
      if (p.ignore_eos && !r.output_source.empty() && r.emitted >= r.output_source.size()) {
        r.output_source += r.output_source.substr(0, r.output_source.size());
      }
      if (r.emitted >= r.output_source.size()) {
        finished = true;
        reason = "stop";
      } else {
        size_t len = code_point_length(static_cast<unsigned char>(r.output_source[r.emitted]));
        ev.text_delta = r.output_source.substr(r.emitted, len);
        r.emitted += len;
        for (unsigned char c : ev.text_delta) ev.token_ids.push_back(int32_t(c) + 3);
        std::string so_far = r.output_source.substr(0, r.emitted);
        for (const auto& s : r.request.stop) {
          if (so_far.size() >= s.size() && so_far.compare(so_far.size() - s.size(), s.size(), s) == 0) {
            ev.text_delta.clear();
            finished = true;
            reason = "stop";
          }
        }
        if (!finished && produced + 1 >= p.max_tokens) {
          finished = true;
          reason = "length";
        }
      }
      if (p.return_logprobs && !ev.text_delta.empty()) {
        actors::token_logprob_text lp{ev.text_delta, -0.5f, {}};
        for (int32_t k = 0; k < p.num_top_logprobs; ++k)
          lp.top.emplace_back(k == 0 ? ev.text_delta : std::string(1, char('a' + k)), -0.5f - k);
        ev.logprobs.push_back(lp);
      }
      if (finished) {
        ev.finished = reason == "length" ? engine::finish_reason::length : engine::finish_reason::stop;
        ev.finish_reason_text = reason;
      }
      for (int32_t i = 0; i < r.request.n; ++i) {
        actors::generation_event e = ev;
        e.index = i;
        events.push_back(std::move(e));
      }
      if (finished) {
        // Like the real service: a separate final event, on no choice.
        actors::generation_event done;
        done.index = -1;
        done.done = true;
        done.prompt_tokens = int32_t(r.request.prompt_token_ids.size());
        done.completion_tokens = int32_t(produced + (ev.text_delta.empty() ? 0 : 1)) * r.request.n;
        events.push_back(std::move(done));
      }
      batch.emplace_back(r.sink, std::move(events));
      it = finished ? running_.erase(it) : std::next(it);
    }
    lock.unlock();
    for (auto& [sink, events] : batch)
      for (auto& e : events) sink(std::move(e));
    std::this_thread::sleep_for(std::chrono::milliseconds(opt_.step_delay_ms));
    lock.lock();
  }
}

}  // namespace troupe::net::testing
