#pragma once
// Prometheus text-format helpers shared by the engine's and the edge's
// metrics, so both print numbers and labels the way the official clients do.
#include <string>
#include <string_view>

namespace troupe::actors {

// A sample value or bucket bound as prometheus_client (Python, what vLLM
// uses) prints it: the shortest text that reads back to the same double,
// with ".0" on whole numbers ("0.005", "1.0", "2.5", "+Inf", "NaN").
std::string prometheus_number(double v);

// A label value escaped for the text format (\\, \", \n).
std::string prometheus_label_value(std::string_view v);

// Every sample line of `text` with `name="value"` added as its first label
// (comment lines and blank lines unchanged).
std::string with_label(std::string_view text, std::string_view name, std::string_view value);

}  // namespace troupe::actors
