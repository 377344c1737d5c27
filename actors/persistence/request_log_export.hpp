#pragma once
// Text forms of request log rows for `troupe logs`: JSON lines for export and
// a one-line summary for tail; and the --since argument.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actors/persistence/request_log_store.hpp"

namespace troupe::actors {

// One JSON object (no newline) with every column; started_at also as ISO 8601.
std::string request_log_json_line(const request_log_row& row);

// "2026-01-05T10:00:00.123Z  200 key:key_ab12  model  /v1/chat/completions  stop  19+10 tok  1400.0 ms"
std::string request_log_summary_line(const request_log_row& row);

// ISO 8601 UTC or with offset ("2026-01-05T10:00:00Z", "…T10:00:00.5+02:00",
// "2026-01-05") or Unix seconds ("1767607200") → Unix milliseconds.
std::optional<int64_t> parse_since(std::string_view text);

// Unix milliseconds → "2026-01-05T10:00:00.123Z".
std::string format_iso8601_ms(int64_t unix_ms);

}  // namespace troupe::actors
