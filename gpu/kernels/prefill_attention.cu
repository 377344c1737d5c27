// Prefill / mixed-batch attention over the paged KV cache: flash-attention
// style tiling in shared memory with an online softmax, fp32 arithmetic.
#include <algorithm>

#include "gpu/kernels/attention.hpp"
#include "gpu/kernels/element.cuh"

namespace troupe::gpu::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxRows = 64;   // query rows (tokens x group heads) per block
constexpr int kKeyTile = 64;   // keys per shared-memory tile

template <int D>
struct prefill_smem {
  // Offsets in floats.
  static constexpr int q = 0;                             // [kMaxRows][D]
  static constexpr int k = q + kMaxRows * D;              // [kKeyTile][D + 1]
  static constexpr int v = k + kKeyTile * (D + 1);        // [kKeyTile][D]
  static constexpr int s = v + kKeyTile * D;              // [kMaxRows][kKeyTile + 1]
  static constexpr int row_max = s + kMaxRows * (kKeyTile + 1);  // [kMaxRows]
  static constexpr int row_sum = row_max + kMaxRows;
  static constexpr int row_alpha = row_sum + kMaxRows;
  static constexpr int total = row_alpha + kMaxRows;
  static constexpr size_t bytes = total * sizeof(float);
};

__host__ __device__ inline int32_t tile_tokens(int32_t group_size) {
  return group_size >= kMaxRows ? 1 : kMaxRows / group_size;
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads)
    prefill_attention_kernel(attention_args a, const int32_t* work_items) {
  using layout_t = prefill_smem<D>;
  // 16-byte loads (8 elements), or the whole head when it is narrower.
  constexpr int kVec = D >= 8 ? 8 : D;
  struct alignas(kVec * sizeof(T)) vec_t {
    T v[kVec];
  };
  extern __shared__ float smem[];
  float* q_s = smem + layout_t::q;
  float* k_s = smem + layout_t::k;
  float* v_s = smem + layout_t::v;
  float* s_s = smem + layout_t::s;
  float* row_max = smem + layout_t::row_max;
  float* row_sum = smem + layout_t::row_sum;
  float* row_alpha = smem + layout_t::row_alpha;

  const int32_t seq = work_items[2 * blockIdx.x];
  const int32_t first_row = work_items[2 * blockIdx.x + 1];
  const int32_t kv_head = blockIdx.y;
  const int32_t group = a.num_heads / a.layout.num_kv_heads;
  const int32_t num_tile_tokens = tile_tokens(group);
  const int32_t q_begin = a.query_start_loc[seq];
  const int32_t q_len = a.query_start_loc[seq + 1] - q_begin;
  const int32_t seq_len = a.seq_lens[seq];
  const int32_t num_tokens_here = min(num_tile_tokens, q_len - first_row);
  const int32_t num_rows = num_tokens_here * group;
  const int32_t first_pos = seq_len - q_len + first_row;
  const int32_t last_pos = first_pos + num_tokens_here - 1;
  const T* q = static_cast<const T*>(a.q);
  const T* cache = static_cast<const T*>(a.cache);
  const int32_t* block_table = a.block_tables + static_cast<int64_t>(seq) * a.block_table_stride;
  const int32_t bs = a.layout.block_size;

  // Row r = (token i = r / group, head g = r % group). Scale folded into Q.
  for (int idx = threadIdx.x; idx < kMaxRows * D; idx += kThreads) {
    const int r = idx / D, d = idx % D;
    float val = 0.0f;
    if (r < num_rows) {
      const int64_t token = q_begin + first_row + r / group;
      const int32_t head = kv_head * group + r % group;
      val = to_float(q[token * a.q_row_stride + static_cast<int64_t>(head) * D + d]) * a.scale;
    }
    q_s[idx] = val;
  }
  if (threadIdx.x < kMaxRows) {
    row_max[threadIdx.x] = -INFINITY;
    row_sum[threadIdx.x] = 0.0f;
  }

  // Output accumulators: thread owns dim d = tid % D of rows tid / D + k * (kThreads / D).
  constexpr int kRowStep = kThreads / D > 0 ? kThreads / D : 1;
  constexpr int kOutRows = kMaxRows / kRowStep;
  const int out_d = threadIdx.x % D;
  const int out_r0 = threadIdx.x / D;
  float acc[kOutRows];
#pragma unroll
  for (int k = 0; k < kOutRows; ++k) acc[k] = 0.0f;

  // Score mapping: thread owns key column c = tid % kKeyTile of rows
  // tid / kKeyTile + k * (kThreads / kKeyTile).
  constexpr int kScoreRowStep = kThreads / kKeyTile;
  constexpr int kScoreRows = kMaxRows / kScoreRowStep;
  const int sc_c = threadIdx.x % kKeyTile;
  const int sc_r0 = threadIdx.x / kKeyTile;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  for (int32_t key0 = 0; key0 <= last_pos; key0 += kKeyTile) {
    __syncthreads();  // previous tile fully consumed
    // Load K and V of keys key0 .. key0 + kKeyTile - 1 (kVec elements per load).
    for (int idx = threadIdx.x; idx < kKeyTile * (D / kVec); idx += kThreads) {
      const int c = idx / (D / kVec), d0 = (idx % (D / kVec)) * kVec;
      const int32_t key = key0 + c;
      float kv[2][kVec];
      if (key <= last_pos) {
        const int64_t slot = static_cast<int64_t>(block_table[key / bs]) * bs + key % bs;
        const vec_t kraw = *reinterpret_cast<const vec_t*>(cache + a.layout.offset(0, slot, kv_head) + d0);
        const vec_t vraw = *reinterpret_cast<const vec_t*>(cache + a.layout.offset(1, slot, kv_head) + d0);
#pragma unroll
        for (int e = 0; e < kVec; ++e) {
          kv[0][e] = to_float(kraw.v[e]);
          kv[1][e] = to_float(vraw.v[e]);
        }
      } else {
#pragma unroll
        for (int e = 0; e < kVec; ++e) kv[0][e] = kv[1][e] = 0.0f;
      }
#pragma unroll
      for (int e = 0; e < kVec; ++e) {
        k_s[c * (D + 1) + d0 + e] = kv[0][e];
        v_s[c * D + d0 + e] = kv[1][e];
      }
    }
    __syncthreads();

    // Scores with the causal mask by absolute position.
    {
      float sc[kScoreRows];
#pragma unroll
      for (int k = 0; k < kScoreRows; ++k) sc[k] = 0.0f;
      for (int d = 0; d < D; ++d) {
        const float kd = k_s[sc_c * (D + 1) + d];
#pragma unroll
        for (int k = 0; k < kScoreRows; ++k) sc[k] += q_s[(sc_r0 + k * kScoreRowStep) * D + d] * kd;
      }
      const int32_t key = key0 + sc_c;
#pragma unroll
      for (int k = 0; k < kScoreRows; ++k) {
        const int r = sc_r0 + k * kScoreRowStep;
        const int32_t pos = first_pos + r / group;
        const bool visible = r < num_rows && key <= pos;
        s_s[r * (kKeyTile + 1) + sc_c] = visible ? sc[k] : -INFINITY;
      }
    }
    __syncthreads();

    // Online softmax: each warp owns rows warp, warp + 8, ...
    for (int r = warp; r < kMaxRows; r += kThreads / 32) {
      float* srow = s_s + r * (kKeyTile + 1);
      const float x0 = srow[lane], x1 = srow[lane + 32];
      const float tile_max = warp_max(fmaxf(x0, x1));
      const float old_max = row_max[r];
      const float new_max = fmaxf(old_max, tile_max);
      // A row with nothing visible yet keeps max -inf; exp(-inf - -inf) is avoided.
      const float base = new_max == -INFINITY ? 0.0f : new_max;
      const float p0 = __expf(x0 - base), p1 = __expf(x1 - base);
      srow[lane] = p0;
      srow[lane + 32] = p1;
      const float tile_sum = warp_sum(p0 + p1);
      if (lane == 0) {
        const float alpha = old_max == -INFINITY ? 0.0f : __expf(old_max - base);
        row_alpha[r] = alpha;
        row_sum[r] = row_sum[r] * alpha + tile_sum;
        row_max[r] = new_max;
      }
    }
    __syncthreads();

    // acc = acc * alpha + P V
#pragma unroll
    for (int k = 0; k < kOutRows; ++k) acc[k] *= row_alpha[out_r0 + k * kRowStep];
    for (int c = 0; c < kKeyTile; ++c) {
      const float vd = v_s[c * D + out_d];
#pragma unroll
      for (int k = 0; k < kOutRows; ++k)
        acc[k] += s_s[(out_r0 + k * kRowStep) * (kKeyTile + 1) + c] * vd;
    }
  }

  T* out = static_cast<T*>(a.out);
#pragma unroll
  for (int k = 0; k < kOutRows; ++k) {
    const int r = out_r0 + k * kRowStep;
    if (r < num_rows) {
      const int64_t token = q_begin + first_row + r / group;
      const int32_t head = kv_head * group + r % group;
      const float l = row_sum[r];
      out[token * a.num_heads * D + static_cast<int64_t>(head) * D + out_d] =
          from_float<T>(l > 0.0f ? acc[k] / l : 0.0f);
    }
  }
}

template <typename T, int D>
cudaError_t launch_prefill_for(const attention_args& a, const int32_t* work_items,
                               int32_t num_work_items, cudaStream_t stream) {
  const size_t bytes = prefill_smem<D>::bytes;
  const cudaError_t attr = cudaFuncSetAttribute(
      prefill_attention_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
      static_cast<int>(bytes));
  if (attr != cudaSuccess) return attr;
  const dim3 grid(num_work_items, a.layout.num_kv_heads);
  prefill_attention_kernel<T, D><<<grid, kThreads, bytes, stream>>>(a, work_items);
  return cudaGetLastError();
}

}  // namespace

int32_t prefill_tile_rows(int32_t group_size) { return tile_tokens(group_size); }

std::vector<int32_t> prefill_work_items(const std::vector<int32_t>& query_start_loc,
                                        int32_t group_size) {
  const int32_t rows_per_tile = tile_tokens(group_size);
  std::vector<int32_t> items;
  for (size_t s = 0; s + 1 < query_start_loc.size(); ++s) {
    const int32_t q_len = query_start_loc[s + 1] - query_start_loc[s];
    for (int32_t r = 0; r < q_len; r += rows_per_tile) {
      items.push_back(static_cast<int32_t>(s));
      items.push_back(r);
    }
  }
  return items;
}

cudaError_t launch_prefill_attention(dtype type, const attention_args& a,
                                     const int32_t* work_items, int32_t num_work_items,
                                     cudaStream_t stream) {
  if (a.layout.num_kv_heads > 0 && a.num_heads % a.layout.num_kv_heads == 0 &&
      prefill_attention_mma_supported(a.num_heads / a.layout.num_kv_heads, a.layout.head_dim))
    return launch_prefill_attention_mma(type, a, work_items, num_work_items, stream);
  return launch_prefill_attention_scalar(type, a, work_items, num_work_items, stream);
}

cudaError_t launch_prefill_attention_scalar(dtype type, const attention_args& a,
                                            const int32_t* work_items, int32_t num_work_items,
                                            cudaStream_t stream) {
  if (num_work_items == 0) return cudaSuccess;
  if (a.num_heads % a.layout.num_kv_heads != 0 ||
      a.num_heads / a.layout.num_kv_heads > kMaxRows)
    return cudaErrorInvalidValue;
  TROUPE_DISPATCH_HALF(type, T, {
    switch (a.layout.head_dim) {
      case 4: return launch_prefill_for<T, 4>(a, work_items, num_work_items, stream);
      case 8: return launch_prefill_for<T, 8>(a, work_items, num_work_items, stream);
      case 16: return launch_prefill_for<T, 16>(a, work_items, num_work_items, stream);
      case 32: return launch_prefill_for<T, 32>(a, work_items, num_work_items, stream);
      case 64: return launch_prefill_for<T, 64>(a, work_items, num_work_items, stream);
      case 128: return launch_prefill_for<T, 128>(a, work_items, num_work_items, stream);
      case 256: return launch_prefill_for<T, 256>(a, work_items, num_work_items, stream);
      default: return cudaErrorInvalidValue;
    }
  });
}

}  // namespace troupe::gpu::kernels
