#pragma once
// Throttles failed authentications per source address: each source holds a
// bucket of max_failures failures that refills at one per refill_ms; a source
// whose bucket is empty is refused (429 + Retry-After) before its credential
// is even looked at, until a failure's worth has refilled. Only the failing
// source is slowed: a key used from any other address is never refused
// because of someone else's failures, and a success leaves the bucket as is
// (an attacker cannot lock out a real key by guessing from elsewhere).
// Memory is bounded: beyond max_sources the least recently failing source is
// forgotten (its next failure starts from a full bucket).
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace troupe::net {

struct auth_throttle_options {
  int64_t max_failures = 60;     // burst of failures allowed per source; 0 = no throttle
  int64_t refill_ms = 1000;      // one failure refilled every second (60 a minute)
  std::size_t max_sources = 65536;
};

class auth_throttle {
 public:
  explicit auth_throttle(auth_throttle_options options = {});

  // Milliseconds until `source` may try again; nullopt when it may now.
  std::optional<int64_t> retry_after_ms(const std::string& source, int64_t now_ms);
  // A failed authentication from `source`.
  void on_failure(const std::string& source, int64_t now_ms);

  int64_t num_refused() const;       // requests refused by the throttle
  std::size_t num_sources() const;   // sources remembered now

 private:
  struct entry {
    double tokens = 0;
    int64_t updated_ms = 0;
    std::list<std::string>::iterator lru;
  };
  void refill(entry& e, int64_t now_ms) const;

  auth_throttle_options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
  std::list<std::string> lru_;  // most recent failure at the front
  int64_t num_refused_ = 0;
};

}  // namespace troupe::net
