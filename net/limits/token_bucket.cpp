#include "net/limits/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::net {
namespace {

constexpr double kMsPerMinute = 60000.0;

double rate_per_ms(int64_t limit) { return double(limit) / kMsPerMinute; }

int64_t ms_until(double level, double target, int64_t limit) {
  if (level >= target) return 0;
  return int64_t(std::ceil((target - level) / rate_per_ms(limit)));
}

}  // namespace

void refill(token_bucket& b, int64_t limit, int64_t elapsed_ms) {
  if (limit <= 0) {
    b.limit = 0;
    return;
  }
  if (b.limit != limit) {
    b.level = b.limit <= 0 ? double(limit) : std::min(b.level, double(limit));
    b.limit = limit;
  }
  b.level = std::min(double(limit), b.level + double(std::max<int64_t>(0, elapsed_ms)) *
                                                  rate_per_ms(limit));
}

bucket_report report(const token_bucket& b) {
  bucket_report r;
  if (b.limit <= 0) return r;
  r.limited = true;
  r.limit = b.limit;
  r.remaining = std::max<int64_t>(0, int64_t(std::floor(b.level)));
  r.reset_ms = ms_until(b.level, double(b.limit), b.limit);
  return r;
}

rate_decision take(token_bucket& requests, token_bucket& tokens, int64_t estimated_tokens) {
  rate_decision d;
  estimated_tokens = std::max<int64_t>(0, estimated_tokens);
  if (requests.limit > 0 && requests.level < 1.0) {
    d.retry_after_ms = ms_until(requests.level, 1.0, requests.limit);
    d.requested = 1;
  } else if (tokens.limit > 0 && tokens.level < double(estimated_tokens)) {
    d.refused_on_tokens = true;
    d.requested = estimated_tokens;
    d.too_large = estimated_tokens > tokens.limit;
    double target = double(std::min(estimated_tokens, tokens.limit));
    d.retry_after_ms = ms_until(tokens.level, target, tokens.limit);
  } else {
    d.admitted = true;
    if (requests.limit > 0) requests.level -= 1.0;
    if (tokens.limit > 0) tokens.level -= double(estimated_tokens);
  }
  d.requests = report(requests);
  d.tokens = report(tokens);
  return d;
}

void give_back(token_bucket& tokens, int64_t estimated_tokens, int64_t actual_tokens) {
  if (tokens.limit <= 0) return;
  tokens.level = std::min(double(tokens.limit),
                          tokens.level + double(std::max<int64_t>(0, estimated_tokens) -
                                                std::max<int64_t>(0, actual_tokens)));
}

std::string format_reset_duration(int64_t ms) {
  if (ms <= 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t hours = ms / 3600000;
  int64_t minutes = (ms / 60000) % 60;
  int64_t whole_s = (ms / 1000) % 60;
  int64_t frac_ms = ms % 1000;
  std::string seconds = std::to_string(whole_s);
  if (frac_ms != 0) {
    std::string frac = std::to_string(1000 + frac_ms).substr(1);  // zero-padded to 3
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    seconds += "." + frac;
  }
  std::string out;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + seconds + "s";
}

int64_t retry_after_seconds(int64_t ms) { return std::max<int64_t>(1, (ms + 999) / 1000); }

}  // namespace troupe::net
