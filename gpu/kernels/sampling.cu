// On-device sampling; the function is written out in sampling.hpp.
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cub/device/device_radix_sort.cuh>

#include "gpu/kernels/element.cuh"
#include "gpu/kernels/sampling.hpp"
#include "gpu/philox.hpp"

namespace troupe::gpu::kernels {
namespace {

constexpr int kThreads = 1024;
constexpr uint32_t kClaimed = 1u << 31;
constexpr uint32_t kInPrompt = 1u << 30;
constexpr uint32_t kCountMask = kInPrompt - 1;

size_t align_up(size_t n) { return (n + 255) & ~size_t{255}; }

struct workspace_layout {
  size_t log_sum = 0, scores = 0, counts = 0, keys_in = 0, keys_out = 0, ids_in = 0, ids_out = 0,
         sort_temp = 0, sort_temp_bytes = 0, total = 0;
};

int row_bits(int32_t rows) {
  int bits = 1;
  while ((1 << bits) < rows) ++bits;
  return bits;
}

workspace_layout layout_for(int32_t rows, int32_t vocab) {
  workspace_layout w;
  const size_t n = static_cast<size_t>(rows) * vocab;
  size_t at = 0;
  w.log_sum = at;   at += align_up(rows * sizeof(float));
  w.scores = at;    at += align_up(n * sizeof(float));
  w.counts = at;    at += align_up(n * sizeof(uint32_t));
  w.keys_in = at;   at += align_up(n * sizeof(uint64_t));
  w.keys_out = at;  at += align_up(n * sizeof(uint64_t));
  w.ids_in = at;    at += align_up(n * sizeof(int32_t));
  w.ids_out = at;   at += align_up(n * sizeof(int32_t));
  cub::DeviceRadixSort::SortPairs(nullptr, w.sort_temp_bytes, static_cast<uint64_t*>(nullptr),
                                  static_cast<uint64_t*>(nullptr), static_cast<int32_t*>(nullptr),
                                  static_cast<int32_t*>(nullptr), static_cast<int64_t>(n));
  w.sort_temp = at; at += align_up(w.sort_temp_bytes);
  w.total = at;
  return w;
}

__device__ __forceinline__ float finite_or_neg_inf(float x) { return isnan(x) ? -INFINITY : x; }

// expf as the host computes it: the fp32 rounding of the exact exponential.
__device__ __forceinline__ float exact_expf(float x) {
  return static_cast<float>(exp(static_cast<double>(x)));
}

struct scored_id {
  float value;
  int32_t id;
};
// Larger value first; lower id on ties.
__device__ __forceinline__ scored_id better(scored_id a, scored_id b) {
  return (a.value > b.value || (a.value == b.value && a.id < b.id)) ? a : b;
}
struct better_op {
  __device__ __forceinline__ scored_id operator()(scored_id a, scored_id b) const {
    return better(a, b);
  }
};
struct max_op {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct min_op {
  __device__ __forceinline__ int32_t operator()(int32_t a, int32_t b) const { return a < b ? a : b; }
};
using argmax_reduce = cub::BlockReduce<scored_id, kThreads>;
using sum_reduce = cub::BlockReduce<double, kThreads>;
using count_reduce = cub::BlockReduce<int32_t, kThreads>;
using max_reduce = cub::BlockReduce<float, kThreads>;
using scan = cub::BlockScan<double, kThreads>;

// Best (value, id) among entries strictly after `prev` in the (value desc,
// id asc) order; value(i) = f(i).
template <typename F>
__device__ scored_id block_argmax_after(int32_t n, F value, scored_id prev,
                                        typename argmax_reduce::TempStorage& tmp) {
  scored_id best{-INFINITY, INT32_MAX};
  for (int32_t i = threadIdx.x; i < n; i += kThreads) {
    const float v = value(i);
    const bool after = v < prev.value || (v == prev.value && i > prev.id);
    if (after) best = better(best, scored_id{v, i});
  }
  return argmax_reduce(tmp).Reduce(best, better_op{});
}

// log_sum and the top logprobs of the raw logits.
__global__ void __launch_bounds__(kThreads)
    logprob_stats_kernel(sampling_args a, float* log_sum_out) {
  __shared__ union {
    typename max_reduce::TempStorage max_tmp;
    typename sum_reduce::TempStorage sum_tmp;
    typename argmax_reduce::TempStorage arg_tmp;
  } tmp;
  __shared__ float shared_f;
  __shared__ scored_id pick_s;
  const int32_t r = blockIdx.x;
  const float* row = a.logits + static_cast<int64_t>(r) * a.vocab_size;

  float mx = -INFINITY;
  for (int32_t i = threadIdx.x; i < a.vocab_size; i += kThreads)
    mx = fmaxf(mx, finite_or_neg_inf(row[i]));
  mx = max_reduce(tmp.max_tmp).Reduce(mx, max_op{});
  if (threadIdx.x == 0) shared_f = mx;
  __syncthreads();
  mx = shared_f;
  double sum = 0.0;
  if (mx != -INFINITY)
    for (int32_t i = threadIdx.x; i < a.vocab_size; i += kThreads)
      sum += exp(static_cast<double>(__fsub_rn(finite_or_neg_inf(row[i]), mx)));
  __syncthreads();
  sum = sum_reduce(tmp.sum_tmp).Sum(sum);
  if (threadIdx.x == 0) {
    // All -inf: every logprob is -inf (log_sum = +inf makes x - log_sum = -inf).
    shared_f = mx == -INFINITY ? INFINITY : __fadd_rn(mx, static_cast<float>(log(sum)));
    log_sum_out[r] = shared_f;
  }
  __syncthreads();
  const float log_sum = shared_f;
  auto lp = [&](int32_t i) { return __fsub_rn(finite_or_neg_inf(row[i]), log_sum); };

  const int32_t num_top = min(a.rows[r].num_top_logprobs, a.vocab_size);
  scored_id prev{INFINITY, -1};
  for (int32_t k = 0; k < a.max_top_logprobs; ++k) {
    if (k < num_top) {
      __syncthreads();
      const scored_id best = block_argmax_after(a.vocab_size, lp, prev, tmp.arg_tmp);
      if (threadIdx.x == 0) pick_s = best;
      __syncthreads();
      prev = pick_s;
    }
    if (threadIdx.x == 0) {
      const int64_t o = static_cast<int64_t>(r) * a.max_top_logprobs + k;
      a.out_top_ids[o] = k < num_top ? prev.id : -1;
      a.out_top_logprobs[o] = k < num_top ? prev.value : -INFINITY;
    }
  }
}

__device__ __forceinline__ bool repetition_active(const sampling_row& p) {
  return p.repetition_penalty != 1.0f && p.repetition_penalty > 0.0f;
}

// Copies the row into `scores` and applies the penalties once per distinct id.
__global__ void penalty_kernel(sampling_args a, float* scores, uint32_t* counts) {
  const int32_t r = blockIdx.x;
  const sampling_row p = a.rows[r];
  const int64_t base = static_cast<int64_t>(r) * a.vocab_size;
  if (p.has_mask && a.allowed_masks != nullptr) {
    const uint32_t* m = a.allowed_masks + static_cast<int64_t>(r) * a.mask_words;
    for (int32_t i = threadIdx.x; i < a.vocab_size; i += blockDim.x) {
      const bool ok = (i >> 5) < a.mask_words && ((m[i >> 5] >> (i & 31)) & 1u);
      scores[base + i] = ok ? a.logits[base + i] : -INFINITY;
    }
  } else {
    for (int32_t i = threadIdx.x; i < a.vocab_size; i += blockDim.x)
      scores[base + i] = a.logits[base + i];
  }
  if (p.bias_end > p.bias_begin) {
    __syncthreads();
    // Bias ids are distinct (a JSON object's keys), so no two threads add to one id.
    for (int32_t j = p.bias_begin + threadIdx.x; j < p.bias_end; j += blockDim.x) {
      const int32_t t = a.bias_token_ids[j];
      if (t >= 0 && t < a.vocab_size) scores[base + t] = __fadd_rn(scores[base + t], a.bias_values[j]);
    }
  }
  const bool rep = repetition_active(p);
  const bool additive = p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
  if (!rep && !additive) return;
  __syncthreads();
  uint32_t* c = counts + base;
  auto valid = [&](int32_t t) { return t >= 0 && t < a.vocab_size; };
  for (int32_t j = p.penalty_begin + threadIdx.x; j < p.penalty_end; j += blockDim.x) {
    const int32_t t = a.penalty_token_ids[j];
    if (!valid(t)) continue;
    if (j < p.penalty_output_begin)
      atomicOr(&c[t], kInPrompt);
    else
      atomicAdd(&c[t], 1u);
  }
  __syncthreads();
  for (int32_t j = p.penalty_begin + threadIdx.x; j < p.penalty_end; j += blockDim.x) {
    const int32_t t = a.penalty_token_ids[j];
    if (!valid(t)) continue;
    const uint32_t old = atomicOr(&c[t], kClaimed);
    if (old & kClaimed) continue;
    float x = scores[base + t];
    if (rep) x = x > 0.0f ? __fdiv_rn(x, p.repetition_penalty) : __fmul_rn(x, p.repetition_penalty);
    const uint32_t n = old & kCountMask;
    if (additive && n > 0)
      x = __fsub_rn(x, __fadd_rn(__fmul_rn(p.frequency_penalty, static_cast<float>(n)),
                                 p.presence_penalty));
    scores[base + t] = x;
  }
  __syncthreads();
  for (int32_t j = p.penalty_begin + threadIdx.x; j < p.penalty_end; j += blockDim.x) {
    const int32_t t = a.penalty_token_ids[j];
    if (valid(t)) c[t] = 0;
  }
}

__global__ void __launch_bounds__(kThreads) greedy_kernel(sampling_args a, const float* scores) {
  __shared__ typename argmax_reduce::TempStorage tmp;
  const int32_t r = blockIdx.x;
  if (a.rows[r].temperature >= kGreedyTemperature) return;
  const float* row = scores + static_cast<int64_t>(r) * a.vocab_size;
  const scored_id best = block_argmax_after(
      a.vocab_size, [&](int32_t i) { return finite_or_neg_inf(row[i]); },
      scored_id{INFINITY, -1}, tmp);
  if (threadIdx.x == 0) a.out_token_ids[r] = best.id;
}

__device__ __forceinline__ float tempered(float x, float temperature) {
  return __fdiv_rn(finite_or_neg_inf(x), temperature);
}

__global__ void sort_keys_kernel(sampling_args a, const float* scores, uint64_t* keys,
                                 int32_t* ids) {
  const int32_t r = blockIdx.y;
  const int32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= a.vocab_size) return;
  const float t = a.rows[r].temperature;
  // + 0 folds -0 into +0 so that equal values tie by id.
  const float z = tempered(scores[static_cast<int64_t>(r) * a.vocab_size + i],
                           t >= kGreedyTemperature ? t : 1.0f) + 0.0f;
  uint32_t bits = __float_as_uint(z);
  bits ^= (bits & 0x80000000u) ? 0xFFFFFFFFu : 0x80000000u;  // increasing in z
  const int64_t o = static_cast<int64_t>(r) * a.vocab_size + i;
  keys[o] = (static_cast<uint64_t>(r) << 32) | static_cast<uint64_t>(~bits);  // z descending
  ids[o] = i;
}

// Reduces a per-thread double over the block; every thread gets the sum.
__device__ double block_sum_all(double v, typename sum_reduce::TempStorage& tmp, double* slot) {
  __syncthreads();
  v = sum_reduce(tmp).Sum(v);
  if (threadIdx.x == 0) *slot = v;
  __syncthreads();
  return *slot;
}

// First index i in [begin, end) for which pred(i, inclusive prefix sum of
// e over [begin, i]) holds, scanning in chunks of the block; end if none.
template <typename E, typename P>
__device__ int32_t first_by_prefix(int32_t begin, int32_t end, E e, P pred,
                                   typename scan::TempStorage& scan_tmp,
                                   typename count_reduce::TempStorage& min_tmp, int32_t* found,
                                   double* chunk_total) {
  double carry = 0.0;
  for (int32_t c0 = begin; c0 < end; c0 += kThreads) {
    const int32_t i = c0 + threadIdx.x;
    const double v = i < end ? static_cast<double>(e(i)) : 0.0;
    double through;
    __syncthreads();
    scan(scan_tmp).InclusiveSum(v, through);
    through += carry;
    const bool hit = i < end && pred(i, through);
    __syncthreads();
    const int32_t first = count_reduce(min_tmp).Reduce(hit ? i : INT32_MAX, min_op{});
    if (threadIdx.x == 0) *found = first;
    if (threadIdx.x == kThreads - 1) *chunk_total = through;
    __syncthreads();
    if (*found != INT32_MAX) return *found;
    carry = *chunk_total;
  }
  return end;
}

__global__ void __launch_bounds__(kThreads)
    draw_kernel(sampling_args a, const float* scores, const int32_t* sorted_ids) {
  __shared__ union {
    typename sum_reduce::TempStorage sum_tmp;
    typename scan::TempStorage scan_tmp;
  } tmp;
  __shared__ typename count_reduce::TempStorage count_tmp;
  __shared__ double shared_d;
  __shared__ int32_t shared_i;

  const int32_t r = blockIdx.x;
  const sampling_row p = a.rows[r];
  if (p.temperature < kGreedyTemperature) return;
  const int32_t V = a.vocab_size;
  const float* row = scores + static_cast<int64_t>(r) * V;
  const int32_t* ids = sorted_ids + static_cast<int64_t>(r) * V;
  auto x_of_rank = [&](int32_t rank) { return tempered(row[ids[rank]], p.temperature); };

  // Ids with x > -inf sort first; count them.
  int32_t valid = 0;
  for (int32_t i = threadIdx.x; i < V; i += kThreads)
    valid += tempered(row[i], p.temperature) != -INFINITY;
  valid = count_reduce(count_tmp).Sum(valid);
  if (threadIdx.x == 0) shared_i = valid;
  __syncthreads();
  valid = shared_i;
  if (valid == 0) {  // every logit is -inf: id 0
    if (threadIdx.x == 0) a.out_token_ids[r] = 0;
    return;
  }
  const float x_max = x_of_rank(0);
  auto e = [&](int32_t rank) { return exact_expf(__fsub_rn(x_of_rank(rank), x_max)); };

  int32_t keep = (p.top_k > 0 && p.top_k < valid) ? p.top_k : valid;
  if (p.top_p < 1.0f) {
    double z = 0.0;
    for (int32_t i = threadIdx.x; i < keep; i += kThreads) z += e(i);
    z = block_sum_all(z, tmp.sum_tmp, &shared_d);
    const double target = static_cast<double>(p.top_p) * z;
    const int32_t hit = first_by_prefix(
        0, keep, e, [&](int32_t, double through) { return through >= target; }, tmp.scan_tmp,
        count_tmp, &shared_i, &shared_d);
    if (hit < keep) keep = hit + 1;
  }
  if (p.min_p > 0.0f) {
    // e is non-increasing: the first rank >= 1 below min_p starts the dropped suffix.
    int32_t first_low = INT32_MAX;
    for (int32_t i = 1 + threadIdx.x; i < keep; i += kThreads)
      if (e(i) < p.min_p) first_low = min(first_low, i);
    __syncthreads();
    first_low = count_reduce(count_tmp).Reduce(first_low, min_op{});
    if (threadIdx.x == 0) shared_i = first_low;
    __syncthreads();
    if (shared_i < keep) keep = shared_i;
  }

  double kept_sum = 0.0;
  for (int32_t i = threadIdx.x; i < keep; i += kThreads) kept_sum += e(i);
  kept_sum = block_sum_all(kept_sum, tmp.sum_tmp, &shared_d);
  const double threshold =
      static_cast<double>(philox_uniform(p.seed, static_cast<uint64_t>(p.sample_index))) * kept_sum;
  int32_t pick = first_by_prefix(
      0, keep, e, [&](int32_t, double through) { return threshold < through; }, tmp.scan_tmp,
      count_tmp, &shared_i, &shared_d);
  if (pick >= keep) pick = keep - 1;
  if (threadIdx.x == 0) a.out_token_ids[r] = ids[pick];
}

__global__ void sampled_logprob_kernel(sampling_args a, const float* log_sum) {
  const int32_t r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= a.num_rows) return;
  const int32_t t = a.out_token_ids[r];
  a.out_logprobs[r] = __fsub_rn(
      finite_or_neg_inf(a.logits[static_cast<int64_t>(r) * a.vocab_size + t]), log_sum[r]);
}

}  // namespace

size_t sampling_workspace_bytes(int32_t max_rows, int32_t vocab_size) {
  return layout_for(max_rows, vocab_size).total;
}

cudaError_t launch_sampling(const sampling_args& a, void* workspace, size_t workspace_bytes,
                            cudaStream_t stream) {
  if (a.num_rows == 0) return cudaSuccess;
  if (a.max_top_logprobs > kMaxTopLogprobs) return cudaErrorInvalidValue;
  const workspace_layout w = layout_for(a.num_rows, a.vocab_size);
  if (w.total > workspace_bytes) return cudaErrorInvalidValue;
  char* base = static_cast<char*>(workspace);
  float* log_sum = reinterpret_cast<float*>(base + w.log_sum);
  float* scores = reinterpret_cast<float*>(base + w.scores);
  uint32_t* counts = reinterpret_cast<uint32_t*>(base + w.counts);

  logprob_stats_kernel<<<a.num_rows, kThreads, 0, stream>>>(a, log_sum);
  const float* chosen_scores = a.logits;
  if (a.any_penalty || a.any_edit) {
    penalty_kernel<<<a.num_rows, 512, 0, stream>>>(a, scores, counts);
    chosen_scores = scores;
  }
  greedy_kernel<<<a.num_rows, kThreads, 0, stream>>>(a, chosen_scores);
  if (a.any_random) {
    uint64_t* keys_in = reinterpret_cast<uint64_t*>(base + w.keys_in);
    uint64_t* keys_out = reinterpret_cast<uint64_t*>(base + w.keys_out);
    int32_t* ids_in = reinterpret_cast<int32_t*>(base + w.ids_in);
    int32_t* ids_out = reinterpret_cast<int32_t*>(base + w.ids_out);
    sort_keys_kernel<<<dim3((a.vocab_size + 255) / 256, a.num_rows), 256, 0, stream>>>(
        a, chosen_scores, keys_in, ids_in);
    size_t temp_bytes = w.sort_temp_bytes;
    const cudaError_t sorted = cub::DeviceRadixSort::SortPairs(
        base + w.sort_temp, temp_bytes, keys_in, keys_out, ids_in, ids_out,
        static_cast<int64_t>(a.num_rows) * a.vocab_size, 0, 32 + row_bits(a.num_rows), stream);
    if (sorted != cudaSuccess) return sorted;
    draw_kernel<<<a.num_rows, kThreads, 0, stream>>>(a, chosen_scores, ids_out);
  }
  sampled_logprob_kernel<<<(a.num_rows + 127) / 128, 128, 0, stream>>>(a, log_sum);
  return cudaGetLastError();
}

}  // namespace troupe::gpu::kernels
