// Prefill / mixed-batch attention on the tensor cores for head_dim 64 and
// 128, FlashAttention-2 style: mma.sync m16n8k16 (bf16/fp16 operands, fp32
// accumulation), the online softmax kept in registers.
//
// Block (work item, kv_head) owns up to 64 query rows: the tokens of a work
// item times the query heads of the GQA group (row r = token r / group,
// head r % group), so each key is read once per group. Warp w owns rows
// [16 w, 16 w + 16) as one A-fragment tile of Q. Key tiles of 64 keys (K and
// V) are copied to shared memory with cp.async, the next tile while the
// current one is used; per tile a warp computes S = Q K^T (8 n-tiles), masks
// keys past each row's position (causal, any chunk offset), updates its
// rows' max and sum, and adds P V, where the S accumulators rounded to
// 16 bits are P's A fragments. Warps whose rows all precede a tile skip it.
#include "gpu/kernels/attention.hpp"
#include "gpu/kernels/element.cuh"
#include "gpu/kernels/mma.cuh"

namespace troupe::gpu::kernels {
namespace {

constexpr int kThreads = 128;  // 4 warps x 16 rows
constexpr int kRows = 64;      // query rows (tokens x group heads) per block; = the scalar kernel's
constexpr int kKeys = 64;      // keys per tile

template <int D>
struct tile_layout {
  static constexpr int kRow = D + 8;                      // elements per K/V row (16 bytes of bank padding)
  static constexpr int kStageElems = 2 * kKeys * kRow;    // K rows, then V rows
  static constexpr size_t kBytes = sizeof(uint16_t) * 2 * kStageElems;  // two stages
};

template <typename T, int D>
__global__ void __launch_bounds__(kThreads)
    prefill_attention_mma_kernel(attention_args a, const int32_t* work_items, int32_t num_items) {
  using L = tile_layout<D>;
  extern __shared__ __align__(16) unsigned char smem[];
  T* stages = reinterpret_cast<T*>(smem);

  // Heaviest items (latest rows, most keys) first: the last wave is short.
  const int32_t item = num_items - 1 - static_cast<int32_t>(blockIdx.x);
  const int32_t seq = work_items[2 * item];
  const int32_t first_row = work_items[2 * item + 1];
  const int32_t kv_head = blockIdx.y;
  const int32_t group = a.num_heads / a.layout.num_kv_heads;
  const int32_t tile_tokens = group >= kRows ? 1 : kRows / group;
  const int32_t q_begin = a.query_start_loc[seq];
  const int32_t q_len = a.query_start_loc[seq + 1] - q_begin;
  const int32_t seq_len = a.seq_lens[seq];
  const int32_t num_tokens_here = min(tile_tokens, q_len - first_row);
  const int32_t num_rows = num_tokens_here * group;
  const int32_t first_pos = seq_len - q_len + first_row;  // position of the item's first token
  const int32_t last_pos = first_pos + num_tokens_here - 1;
  const int32_t num_tiles = last_pos / kKeys + 1;

  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int row = lane / 4, quad = lane % 4;
  // This thread's two rows (fragment rows row and row + 8 of the warp's tile).
  int32_t pos[2];
  bool live[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int r = warp * 16 + row + 8 * h;
    live[h] = r < num_rows;
    pos[h] = live[h] ? first_pos + r / group : -1;  // -1: every key masked
  }
  const int32_t warp_last_row = min(num_rows, warp * 16 + 16) - 1;
  const int32_t warp_last_pos = warp_last_row >= warp * 16 ? first_pos + warp_last_row / group : -1;

  const T* cache = static_cast<const T*>(a.cache);
  const int32_t* block_table = a.block_tables + static_cast<int64_t>(seq) * a.block_table_stride;
  const int32_t bs = a.layout.block_size;
  const bool bs_pow2 = (bs & (bs - 1)) == 0;
  const int bs_shift = __ffs(bs) - 1;
  const int64_t slot_stride = a.layout.slot_stride();
  const T* k_head = cache + a.layout.offset(0, 0, kv_head);
  const T* v_head = cache + a.layout.offset(1, 0, kv_head);
  // Copies key tile `tile` into stage `stage`: consecutive threads on
  // consecutive 16-byte pieces of a key row. Keys past the item's last
  // position are zeros (never NaN bits); the mask drops them.
  auto issue = [&](int32_t tile, int stage) {
    constexpr int kPieces = D / 8;
    T* dst = stages + stage * L::kStageElems;
#pragma unroll
    for (int i = 0; i < kKeys * kPieces / kThreads; ++i) {
      const int p = i * kThreads + threadIdx.x;
      const int key = p / kPieces, part = p % kPieces;
      T* k_dst = dst + key * L::kRow + part * 8;
      T* v_dst = k_dst + kKeys * L::kRow;
      const int32_t k = tile * kKeys + key;
      if (k <= last_pos) {
        const int32_t block = bs_pow2 ? k >> bs_shift : k / bs;
        const int64_t slot = static_cast<int64_t>(block_table[block]) * bs + (k - block * bs);
        cp_async_16(k_dst, k_head + slot * slot_stride + part * 8);
        cp_async_16(v_dst, v_head + slot * slot_stride + part * 8);
      } else {
        *reinterpret_cast<uint4*>(k_dst) = make_uint4(0, 0, 0, 0);
        *reinterpret_cast<uint4*>(v_dst) = make_uint4(0, 0, 0, 0);
      }
    }
  };
  issue(0, 0);
  cp_async_commit();

  // Q as A fragments (zeros for rows past the item).
  uint32_t qf[D / 16][4];
  {
    const T* q = static_cast<const T*>(a.q);
    const T* qp[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = warp * 16 + row + 8 * h;
      qp[h] = live[h] ? q + static_cast<int64_t>(q_begin + first_row + r / group) * a.q_row_stride +
                            static_cast<int64_t>(kv_head * group + r % group) * D
                      : nullptr;
    }
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
      const int col = ks * 16 + quad * 2;
      qf[ks][0] = live[0] ? *reinterpret_cast<const uint32_t*>(qp[0] + col) : 0u;
      qf[ks][1] = live[1] ? *reinterpret_cast<const uint32_t*>(qp[1] + col) : 0u;
      qf[ks][2] = live[0] ? *reinterpret_cast<const uint32_t*>(qp[0] + col + 8) : 0u;
      qf[ks][3] = live[1] ? *reinterpret_cast<const uint32_t*>(qp[1] + col + 8) : 0u;
    }
  }

  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};

  for (int32_t t = 0; t < num_tiles; ++t) {
    if (t + 1 < num_tiles) issue(t + 1, (t + 1) & 1);  // its stage was freed by the barrier below
    cp_async_commit();
    cp_async_wait<1>();  // tile t has landed (this thread's pieces) ...
    __syncthreads();     // ... and everyone's
    const int32_t key0 = t * kKeys;
    if (key0 <= warp_last_pos) {
      const T* keys = stages + (t & 1) * L::kStageElems;
      const T* values = keys + kKeys * L::kRow;
      // S = Q K^T: s[n] covers keys key0 + n * 8 + quad * 2 (+1), rows row / row + 8.
      float s[kKeys / 8][4];
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
      for (int ks = 0; ks < D / 16; ++ks)
#pragma unroll
        for (int n2 = 0; n2 < kKeys / 16; ++n2) {
          // Matrices: keys n2*16 + 0..7 / dims ks*16 + 0..7, same keys / dims + 8,
          // keys + 8 / dims, keys + 8 / dims + 8: B fragments of two n-tiles.
          uint32_t b[4];
          const int j = lane / 8;
          ldmatrix_x4(b, keys + (n2 * 16 + (lane % 8) + 8 * (j / 2)) * L::kRow + ks * 16 + 8 * (j % 2));
          mma_16816<T>(s[2 * n2], qf[ks], b[0], b[1]);
          mma_16816<T>(s[2 * n2 + 1], qf[ks], b[2], b[3]);
        }
      float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n)
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const int32_t key = key0 + n * 8 + quad * 2 + (j & 1);
          s[n][j] = key <= pos[j / 2] ? s[n][j] * a.scale : -INFINITY;
          tile_max[j / 2] = fmaxf(tile_max[j / 2], s[n][j]);
        }
      float alpha[2], base[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
        tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
        const float new_m = fmaxf(m[h], tile_max[h]);
        base[h] = new_m == -INFINITY ? 0.0f : new_m;  // a row with no visible key yet
        alpha[h] = __expf(m[h] - base[h]);           // m = -inf: alpha = 0
        m[h] = new_m;
        l[h] *= alpha[h];
      }
      exponentiate_rows(s, base, l);
      scale_rows(o, alpha);
      // O += P V, 16 keys (one k-step) at a time.
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        const uint32_t pf[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                                pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
        for (int n2 = 0; n2 < D / 16; ++n2) {
          uint32_t b[4];
          ldmatrix_x4_trans(b, values + (kk * 16 + (lane % 8) + 8 * ((lane / 8) % 2)) * L::kRow + n2 * 16 +
                                   8 * (lane / 16));
          mma_16816<T>(o[2 * n2], pf, b[0], b[1]);
          mma_16816<T>(o[2 * n2 + 1], pf, b[2], b[3]);
        }
      }
    }
    __syncthreads();  // every warp is done with stage t & 1 before tile t + 2 lands there
  }

  // Normalise and write this thread's two rows.
  T* out = static_cast<T*>(a.out);
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    l[h] += __shfl_xor_sync(0xffffffffu, l[h], 1);
    l[h] += __shfl_xor_sync(0xffffffffu, l[h], 2);
    if (!live[h]) continue;
    const int r = warp * 16 + row + 8 * h;
    const float inv = l[h] > 0.0f ? 1.0f / l[h] : 0.0f;
    T* dst = out + static_cast<int64_t>(q_begin + first_row + r / group) * a.num_heads * D +
             static_cast<int64_t>(kv_head * group + r % group) * D + quad * 2;
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
      *reinterpret_cast<uint32_t*>(dst + n * 8) = pack2<T>(o[n][2 * h] * inv, o[n][2 * h + 1] * inv);
  }
}

template <typename T, int D>
cudaError_t launch_mma_for(const attention_args& a, const int32_t* work_items, int32_t num_items,
                           cudaStream_t stream) {
  constexpr size_t bytes = tile_layout<D>::kBytes;
  static const cudaError_t attr = cudaFuncSetAttribute(
      prefill_attention_mma_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  if (attr != cudaSuccess) return attr;
  prefill_attention_mma_kernel<T, D>
      <<<dim3(num_items, a.layout.num_kv_heads), kThreads, bytes, stream>>>(a, work_items, num_items);
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
