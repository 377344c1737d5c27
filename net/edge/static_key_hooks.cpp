#include "net/edge/static_key_hooks.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdio>

namespace troupe::net {
namespace {

std::array<unsigned char, 32> sha256(const std::string& text) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

hook_refusal refuse(std::string message) {
  hook_refusal r;
  r.status = 401;
  r.type = "invalid_request_error";
  r.code = "invalid_api_key";
  r.message = std::move(message);
  return r;
}

}  // namespace

static_key_hooks::static_key_hooks(std::vector<std::string> api_keys, bool auth_disabled)
    : auth_disabled_(auth_disabled) {
  for (const auto& k : api_keys) key_digests_.push_back(sha256(k));
}

std::optional<hook_refusal> static_key_hooks::authenticate(const std::string& authorization,
                                                           principal* out) {
  if (auth_disabled_) {
    out->id = "anonymous";
    return std::nullopt;
  }
  static const std::string scheme = "Bearer ";
  if (authorization.empty())
    return refuse("You didn't provide an API key. Provide it in the Authorization header "
                  "(Authorization: Bearer YOUR_KEY).");
  if (authorization.size() <= scheme.size() ||
      authorization.compare(0, scheme.size(), scheme) != 0)
    return refuse("The Authorization header must be 'Bearer YOUR_KEY'.");
  const digest given = sha256(authorization.substr(scheme.size()));
  bool match = false;
  for (const digest& d : key_digests_) match |= CRYPTO_memcmp(d.data(), given.data(), d.size()) == 0;
  if (!match) return refuse("Incorrect API key provided.");
  char id[32];
  std::snprintf(id, sizeof id, "key:%02x%02x%02x%02x", given[0], given[1], given[2], given[3]);
  out->id = id;
  return std::nullopt;
}

std::optional<hook_refusal> static_key_hooks::admit(const principal&, const std::string&, int64_t,
                                                    admission*) {
  return std::nullopt;
}

void static_key_hooks::record(const principal&, int64_t, const request_record&) {}

}  // namespace troupe::net
