// Decode attention (one query row per sequence) over the paged KV cache,
// split-KV ("flash-decoding"): block (split, kv_head, seq) reads keys
// [split * chunk, (split + 1) * chunk) of its sequence once, for every query
// head of the GQA group, and writes an unnormalised partial (acc, max, sum);
// decode_combine_kernel merges the splits of each (sequence, head).
//
// This is the CUDA-core kernel, for every supported shape; the tensor-core
// kernel (decode_attention_mma.cu) writes the same partials for head_dim 64
// and 128 and is preferred where it applies.
#include <cstdlib>
#include <cstring>

#include "gpu/kernels/attention.hpp"
#include "gpu/kernels/decode_split.cuh"
#include "gpu/kernels/element.cuh"
#include "gpu/kernels/launch.cuh"

namespace troupe::gpu::kernels {
namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;

// D: head_dim; G: largest group size handled (the real one, a.num_heads /
// num_kv_heads, may be smaller).
template <typename T, int D, int G>
__global__ void __launch_bounds__(kThreads)
    decode_attention_kernel(attention_args a, decode_workspace w) {
  constexpr int kLanesPerKey = D / 8;           // each lane holds 8 dims of a key
  constexpr int kKeysPerWarp = 32 / kLanesPerKey;
  constexpr int kGroupsPerBlock = kWarps * kKeysPerWarp;  // independent softmax states
  __shared__ float merge_acc[kGroupsPerBlock][G][D];
  __shared__ float merge_m[kGroupsPerBlock][G];
  __shared__ float merge_l[kGroupsPerBlock][G];

  wait_for_previous_kernel();
  const int32_t split = blockIdx.x, kv_head = blockIdx.y, seq = blockIdx.z;
  const int32_t seq_len = a.seq_lens[seq];
  const int32_t num_splits = decode_num_splits(seq_len, w.split_limit);
  if (split >= num_splits) return;
  const int32_t group = a.num_heads / a.layout.num_kv_heads;
  const int32_t chunk = (seq_len + num_splits - 1) / num_splits;
  const int32_t key_begin = split * chunk;
  const int32_t key_end = min(seq_len, key_begin + chunk);

  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int sub = lane / kLanesPerKey;     // which key of the warp's kKeysPerWarp
  const int d0 = (lane % kLanesPerKey) * 8;
  const int state = warp * kKeysPerWarp + sub;

  const T* qp = static_cast<const T*>(a.q) +
                static_cast<int64_t>(a.query_start_loc[seq]) * a.q_row_stride;
  float q[G][8];
#pragma unroll
  for (int g = 0; g < G; ++g)
#pragma unroll
    for (int e = 0; e < 8; ++e)
      q[g][e] = g < group
                    ? to_float(qp[static_cast<int64_t>(kv_head * group + g) * D + d0 + e]) * a.scale
                    : 0.0f;

  float m[G], l[G], acc[G][8];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -INFINITY;
    l[g] = 0.0f;
#pragma unroll
    for (int e = 0; e < 8; ++e) acc[g][e] = 0.0f;
  }

  const T* cache = static_cast<const T*>(a.cache);
  const int32_t* block_table = a.block_tables + static_cast<int64_t>(seq) * a.block_table_stride;
  const int32_t bs = a.layout.block_size;
  // Addresses: a key's row is this head's base + slot * slot_stride; block
  // sizes are powers of two in practice, where the division is a shift.
  const int64_t slot_stride = a.layout.slot_stride();
  const T* k_head = cache + a.layout.offset(0, 0, kv_head) + d0;
  const T* v_head = cache + a.layout.offset(1, 0, kv_head) + d0;
  const bool bs_pow2 = (bs & (bs - 1)) == 0;
  const int bs_shift = __ffs(bs) - 1;
  constexpr int kStride = kGroupsPerBlock;  // keys consumed per pass of the block
  // The loop bound is uniform across the warp: lanes shuffle together.
  // kUnroll keys per lane group and iteration: all their loads are in flight
  // before the first is used, and the online softmax is updated once per
  // iteration and group head.
  constexpr int kUnroll = 4;
  for (int32_t base = key_begin; base < key_end; base += kUnroll * kStride) {
    uint4 kraw[kUnroll], vraw[kUnroll];
    bool valid[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int32_t k = base + state + u * kStride;
      valid[u] = k < key_end;
      if (valid[u]) {
        const int32_t block = bs_pow2 ? k >> bs_shift : k / bs;
        const int64_t slot = static_cast<int64_t>(block_table[block]) * bs + (k - block * bs);
        kraw[u] = *reinterpret_cast<const uint4*>(k_head + slot * slot_stride);
        vraw[u] = *reinterpret_cast<const uint4*>(v_head + slot * slot_stride);
      } else {
        kraw[u] = vraw[u] = make_uint4(0, 0, 0, 0);
      }
    }
    // Scores of the kUnroll keys for every group head. Lanes of one key
    // must shuffle together, so invalid keys compute with zeros and are
    // dropped after the reduction.
    float s[kUnroll][G];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const T* kp = reinterpret_cast<const T*>(&kraw[u]);
      float kf[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) kf[e] = to_float(kp[e]);
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float dot = 0.0f;
#pragma unroll
        for (int e = 0; e < 8; ++e) dot += q[g][e] * kf[e];
#pragma unroll
        for (int o = kLanesPerKey / 2; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
        s[u][g] = dot;
      }
    }
    // One online-softmax update per group head: scores become weights.
#pragma unroll
    for (int g = 0; g < G; ++g) {
      float tile_max = -INFINITY;
#pragma unroll
      for (int u = 0; u < kUnroll; ++u)
        if (valid[u]) tile_max = fmaxf(tile_max, s[u][g]);
      if (g < group && tile_max != -INFINITY) {
        const float new_m = fmaxf(m[g], tile_max);
        const float alpha = __expf(m[g] - new_m);  // m = -inf at first: alpha = 0
        l[g] *= alpha;
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[g][e] *= alpha;
        m[g] = new_m;
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
          s[u][g] = valid[u] ? __expf(s[u][g] - new_m) : 0.0f;
          l[g] += s[u][g];
        }
      } else {
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) s[u][g] = 0.0f;
      }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const T* vp = reinterpret_cast<const T*>(&vraw[u]);
      float vf[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) vf[e] = to_float(vp[e]);
#pragma unroll
      for (int g = 0; g < G; ++g)
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[g][e] += s[u][g] * vf[e];
    }
  }

  // Merge the block's kGroupsPerBlock states.
#pragma unroll
  for (int g = 0; g < G; ++g) {
#pragma unroll
    for (int e = 0; e < 8; ++e) merge_acc[state][g][d0 + e] = acc[g][e];
    if (lane % kLanesPerKey == 0) {
      merge_m[state][g] = m[g];
      merge_l[state][g] = l[g];
    }
  }
  __syncthreads();
  const int64_t part = static_cast<int64_t>(seq) * w.max_splits + split;
  for (int idx = threadIdx.x; idx < group * D; idx += kThreads) {
    const int g = idx / D, d = idx % D;
    float big_m = -INFINITY;
    for (int i = 0; i < kGroupsPerBlock; ++i) big_m = fmaxf(big_m, merge_m[i][g]);
    float sum_l = 0.0f, sum_acc = 0.0f;
    if (big_m != -INFINITY) {
      for (int i = 0; i < kGroupsPerBlock; ++i) {
        const float f = __expf(merge_m[i][g] - big_m);
        sum_l += merge_l[i][g] * f;
        sum_acc += merge_acc[i][g][d] * f;
      }
    }
    const int32_t head = kv_head * group + g;
    w.partial_out[(part * a.num_heads + head) * D + d] = sum_acc;
    if (d == 0) {
      w.partial_ml[(part * a.num_heads + head) * 2] = big_m;
      w.partial_ml[(part * a.num_heads + head) * 2 + 1] = sum_l;
    }
  }
}

// One block per (head, seq), one thread per dim.
template <typename T>
__global__ void decode_combine_kernel(attention_args a, decode_workspace w) {
  wait_for_previous_kernel();
  const int32_t head = blockIdx.x, seq = blockIdx.y;
  const int32_t d = threadIdx.x;
  const int32_t D = a.layout.head_dim;
  const int32_t seq_len = a.seq_lens[seq];
  T* out = static_cast<T*>(a.out) + static_cast<int64_t>(a.query_start_loc[seq]) * a.num_heads * D +
           static_cast<int64_t>(head) * D;
  if (seq_len == 0) {
    out[d] = from_float<T>(0.0f);
    return;
  }
  const int32_t num_splits = decode_num_splits(seq_len, w.split_limit);
  const int64_t base = static_cast<int64_t>(seq) * w.max_splits;
  float big_m = -INFINITY;
  for (int i = 0; i < num_splits; ++i)
    big_m = fmaxf(big_m, w.partial_ml[((base + i) * a.num_heads + head) * 2]);
  float sum_l = 0.0f, sum_acc = 0.0f;
  for (int i = 0; i < num_splits; ++i) {
    const int64_t p = (base + i) * a.num_heads + head;
    const float mi = w.partial_ml[p * 2];
    if (mi == -INFINITY) continue;
    const float f = __expf(mi - big_m);
    sum_l += w.partial_ml[p * 2 + 1] * f;
    sum_acc += w.partial_out[p * D + d] * f;
  }
  out[d] = from_float<T>(sum_l > 0.0f ? sum_acc / sum_l : 0.0f);
}

// The CUDA-core kernel's partials, instantiated for the head size and the
// smallest group bound that holds the real group.
template <typename T, int D>
cudaError_t launch_cuda_core_partials_dim(const attention_args& a, const decode_workspace& w,
                                          cudaStream_t stream) {
  // split_limit, not max_splits: no sequence uses more, and idle blocks cost launches.
  const dim3 grid(w.split_limit, a.layout.num_kv_heads, a.num_seqs);
  auto launch = [&](auto kernel) { return launch_chained(kernel, grid, dim3(kThreads), 0, stream, a, w); };
  const int32_t group = a.num_heads / a.layout.num_kv_heads;
  if (group <= 1) return launch(decode_attention_kernel<T, D, 1>);
  if (group <= 2) return launch(decode_attention_kernel<T, D, 2>);
  if (group <= 4) return launch(decode_attention_kernel<T, D, 4>);
  if (group <= 8) return launch(decode_attention_kernel<T, D, 8>);
  return cudaErrorInvalidValue;
}

template <typename T>
cudaError_t launch_cuda_core_partials(const attention_args& a, const decode_workspace& w,
                                      cudaStream_t stream) {
  switch (a.layout.head_dim) {
    case 8: return launch_cuda_core_partials_dim<T, 8>(a, w, stream);
    case 16: return launch_cuda_core_partials_dim<T, 16>(a, w, stream);
    case 32: return launch_cuda_core_partials_dim<T, 32>(a, w, stream);
    case 64: return launch_cuda_core_partials_dim<T, 64>(a, w, stream);
    case 128: return launch_cuda_core_partials_dim<T, 128>(a, w, stream);
    case 256: return launch_cuda_core_partials_dim<T, 256>(a, w, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace

bool decode_attention_supported(int32_t group_size, int32_t head_dim) {
  return group_size >= 1 && group_size <= 8 &&
         (head_dim == 8 || head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 128 || head_dim == 256);
}

int32_t decode_split_limit(int32_t num_seqs, int32_t num_kv_heads, int32_t num_sms,
                           int32_t max_splits) {
  // About four waves of blocks: enough loads in flight, few partials to merge.
  const int64_t blocks_per_split = static_cast<int64_t>(num_seqs) * num_kv_heads;
  const int64_t want = (4 * static_cast<int64_t>(num_sms) + blocks_per_split - 1) / blocks_per_split;
  return static_cast<int32_t>(want < 1 ? 1 : (want > max_splits ? max_splits : want));
}

int64_t decode_workspace_floats(int32_t num_seqs, int32_t max_splits, int32_t num_heads,
                                int32_t head_dim) {
  return static_cast<int64_t>(num_seqs) * max_splits * num_heads * (head_dim + 2);
}

decode_kernel default_decode_kernel() {
  static const decode_kernel kernel = [] {
    const char* env = std::getenv("TROUPE_DECODE_KERNEL");
    return env && std::strcmp(env, "cuda_cores") == 0 ? decode_kernel::cuda_cores
                                                       : decode_kernel::automatic;
  }();
  return kernel;
}

cudaError_t launch_decode_attention(dtype type, const attention_args& a,
                                    const decode_workspace& w, cudaStream_t stream) {
  return launch_decode_attention(type, a, w, stream, default_decode_kernel());
}

cudaError_t launch_decode_attention(dtype type, const attention_args& a,
                                    const decode_workspace& w, cudaStream_t stream,
                                    decode_kernel kernel) {
  if (a.num_seqs == 0) return cudaSuccess;
  if (a.num_heads % a.layout.num_kv_heads != 0) return cudaErrorInvalidValue;
  const int32_t group = a.num_heads / a.layout.num_kv_heads;
  if (!decode_attention_supported(group, a.layout.head_dim)) return cudaErrorInvalidValue;
  if (w.split_limit < 1 || w.split_limit > w.max_splits) return cudaErrorInvalidValue;
  // The tensor-core kernel reads whole 16-key chunks of one KV block.
  const bool mma_fits = decode_attention_mma_supported(group, a.layout.head_dim) &&
                        a.layout.block_size % 16 == 0;
  if (kernel == decode_kernel::tensor_cores && !mma_fits) return cudaErrorInvalidValue;
  // Measured on an H100 (bench/NOTES.md, v5): the tensor-core kernel is
  // 1-9 % faster where sequences are split three ways or more (small
  // batches), 2-3 % slower with one or two splits, where its 104 KiB of
  // shared memory per block leave the SMs half as many warps.
  const bool tensor_cores =
      mma_fits && (kernel == decode_kernel::tensor_cores ||
                   (kernel == decode_kernel::automatic && w.split_limit >= 3));
  TROUPE_DISPATCH_HALF(type, T, {
    const cudaError_t status = tensor_cores ? launch_decode_attention_mma_partials(type, a, w, stream)
                                            : launch_cuda_core_partials<T>(a, w, stream);
    if (status != cudaSuccess) return status;
    return launch_chained(decode_combine_kernel<T>, dim3(a.num_heads, a.num_seqs),
                          dim3(a.layout.head_dim), 0, stream, a, w);
  });
}

}  // namespace troupe::gpu::kernels
