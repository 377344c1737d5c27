#include "actors/engine/sched/request.hpp"

namespace troupe::engine {

const char* to_string(finish_reason r) {
  switch (r) {
    case finish_reason::none: return "none";
    case finish_reason::stop: return "stop";
    case finish_reason::length: return "length";
    case finish_reason::abort: return "abort";
  }
  return "none";
}

}  // namespace troupe::engine
