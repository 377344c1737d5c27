#include "actors/engine/model/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace troupe::engine {

std::optional<mapped_file> mapped_file::open(const std::string& path, std::string* error) {
  auto fail = [&](const char* what) {
    if (error) *error = std::string("cannot ") + what + " " + path + ": " + std::strerror(errno);
    return std::nullopt;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return fail("stat");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    if (error) *error = path + " is not a regular file";
    return std::nullopt;
  }
  mapped_file file;
  file.path_ = path;
  file.num_bytes_ = static_cast<std::size_t>(st.st_size);
  if (file.num_bytes_ > 0) {
    void* address = ::mmap(nullptr, file.num_bytes_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (address == MAP_FAILED) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      return fail("mmap");
    }
    file.address_ = address;
  }
  // The mapping keeps the file alive; the descriptor is no longer needed.
  ::close(fd);
  return file;
}

mapped_file::mapped_file(mapped_file&& other) noexcept
    : address_(std::exchange(other.address_, nullptr)),
      num_bytes_(std::exchange(other.num_bytes_, 0)),
      path_(std::move(other.path_)) {}

mapped_file& mapped_file::operator=(mapped_file&& other) noexcept {
  if (this != &other) {
    release();
    address_ = std::exchange(other.address_, nullptr);
    num_bytes_ = std::exchange(other.num_bytes_, 0);
    path_ = std::move(other.path_);
  }
  return *this;
}

mapped_file::~mapped_file() { release(); }

void mapped_file::release() {
  if (address_) ::munmap(address_, num_bytes_);
  address_ = nullptr;
  num_bytes_ = 0;
}

}  // namespace troupe::engine
