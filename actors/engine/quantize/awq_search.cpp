#include "actors/engine/quantize/awq_search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "actors/engine/exec/cpu_kernels.hpp"
#include "actors/engine/model/quant_awq.hpp"
#include "actors/engine/model/quantize.hpp"

namespace troupe::engine {
namespace {

// Round-to-nearest int4 of one group (AutoAWQ's pseudo_quantize_tensor) into out.
void fake_quantize_group(const float* w, int32_t n, float* out) {
  const auto [lo, hi] = std::minmax_element(w, w + n);
  const float scale = std::max(*hi - *lo, 1e-5f) / 15.0f;
  const float zero = std::clamp(-std::nearbyint(*lo / scale), 0.0f, 15.0f);
  for (int32_t i = 0; i < n; ++i)
    out[i] = (std::clamp(std::nearbyint(w[i] / scale) + zero, 0.0f, 15.0f) - zero) * scale;
}

double mean_squared_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    sum += d * d;
  }
  return a.empty() ? 0.0 : sum / static_cast<double>(a.size());
}

}  // namespace

awq_scale_result search_awq_scales(const float* x, int64_t n, const float* w, int64_t out,
                                   int64_t in, const awq_search_options& o, thread_pool& pool) {
  std::vector<float> x_mean(static_cast<std::size_t>(in), 0.0f);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < in; ++c) x_mean[c] += std::fabs(x[t * in + c]);
  for (auto& v : x_mean) v /= static_cast<float>(std::max<int64_t>(n, 1));

  // Mean over rows of |w| relative to the absmax of its group.
  std::vector<float> w_mean(static_cast<std::size_t>(in), 0.0f);
  for (int64_t r = 0; r < out; ++r)
    for (int64_t g = 0; g < in; g += o.group_size) {
      float absmax = 0.0f;
      for (int64_t c = g; c < g + o.group_size; ++c) absmax = std::max(absmax, std::fabs(w[r * in + c]));
      for (int64_t c = g; c < g + o.group_size; ++c)
        w_mean[c] += std::fabs(w[r * in + c]) / (absmax + 1e-6f);
    }
  for (auto& v : w_mean) v /= static_cast<float>(std::max<int64_t>(out, 1));

  std::vector<float> reference(static_cast<std::size_t>(n * out));
  cpu::matmul(x, n, cpu::pack_rows(w, out, in), nullptr, reference.data(), pool);

  awq_scale_result best;
  best.loss = std::numeric_limits<double>::infinity();
  std::vector<float> scaled(static_cast<std::size_t>(out * in));
  std::vector<float> result(reference.size());
  std::vector<float> s(static_cast<std::size_t>(in));
  // Loss of W quantized with scales s (all ones: plain round-to-nearest).
  auto loss_with = [&](const std::vector<float>& s) {
    pool.parallel_for(out, 16, 1, [&](int64_t r0, int64_t r1) {
      std::vector<float> row(static_cast<std::size_t>(in));
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = 0; c < in; ++c) row[c] = w[r * in + c] * s[c];
        for (int64_t g = 0; g < in; g += o.group_size)
          fake_quantize_group(row.data() + g, o.group_size, scaled.data() + r * in + g);
        for (int64_t c = 0; c < in; ++c) scaled[r * in + c] /= s[c];
      }
    });
    cpu::matmul(x, n, cpu::pack_rows(scaled.data(), out, in), nullptr, result.data(), pool);
    return mean_squared_diff(result, reference);
  };
  // Round-to-nearest is a candidate too, so the search never does worse on
  // the calibration data (ratio reported as -1).
  best.scales.assign(static_cast<std::size_t>(in), 1.0f);
  best.rtn_loss = best.loss = loss_with(best.scales);
  best.ratio = -1.0f;
  for (int32_t i = 0; i < o.grid; ++i) {
    const float ratio = static_cast<float>(i) / static_cast<float>(o.grid);
    for (int64_t c = 0; c < in; ++c) {
      const float x_term = std::pow(x_mean[c], ratio);
      s[c] = std::max(o.duo_scaling ? x_term / (std::pow(w_mean[c], 1.0f - ratio) + 1e-4f) : x_term,
                      1e-4f);
    }
    const auto [s_lo, s_hi] = std::minmax_element(s.begin(), s.end());
    const float norm = std::sqrt(*s_lo * *s_hi);
    for (auto& v : s) v /= norm;
    const double loss = loss_with(s);
    if (loss < best.loss) {
      best.loss = loss;
      best.ratio = ratio;
      best.scales = s;
    }
  }
  return best;
}

void apply_awq_clipping(const float* x, int64_t n, float* w, int64_t out, int64_t in,
                        const awq_search_options& o, thread_pool& pool) {
  // Every step-th token, at most max_clip_tokens of them.
  const int64_t step = std::max<int64_t>(1, n / std::max<int64_t>(1, o.max_clip_tokens));
  std::vector<int64_t> tokens;
  for (int64_t t = 0; t < n && static_cast<int64_t>(tokens.size()) < o.max_clip_tokens; t += step)
    tokens.push_back(t);
  const int32_t g = o.group_size;
  const int32_t steps = static_cast<int32_t>(o.max_shrink * static_cast<float>(o.grid));
  pool.parallel_for(out, 4, 1, [&](int64_t r0, int64_t r1) {
    std::vector<float> clamped(static_cast<std::size_t>(g)), quantized(static_cast<std::size_t>(g));
    std::vector<double> reference(tokens.size());
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t c0 = 0; c0 < in; c0 += g) {
        float* wg = w + r * in + c0;
        float absmax = 0.0f;
        for (int32_t i = 0; i < g; ++i) absmax = std::max(absmax, std::fabs(wg[i]));
        for (std::size_t k = 0; k < tokens.size(); ++k) {
          const float* xt = x + tokens[k] * in + c0;
          double dot = 0.0;
          for (int32_t i = 0; i < g; ++i) dot += static_cast<double>(xt[i]) * wg[i];
          reference[k] = dot;
        }
        float best_max = absmax;
        double best_err = std::numeric_limits<double>::infinity();
        for (int32_t i = 0; i < steps; ++i) {
          const float m = absmax * (1.0f - static_cast<float>(i) / static_cast<float>(o.grid));
          for (int32_t j = 0; j < g; ++j) clamped[j] = std::clamp(wg[j], -m, m);
          fake_quantize_group(clamped.data(), g, quantized.data());
          double err = 0.0;
          for (std::size_t k = 0; k < tokens.size(); ++k) {
            const float* xt = x + tokens[k] * in + c0;
            double dot = 0.0;
            for (int32_t j = 0; j < g; ++j) dot += static_cast<double>(xt[j]) * quantized[j];
            err += (dot - reference[k]) * (dot - reference[k]);
          }
          if (err < best_err) {
            best_err = err;
            best_max = m;
          }
        }
        for (int32_t j = 0; j < g; ++j) wg[j] = std::clamp(wg[j], -best_max, best_max);
      }
    }
  });
}

}  // namespace troupe::engine
