#pragma once
// The request-log row of one generation, filled from its engine events as a
// session (HTTP or WebSocket) passes them on:
//   - output text (only when the prompt text is kept): choice 0's deltas;
//   - token counts, queue time, TTFT: the engine's, which come with the
//     request's last event; until then what reached the edge, so a request
//     cut short (the client left) is logged and charged for the tokens it
//     got instead of nothing.
#include <chrono>
#include <optional>
#include <string>

#include "actors/generation_service.hpp"
#include "net/edge/request_hooks.hpp"

namespace troupe::net::detail {

class generation_tally {
 public:
  using clock_type = std::chrono::steady_clock;

  generation_tally(const actors::generation_request& request, const principal& who,
                   std::string endpoint, std::string client_address,
                   std::optional<std::string> prompt_text, clock_type::time_point t0);

  void on_event(const actors::generation_event& ev);

  // The row as it stands, its status and finish reason set and its total
  // time measured now.
  const request_record& finish(int status, const std::string& finish_reason);
  double seconds() const;
  // Choice 0's finish reason ("stop", "length") once an event carried it;
  // the request's last event (done) carries none of its own.
  const std::string& finish_reason_seen() const { return finish_reason_seen_; }

  // Timings for the request's trace: milliseconds from t0.
  uint64_t t0_unix_ns() const { return t0_unix_ns_; }
  double created_ms() const { return ms_since_t0(created_); }
  double first_output_ms() const { return first_output_ ? ms_since_t0(*first_output_) : -1; }
  const request_record& record() const { return rec_; }

 private:
  request_record rec_;
  clock_type::time_point t0_;  // times (TTFT, total) count from here
  int64_t num_prompt_tokens_ = 0;
  bool engine_counted_ = false;
  std::string finish_reason_seen_;
  uint64_t t0_unix_ns_ = 0;
  clock_type::time_point created_;
  std::optional<clock_type::time_point> first_output_;
  double ms_since_t0(clock_type::time_point t) const {
    return std::chrono::duration<double, std::milli>(t - t0_).count();
  }
};

// Wall-clock Unix milliseconds (request log timestamps).
int64_t unix_now_ms();

}  // namespace troupe::net::detail
