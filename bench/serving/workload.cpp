#include "bench/serving/workload.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace troupe::bench {

namespace {

// Common short English words: most BPE vocabularies encode " word" as one
// token, so a prompt of N words is close to N tokens on any server.
const char* const words[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
    "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has",
    "there", "been", "if", "more", "when", "will", "would", "who", "so", "no", "time", "day",
    "man", "world", "life", "part", "year", "work", "back", "way", "over", "new", "good"};
constexpr int num_words = sizeof words / sizeof words[0];

std::string make_prompt(std::mt19937_64& rng, int32_t num_prompt_words, int32_t shared_prefix) {
  std::uniform_int_distribution<int> pick(0, num_words - 1);
  std::mt19937_64 prefix_rng(12345);  // the same prefix for every request
  std::string out;
  for (int32_t i = 0; i < num_prompt_words; ++i) {
    if (i) out += ' ';
    out += words[i < shared_prefix ? pick(prefix_rng) : pick(rng)];
  }
  return out;
}

int32_t lognormal_len(std::mt19937_64& rng, double mean, double sigma) {
  // mean of a log-normal = exp(mu + sigma^2 / 2)
  const double mu = std::log(mean) - sigma * sigma / 2;
  std::lognormal_distribution<double> d(mu, sigma);
  return std::clamp(static_cast<int32_t>(std::lround(d(rng))), 4, 1024);
}

}  // namespace

bool parse_dataset(const std::string& name, dataset_kind* out) {
  if (name == "fixed") *out = dataset_kind::fixed;
  else if (name == "uniform") *out = dataset_kind::uniform;
  else if (name == "sharegpt-like") *out = dataset_kind::sharegpt_like;
  else return false;
  return true;
}

std::vector<bench_request> make_workload(const workload_options& o) {
  std::mt19937_64 rng(o.seed);
  std::vector<bench_request> out(std::max(0, o.num_prompts));
  double t = 0;
  std::exponential_distribution<double> gap(o.request_rate > 0 ? o.request_rate : 1.0);
  for (auto& r : out) {
    switch (o.dataset) {
      case dataset_kind::fixed:
        r.input_len = o.input_len;
        r.output_len = o.output_len;
        break;
      case dataset_kind::uniform: {
        std::uniform_int_distribution<int32_t> in(std::max(1, o.input_len / 2), std::max(1, 3 * o.input_len / 2));
        std::uniform_int_distribution<int32_t> outd(std::max(1, o.output_len / 2), std::max(1, 3 * o.output_len / 2));
        r.input_len = in(rng);
        r.output_len = outd(rng);
        break;
      }
      case dataset_kind::sharegpt_like:
        r.input_len = lognormal_len(rng, 202, 1.0);
        r.output_len = lognormal_len(rng, 179, 0.9);
        break;
    }
    r.input_len = std::max(r.input_len, o.shared_prefix_len + 1);
    r.prompt = make_prompt(rng, r.input_len, o.shared_prefix_len);
    if (o.request_rate > 0) t += gap(rng);
    r.send_at_s = t;
  }
  return out;
}

}  // namespace troupe::bench
