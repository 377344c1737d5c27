#include "actors/persistence/request_log_export.hpp"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace troupe::actors {
namespace {

bool parse_int(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

std::string format_iso8601_ms(int64_t unix_ms) {
  using namespace std::chrono;
  sys_time<milliseconds> t{milliseconds(unix_ms)};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buf;
}

std::optional<int64_t> parse_since(std::string_view text) {
  using namespace std::chrono;
  if (all_digits(text)) {
    int64_t seconds;
    if (!parse_int(text, &seconds)) return std::nullopt;
    return seconds * 1000;
  }
  // YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int64_t y, mo, d, h = 0, mi = 0, s = 0, frac_ms = 0, offset_min = 0;
  if (!parse_int(text.substr(0, 4), &y) || !parse_int(text.substr(5, 2), &mo) ||
      !parse_int(text.substr(8, 2), &d)) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(10);
  if (!rest.empty()) {
    if ((rest[0] != 'T' && rest[0] != ' ') || rest.size() < 6 || rest[3] != ':') return std::nullopt;
    if (!parse_int(rest.substr(1, 2), &h) || !parse_int(rest.substr(4, 2), &mi)) return std::nullopt;
    rest = rest.substr(6);
    if (!rest.empty() && rest[0] == ':') {
      if (rest.size() < 3 || !parse_int(rest.substr(1, 2), &s)) return std::nullopt;
      rest = rest.substr(3);
      if (!rest.empty() && rest[0] == '.') {
        size_t n = 1;
        while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n]))) ++n;
        std::string digits(rest.substr(1, n - 1));
        if (digits.empty()) return std::nullopt;
        digits = (digits + "000").substr(0, 3);
        parse_int(digits, &frac_ms);
        rest = rest.substr(n);
      }
    }
    if (rest == "Z" || rest == "z") {
      rest = {};
    } else if (!rest.empty()) {
      if ((rest[0] != '+' && rest[0] != '-') || rest.size() != 6 || rest[3] != ':') return std::nullopt;
      int64_t oh, om;
      if (!parse_int(rest.substr(1, 2), &oh) || !parse_int(rest.substr(4, 2), &om)) return std::nullopt;
      offset_min = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
    }
  }
  year_month_day ymd{year(int(y)), month(unsigned(mo)), day(unsigned(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t day_ms = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  return day_ms + ((h * 60 + mi - offset_min) * 60 + s) * 1000 + frac_ms;
}

std::string request_log_json_line(const request_log_row& r) {
  nlohmann::json j = {
      {"id", r.id},
      {"request_id", r.request_id},
      {"principal", r.principal},
      {"model", r.model},
      {"endpoint", r.endpoint},
      {"status", r.status},
      {"finish_reason", r.finish_reason},
      {"prompt_tokens", r.prompt_tokens},
      {"completion_tokens", r.completion_tokens},
      {"queue_time_ms", r.queue_time_ms},
      {"ttft_ms", r.ttft_ms},
      {"total_ms", r.total_ms},
      {"client_address", r.client_address},
      {"user", r.end_user},
      {"started_at_unix_ms", r.started_at_unix_ms},
      {"started_at", format_iso8601_ms(r.started_at_unix_ms)},
  };
  if (r.prompt_text) j["prompt_text"] = *r.prompt_text;
  if (r.output_text) j["output_text"] = *r.output_text;
  // Invalid UTF-8 in stored text is replaced rather than failing the export.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string request_log_summary_line(const request_log_row& r) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld+%lld tok  %.1f ms", static_cast<long long>(r.prompt_tokens),
                static_cast<long long>(r.completion_tokens), r.total_ms);
  return format_iso8601_ms(r.started_at_unix_ms) + "  " + std::to_string(r.status) + "  " +
         r.principal + "  " + r.model + "  " + r.endpoint + "  " +
         (r.finish_reason.empty() ? "-" : r.finish_reason) + "  " + buf;
}

}  // namespace troupe::actors
