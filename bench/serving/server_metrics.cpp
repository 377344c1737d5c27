#include "bench/serving/server_metrics.hpp"

#include <cstdlib>
#include <sstream>

namespace troupe::bench {

std::map<std::string, double> parse_prometheus_samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    // The value follows the last space outside the label braces; an optional
    // timestamp after it is not used by Troupe and not supported here.
    const auto close = line.rfind('}');
    const auto space = line.find(' ', close == std::string::npos ? 0 : close);
    if (space == std::string::npos) continue;
    const std::string value = line.substr(space + 1);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) continue;
    out[line.substr(0, space)] = v;
  }
  return out;
}

std::map<std::string, double> counter_deltas(const std::map<std::string, double>& before,
                                             const std::map<std::string, double>& after) {
  std::map<std::string, double> out;
  for (const auto& [name, v] : after) {
    const auto brace = name.find('{');
    const std::string base = name.substr(0, brace);
    if (base.size() < 6 || base.compare(base.size() - 6, 6, "_total") != 0) continue;
    if (const auto it = before.find(name); it != before.end()) out[name] = v - it->second;
  }
  std::map<std::string, double> sums;
  for (const auto& [name, d] : out) {
    const auto brace = name.find('{');
    if (brace != std::string::npos && !after.count(name.substr(0, brace))) sums[name.substr(0, brace)] += d;
  }
  out.insert(sums.begin(), sums.end());
  return out;
}

}  // namespace troupe::bench
