#include "net/server/generation_tally.hpp"

#include <algorithm>

namespace troupe::net::detail {

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

generation_tally::generation_tally(const actors::generation_request& request, const principal& who,
                                   std::string endpoint, std::string client_address,
                                   std::optional<std::string> prompt_text, clock_type::time_point t0)
    : t0_(t0),
      num_prompt_tokens_(static_cast<int64_t>(request.prompt_token_ids.size())) {
  rec_.request_id = request.request_id;
  rec_.principal_id = who.id;
  rec_.model = request.model;
  rec_.user = request.user;
  rec_.endpoint = std::move(endpoint);
  rec_.client_address = std::move(client_address);
  rec_.prompt_text = std::move(prompt_text);
  if (rec_.prompt_text) rec_.output_text.emplace();
  rec_.started_at_unix_ms = unix_now_ms();
  created_ = clock_type::now();
  const auto since_t0 = std::chrono::duration_cast<std::chrono::nanoseconds>(created_ - t0_).count();
  t0_unix_ns_ = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count() -
                                      since_t0);
}

void generation_tally::on_event(const actors::generation_event& ev) {
  if (rec_.output_text && ev.index == 0) *rec_.output_text += ev.text_delta;
  if (ev.index == 0 && !ev.finish_reason_text.empty()) finish_reason_seen_ = ev.finish_reason_text;
  if (ev.done) {
    engine_counted_ = true;
    rec_.prompt_tokens = ev.prompt_tokens;
    rec_.completion_tokens = ev.completion_tokens;
    rec_.queue_time_ms = ev.queue_time_ms;
    rec_.ttft_ms = ev.ttft_ms;
    return;
  }
  if (!first_output_ && !ev.token_ids.empty()) first_output_ = clock_type::now();
  if (engine_counted_ || ev.token_ids.empty()) return;
  if (rec_.completion_tokens == 0) {
    rec_.prompt_tokens = num_prompt_tokens_;
    rec_.ttft_ms = std::max(seconds() * 1000.0, 0.001);
  }
  rec_.completion_tokens += static_cast<int64_t>(ev.token_ids.size());
}

double generation_tally::seconds() const {
  return std::chrono::duration<double>(clock_type::now() - t0_).count();
}

const request_record& generation_tally::finish(int status, const std::string& finish_reason) {
  rec_.status = status;
  rec_.finish_reason = finish_reason;
  rec_.total_ms = seconds() * 1000.0;
  return rec_;
}

}  // namespace troupe::net::detail
