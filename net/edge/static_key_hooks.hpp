#pragma once
// The default request hooks: a fixed list of bearer keys (--api-key, [auth]
// api_keys), compared in constant time, no limits, no request log. With an
// empty list every request is refused unless authentication was explicitly
// disabled.
#include <array>
#include <string>
#include <vector>

#include "net/edge/request_hooks.hpp"

namespace troupe::net {

class static_key_hooks final : public request_hooks {
 public:
  static_key_hooks(std::vector<std::string> api_keys, bool auth_disabled);

  std::optional<hook_refusal> authenticate(const std::string& authorization, principal* out) override;
  std::optional<hook_refusal> admit(const principal& who, const std::string& model,
                                    int64_t estimated_tokens, admission* out) override;
  void record(const principal& who, int64_t estimated_tokens, const request_record& record) override;

 private:
  using digest = std::array<unsigned char, 32>;
  // SHA-256 of each key: comparing fixed-size digests with CRYPTO_memcmp leaks
  // neither the keys' contents nor their lengths.
  std::vector<digest> key_digests_;
  bool auth_disabled_;
};

}  // namespace troupe::net
