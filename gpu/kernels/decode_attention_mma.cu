// Decode attention on the tensor cores (mma.sync m16n8k16, bf16/fp16
// operands, fp32 accumulation), for head_dim 64 and 128 and GQA groups of up
// to 16 query heads. The query heads of one KV head form the rows of a
// 16-row tile (zeros past the group), so each key is read once per group and
// S = Q K^T and O += P V cost two dozen instructions per 16 keys instead of a
// few hundred on the CUDA cores.
//
// Block (split, kv_head, seq) owns a range of whole 16-key chunks of its
// sequence (flash-decoding split, as the CUDA-core kernel). Its four warps
// take every fourth chunk, each through a private ring of kStages chunks in
// shared memory filled by cp.async two chunks ahead of the math, so warps
// never wait on each other until the final merge. The online softmax stays
// in registers (FA2 style): the S accumulators are exactly P's A-operand
// fragments once rounded to 16 bits. The merged state of the four warps is
// written as the same (acc, max, sum) partial the combine kernel reads.
#include "gpu/kernels/decode_split.cuh"
#include "gpu/kernels/element.cuh"
#include "gpu/kernels/launch.cuh"
#include "gpu/kernels/mma.cuh"

namespace troupe::gpu::kernels {
namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kChunk = 16;   // keys per warp step: the k of one P V product
constexpr int kStages = 3;   // a warp's ring: two chunks in flight while one is used
constexpr int kRows = 16;    // tile rows (query heads of the group, zero-padded)

template <int D>
struct ring_layout {
  static constexpr int kRow = D + 8;  // elements per K/V row: 16 bytes of padding spread the banks
  static constexpr int kStageElems = 2 * kChunk * kRow;  // K rows, then V rows
  static constexpr int kWarpElems = kStages * kStageElems;
  static constexpr size_t kBytes = sizeof(uint16_t) * kWarps * kWarpElems;
  static constexpr size_t kMergeBytes = sizeof(float) * kWarps * kRows * (D + 2);
  static_assert(kMergeBytes <= kBytes, "the merge scratch fits in the rings");
};

template <typename T, int D>
__global__ void __launch_bounds__(kThreads)
    decode_attention_mma_kernel(attention_args a, decode_workspace w) {
  using L = ring_layout<D>;
  extern __shared__ __align__(16) unsigned char smem[];
  wait_for_previous_kernel();
  const int32_t split = blockIdx.x, kv_head = blockIdx.y, seq = blockIdx.z;
  const int32_t seq_len = a.seq_lens[seq];
  const int32_t num_splits = decode_num_splits(seq_len, w.split_limit);
  if (split >= num_splits) return;
  const int32_t group = a.num_heads / a.layout.num_kv_heads;
  // Splits cover whole chunks (the last chunk of a sequence may be partial).
  const int32_t per_split = ((seq_len + num_splits - 1) / num_splits + kChunk - 1) / kChunk * kChunk;
  const int32_t key_begin = min(seq_len, split * per_split);
  const int32_t key_end = min(seq_len, key_begin + per_split);
  const int32_t num_chunks = (key_end - key_begin + kChunk - 1) / kChunk;

  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int row = lane / 4, quad = lane % 4;  // fragment rows row and row + 8; column pair quad
  T* ring = reinterpret_cast<T*>(smem) + warp * L::kWarpElems;
  const T* cache = static_cast<const T*>(a.cache);
  const int32_t* block_table = a.block_tables + static_cast<int64_t>(seq) * a.block_table_stride;
  const int32_t bs = a.layout.block_size;

  // Copies chunk `chunk` of the block's range into ring stage `stage`: 16
  // K rows then 16 V rows, consecutive lanes on consecutive 16-byte pieces
  // of a row. A chunk starts on a multiple of 16 and the block size is a
  // multiple of 16 (the launcher checks), so its keys are consecutive slots
  // of one KV block: one table lookup per chunk. Keys past the range are
  // zeros (never NaN bits).
  const int64_t slot_stride = a.layout.slot_stride();
  const T* k_head = cache + a.layout.offset(0, 0, kv_head);
  const T* v_head = cache + a.layout.offset(1, 0, kv_head);
  auto issue = [&](int32_t chunk, int stage) {
    constexpr int kPieces = D / 8;
    constexpr int kPiecesPerPlane = kChunk * kPieces;
    T* dst = ring + stage * L::kStageElems;
    const int32_t first = key_begin + chunk * kChunk;
    const int64_t slot0 = static_cast<int64_t>(block_table[first / bs]) * bs + first % bs;
    const T* k_src = k_head + slot0 * slot_stride;
    const T* v_src = v_head + slot0 * slot_stride;
#pragma unroll
    for (int i = 0; i < kPiecesPerPlane / 32; ++i) {
      const int p = i * 32 + lane;
      const int key = p / kPieces, part = p % kPieces;
      T* k_dst = dst + key * L::kRow + part * 8;
      T* v_dst = k_dst + kChunk * L::kRow;
      if (first + key < key_end) {
        const int32_t off = key * static_cast<int32_t>(slot_stride) + part * 8;
        cp_async_16(k_dst, k_src + off);
        cp_async_16(v_dst, v_src + off);
      } else {
        *reinterpret_cast<uint4*>(k_dst) = make_uint4(0, 0, 0, 0);
        *reinterpret_cast<uint4*>(v_dst) = make_uint4(0, 0, 0, 0);
      }
    }
  };
  const int32_t my_chunks = num_chunks > warp ? (num_chunks - warp + kWarps - 1) / kWarps : 0;
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < my_chunks) issue(warp + s * kWarps, s);
    cp_async_commit();
  }

  // Q as A fragments for the D / 16 k-steps of S = Q K^T.
  uint32_t qf[D / 16][4];
  {
    const T* qp = static_cast<const T*>(a.q) +
                  static_cast<int64_t>(a.query_start_loc[seq]) * a.q_row_stride +
                  static_cast<int64_t>(kv_head) * group * D;
    auto load = [&](int r, int col) -> uint32_t {
      return r < group ? *reinterpret_cast<const uint32_t*>(qp + r * D + col) : 0u;
    };
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
      const int col = ks * 16 + quad * 2;
      qf[ks][0] = load(row, col);
      qf[ks][1] = load(row + 8, col);
      qf[ks][2] = load(row, col + 8);
      qf[ks][3] = load(row + 8, col + 8);
    }
  }

  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // rows row, row + 8

  for (int32_t i = 0; i < my_chunks; ++i) {
    cp_async_wait<kStages - 2>();  // this lane's pieces of chunk i have landed
    __syncwarp();                  // every lane's have, and chunk i - 1 is consumed
    if (i + kStages - 1 < my_chunks)
      issue(warp + (i + kStages - 1) * kWarps, (i + kStages - 1) % kStages);
    cp_async_commit();

    const T* keys = ring + (i % kStages) * L::kStageElems;
    const T* values = keys + kChunk * L::kRow;
    const int32_t first = key_begin + (warp + i * kWarps) * kChunk;

    // S: two 8-key tiles; s[t][0..1] row `row`, s[t][2..3] row `row + 8`,
    // keys t * 8 + quad * 2 + {0, 1}.
    float s[2][4] = {{0.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks)
#pragma unroll
      for (int t = 0; t < 2; ++t) {
        const T* k_row = keys + (t * 8 + row) * L::kRow + ks * 16 + quad * 2;
        mma_16816<T>(s[t], qf[ks], *reinterpret_cast<const uint32_t*>(k_row),
                     *reinterpret_cast<const uint32_t*>(k_row + 8));
      }

    float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int t = 0; t < 2; ++t)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const bool valid = first + t * 8 + quad * 2 + (j & 1) < key_end;
        s[t][j] = valid ? s[t][j] * a.scale : -INFINITY;
        tile_max[j / 2] = fmaxf(tile_max[j / 2], s[t][j]);
      }
    float alpha[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
      // A chunk holds at least one key of the range: tile_max is finite.
      const float new_m = fmaxf(m[r], tile_max[r]);
      alpha[r] = __expf(m[r] - new_m);  // m = -inf at first: alpha = 0
      m[r] = new_m;
      l[r] *= alpha[r];
    }
    exponentiate_rows(s, m, l);
    scale_rows(o, alpha);
    // The S accumulators, rounded, are P's A fragment (keys = the k dimension).
    const uint32_t pf[4] = {pack2<T>(s[0][0], s[0][1]), pack2<T>(s[0][2], s[0][3]),
                            pack2<T>(s[1][0], s[1][1]), pack2<T>(s[1][2], s[1][3])};
    // O += P V: V's B fragments come transposed out of its row-major rows,
    // 16 dims (two n-tiles) per ldmatrix.
#pragma unroll
    for (int n2 = 0; n2 < D / 16; ++n2) {
      uint32_t b[4];
      ldmatrix_x4_trans(b, values + ((lane % 8) + 8 * ((lane / 8) % 2)) * L::kRow + n2 * 16 + 8 * (lane / 16));
      mma_16816<T>(o[2 * n2], pf, b[0], b[1]);
      mma_16816<T>(o[2 * n2 + 1], pf, b[2], b[3]);
    }
  }

  // Merge the four warps' states through shared memory (the rings, once
  // every copy has landed and every warp is done with them).
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
  }
  cp_async_wait<0>();
  __syncthreads();
  float* merge_m = reinterpret_cast<float*>(smem);   // [kWarps][kRows]
  float* merge_l = merge_m + kWarps * kRows;           // [kWarps][kRows]
  float* merge_o = merge_l + kWarps * kRows;           // [kWarps][kRows][D]
  if (quad == 0) {
    merge_m[warp * kRows + row] = m[0];
    merge_m[warp * kRows + row + 8] = m[1];
    merge_l[warp * kRows + row] = l[0];
    merge_l[warp * kRows + row + 8] = l[1];
  }
#pragma unroll
  for (int n = 0; n < D / 8; ++n) {
    float* top = merge_o + (warp * kRows + row) * D + n * 8 + quad * 2;
    top[0] = o[n][0];
    top[1] = o[n][1];
    top[8 * D] = o[n][2];
    top[8 * D + 1] = o[n][3];
  }
  __syncthreads();
  const int64_t part = static_cast<int64_t>(seq) * w.max_splits + split;
  for (int idx = threadIdx.x; idx < group * D; idx += kThreads) {
    const int g = idx / D, d = idx % D;
    float big_m = -INFINITY;
#pragma unroll
    for (int v = 0; v < kWarps; ++v) big_m = fmaxf(big_m, merge_m[v * kRows + g]);
    float sum_l = 0.0f, sum_o = 0.0f;
    if (big_m != -INFINITY) {
#pragma unroll
      for (int v = 0; v < kWarps; ++v) {
        const float f = __expf(merge_m[v * kRows + g] - big_m);
        sum_l += merge_l[v * kRows + g] * f;
        sum_o += merge_o[(v * kRows + g) * D + d] * f;
      }
    }
    const int32_t head = kv_head * group + g;
    w.partial_out[(part * a.num_heads + head) * D + d] = sum_o;
    if (d == 0) {
      w.partial_ml[(part * a.num_heads + head) * 2] = big_m;
      w.partial_ml[(part * a.num_heads + head) * 2 + 1] = sum_l;
    }
  }
}

template <typename T, int D>
cudaError_t launch_for(const attention_args& a, const decode_workspace& w, cudaStream_t stream) {
  constexpr size_t bytes = ring_layout<D>::kBytes;
  static const cudaError_t attr = cudaFuncSetAttribute(
      decode_attention_mma_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  if (attr != cudaSuccess) return attr;
  // split_limit, not max_splits: no sequence uses more, and idle blocks cost launches.
  const dim3 grid(w.split_limit, a.layout.num_kv_heads, a.num_seqs);
  return launch_chained(decode_attention_mma_kernel<T, D>, grid, dim3(kThreads), bytes, stream, a, w);
}

}  // namespace

bool decode_attention_mma_supported(int32_t group_size, int32_t head_dim) {
  return group_size >= 1 && group_size <= kRows && (head_dim == 64 || head_dim == 128);
}

cudaError_t launch_decode_attention_mma_partials(dtype type, const attention_args& a,
                                                 const decode_workspace& w, cudaStream_t stream) {
  if (!decode_attention_mma_supported(a.num_heads / a.layout.num_kv_heads, a.layout.head_dim))
    return cudaErrorInvalidValue;
  TROUPE_DISPATCH_HALF(type, T, {
    return a.layout.head_dim == 64 ? launch_for<T, 64>(a, w, stream) : launch_for<T, 128>(a, w, stream);
  });
}

}  // namespace troupe::gpu::kernels
