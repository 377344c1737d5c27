#include "net/tls/self_signed.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace troupe::net {
namespace {

template <class T, void (*F)(T*)>
struct deleter {
  void operator()(T* p) const { F(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION, X509_EXTENSION_free>>;

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

bool add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ext_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool make_cert(std::string* cert_pem, std::string* key_pem) {
  pkey_ptr key(EVP_EC_gen("P-256"));
  x509_ptr cert(X509_new());
  if (!key || !cert) return false;
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (!add_ext(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") ||
      !add_ext(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(cert.get(), NID_subject_key_identifier, "hash"))
    return false;
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return false;
  bio_ptr cb(BIO_new(BIO_s_mem())), kb(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(cb.get(), cert.get())) return false;
  if (!PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)) return false;
  *cert_pem = bio_text(cb.get());
  *key_pem = bio_text(kb.get());
  return true;
}

}  // namespace

std::optional<tls_files> load_tls_files(const std::string& cert_path, const std::string& key_path,
                                        std::string* error) {
  tls_files f;
  f.cert_path = cert_path;
  f.key_path = key_path;
  auto cert = read_file(cert_path);
  auto key = read_file(key_path);
  if (!cert) {
    *error = "cannot read TLS certificate '" + cert_path + "'";
    return std::nullopt;
  }
  if (!key) {
    *error = "cannot read TLS key '" + key_path + "'";
    return std::nullopt;
  }
  f.cert_pem = *cert;
  f.key_pem = *key;
  return f;
}

std::optional<tls_files> load_or_create_self_signed(const std::string& dir, std::string* error) {
  namespace fs = std::filesystem;
  const std::string cert_path = (fs::path(dir) / "cert.pem").string();
  const std::string key_path = (fs::path(dir) / "key.pem").string();
  std::error_code ec;
  if (fs::exists(cert_path, ec) && fs::exists(key_path, ec)) return load_tls_files(cert_path, key_path, error);
  fs::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create '" + dir + "': " + ec.message();
    return std::nullopt;
  }
  tls_files f;
  f.cert_path = cert_path;
  f.key_path = key_path;
  f.created = true;
  if (!make_cert(&f.cert_pem, &f.key_pem)) {
    *error = "cannot generate a self-signed certificate (OpenSSL)";
    return std::nullopt;
  }
  // The private key is created owner-only from the start (no chmod window).
  int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool key_written = fd >= 0 && ::write(fd, f.key_pem.data(), f.key_pem.size()) ==
                                    static_cast<ssize_t>(f.key_pem.size());
  if (fd >= 0) ::close(fd);
  if (!key_written) {
    *error = "cannot write '" + key_path + "'";
    return std::nullopt;
  }
  std::ofstream c(cert_path, std::ios::binary | std::ios::trunc);
  c << f.cert_pem;
  if (!c) {
    *error = "cannot write '" + cert_path + "'";
    return std::nullopt;
  }
  return f;
}

}  // namespace troupe::net
