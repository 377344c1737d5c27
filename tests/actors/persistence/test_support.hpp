#pragma once
// Helpers for the persistence tests: a scratch directory, running a shell
// command (the sqlite3 / psql CLIs as independent readers), and sample rows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "actors/persistence/request_log_store.hpp"

namespace troupe::actors::test {

struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "troupe_persist_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~scratch_dir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Runs a shell command; returns its stdout and sets *status to the exit code.
inline std::string run_command(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int rc = ::pclose(p);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline bool have_command(const std::string& name) {
  int status = 0;
  run_command("command -v " + name + " >/dev/null 2>&1", &status);
  return status == 0;
}

// A row whose every column depends on i, so mix-ups show.
inline request_log_row sample_row(int i) {
  request_log_row r;
  r.request_id = "chatcmpl-" + std::to_string(i);
  r.principal = "key:key_" + std::to_string(i % 3);
  r.model = i % 2 ? "tiny-llama" : "qwen-small";
  r.endpoint = i % 4 == 3 ? "ws:/v1/responses" : "/v1/chat/completions";
  r.status = i % 5 == 0 ? 429 : 200;
  r.finish_reason = i % 5 == 0 ? "" : (i % 2 ? "stop" : "length");
  r.prompt_tokens = 10 + i;
  r.completion_tokens = 2 * i;
  r.queue_time_ms = 0.5 * i;
  r.ttft_ms = 1.25 * i;
  r.total_ms = 2.5 * i + 0.125;
  r.client_address = "127.0.0.1:" + std::to_string(40000 + i);
  r.started_at_unix_ms = 1767600000000 + 1000LL * i;
  r.end_user = i % 3 ? "user-" + std::to_string(i) : "";
  if (i % 2 == 0) {
    r.prompt_text = "prompt \"" + std::to_string(i) + "\" ünïcode";
    r.output_text = "output " + std::to_string(i);
  }
  return r;
}

// Checks rows read back by a database CLI as JSON objects (ordered by
// started_at) against sample_row(0 … n-1), column by column.
inline void expect_sample_rows(const nlohmann::json& rows, int n) {
  ASSERT_EQ(rows.size(), size_t(n));
  for (int i = 0; i < n; ++i) {
    request_log_row want = sample_row(i);
    const auto& got = rows[size_t(i)];
    SCOPED_TRACE(i);
    EXPECT_EQ(got["request_id"], want.request_id);
    EXPECT_EQ(got["principal"], want.principal);
    EXPECT_EQ(got["model"], want.model);
    EXPECT_EQ(got["endpoint"], want.endpoint);
    EXPECT_EQ(got["status"], want.status);
    EXPECT_EQ(got["finish_reason"], want.finish_reason);
    EXPECT_EQ(got["prompt_tokens"], want.prompt_tokens);
    EXPECT_EQ(got["completion_tokens"], want.completion_tokens);
    EXPECT_DOUBLE_EQ(got["queue_time_ms"].get<double>(), want.queue_time_ms);
    EXPECT_DOUBLE_EQ(got["ttft_ms"].get<double>(), want.ttft_ms);
    EXPECT_DOUBLE_EQ(got["total_ms"].get<double>(), want.total_ms);
    EXPECT_EQ(got["client_address"], want.client_address);
    EXPECT_EQ(got["started_at"], want.started_at_unix_ms);
    EXPECT_EQ(got["end_user"], want.end_user);
    if (want.prompt_text) {
      EXPECT_EQ(got["prompt_text"], *want.prompt_text);
      EXPECT_EQ(got["output_text"], *want.output_text);
    } else {
      EXPECT_TRUE(got["prompt_text"].is_null());
      EXPECT_TRUE(got["output_text"].is_null());
    }
  }
}

}  // namespace troupe::actors::test
