#include "actors/engine/sampling/sample_row.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "gpu/philox.hpp"

namespace troupe::engine {
namespace {

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

float finite_or_neg_inf(float x) { return std::isnan(x) ? neg_inf : x; }

// Descending value, ties by ascending id: the one order every step uses.
struct descending_by_value {
  std::span<const float> values;
  bool operator()(int32_t a, int32_t b) const {
    const float va = values[a], vb = values[b];
    return va > vb || (va == vb && a < b);
  }
};

// Sorted copy of the valid ids in `ids`.
std::vector<int32_t> sorted_valid_ids(std::span<const int32_t> ids, size_t vocab_size) {
  std::vector<int32_t> out;
  out.reserve(ids.size());
  for (int32_t t : ids) {
    if (t >= 0 && static_cast<size_t>(t) < vocab_size) out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<float> log_softmax(std::span<const float> logits) {
  float max_logit = neg_inf;
  for (float x : logits) max_logit = std::max(max_logit, finite_or_neg_inf(x));
  std::vector<float> out(logits.size(), neg_inf);
  if (max_logit == neg_inf) return out;
  double sum = 0.0;
  for (float x : logits) sum += std::exp(static_cast<double>(finite_or_neg_inf(x) - max_logit));
  const float log_sum = max_logit + static_cast<float>(std::log(sum));
  for (size_t i = 0; i < logits.size(); ++i) out[i] = finite_or_neg_inf(logits[i]) - log_sum;
  return out;
}

std::vector<int32_t> top_ids(std::span<const float> values, int32_t count) {
  std::vector<int32_t> ids(values.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  const size_t k = std::min(ids.size(), static_cast<size_t>(std::max(count, 0)));
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(),
                    descending_by_value{values});
  ids.resize(k);
  return ids;
}

void apply_penalties(std::span<float> logits, const gpu::sequence_sampling& params,
                     std::span<const int32_t> prompt_ids, std::span<const int32_t> output_ids) {
  if (params.repetition_penalty != 1.0f && params.repetition_penalty > 0.0f) {
    std::vector<int32_t> seen = sorted_valid_ids(prompt_ids, logits.size());
    std::vector<int32_t> out = sorted_valid_ids(output_ids, logits.size());
    seen.insert(seen.end(), out.begin(), out.end());
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    const float p = params.repetition_penalty;
    for (int32_t t : seen) logits[t] = logits[t] > 0.0f ? logits[t] / p : logits[t] * p;
  }
  if (params.frequency_penalty != 0.0f || params.presence_penalty != 0.0f) {
    const std::vector<int32_t> out = sorted_valid_ids(output_ids, logits.size());
    for (size_t i = 0; i < out.size();) {
      size_t j = i;
      while (j < out.size() && out[j] == out[i]) ++j;
      const float count = static_cast<float>(j - i);
      logits[out[i]] -= params.frequency_penalty * count + params.presence_penalty;
      i = j;
    }
  }
}

sampling_distribution filtered_distribution(std::span<const float> penalized_logits,
                                            const gpu::sequence_sampling& params) {
  std::vector<float> x(penalized_logits.size());
  std::vector<int32_t> ids;
  ids.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = finite_or_neg_inf(penalized_logits[i]) / params.temperature;
    if (x[i] != neg_inf) ids.push_back(static_cast<int32_t>(i));
  }
  sampling_distribution dist;
  if (ids.empty()) {  // every logit is -inf: nothing to prefer, take id 0
    dist.ids = {0};
    dist.weights = {1.0f};
    return dist;
  }
  size_t keep = ids.size();
  if (params.top_k > 0 && static_cast<size_t>(params.top_k) < keep) keep = params.top_k;
  const descending_by_value order{x};
  if (keep < ids.size()) {
    std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(keep), ids.end(),
                      order);
    ids.resize(keep);
  } else {
    std::sort(ids.begin(), ids.end(), order);
  }
  const float x_max = x[ids[0]];
  std::vector<float> e(keep);
  double total = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    e[i] = std::exp(x[ids[i]] - x_max);
    total += e[i];
  }
  if (params.top_p < 1.0f) {
    const double target = static_cast<double>(params.top_p) * total;
    double running = 0.0;
    for (size_t i = 0; i < keep; ++i) {
      running += e[i];
      if (running >= target) {
        keep = i + 1;
        break;
      }
    }
  }
  if (params.min_p > 0.0f) {
    // e is non-increasing, so min-p removes a suffix.
    while (keep > 1 && e[keep - 1] < params.min_p) --keep;
  }
  ids.resize(keep);
  e.resize(keep);
  dist.ids = std::move(ids);
  dist.weights = std::move(e);
  return dist;
}

int32_t invert_cdf(const sampling_distribution& dist, float u) {
  double total = 0.0;
  for (float w : dist.weights) total += w;
  const double threshold = static_cast<double>(u) * total;
  double running = 0.0;
  for (size_t i = 0; i < dist.ids.size(); ++i) {
    running += dist.weights[i];
    if (threshold < running) return dist.ids[i];
  }
  return dist.ids.back();
}

int32_t sample_row(std::span<float> logits, const gpu::sequence_sampling& params,
                   std::span<const int32_t> prompt_ids, std::span<const int32_t> output_ids,
                   int32_t sample_index) {
  apply_penalties(logits, params, prompt_ids, output_ids);
  if (params.temperature < greedy_temperature) {
    int32_t best = 0;
    float best_value = neg_inf;
    for (size_t i = 0; i < logits.size(); ++i) {
      const float v = finite_or_neg_inf(logits[i]);
      if (v > best_value) {
        best_value = v;
        best = static_cast<int32_t>(i);
      }
    }
    return best;
  }
  const float u = gpu::philox_uniform(params.seed, static_cast<uint64_t>(sample_index));
  return invert_cdf(filtered_distribution(logits, params), u);
}

}  // namespace troupe::engine
