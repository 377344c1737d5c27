#include "actors/log_actor.hpp"

#include <caf/all.hpp>

namespace troupe::actors {
namespace {

using log_tick_atom = caf::atom_constant<caf::atom("logtick")>;
using log_flush_atom = caf::atom_constant<caf::atom("logflush")>;
using log_stop_atom = caf::atom_constant<caf::atom("logstop")>;

struct log_actor_state {
  static inline const char* name = "request_log";
};

caf::behavior log_actor(caf::stateful_actor<log_actor_state>* self,
                        std::shared_ptr<request_log_flusher> flusher,
                        std::shared_ptr<std::atomic<bool>> nudge_pending) {
  const auto interval = std::chrono::milliseconds(std::max<int64_t>(1, flusher->options().flush_ms));
  self->delayed_send(self, interval, log_tick_atom::value);
  return {
      [=](log_tick_atom) {
        flusher->flush();
        self->delayed_send(self, interval, log_tick_atom::value);
      },
      [=](log_flush_atom) {
        // Clear first: a row pushed during the flush may nudge again.
        nudge_pending->store(false);
        flusher->flush();
      },
      [=](log_stop_atom) {
        flusher->flush();
        self->quit();
        return true;
      },
  };
}

}  // namespace

request_log_writer::request_log_writer(caf::actor_system& sys,
                                       std::shared_ptr<request_log_flusher> flusher)
    : sys_(sys),
      flusher_(std::move(flusher)),
      nudge_pending_(std::make_shared<std::atomic<bool>>(false)) {}

std::shared_ptr<request_log_writer> request_log_writer::start(
    caf::actor_system& sys, std::unique_ptr<request_log_store> store, request_log_options options) {
  auto flusher = std::make_shared<request_log_flusher>(std::move(store), std::move(options));
  std::shared_ptr<request_log_writer> writer(new request_log_writer(sys, flusher));
  writer->actor_ = sys.spawn<caf::detached>(log_actor, flusher, writer->nudge_pending_);
  return writer;
}

request_log_writer::~request_log_writer() { stop(); }

void request_log_writer::submit(request_log_row row) {
  size_t queued = flusher_->queue().push(std::move(row));
  // At most one nudge in the mailbox at a time keeps the mailbox bounded too.
  // (actor_ is never reassigned after start, so reading it here is race-free;
  // a nudge to an actor that already stopped is simply dropped.)
  if (queued >= flusher_->options().batch_rows && !nudge_pending_->exchange(true)) {
    caf::anon_send(actor_, log_flush_atom::value);
  }
}

std::string request_log_writer::metrics_text() const { return flusher_->metrics_text(); }

void request_log_writer::stop() {
  if (stopped_.exchange(true)) return;
  caf::scoped_actor self{sys_};
  self->request(actor_, caf::infinite, log_stop_atom::value)
      .receive([](bool) {}, [](const caf::error&) {});
}

}  // namespace troupe::actors
