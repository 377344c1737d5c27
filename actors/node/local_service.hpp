#pragma once
// The all-in-one node: loads the model and starts the engine-side actors in
// this process, returning the facade the network edge talks to.
#include <memory>
#include <string>

#include "actors/generation_service.hpp"
#include "config/troupe_config.hpp"

namespace troupe::actors {

// On failure returns nullptr and sets *error (a message naming the bad file or field).
std::unique_ptr<generation_service> start_local_service(const config::troupe_config& config,
                                                        std::string* error);

}  // namespace troupe::actors
