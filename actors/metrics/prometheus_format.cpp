#include "actors/metrics/prometheus_format.hpp"

#include <charconv>
#include <cmath>

namespace troupe::actors {

std::string prometheus_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip
  std::string s(buf, end);
  // Python's repr writes 1.0 where to_chars writes 1; exponents stay as they are.
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string prometheus_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

// Whether the label list after '{' already has name="…".
bool has_label(std::string_view labels, std::string_view name) {
  labels = labels.substr(0, labels.find('}'));
  const std::string key = std::string(name) + "=\"";
  size_t at = labels.find(key);
  while (at != std::string_view::npos) {
    if (at == 0 || labels[at - 1] == ',') return true;
    at = labels.find(key, at + 1);
  }
  return false;
}

}  // namespace

std::string with_label(std::string_view text, std::string_view name, std::string_view value) {
  const std::string label = std::string(name) + "=\"" + prometheus_label_value(value) + "\"";
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t cut = line.find_first_of("{ ");
    if (line.empty() || line[0] == '#' || cut == std::string_view::npos) {
      out += line;
    } else if (line[cut] == '{' && has_label(line.substr(cut + 1), name)) {
      out += line;  // a series that names its own (e.g. per-worker series of a gateway)
    } else if (line[cut] == '{') {
      out += line.substr(0, cut + 1);
      out += label;
      if (line[cut + 1] != '}') out += ',';
      out += line.substr(cut + 1);
    } else {
      out += line.substr(0, cut);
      out += "{" + label + "}";
      out += line.substr(cut);
    }
    out += '\n';
  }
  return out;
}

}  // namespace troupe::actors
