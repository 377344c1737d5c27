#pragma once
// The safetensors format (huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON header, then the byte buffer. The header
// maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end)}
// relative to the buffer, plus an optional "__metadata__" string map.
//
// Everything is validated before a view is handed out: header length within
// the file, offsets within the buffer, no overlaps, size == numel * dtype size,
// a supported dtype (BF16, F16, F32). Malformed files give an error naming the
// file and tensor, never a crash.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "actors/engine/model/mapped_file.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::engine {

struct safetensors_header {
  gpu::weight_map tensors;                      // views into the parsed image
  std::map<std::string, std::string> metadata;  // "__metadata__"
};

// Parses a complete safetensors image of `num_bytes` bytes at `data`. The
// returned views point into `data`.
std::optional<safetensors_header> parse_safetensors(const uint8_t* data, std::size_t num_bytes,
                                                    std::string* error);

// One memory-mapped .safetensors file and its tensor views.
class safetensors_file {
 public:
  static std::optional<safetensors_file> open(const std::string& path, std::string* error);

  const gpu::weight_map& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const std::string& path() const { return file_.path(); }

 private:
  safetensors_file(mapped_file file, safetensors_header header)
      : file_(std::move(file)), header_(std::move(header)) {}

  mapped_file file_;
  safetensors_header header_;
};

}  // namespace troupe::engine
