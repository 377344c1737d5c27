#pragma once
// One finished span as OTLP carries it, and the protobuf encoding of a batch
// (opentelemetry-proto: collector/trace/v1 ExportTraceServiceRequest), written
// by hand: the few messages and fields below are all the exporter needs.
#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace troupe::net {

// An attribute value: string, bool, int, double, or an array of strings.
using attribute_value = std::variant<std::string, bool, int64_t, double, std::vector<std::string>>;

struct span_attribute {
  std::string key;
  attribute_value value;
};

struct span {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  std::array<uint8_t, 8> parent_span_id{};  // all zero: a root span
  bool has_parent = false;
  std::string name;
  int kind = 1;                   // SpanKind: 1 internal, 2 server, 3 client
  uint64_t start_unix_ns = 0;
  uint64_t end_unix_ns = 0;
  std::vector<span_attribute> attributes;
  bool error = false;             // Status code ERROR (else UNSET)
  std::string status_message;
};

// ExportTraceServiceRequest{ResourceSpans{Resource{service.name, …},
// ScopeSpans{InstrumentationScope{"troupe"}, spans}}} as protobuf bytes.
std::string encode_export_request(const std::vector<span>& spans, const std::string& service_name,
                                  const std::string& service_version);

}  // namespace troupe::net
