// On-device sampling; the algorithm is written out in sampling.hpp.
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
  size_t lse = 0, scores = 0, counts = 0, keys_in = 0, keys_out = 0, ids_in = 0, ids_out = 0,
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
  w.lse = at;       at += align_up(rows * sizeof(double));
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

// Best (value, id) of a row among entries strictly "after" `prev` in the
// (value desc, id asc) order.
__device__ scored_id block_argmax_after(const float* row, int32_t vocab, scored_id prev,
                                        typename argmax_reduce::TempStorage& tmp) {
  scored_id best{-INFINITY, INT32_MAX};
  for (int32_t i = threadIdx.x; i < vocab; i += kThreads) {
    const float v = row[i];
    const bool after = v < prev.value || (v == prev.value && i > prev.id);
    if (after) best = better(best, scored_id{v, i});
  }
  return argmax_reduce(tmp).Reduce(best, better_op{});
}

// max, log-sum-exp and the top logprobs of the raw logits.
__global__ void __launch_bounds__(kThreads)
    logprob_stats_kernel(sampling_args a, double* lse_out) {
  using max_reduce = cub::BlockReduce<float, kThreads>;
  using sum_reduce = cub::BlockReduce<double, kThreads>;
  __shared__ union {
    typename max_reduce::TempStorage max_tmp;
    typename sum_reduce::TempStorage sum_tmp;
    typename argmax_reduce::TempStorage arg_tmp;
  } tmp;
  __shared__ float row_max_s;
  __shared__ double lse_s;
  __shared__ scored_id pick_s;
  const int32_t r = blockIdx.x;
  const float* row = a.logits + static_cast<int64_t>(r) * a.vocab_size;

  float mx = -INFINITY;
  for (int32_t i = threadIdx.x; i < a.vocab_size; i += kThreads) mx = fmaxf(mx, row[i]);
  mx = max_reduce(tmp.max_tmp).Reduce(mx, max_op{});
  if (threadIdx.x == 0) row_max_s = mx;
  __syncthreads();
  mx = row_max_s;
  double sum = 0.0;
  for (int32_t i = threadIdx.x; i < a.vocab_size; i += kThreads)
    sum += exp(static_cast<double>(row[i]) - mx);
  __syncthreads();
  sum = sum_reduce(tmp.sum_tmp).Sum(sum);
  if (threadIdx.x == 0) {
    lse_s = mx + log(sum);
    lse_out[r] = lse_s;
  }
  __syncthreads();
  const double lse = lse_s;

  const int32_t num_top = a.rows[r].num_top_logprobs;
  scored_id prev{INFINITY, -1};
  for (int32_t k = 0; k < a.max_top_logprobs; ++k) {
    if (k < num_top) {
      __syncthreads();
      const scored_id best = block_argmax_after(row, a.vocab_size, prev, tmp.arg_tmp);
      if (threadIdx.x == 0) pick_s = best;
      __syncthreads();
      prev = pick_s;
    }
    if (threadIdx.x == 0) {
      const int64_t o = static_cast<int64_t>(r) * a.max_top_logprobs + k;
      a.out_top_ids[o] = k < num_top ? prev.id : -1;
      a.out_top_logprobs[o] =
          k < num_top ? static_cast<float>(prev.value - lse) : -INFINITY;
    }
  }
}

// Copies the row into `scores` and applies the penalties once per distinct token.
__global__ void penalty_kernel(sampling_args a, float* scores, uint32_t* counts) {
  const int32_t r = blockIdx.x;
  const sampling_row p = a.rows[r];
  const int64_t base = static_cast<int64_t>(r) * a.vocab_size;
  for (int32_t i = threadIdx.x; i < a.vocab_size; i += blockDim.x)
    scores[base + i] = a.logits[base + i];
  const bool active = p.repetition_penalty != 1.0f || p.presence_penalty != 0.0f ||
                      p.frequency_penalty != 0.0f;
  if (!active) return;
  uint32_t* c = counts + base;
  for (int32_t j = p.penalty_begin + threadIdx.x; j < p.penalty_end; j += blockDim.x) {
    const int32_t t = a.penalty_token_ids[j];
    if (j < p.penalty_output_begin)
      atomicOr(&c[t], kInPrompt);
    else
      atomicAdd(&c[t], 1u);
  }
  __syncthreads();
  for (int32_t j = p.penalty_begin + threadIdx.x; j < p.penalty_end; j += blockDim.x) {
    const int32_t t = a.penalty_token_ids[j];
    const uint32_t old = atomicOr(&c[t], kClaimed);
    if (old & kClaimed) continue;
    float l = scores[base + t];
    if (p.repetition_penalty != 1.0f)
      l = l > 0.0f ? l / p.repetition_penalty : l * p.repetition_penalty;
    const uint32_t n = old & kCountMask;
    if (n > 0) l = (l - p.frequency_penalty * static_cast<float>(n)) - p.presence_penalty;
    scores[base + t] = l;
  }
  __syncthreads();
  for (int32_t j = p.penalty_begin + threadIdx.x; j < p.penalty_end; j += blockDim.x)
    c[a.penalty_token_ids[j]] = 0;
}

__global__ void __launch_bounds__(kThreads) greedy_kernel(sampling_args a, const float* scores) {
  __shared__ typename argmax_reduce::TempStorage tmp;
  const int32_t r = blockIdx.x;
  if (a.rows[r].temperature >= kGreedyTemperature) return;
  const scored_id best = block_argmax_after(scores + static_cast<int64_t>(r) * a.vocab_size,
                                            a.vocab_size, scored_id{INFINITY, -1}, tmp);
  if (threadIdx.x == 0) a.out_token_ids[r] = best.id;
}

__device__ __forceinline__ float tempered(float l, float temperature) {
  return l / temperature + 0.0f;  // + 0 folds -0 into +0: equal keys tie by id
}

__global__ void sort_keys_kernel(sampling_args a, const float* scores, uint64_t* keys,
                                 int32_t* ids) {
  const int32_t r = blockIdx.y;
  const int32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= a.vocab_size) return;
  const float t = a.rows[r].temperature;
  const float z = tempered(scores[static_cast<int64_t>(r) * a.vocab_size + i],
                           t >= kGreedyTemperature ? t : 1.0f);
  uint32_t bits = __float_as_uint(z);
  bits ^= (bits & 0x80000000u) ? 0xFFFFFFFFu : 0x80000000u;  // increasing in z
  const int64_t o = static_cast<int64_t>(r) * a.vocab_size + i;
  keys[o] = (static_cast<uint64_t>(r) << 32) | static_cast<uint64_t>(~bits);  // z descending
  ids[o] = i;
}

__global__ void __launch_bounds__(kThreads)
    draw_kernel(sampling_args a, const float* scores, const int32_t* sorted_ids) {
  using sum_reduce = cub::BlockReduce<double, kThreads>;
  using min_reduce = cub::BlockReduce<int32_t, kThreads>;
  using scan = cub::BlockScan<double, kThreads>;
  __shared__ union {
    typename sum_reduce::TempStorage sum_tmp;
    typename min_reduce::TempStorage min_tmp;
    typename scan::TempStorage scan_tmp;
  } tmp;
  __shared__ double shared_d;
  __shared__ int32_t shared_i;
  __shared__ double chunk_total;

  const int32_t r = blockIdx.x;
  const sampling_row p = a.rows[r];
  if (p.temperature < kGreedyTemperature) return;
  const int32_t V = a.vocab_size;
  const float* row = scores + static_cast<int64_t>(r) * V;
  const int32_t* ids = sorted_ids + static_cast<int64_t>(r) * V;
  const float z_max = tempered(row[ids[0]], p.temperature);

  double s = 0.0;
  for (int32_t i = threadIdx.x; i < V; i += kThreads)
    s += exp(static_cast<double>(tempered(row[i], p.temperature)) - z_max);
  s = sum_reduce(tmp.sum_tmp).Sum(s);
  if (threadIdx.x == 0) shared_d = s;
  __syncthreads();
  const double denom = shared_d;
  auto prob = [&](int32_t rank) {
    return exp(static_cast<double>(tempered(row[ids[rank]], p.temperature)) - z_max) / denom;
  };

  const int32_t n_k = (p.top_k > 0 && p.top_k < V) ? p.top_k : V;
  double mass_k = 0.0;
  for (int32_t i = threadIdx.x; i < n_k; i += kThreads) mass_k += prob(i);
  __syncthreads();
  mass_k = sum_reduce(tmp.sum_tmp).Sum(mass_k);
  if (threadIdx.x == 0) shared_d = mass_k;
  __syncthreads();
  mass_k = shared_d;
  const double p0 = prob(0);
  const bool use_top_p = p.top_p < 1.0f;
  const double top_p_mass = static_cast<double>(p.top_p) * mass_k;
  const double min_p_floor = static_cast<double>(p.min_p) * p0;

  // Pass 1: n = first rank failing top-p or min-p (ranks < n_k), and the kept mass.
  int32_t n = n_k;
  double kept_mass = 0.0;
  double carry = 0.0;
  for (int32_t c0 = 0; c0 < n_k; c0 += kThreads) {
    const int32_t i = c0 + threadIdx.x;
    const double pi = i < n_k ? prob(i) : 0.0;
    double before;
    __syncthreads();
    scan(tmp.scan_tmp).ExclusiveSum(pi, before);
    before += carry;
    bool fails = false;
    if (i < n_k && i > 0) {
      if (use_top_p && !(before < top_p_mass)) fails = true;
      if (p.min_p > 0.0f && !(pi >= min_p_floor)) fails = true;
    }
    __syncthreads();
    const int32_t first_fail = min_reduce(tmp.min_tmp).Reduce(fails ? i : INT32_MAX, min_op{});
    if (threadIdx.x == 0) shared_i = first_fail;
    if (threadIdx.x == kThreads - 1) chunk_total = before + pi;
    __syncthreads();
    if (shared_i != INT32_MAX) {
      n = shared_i;
      if (threadIdx.x == n - c0) shared_d = before;  // mass before the first failing rank
      __syncthreads();
      kept_mass = shared_d;
      break;
    }
    carry = chunk_total;
    kept_mass = carry;
  }

  // Pass 2: invert the CDF of the kept prefix.
  const double target = static_cast<double>(philox_uniform(p.seed, p.sample_index)) * kept_mass;
  int32_t pick = n - 1;
  carry = 0.0;
  for (int32_t c0 = 0; c0 < n; c0 += kThreads) {
    const int32_t i = c0 + threadIdx.x;
    const double pi = i < n ? prob(i) : 0.0;
    double through;
    __syncthreads();
    scan(tmp.scan_tmp).InclusiveSum(pi, through);
    through += carry;
    const bool hit = i < n && through > target;
    __syncthreads();
    const int32_t first_hit = min_reduce(tmp.min_tmp).Reduce(hit ? i : INT32_MAX, min_op{});
    if (threadIdx.x == 0) shared_i = first_hit;
    if (threadIdx.x == kThreads - 1) chunk_total = through;
    __syncthreads();
    if (shared_i != INT32_MAX) {
      pick = shared_i;
      break;
    }
    carry = chunk_total;
  }
  if (threadIdx.x == 0) a.out_token_ids[r] = ids[pick];
}

__global__ void sampled_logprob_kernel(sampling_args a, const double* lse) {
  const int32_t r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= a.num_rows) return;
  const int32_t t = a.out_token_ids[r];
  a.out_logprobs[r] =
      static_cast<float>(a.logits[static_cast<int64_t>(r) * a.vocab_size + t] - lse[r]);
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
  double* lse = reinterpret_cast<double*>(base + w.lse);
  float* scores = reinterpret_cast<float*>(base + w.scores);
  uint32_t* counts = reinterpret_cast<uint32_t*>(base + w.counts);

  logprob_stats_kernel<<<a.num_rows, kThreads, 0, stream>>>(a, lse);
  const float* chosen_scores = a.logits;
  if (a.any_penalty) {
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
  sampled_logprob_kernel<<<(a.num_rows + 127) / 128, 128, 0, stream>>>(a, lse);
  return cudaGetLastError();
}

}  // namespace troupe::gpu::kernels
