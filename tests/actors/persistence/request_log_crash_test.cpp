// kill -9 of a process writing the request log under load: every row the
// writer had committed survives, the table holds a gap-free prefix of what
// was submitted, and no row finished more than one flush interval (plus
// scheduling slack) before the kill is lost.
#include <caf/all.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "actors/log_actor.hpp"
#include "tests/actors/persistence/test_support.hpp"

namespace troupe::actors {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kFlushMs = 100;
// Slack for a loaded machine (the writer thread may wait for a core); the
// strict durability check is the committed-rows one.
constexpr int64_t kSchedulingSlackMs = 1000;

int64_t monotonic_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void write_line(int fd, const std::string& line) {
  std::string s = line + "\n";
  [[maybe_unused]] auto n = ::write(fd, s.data(), s.size());
}

// Runs in the forked child until it is killed (or 60 s pass).
[[noreturn]] void child_writer(const std::string& db, const std::string& submitted_path,
                               const std::string& acks_path) {
  int submitted_fd = ::open(submitted_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  int acks_fd = ::open(acks_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  int64_t num_committed = 0;  // touched only by the writer's thread
  request_log_options options;
  options.flush_ms = kFlushMs;
  options.on_committed = [&](size_t n) {
    num_committed += int64_t(n);
    write_line(acks_fd, std::to_string(num_committed));
  };
  auto writer = request_log_writer::start(
      sys, open_request_log_store("sqlite:" + db, store_access::write, nullptr), options);
  int64_t deadline = monotonic_ms() + 60000;
  for (int i = 0; monotonic_ms() < deadline; ++i) {
    writer->submit(test::sample_row(i));
    write_line(submitted_fd, std::to_string(i) + " " + std::to_string(monotonic_ms()));
    std::this_thread::sleep_for(1ms);
  }
  ::_exit(0);
}

std::vector<std::pair<int64_t, int64_t>> read_pairs(const std::string& path) {
  std::vector<std::pair<int64_t, int64_t>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    int64_t a, b;
    if (ss >> a >> b) out.emplace_back(a, b);  // a torn last line is skipped
  }
  return out;
}

int64_t last_number(const std::string& path) {
  std::ifstream in(path);
  int64_t v, last = 0;
  while (in >> v) last = v;
  return last;
}

TEST(RequestLogCrash, KillNineLosesNoRowCommittedOrOlderThanTheFlushInterval) {
  if (!test::have_command("sqlite3")) GTEST_SKIP() << "the sqlite3 CLI is not installed";
  test::scratch_dir dir;
  std::string db = dir.file("log.db");
  std::string submitted = dir.file("submitted");
  std::string acks = dir.file("acks");

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) child_writer(db, submitted, acks);

  std::this_thread::sleep_for(1500ms);
  int64_t kill_ms = monotonic_ms();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus));

  auto sent = read_pairs(submitted);
  int64_t committed = last_number(acks);
  std::string ids = test::run_command("sqlite3 " + test::shell_quote(db) +
                                      " 'SELECT request_id FROM request_log ORDER BY id'");
  std::vector<std::string> stored;
  std::istringstream ss(ids);
  for (std::string line; std::getline(ss, line);) stored.push_back(line);

  ASSERT_GT(sent.size(), 100u) << "the child wrote too few rows to test anything";
  ASSERT_GT(committed, 0);
  // A gap-free prefix, in submission order.
  for (size_t i = 0; i < stored.size(); ++i) {
    ASSERT_EQ(stored[i], "chatcmpl-" + std::to_string(i));
  }
  // Every committed row survived the kill.
  EXPECT_GE(int64_t(stored.size()), committed);
  // Nothing older than one flush interval (+ slack) before the kill is lost.
  int64_t num_old = 0;
  for (const auto& [i, t] : sent) {
    if (t <= kill_ms - kFlushMs - kSchedulingSlackMs) num_old = std::max(num_old, i + 1);
  }
  EXPECT_GE(int64_t(stored.size()), num_old);
  std::printf("submitted %zu, committed %lld, stored %zu, lost %zu (rows younger than the last flush)\n",
              sent.size(), static_cast<long long>(committed), stored.size(),
              sent.size() - stored.size());
}

}  // namespace
}  // namespace troupe::actors
