#include "net/tls/self_signed.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace troupe::net {
namespace {

namespace fs = std::filesystem;

TEST(SelfSignedCert, IsP256ForLocalhostAndReusedOnTheNextStart) {
  fs::path dir = fs::temp_directory_path() / ("troupe-cert-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::string err;
  auto first = load_or_create_self_signed(dir.string(), &err);
  ASSERT_TRUE(first) << err;
  EXPECT_TRUE(first->created);
  struct stat st {};
  ASSERT_EQ(::stat(first->key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  BIO* bio = BIO_new_mem_buf(first->cert_pem.data(), int(first->cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(cert, "example.com", 0, 0, nullptr), 0);
  EVP_PKEY* key = X509_get0_pubkey(cert);
  char group[64] = {};
  size_t len = 0;
  EVP_PKEY_get_group_name(key, group, sizeof group, &len);
  EXPECT_STREQ(group, "prime256v1");
  X509_free(cert);

  auto second = load_or_create_self_signed(dir.string(), &err);
  ASSERT_TRUE(second) << err;
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->cert_pem, first->cert_pem);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace troupe::net
