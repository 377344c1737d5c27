#pragma once
// The request log actor: a detached CAF actor (its own thread, since it does
// blocking database I/O) that flushes the bounded row queue into the store
// every flush_ms, or sooner when batch_rows rows are waiting.
//
// Durability: a row is committed at most flush_ms (default 200 ms) after its
// request finished, or as soon as batch_rows (default 64) rows are waiting.
// A crash (kill -9, power loss with the SQLite store's synchronous=FULL)
// loses at most the rows queued since the last commit: at most one flush
// interval's worth, plus the transaction in flight.
#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <atomic>
#include <memory>

#include "actors/persistence/request_log_flusher.hpp"
#include "actors/persistence/request_log_sink.hpp"

namespace troupe::actors {

class request_log_writer final : public request_log_sink {
 public:
  // Spawns the actor in sys; call stop() (or destroy the writer) before sys ends.
  static std::shared_ptr<request_log_writer> start(caf::actor_system& sys,
                                                   std::unique_ptr<request_log_store> store,
                                                   request_log_options options);
  ~request_log_writer() override;

  void submit(request_log_row row) override;
  std::string metrics_text() const override;

  // Writes what is queued and ends the actor. Idempotent; rows submitted
  // afterwards are not written.
  void stop();

  int64_t num_dropped() const { return flusher_->queue().num_dropped(); }
  int64_t num_rows_written() const { return flusher_->num_rows_written(); }

 private:
  request_log_writer(caf::actor_system& sys, std::shared_ptr<request_log_flusher> flusher);

  caf::actor_system& sys_;
  std::shared_ptr<request_log_flusher> flusher_;
  std::shared_ptr<std::atomic<bool>> nudge_pending_;
  caf::actor actor_;
  std::atomic<bool> stopped_{false};
};

}  // namespace troupe::actors
