// Numbers and labels in the Prometheus text as the official clients write them.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "actors/metrics/metrics_registry.hpp"
#include "actors/metrics/prometheus_format.hpp"

namespace troupe::actors {
namespace {

TEST(PrometheusFormat, BucketBoundsPrintAsPythonsClientDoes) {
  // prometheus_client (vLLM) writes repr(float): shortest round trip, ".0" on whole numbers.
  EXPECT_EQ(prometheus_number(0.005), "0.005");
  EXPECT_EQ(prometheus_number(0.1), "0.1");
  EXPECT_EQ(prometheus_number(1.0), "1.0");
  EXPECT_EQ(prometheus_number(2.5), "2.5");
  EXPECT_EQ(prometheus_number(7680.0), "7680.0");
  EXPECT_EQ(prometheus_number(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(prometheus_number(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(prometheus_number(0.1 + 0.2)), 0.1 + 0.2);  // still exact
}

TEST(PrometheusFormat, TheRegistryHistogramHasNoLongBounds) {
  metrics_registry m;
  m.time_to_first_token_seconds.observe(0.003);
  const std::string text = m.render();
  EXPECT_NE(text.find("troupe:time_to_first_token_seconds_bucket{le=\"0.005\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("troupe:time_to_first_token_seconds_bucket{le=\"1.0\"} 1"), std::string::npos);
  EXPECT_EQ(text.find("0.0050000000000000001"), std::string::npos);
}

TEST(PrometheusFormat, ALabelIsAddedToEverySampleAndEscaped) {
  const std::string in =
      "# HELP a_total A.\n# TYPE a_total counter\na_total 3\n"
      "b_bucket{le=\"0.5\"} 1\nc{} 2\n";
  EXPECT_EQ(with_label(in, "model_name", "m\"1"),
            "# HELP a_total A.\n# TYPE a_total counter\na_total{model_name=\"m\\\"1\"} 3\n"
            "b_bucket{model_name=\"m\\\"1\",le=\"0.5\"} 1\nc{model_name=\"m\\\"1\"} 2\n");
}

}  // namespace
}  // namespace troupe::actors
