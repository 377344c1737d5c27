// Prefill / mixed-batch attention on the tensor cores (WMMA, bf16/fp16
// operands, fp32 accumulation) for head_dim 64 and 128: the same tiling and
// online softmax as prefill_attention.cu, with S = Q K^T and O += P V as
// 16x16x16 matrix products. P is rounded to the storage type for P V (as
// flash-attention does); the softmax statistics stay fp32.
#include <mma.h>

#include "gpu/kernels/attention.hpp"
#include "gpu/kernels/element.cuh"

namespace troupe::gpu::kernels {
namespace {

using namespace nvcuda;

constexpr int kThreads = 256;  // 8 warps
constexpr int kWarps = kThreads / 32;
constexpr int kRows = 64;      // query rows (tokens x group heads) per block
constexpr int kKeys = 64;      // keys per tile
constexpr int kPadHalf = 8;    // 16 bytes of padding per 16-bit row (bank spread)
constexpr int kPadFloat = 4;

template <typename T, int D>
struct mma_smem {
  static constexpr int ld_qkv = D + kPadHalf;     // q, k, v rows (elements of T)
  static constexpr int ld_s = kKeys + kPadFloat;  // scores (floats)
  static constexpr int ld_p = kKeys + kPadHalf;   // probabilities (T)
  static constexpr int ld_o = D + kPadFloat;      // output accumulators (floats)
  static constexpr size_t q = 0;
  static constexpr size_t k = q + sizeof(T) * kRows * ld_qkv;
  static constexpr size_t v = k + sizeof(T) * kKeys * ld_qkv;
  static constexpr size_t p = v + sizeof(T) * kKeys * ld_qkv;
  static constexpr size_t s = p + sizeof(T) * kRows * ld_p;
  static constexpr size_t o = s + sizeof(float) * kRows * ld_s;
  static constexpr size_t stats = o + sizeof(float) * kRows * ld_o;  // max, sum, alpha
  static constexpr size_t bytes = stats + sizeof(float) * 3 * kRows;
};

template <typename T, int D>
__global__ void __launch_bounds__(kThreads)
    prefill_attention_mma_kernel(attention_args a, const int32_t* work_items) {
  using L = mma_smem<T, D>;
  extern __shared__ __align__(128) unsigned char smem[];
  T* q_s = reinterpret_cast<T*>(smem + L::q);
  T* k_s = reinterpret_cast<T*>(smem + L::k);
  T* v_s = reinterpret_cast<T*>(smem + L::v);
  T* p_s = reinterpret_cast<T*>(smem + L::p);
  float* s_s = reinterpret_cast<float*>(smem + L::s);
  float* o_s = reinterpret_cast<float*>(smem + L::o);
  float* row_max = reinterpret_cast<float*>(smem + L::stats);
  float* row_sum = row_max + kRows;
  float* row_alpha = row_sum + kRows;

  const int32_t seq = work_items[2 * blockIdx.x];
  const int32_t first_row = work_items[2 * blockIdx.x + 1];
  const int32_t kv_head = blockIdx.y;
  const int32_t group = a.num_heads / a.layout.num_kv_heads;
  const int32_t tile_tokens = group >= kRows ? 1 : kRows / group;
  const int32_t q_begin = a.query_start_loc[seq];
  const int32_t q_len = a.query_start_loc[seq + 1] - q_begin;
  const int32_t seq_len = a.seq_lens[seq];
  const int32_t num_tokens_here = min(tile_tokens, q_len - first_row);
  const int32_t num_rows = num_tokens_here * group;
  const int32_t first_pos = seq_len - q_len + first_row;
  const int32_t last_pos = first_pos + num_tokens_here - 1;
  const T* q = static_cast<const T*>(a.q);
  const T* cache = static_cast<const T*>(a.cache);
  const int32_t* block_table = a.block_tables + static_cast<int64_t>(seq) * a.block_table_stride;
  const int32_t bs = a.layout.block_size;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  constexpr int kVecs = D / 8;  // 16-byte vectors per row

  // Q rows (zero past num_rows), zero O, reset the statistics.
  for (int idx = threadIdx.x; idx < kRows * kVecs; idx += kThreads) {
    const int r = idx / kVecs, d0 = (idx % kVecs) * 8;
    uint4 val = make_uint4(0, 0, 0, 0);
    if (r < num_rows) {
      const int64_t token = q_begin + first_row + r / group;
      const int32_t head = kv_head * group + r % group;
      val = *reinterpret_cast<const uint4*>(q + token * a.q_row_stride + static_cast<int64_t>(head) * D + d0);
    }
    *reinterpret_cast<uint4*>(q_s + r * L::ld_qkv + d0) = val;
  }
  for (int idx = threadIdx.x; idx < kRows * L::ld_o; idx += kThreads) o_s[idx] = 0.0f;
  if (threadIdx.x < kRows) {
    row_max[threadIdx.x] = -INFINITY;
    row_sum[threadIdx.x] = 0.0f;
  }

  for (int32_t key0 = 0; key0 <= last_pos; key0 += kKeys) {
    __syncthreads();  // previous tile fully consumed (and the setup above done)
    for (int idx = threadIdx.x; idx < kKeys * kVecs; idx += kThreads) {
      const int c = idx / kVecs, d0 = (idx % kVecs) * 8;
      const int32_t key = key0 + c;
      uint4 kv_k = make_uint4(0, 0, 0, 0), kv_v = make_uint4(0, 0, 0, 0);
      if (key <= last_pos) {
        const int64_t slot = static_cast<int64_t>(block_table[key / bs]) * bs + key % bs;
        kv_k = *reinterpret_cast<const uint4*>(cache + a.layout.offset(0, slot, kv_head) + d0);
        kv_v = *reinterpret_cast<const uint4*>(cache + a.layout.offset(1, slot, kv_head) + d0);
      }
      *reinterpret_cast<uint4*>(k_s + c * L::ld_qkv + d0) = kv_k;
      *reinterpret_cast<uint4*>(v_s + c * L::ld_qkv + d0) = kv_v;
    }
    __syncthreads();

    // S = Q K^T: 4 x 4 tiles of 16 x 16, two per warp.
    for (int t = warp; t < (kRows / 16) * (kKeys / 16); t += kWarps) {
      const int mi = t / (kKeys / 16), ni = t % (kKeys / 16);
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.0f);
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb;
        wmma::load_matrix_sync(fa, q_s + mi * 16 * L::ld_qkv + kk * 16, L::ld_qkv);
        wmma::load_matrix_sync(fb, k_s + ni * 16 * L::ld_qkv + kk * 16, L::ld_qkv);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(s_s + mi * 16 * L::ld_s + ni * 16, acc, L::ld_s, wmma::mem_row_major);
    }
    __syncthreads();

    // Online softmax; each warp owns rows warp, warp + 8, ...
    for (int r = warp; r < kRows; r += kWarps) {
      const int32_t pos = first_pos + r / group;
      float x[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int c = lane + 32 * h;
        const bool visible = r < num_rows && key0 + c <= pos;
        x[h] = visible ? s_s[r * L::ld_s + c] * a.scale : -INFINITY;
      }
      const float tile_max = warp_max(fmaxf(x[0], x[1]));
      const float old_max = row_max[r];
      const float new_max = fmaxf(old_max, tile_max);
      const float base = new_max == -INFINITY ? 0.0f : new_max;
      const float p0 = __expf(x[0] - base), p1 = __expf(x[1] - base);
      p_s[r * L::ld_p + lane] = from_float<T>(p0);
      p_s[r * L::ld_p + lane + 32] = from_float<T>(p1);
      const float tile_sum = warp_sum(p0 + p1);
      if (lane == 0) {
        const float alpha = old_max == -INFINITY ? 0.0f : __expf(old_max - base);
        row_alpha[r] = alpha;
        row_sum[r] = row_sum[r] * alpha + tile_sum;
        row_max[r] = new_max;
      }
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < kRows * D; idx += kThreads) {
      const int r = idx / D, d = idx % D;
      o_s[r * L::ld_o + d] *= row_alpha[r];
    }
    __syncthreads();

    // O += P V: 4 x (D / 16) tiles.
    for (int t = warp; t < (kRows / 16) * (D / 16); t += kWarps) {
      const int mi = t / (D / 16), nj = t % (D / 16);
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, o_s + mi * 16 * L::ld_o + nj * 16, L::ld_o, wmma::mem_row_major);
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> fb;
        wmma::load_matrix_sync(fa, p_s + mi * 16 * L::ld_p + kk * 16, L::ld_p);
        wmma::load_matrix_sync(fb, v_s + kk * 16 * L::ld_qkv + nj * 16, L::ld_qkv);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(o_s + mi * 16 * L::ld_o + nj * 16, acc, L::ld_o, wmma::mem_row_major);
    }
  }
  __syncthreads();

  T* out = static_cast<T*>(a.out);
  for (int idx = threadIdx.x; idx < num_rows * D; idx += kThreads) {
    const int r = idx / D, d = idx % D;
    const int64_t token = q_begin + first_row + r / group;
    const int32_t head = kv_head * group + r % group;
    const float l = row_sum[r];
    out[token * a.num_heads * D + static_cast<int64_t>(head) * D + d] =
        from_float<T>(l > 0.0f ? o_s[r * L::ld_o + d] / l : 0.0f);
  }
}

template <typename T, int D>
cudaError_t launch_mma_for(const attention_args& a, const int32_t* work_items, int32_t num_items,
                           cudaStream_t stream) {
  const size_t bytes = mma_smem<T, D>::bytes;
  const cudaError_t attr = cudaFuncSetAttribute(prefill_attention_mma_kernel<T, D>,
                                                cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                static_cast<int>(bytes));
  if (attr != cudaSuccess) return attr;
  prefill_attention_mma_kernel<T, D>
      <<<dim3(num_items, a.layout.num_kv_heads), kThreads, bytes, stream>>>(a, work_items);
  return cudaGetLastError();
}

}  // namespace

bool prefill_attention_mma_supported(int32_t group_size, int32_t head_dim) {
  return (head_dim == 64 || head_dim == 128) && group_size >= 1 && group_size <= kRows;
}

cudaError_t launch_prefill_attention_mma(dtype type, const attention_args& a,
                                         const int32_t* work_items, int32_t num_work_items,
                                         cudaStream_t stream) {
  if (num_work_items == 0) return cudaSuccess;
  if (a.num_heads % a.layout.num_kv_heads != 0 ||
      !prefill_attention_mma_supported(a.num_heads / a.layout.num_kv_heads, a.layout.head_dim))
    return cudaErrorInvalidValue;
  TROUPE_DISPATCH_HALF(type, T, {
    return a.layout.head_dim == 64 ? launch_mma_for<T, 64>(a, work_items, num_work_items, stream)
                                   : launch_mma_for<T, 128>(a, work_items, num_work_items, stream);
  });
}

}  // namespace troupe::gpu::kernels
