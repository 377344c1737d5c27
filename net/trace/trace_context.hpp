#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent`
// header "00-<trace-id 32 hex>-<parent-id 16 hex>-<flags 2 hex>" read from a
// request and written on the response.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe::net {

struct trace_context {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> parent_span_id{};  // the caller's span; all zero = none
  bool has_parent = false;
  bool sampled = true;
};

// nullopt for a missing or malformed header (version ff, all-zero ids, bad
// hex): the request then starts a new trace, as the spec says.
std::optional<trace_context> parse_traceparent(std::string_view header);
// "00-<trace>-<span>-01".
std::string format_traceparent(const std::array<uint8_t, 16>& trace_id,
                               const std::array<uint8_t, 8>& span_id, bool sampled);

std::array<uint8_t, 16> random_trace_id();
std::array<uint8_t, 8> random_span_id();

}  // namespace troupe::net
