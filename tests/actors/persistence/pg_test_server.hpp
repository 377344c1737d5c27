#pragma once
// A throwaway PostgreSQL server for tests: initdb into a scratch directory and
// pg_ctl start on a Unix socket only (no TCP port), as a non-root user when
// the test runs as root (postgres refuses to run as root). ok() is false, with
// skip_reason() saying why, when the server binaries are not installed.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/actors/persistence/test_support.hpp"

namespace troupe::actors::test {

class pg_test_server {
 public:
  pg_test_server() {
    bin_ = find_bin_dir();
    if (bin_.empty()) {
      skip_reason_ = "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql";
      return;
    }
    if (!have_command("psql")) {
      skip_reason_ = "psql not found; install postgresql-client";
      return;
    }
    std::filesystem::permissions(dir_.path, std::filesystem::perms::all);
    as_user_ = run_as_prefix();
    port_ = 20000 + int(::getpid() % 20000);
    std::string data = dir_.file("data");
    int status = 0;
    log_ = run_command(as_user_ + bin_ + "/initdb -D " + shell_quote(data) +
                           " --auth=trust --username=troupe --encoding=UTF8 --locale=C --no-sync"
                           " 2>&1",
                       &status);
    if (status != 0) {
      error_ = "initdb failed: " + log_;
      return;
    }
    std::string opts = "-k " + dir_.path.string() + " -h '' -p " + std::to_string(port_) +
                       " -c fsync=off";
    log_ = run_command(as_user_ + bin_ + "/pg_ctl -D " + shell_quote(data) + " -l " +
                           shell_quote(dir_.file("server.log")) + " -w -t 60 -o " +
                           shell_quote(opts) + " start 2>&1",
                       &status);
    if (status != 0) {
      error_ = "pg_ctl start failed: " + log_ + run_command("cat " + dir_.file("server.log"));
      return;
    }
    started_ = true;
  }

  ~pg_test_server() {
    if (started_) {
      run_command(as_user_ + bin_ + "/pg_ctl -D " + shell_quote(dir_.file("data")) +
                  " -m immediate -w stop >/dev/null 2>&1");
    }
  }

  bool ok() const { return started_; }
  const std::string& skip_reason() const { return skip_reason_; }
  const std::string& error() const { return error_; }

  // A libpq URI for the superuser "troupe" over the Unix socket.
  std::string url(const std::string& database = "postgres") const {
    return "postgresql://troupe@/" + database + "?host=" + dir_.path.string() +
           "&port=" + std::to_string(port_);
  }

  // Runs SQL through psql; returns unaligned, tuples-only output.
  std::string psql(const std::string& sql, int* status = nullptr) const {
    return run_command("psql " + shell_quote(url()) + " -X -At -v ON_ERROR_STOP=1 -c " +
                           shell_quote(sql) + " 2>&1",
                       status);
  }

 private:
  static std::string find_bin_dir() {
    if (const char* env = std::getenv("TROUPE_PG_BINDIR")) return env;
    std::string found;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      if (std::filesystem::exists(e.path() / "bin" / "pg_ctl") &&
          std::filesystem::exists(e.path() / "bin" / "initdb")) {
        found = (e.path() / "bin").string();  // any installed major version
      }
    }
    return found;
  }

  static std::string run_as_prefix() {
    if (::geteuid() != 0) return "";
    int status = 0;
    run_command("id -u postgres >/dev/null 2>&1", &status);
    if (status == 0 && have_command("runuser")) return "runuser -u postgres -- ";
    return "setpriv --reuid=nobody --regid=nogroup --clear-groups ";
  }

  scratch_dir dir_;
  std::string bin_;
  std::string as_user_;
  std::string skip_reason_;
  std::string error_;
  std::string log_;
  int port_ = 0;
  bool started_ = false;
};

}  // namespace troupe::actors::test
