// W3C traceparent parsing and formatting (examples from the Trace Context spec).
#include <gtest/gtest.h>

#include "net/trace/trace_context.hpp"
#include "net/trace/otlp_exporter.hpp"

namespace troupe::net {
namespace {

TEST(TraceContext, TheSpecsExampleParsesAndFormatsBack) {
  const std::string h = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto c = parse_traceparent(h);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->sampled);
  EXPECT_EQ(c->trace_id[0], 0x4b);
  EXPECT_EQ(c->parent_span_id[7], 0xb7);
  EXPECT_EQ(format_traceparent(c->trace_id, c->parent_span_id, true), h);
}

TEST(TraceContext, MalformedHeadersStartANewTrace) {
  EXPECT_FALSE(parse_traceparent(""));
  EXPECT_FALSE(parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));  // zero trace id
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));  // zero parent
  EXPECT_FALSE(parse_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));  // version ff
  EXPECT_FALSE(parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));  // uppercase
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
  auto later = parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra");
  ASSERT_TRUE(later);  // a later version may append fields
  EXPECT_FALSE(later->sampled);
}

TEST(TraceContext, NewIdsAreNeverZeroAndDiffer) {
  auto a = random_trace_id(), b = random_trace_id();
  EXPECT_NE(a, b);
  EXPECT_NE(a, (std::array<uint8_t, 16>{}));
  EXPECT_NE(random_span_id(), (std::array<uint8_t, 8>{}));
}

TEST(TraceContext, HeaderListsAreNameEqualsValue) {
  std::vector<std::pair<std::string, std::string>> h;
  std::string error;
  ASSERT_TRUE(parse_header_list("Authorization=Basic cGs6c2s=, x-langfuse-ingestion-version=4", &h, &error));
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"Authorization", "Basic cGs6c2s="}));
  EXPECT_EQ(h[1].first, "x-langfuse-ingestion-version");
  EXPECT_FALSE(parse_header_list("no-equals-sign", &h, &error));
  EXPECT_NE(error.find("Name=Value"), std::string::npos);
}

}  // namespace
}  // namespace troupe::net
