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

double log_sum_exp(std::span<const float> logits) {
  float max_logit = neg_inf;
  for (float x : logits) max_logit = std::max(max_logit, finite_or_neg_inf(x));
  if (max_logit == neg_inf) return neg_inf;
  // fp32 exp (the reported logprobs only; they do not steer the draw), fp64 sum.
  double sum = 0.0;
  for (float x : logits) sum += std::exp(finite_or_neg_inf(x) - max_logit);
  return static_cast<double>(max_logit) + std::log(sum);
}

std::vector<float> log_softmax(std::span<const float> logits) {
  const double lse = log_sum_exp(logits);
  std::vector<float> out(logits.size(), neg_inf);
  if (lse == neg_inf) return out;
  for (size_t i = 0; i < logits.size(); ++i) {
    out[i] = static_cast<float>(static_cast<double>(finite_or_neg_inf(logits[i])) - lse);
  }
  return out;
}

std::vector<int32_t> top_ids(std::span<const float> values, int32_t count) {
  // One pass keeping the best `count` in order: count is small (<= 20).
  const size_t k = std::min(values.size(), static_cast<size_t>(std::max(count, 0)));
  std::vector<int32_t> best;
  if (k == 0) return best;
  best.reserve(k + 1);
  const descending_by_value before{values};
  for (size_t i = 0; i < values.size(); ++i) {
    const int32_t id = static_cast<int32_t>(i);
    if (best.size() == k && !before(id, best.back())) continue;
    best.insert(std::upper_bound(best.begin(), best.end(), id, before), id);
    if (best.size() > k) best.pop_back();
  }
  return best;
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
      // Two subtractions, in vLLM's order, so that every executor rounds alike.
      float& x = logits[out[i]];
      x = (x - params.frequency_penalty * count) - params.presence_penalty;
      i = j;
    }
  }
}

namespace {

// Tempered logits x_i = l_i / temperature (fp32), the ids with x_i > -inf,
// and their weights e_i = exp(x_i - x_max) (fp64, indexed by id).
struct tempered_row {
  std::vector<float> x;
  std::vector<int32_t> ids;
  float x_max = neg_inf;
  std::vector<double> e;
};

tempered_row temper(std::span<const float> logits, float temperature) {
  tempered_row t;
  t.x.resize(logits.size());
  t.ids.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    t.x[i] = finite_or_neg_inf(logits[i]) / temperature;
    if (t.x[i] != neg_inf) {
      t.ids.push_back(static_cast<int32_t>(i));
      t.x_max = std::max(t.x_max, t.x[i]);
    }
  }
  t.e.assign(logits.size(), 0.0);
  for (int32_t id : t.ids) {
    t.e[id] = std::exp(static_cast<double>(t.x[id]) - static_cast<double>(t.x_max));
  }
  return t;
}

double weight(const tempered_row& t, int32_t id) { return t.e[id]; }

// Keeps the top_k ids (unordered) when top-k applies.
void apply_top_k(tempered_row& t, int32_t top_k) {
  if (top_k <= 0 || static_cast<size_t>(top_k) >= t.ids.size()) return;
  std::nth_element(t.ids.begin(), t.ids.begin() + (top_k - 1), t.ids.end(),
                   descending_by_value{t.x});
  t.ids.resize(static_cast<size_t>(top_k));
}

// Reveals t.ids in CDF order lazily: sorted(i) is the i-th id of the order,
// sorting only as far as asked (geometrically growing chunks), so a draw that
// lands early in the CDF costs O(V) rather than O(V log V).
class lazy_order {
 public:
  explicit lazy_order(tempered_row& t) : t_(t) {}
  size_t size() const { return t_.ids.size(); }
  int32_t sorted(size_t i) {
    while (i >= num_sorted_) {
      const size_t end = std::min(t_.ids.size(), num_sorted_ + chunk_);
      const auto first = t_.ids.begin() + static_cast<std::ptrdiff_t>(num_sorted_);
      const auto last = t_.ids.begin() + static_cast<std::ptrdiff_t>(end);
      std::nth_element(first, last - 1, t_.ids.end(), descending_by_value{t_.x});
      std::sort(first, last, descending_by_value{t_.x});
      num_sorted_ = end;
      chunk_ *= 2;
    }
    return t_.ids[i];
  }

 private:
  tempered_row& t_;
  size_t num_sorted_ = 0;
  size_t chunk_ = 64;
};

// How many leading ids of the CDF order top-p and min-p keep (at least one),
// and their total weight.
struct kept_prefix {
  size_t count = 0;
  double mass = 0.0;
};

kept_prefix cut_prefix(lazy_order& order, const tempered_row& t, double total,
                       const gpu::sequence_sampling& params) {
  kept_prefix kept{order.size(), total};
  if (params.top_p >= 1.0f && params.min_p <= 0.0f) return kept;
  const double target = static_cast<double>(params.top_p) * total;
  double running = 0.0;
  for (size_t i = 0; i < order.size(); ++i) {
    const double w = weight(t, order.sorted(i));
    if (i > 0 && params.min_p > 0.0f && w < static_cast<double>(params.min_p)) {
      return {i, running};  // weights are non-increasing: min-p cuts a suffix
    }
    running += w;
    if (params.top_p < 1.0f && running >= target) return {i + 1, running};
  }
  return kept;
}

}  // namespace

sampling_distribution filtered_distribution(std::span<const float> penalized_logits,
                                            const gpu::sequence_sampling& params) {
  tempered_row t = temper(penalized_logits, params.temperature);
  sampling_distribution dist;
  if (t.ids.empty()) {  // every logit is -inf: nothing to prefer, take id 0
    dist.ids = {0};
    dist.weights = {1.0};
    return dist;
  }
  apply_top_k(t, params.top_k);
  std::sort(t.ids.begin(), t.ids.end(), descending_by_value{t.x});
  double total = 0.0;
  for (int32_t id : t.ids) total += weight(t, id);
  lazy_order order(t);
  const kept_prefix kept = cut_prefix(order, t, total, params);
  for (size_t i = 0; i < kept.count; ++i) {
    dist.ids.push_back(t.ids[i]);
    dist.weights.push_back(weight(t, t.ids[i]));
  }
  return dist;
}

int32_t invert_cdf(const sampling_distribution& dist, float u) {
  double total = 0.0;
  for (double w : dist.weights) total += w;
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
  // The same function as invert_cdf(filtered_distribution(...)), revealing
  // the CDF order only as far as the cut and the draw need.
  tempered_row t = temper(logits, params.temperature);
  if (t.ids.empty()) return 0;
  apply_top_k(t, params.top_k);
  double total = 0.0;
  for (int32_t id : t.ids) total += weight(t, id);
  lazy_order order(t);
  const kept_prefix kept = cut_prefix(order, t, total, params);
  const float u = gpu::philox_uniform(params.seed, static_cast<uint64_t>(sample_index));
  const double threshold = static_cast<double>(u) * kept.mass;
  double running = 0.0;
  for (size_t i = 0; i < kept.count; ++i) {
    const int32_t id = order.sorted(i);
    running += weight(t, id);
    if (threshold < running) return id;
  }
  return order.sorted(kept.count - 1);
}

}  // namespace troupe::engine
