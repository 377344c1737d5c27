#pragma once
// A self-signed P-256 certificate for `troupe serve` when TLS is on and no
// certificate is configured: made once in-process (OpenSSL 3), kept in
// <state_dir>/tls/, and reused on later starts.
#include <optional>
#include <string>

namespace troupe::net {

struct tls_files {
  std::string cert_path;
  std::string key_path;
  std::string cert_pem;
  std::string key_pem;
  bool created = false;  // false: reused from an earlier start
};

// Loads <dir>/cert.pem and <dir>/key.pem, or creates them (SAN localhost and
// 127.0.0.1, valid 365 days). On failure returns nullopt and sets *error.
std::optional<tls_files> load_or_create_self_signed(const std::string& dir, std::string* error);

// Reads a configured certificate and key.
std::optional<tls_files> load_tls_files(const std::string& cert_path, const std::string& key_path,
                                        std::string* error);

}  // namespace troupe::net
