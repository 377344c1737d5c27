#include "net/trace/span.hpp"

#include <cstring>

namespace troupe::net {
namespace {

// Protobuf wire format: a key is (field << 3 | wire type); 0 varint,
// 1 fixed64, 2 length-delimited.
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
void key(std::string& out, int field, int wire) { varint(out, (uint64_t(field) << 3) | uint64_t(wire)); }
void bytes_field(std::string& out, int field, const void* data, size_t n) {
  key(out, field, 2);
  varint(out, n);
  out.append(static_cast<const char*>(data), n);
}
void string_field(std::string& out, int field, const std::string& s) { bytes_field(out, field, s.data(), s.size()); }
void message_field(std::string& out, int field, const std::string& m) { string_field(out, field, m); }
void fixed64_field(std::string& out, int field, uint64_t v) {
  key(out, field, 1);
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void varint_field(std::string& out, int field, uint64_t v) {
  key(out, field, 0);
  varint(out, v);
}

// AnyValue: string_value 1, bool_value 2, int_value 3, double_value 4, array_value 5.
std::string any_value(const attribute_value& v) {
  std::string m;
  if (auto* s = std::get_if<std::string>(&v)) {
    string_field(m, 1, *s);
  } else if (auto* b = std::get_if<bool>(&v)) {
    varint_field(m, 2, *b ? 1 : 0);
  } else if (auto* i = std::get_if<int64_t>(&v)) {
    varint_field(m, 3, static_cast<uint64_t>(*i));
  } else if (auto* d = std::get_if<double>(&v)) {
    uint64_t bits;
    std::memcpy(&bits, d, sizeof bits);
    fixed64_field(m, 4, bits);
  } else if (auto* a = std::get_if<std::vector<std::string>>(&v)) {
    std::string array;  // ArrayValue{repeated AnyValue values = 1}
    for (const auto& s : *a) message_field(array, 1, any_value(s));
    message_field(m, 5, array);
  }
  return m;
}

// KeyValue{key 1, value 2}.
std::string key_value(const std::string& k, const attribute_value& v) {
  std::string m;
  string_field(m, 1, k);
  message_field(m, 2, any_value(v));
  return m;
}

// Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6,
// start_time_unix_nano 7, end_time_unix_nano 8, attributes 9, status 15.
std::string encode_span(const span& s) {
  std::string m;
  bytes_field(m, 1, s.trace_id.data(), s.trace_id.size());
  bytes_field(m, 2, s.span_id.data(), s.span_id.size());
  if (s.has_parent) bytes_field(m, 4, s.parent_span_id.data(), s.parent_span_id.size());
  string_field(m, 5, s.name);
  varint_field(m, 6, static_cast<uint64_t>(s.kind));
  fixed64_field(m, 7, s.start_unix_ns);
  fixed64_field(m, 8, s.end_unix_ns);
  for (const auto& a : s.attributes) message_field(m, 9, key_value(a.key, a.value));
  if (s.error) {
    std::string status;  // Status{message 2, code 3}; code 2 = ERROR
    if (!s.status_message.empty()) string_field(status, 2, s.status_message);
    varint_field(status, 3, 2);
    message_field(m, 15, status);
  }
  return m;
}

}  // namespace

std::string encode_export_request(const std::vector<span>& spans, const std::string& service_name,
                                  const std::string& service_version) {
  std::string resource;  // Resource{attributes 1}
  message_field(resource, 1, key_value("service.name", service_name));
  message_field(resource, 1, key_value("service.version", service_version));
  std::string scope;  // InstrumentationScope{name 1, version 2}
  string_field(scope, 1, "troupe");
  string_field(scope, 2, service_version);
  std::string scope_spans;  // ScopeSpans{scope 1, spans 2}
  message_field(scope_spans, 1, scope);
  for (const span& s : spans) message_field(scope_spans, 2, encode_span(s));
  std::string resource_spans;  // ResourceSpans{resource 1, scope_spans 2}
  message_field(resource_spans, 1, resource);
  message_field(resource_spans, 2, scope_spans);
  std::string request;  // ExportTraceServiceRequest{resource_spans 1}
  message_field(request, 1, resource_spans);
  return request;
}

}  // namespace troupe::net
