#pragma once
// The server's Prometheus counters around a run: how many prefix-cache
// lookups hit, how many sequences were preempted, while the benchmark ran.
#include <map>
#include <string>

namespace troupe::bench {

// Every sample line of a Prometheus text exposition ("name value" or
// "name{labels} value"), keyed by everything before the value.
std::map<std::string, double> parse_prometheus_samples(const std::string& text);

// after - before for every counter (a name ending in "_total") in both. A
// labelled counter (the engine's carry model_name="…") is also summed under
// its bare name, unless the text has an unlabelled sample of that name.
std::map<std::string, double> counter_deltas(const std::map<std::string, double>& before,
                                             const std::map<std::string, double>& after);

}  // namespace troupe::bench
