#include "actors/persistence/request_log_export.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/actors/persistence/test_support.hpp"

namespace troupe::actors {
namespace {

// Reference values: `date -u -d 2026-01-05T08:00:00Z +%s` = 1767600000.
TEST(RequestLogExport, SinceAcceptsIso8601AndUnixSeconds) {
  EXPECT_EQ(parse_since("1767600000"), 1767600000000);
  EXPECT_EQ(parse_since("2026-01-05T08:00:00Z"), 1767600000000);
  EXPECT_EQ(parse_since("2026-01-05T08:00:00.25Z"), 1767600000250);
  EXPECT_EQ(parse_since("2026-01-05T10:00:00+02:00"), 1767600000000);
  EXPECT_EQ(parse_since("2026-01-05T03:30-04:30"), 1767600000000);
  EXPECT_EQ(parse_since("2026-01-05"), 1767571200000);
  EXPECT_EQ(parse_since("1970-01-01T00:00:00Z"), 0);
  EXPECT_FALSE(parse_since("2026-13-05"));
  EXPECT_FALSE(parse_since("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_since("yesterday"));
  EXPECT_FALSE(parse_since(""));
}

TEST(RequestLogExport, TimestampsFormatAsIso8601Utc) {
  EXPECT_EQ(format_iso8601_ms(1767600000250), "2026-01-05T08:00:00.250Z");
  EXPECT_EQ(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
}

TEST(RequestLogExport, JsonLinesCarryEveryColumnAndTextOnlyWhenStored) {
  request_log_row r = test::sample_row(2);
  r.id = 7;
  auto j = nlohmann::json::parse(request_log_json_line(r));
  EXPECT_EQ(j["id"], 7);
  EXPECT_EQ(j["request_id"], "chatcmpl-2");
  EXPECT_EQ(j["principal"], "key:key_2");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["prompt_tokens"], 12);
  EXPECT_EQ(j["total_ms"], 5.125);
  EXPECT_EQ(j["started_at"], "2026-01-05T08:00:02.000Z");
  EXPECT_EQ(j["prompt_text"], "prompt \"2\" ünïcode");
  auto without = nlohmann::json::parse(request_log_json_line(test::sample_row(1)));
  EXPECT_FALSE(without.contains("prompt_text"));
  EXPECT_EQ(request_log_json_line(r).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace troupe::actors
