#pragma once
// A quantized Linear weight [rows = out_features, cols = in_features] as the
// executors compute with it. One layout per element width, whatever format it
// came from (docs/quantization.md):
//
//   value(r, c) = decode(code(r, c)) * scales[r, c / group_size]
//                 - zeros[r, c / group_size] * scales[r, c / group_size]   (int4 only)
//
//   int8  codes int8 two's complement, decode(q) = q; group_size = cols
//         (one absmax / 127 scale per output channel, bitsandbytes' SCB / 127)
//   fp8   codes FP8 E4M3 (OCP), decode = the E4M3 value; group_size = cols
//   nf4   4-bit index into bitsandbytes' NF4 code book; group_size = 64,
//         scale = the block's absmax
//   fp4   4-bit index into bitsandbytes' FP4 code book (normalized to [-1, 1]);
//         group_size = 64, scale = absmax
//   int4  4-bit unsigned q in [0, 15] with a zero point (AWQ, group 128 by
//         default): value = (q - zero) * scale
//
// 4-bit codes are two per byte in row-major element order, element 2j in the
// high nibble and 2j + 1 in the low one (the order bitsandbytes writes).
// Every format groups along the input dimension only, so matrices with the
// same cols stack by concatenating rows (the fused qkv and gate_up weights).
// Header-only: the engine fills it, the CUDA executor uploads it.
#include <cstdint>
#include <vector>

namespace troupe::gpu {

enum class quant_format : int32_t { none = 0, int8 = 1, fp8 = 2, nf4 = 3, fp4 = 4, int4 = 5 };

inline bool is_4bit(quant_format f) {
  return f == quant_format::nf4 || f == quant_format::fp4 || f == quant_format::int4;
}

inline const char* quant_format_name(quant_format f) {
  switch (f) {
    case quant_format::int8: return "int8";
    case quant_format::fp8: return "fp8";
    case quant_format::nf4: return "nf4";
    case quant_format::fp4: return "fp4";
    case quant_format::int4: return "int4";
    default: return "none";
  }
}

struct quant_matrix {
  quant_format format = quant_format::none;
  int64_t rows = 0;
  int64_t cols = 0;
  int32_t group_size = 0;        // elements of a row sharing one scale; divides cols
  std::vector<uint8_t> codes;    // [rows, cols] bytes, or [rows, cols / 2] for 4-bit
  std::vector<float> scales;     // [rows, cols / group_size]
  std::vector<float> zeros;      // int4: [rows, cols / group_size] in code units; else empty

  int64_t groups_per_row() const { return group_size > 0 ? cols / group_size : 0; }
  int64_t code_bytes_per_row() const { return is_4bit(format) ? cols / 2 : cols; }
};

// A quant_matrix in device memory (what the kernels read). Same layout.
struct device_quant_matrix {
  quant_format format = quant_format::none;
  int32_t rows = 0;
  int32_t cols = 0;
  int32_t group_size = 0;
  const uint8_t* codes = nullptr;  // [rows, cols] or [rows, cols / 2] (4-bit)
  const float* scales = nullptr;   // [rows, cols / group_size]
  const float* zeros = nullptr;    // int4: [rows, cols / group_size]; else nullptr
  bool empty() const { return format == quant_format::none; }
};

// The quantized Linear weights of one decoder layer, fused as the executors
// run them: qkv = [q; k; v] rows, gate_up = [gate; up] rows.
struct quantized_layer {
  quant_matrix qkv;      // [(heads + 2 kv_heads) * head_dim, hidden]
  quant_matrix o;        // [hidden, heads * head_dim]
  quant_matrix gate_up;  // [2 * intermediate, hidden]
  quant_matrix down;     // [hidden, intermediate]
};
using quantized_linears = std::vector<quantized_layer>;  // [num_layers]

}  // namespace troupe::gpu
