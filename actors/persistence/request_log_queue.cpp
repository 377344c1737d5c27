#include "actors/persistence/request_log_queue.hpp"

#include <algorithm>

namespace troupe::actors {

request_log_queue::request_log_queue(size_t max_rows) : max_rows_(std::max<size_t>(1, max_rows)) {}

size_t request_log_queue::push(request_log_row row) {
  std::lock_guard lock(mu_);
  if (rows_.size() >= max_rows_) {
    rows_.pop_front();
    num_dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  rows_.push_back(std::move(row));
  return rows_.size();
}

std::vector<request_log_row> request_log_queue::drain(size_t max_rows) {
  std::lock_guard lock(mu_);
  size_t n = std::min(max_rows, rows_.size());
  std::vector<request_log_row> out(std::make_move_iterator(rows_.begin()),
                                   std::make_move_iterator(rows_.begin() + ptrdiff_t(n)));
  rows_.erase(rows_.begin(), rows_.begin() + ptrdiff_t(n));
  return out;
}

void request_log_queue::count_dropped(int64_t num_rows) {
  num_dropped_.fetch_add(num_rows, std::memory_order_relaxed);
}

size_t request_log_queue::size() const {
  std::lock_guard lock(mu_);
  return rows_.size();
}

}  // namespace troupe::actors
