#include "actors/engine/exec/thread_pool.hpp"

#include <algorithm>

namespace troupe::engine {

thread_pool::thread_pool(int32_t num_threads) {
  if (num_threads <= 0)
    num_threads = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  for (int32_t i = 1; i < num_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

thread_pool::~thread_pool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void thread_pool::drain_tasks() {
  for (int32_t i = next_task_.fetch_add(1); i < num_tasks_; i = next_task_.fetch_add(1))
    (*task_)(i);
}

void thread_pool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    drain_tasks();
    {
      std::lock_guard lock(mutex_);
      if (--num_busy_workers_ == 0) done_.notify_one();
    }
  }
}

void thread_pool::run(int32_t num_tasks, const std::function<void(int32_t)>& task) {
  if (num_tasks <= 0) return;
  if (workers_.empty() || num_tasks == 1) {
    for (int32_t i = 0; i < num_tasks; ++i) task(i);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    task_ = &task;
    num_tasks_ = num_tasks;
    next_task_.store(0);
    num_busy_workers_ = static_cast<int32_t>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  drain_tasks();
  // Every worker must have left drain_tasks() before task_ goes out of scope.
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return num_busy_workers_ == 0; });
  task_ = nullptr;
}

void thread_pool::parallel_for(int64_t n, int64_t min_range, int64_t align,
                               const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  align = std::max<int64_t>(align, 1);
  int64_t num_ranges = std::min<int64_t>(num_threads(), std::max<int64_t>(1, n / std::max<int64_t>(min_range, 1)));
  int64_t range = (n + num_ranges - 1) / num_ranges;
  range = (range + align - 1) / align * align;
  num_ranges = (n + range - 1) / range;
  run(static_cast<int32_t>(num_ranges), [&](int32_t i) {
    int64_t begin = i * range;
    fn(begin, std::min(n, begin + range));
  });
}

}  // namespace troupe::engine
