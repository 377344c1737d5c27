#include "net/trace/trace_context.hpp"

#include <algorithm>
#include <random>

namespace troupe::net {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // the spec allows lowercase only
}

template <size_t N>
bool parse_hex(std::string_view s, std::array<uint8_t, N>* out) {
  if (s.size() != 2 * N) return false;
  bool nonzero = false;
  for (size_t i = 0; i < N; ++i) {
    int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi * 16 + lo);
    nonzero = nonzero || (*out)[i] != 0;
  }
  return nonzero;
}

template <size_t N>
std::string hex(const std::array<uint8_t, N>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::mt19937_64& rng() {
  thread_local std::mt19937_64 r{std::random_device{}()};
  return r;
}

}  // namespace

std::optional<trace_context> parse_traceparent(std::string_view h) {
  // version "-" trace-id "-" parent-id "-" flags; later versions may append fields.
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  if (h.substr(0, 2) == "ff" || hex_value(h[0]) < 0 || hex_value(h[1]) < 0) return std::nullopt;
  if (h.substr(0, 2) == "00" && h.size() != 55) return std::nullopt;
  trace_context c;
  if (!parse_hex(h.substr(3, 32), &c.trace_id) || !parse_hex(h.substr(36, 16), &c.parent_span_id))
    return std::nullopt;
  int f1 = hex_value(h[53]), f2 = hex_value(h[54]);
  if (f1 < 0 || f2 < 0) return std::nullopt;
  c.has_parent = true;
  c.sampled = ((f1 * 16 + f2) & 1) != 0;
  return c;
}

std::string format_traceparent(const std::array<uint8_t, 16>& trace_id,
                               const std::array<uint8_t, 8>& span_id, bool sampled) {
  return "00-" + hex(trace_id) + "-" + hex(span_id) + (sampled ? "-01" : "-00");
}

std::array<uint8_t, 16> random_trace_id() {
  std::array<uint8_t, 16> id{};
  while (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; }))
    for (size_t i = 0; i < id.size(); i += 8) {
      uint64_t v = rng()();
      for (size_t j = 0; j < 8; ++j) id[i + j] = static_cast<uint8_t>(v >> (8 * j));
    }
  return id;
}

std::array<uint8_t, 8> random_span_id() {
  std::array<uint8_t, 8> id{};
  while (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; })) {
    uint64_t v = rng()();
    for (size_t j = 0; j < 8; ++j) id[j] = static_cast<uint8_t>(v >> (8 * j));
  }
  return id;
}

}  // namespace troupe::net
