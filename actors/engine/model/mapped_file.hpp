#pragma once
// A read-only memory mapping of a whole file (POSIX mmap). Move-only; the
// mapping's address does not change on move, so views into it stay valid for
// as long as some mapped_file owns it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace troupe::engine {

class mapped_file {
 public:
  // Maps `path`; nullopt and a message naming the file when it cannot.
  static std::optional<mapped_file> open(const std::string& path, std::string* error);

  mapped_file(mapped_file&& other) noexcept;
  mapped_file& operator=(mapped_file&& other) noexcept;
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  ~mapped_file();

  // nullptr for an empty file.
  const uint8_t* data() const { return static_cast<const uint8_t*>(address_); }
  std::size_t size() const { return num_bytes_; }
  const std::string& path() const { return path_; }

 private:
  mapped_file() = default;
  void release();

  void* address_ = nullptr;
  std::size_t num_bytes_ = 0;
  std::string path_;
};

}  // namespace troupe::engine
