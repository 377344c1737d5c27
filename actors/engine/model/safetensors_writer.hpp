#pragma once
// Writes a safetensors file (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range (padded with spaces to a multiple of 8), then
// the tensors' bytes in order.
#include <cstdint>
#include <string>
#include <vector>

namespace troupe::engine {

struct safetensors_entry {
  std::string name;
  std::string dtype;            // "F16", "BF16", "F32", "I32", "U8", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;   // little-endian elements
};

// "" or an error naming the path.
std::string write_safetensors(const std::string& path, const std::vector<safetensors_entry>& tensors,
                              const std::string& format_metadata = "pt");

}  // namespace troupe::engine
