#pragma once
// Borrowed views of checkpoint tensors (memory-mapped safetensors), keyed by their
// Hugging Face names ("model.layers.0.self_attn.q_proj.weight"). The engine fills
// it; executors copy or convert what they need. Views stay valid while the owner
// of the mapping (actors/engine/model/checkpoint) lives.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace troupe::gpu {

// f32/f16/bf16 are the float types a model computes in; the others only
// appear in quantized checkpoints (AWQ's int32 packs, bitsandbytes' uint8 and
// int8 codes, FP8 E4M3 weights) and are read by actors/engine/model/quant_*.
enum class dtype : int32_t { f32 = 0, f16 = 1, bf16 = 2, i32 = 3, u8 = 4, i8 = 5, f8_e4m3 = 6 };

inline std::size_t dtype_size(dtype t) {
  switch (t) {
    case dtype::f32:
    case dtype::i32: return 4;
    case dtype::f16:
    case dtype::bf16: return 2;
    default: return 1;
  }
}

inline bool is_float_dtype(dtype t) {
  return t == dtype::f32 || t == dtype::f16 || t == dtype::bf16;
}

struct tensor_view {
  dtype type = dtype::f32;
  std::vector<int64_t> shape;   // row-major, as stored (Linear weights are [out, in])
  const void* data = nullptr;   // little-endian elements of `type`
  std::size_t num_bytes = 0;
  int64_t num_elements() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

using weight_map = std::map<std::string, tensor_view>;

}  // namespace troupe::gpu
