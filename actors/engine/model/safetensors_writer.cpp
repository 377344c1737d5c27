#include "actors/engine/model/safetensors_writer.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

namespace troupe::engine {

std::string write_safetensors(const std::string& path, const std::vector<safetensors_entry>& tensors,
                              const std::string& format_metadata) {
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", format_metadata}};
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return "cannot write " + path;
  const uint64_t n = text.size();
  unsigned char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
  out.write(reinterpret_cast<const char*>(length), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& t : tensors)
    out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
  out.close();
  if (!out) return "error while writing " + path;
  return {};
}

}  // namespace troupe::engine
