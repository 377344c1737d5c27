#pragma once
// A fixed pool of worker threads for data-parallel loops (GEMMs, attention).
// The calling thread takes part in every loop, so a pool of N threads starts
// N - 1 workers. One caller at a time; not reentrant.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace troupe::engine {

class thread_pool {
 public:
  // num_threads <= 0 => std::thread::hardware_concurrency().
  explicit thread_pool(int32_t num_threads);
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  int32_t num_threads() const { return static_cast<int32_t>(workers_.size()) + 1; }

  // Calls task(i) for every i in [0, num_tasks), spread over the pool; returns
  // when all have finished. Tasks are claimed dynamically, so uneven tasks
  // balance out when num_tasks exceeds num_threads().
  void run(int32_t num_tasks, const std::function<void(int32_t)>& task);

  // Splits [0, n) into contiguous ranges of at least `min_range` elements (at
  // most one per thread, a multiple of `align` except the last) and calls
  // fn(begin, end) for each.
  void parallel_for(int64_t n, int64_t min_range, int64_t align,
                    const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop();
  void drain_tasks();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;     // guarded by mutex_; bumped per run()
  int32_t num_busy_workers_ = 0;  // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  const std::function<void(int32_t)>* task_ = nullptr;
  int32_t num_tasks_ = 0;
  std::atomic<int32_t> next_task_{0};
};

}  // namespace troupe::engine
