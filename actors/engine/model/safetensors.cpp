#include "actors/engine/model/safetensors.hpp"

#include <algorithm>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

namespace troupe::engine {
namespace {

// The format caps the header at 100 MB; a larger length is a corrupt file.
constexpr uint64_t k_max_header_bytes = 100ull << 20;

std::optional<gpu::dtype> parse_dtype(const std::string& name) {
  if (name == "BF16") return gpu::dtype::bf16;
  if (name == "F16") return gpu::dtype::f16;
  if (name == "F32") return gpu::dtype::f32;
  // Quantized checkpoints (docs/quantization.md).
  if (name == "I32") return gpu::dtype::i32;
  if (name == "U8") return gpu::dtype::u8;
  if (name == "I8") return gpu::dtype::i8;
  if (name == "F8_E4M3") return gpu::dtype::f8_e4m3;
  return std::nullopt;
}

struct byte_range {
  uint64_t begin = 0;
  uint64_t end = 0;
  const std::string* name = nullptr;
};

// Validates one tensor entry and appends its view; returns an error message
// (empty on success).
std::string parse_tensor(const std::string& name, const nlohmann::json& entry,
                         const uint8_t* buffer, uint64_t buffer_bytes, gpu::tensor_view& view,
                         byte_range& range) {
  const std::string where = "tensor '" + name + "': ";
  if (!entry.is_object()) return where + "entry is not an object";
  auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) return where + "missing string 'dtype'";
  auto dtype = parse_dtype(dtype_it->get<std::string>());
  if (!dtype)
    return where + "unsupported dtype '" + dtype_it->get<std::string>() +
           "' (supported: BF16, F16, F32, and I32, U8, I8, F8_E4M3 in quantized checkpoints)";
  view.type = *dtype;

  auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) return where + "missing array 'shape'";
  uint64_t num_elements = 1;
  for (const auto& dim : *shape_it) {
    if (!dim.is_number_unsigned()) return where + "shape entries must be non-negative integers";
    uint64_t d = dim.get<uint64_t>();
    if (d > INT64_MAX || __builtin_mul_overflow(num_elements, d, &num_elements))
      return where + "shape " + shape_it->dump() + " overflows";
    view.shape.push_back(static_cast<int64_t>(d));
  }

  auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
      !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
    return where + "'data_offsets' must be two non-negative integers";
  range.begin = (*offsets_it)[0].get<uint64_t>();
  range.end = (*offsets_it)[1].get<uint64_t>();
  range.name = &name;
  if (range.begin > range.end || range.end > buffer_bytes)
    return where + "data_offsets [" + std::to_string(range.begin) + ", " +
           std::to_string(range.end) + ") out of range of the " + std::to_string(buffer_bytes) +
           "-byte data buffer";
  uint64_t expected_bytes = 0;
  if (__builtin_mul_overflow(num_elements, gpu::dtype_size(view.type), &expected_bytes) ||
      expected_bytes != range.end - range.begin)
    return where + "holds " + std::to_string(range.end - range.begin) + " bytes but shape " +
           shape_it->dump() + " of " + dtype_it->get<std::string>() + " needs " +
           std::to_string(num_elements * gpu::dtype_size(view.type));
  view.data = buffer + range.begin;
  view.num_bytes = static_cast<std::size_t>(expected_bytes);
  return {};
}

std::string parse_metadata(const nlohmann::json& value, std::map<std::string, std::string>& out) {
  if (!value.is_object()) return "'__metadata__' must be an object";
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) return "'__metadata__' value of '" + key + "' must be a string";
    out[key] = v.get<std::string>();
  }
  return {};
}

std::string check_overlaps(std::vector<byte_range>& ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const byte_range& a, const byte_range& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[i - 1].end)
      return "tensors '" + *ranges[i - 1].name + "' and '" + *ranges[i].name +
             "' overlap in the data buffer";
  }
  return {};
}

std::string parse_image(const uint8_t* data, std::size_t num_bytes, safetensors_header& out) {
  if (num_bytes < 8)
    return "file is " + std::to_string(num_bytes) + " bytes, too short for the header length";
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | data[i];
  if (header_bytes > k_max_header_bytes || header_bytes > num_bytes - 8)
    return "header length " + std::to_string(header_bytes) + " exceeds the file (" +
           std::to_string(num_bytes) + " bytes)";
  const char* header_text = reinterpret_cast<const char*>(data + 8);
  auto header = nlohmann::json::parse(header_text, header_text + header_bytes, nullptr,
                                      /*allow_exceptions=*/false);
  if (header.is_discarded()) return "header is not valid JSON";
  if (!header.is_object()) return "header is not a JSON object";

  const uint8_t* buffer = data + 8 + header_bytes;
  const uint64_t buffer_bytes = num_bytes - 8 - header_bytes;
  std::vector<byte_range> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (auto message = parse_metadata(entry, out.metadata); !message.empty()) return message;
      continue;
    }
    auto [it, inserted] = out.tensors.emplace(name, gpu::tensor_view{});
    if (!inserted) return "tensor '" + name + "' appears twice";
    ranges.emplace_back();
    auto message = parse_tensor(it->first, entry, buffer, buffer_bytes, it->second, ranges.back());
    if (!message.empty()) return message;
  }
  return check_overlaps(ranges);
}

}  // namespace

std::optional<safetensors_header> parse_safetensors(const uint8_t* data, std::size_t num_bytes,
                                                    std::string* error) {
  safetensors_header header;
  auto message = parse_image(data, num_bytes, header);
  if (!message.empty()) {
    if (error) *error = message;
    return std::nullopt;
  }
  return header;
}

std::optional<safetensors_file> safetensors_file::open(const std::string& path,
                                                       std::string* error) {
  auto file = mapped_file::open(path, error);
  if (!file) return std::nullopt;
  std::string message;
  auto header = parse_safetensors(file->data(), file->size(), &message);
  if (!header) {
    if (error) *error = path + ": " + message;
    return std::nullopt;
  }
  return safetensors_file(std::move(*file), std::move(*header));
}

}  // namespace troupe::engine
