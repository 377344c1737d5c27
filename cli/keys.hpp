#pragma once
namespace troupe::cli {
// troupe keys create [--name N] [--rpm R] [--tpm T] [--models M,…] [--db PATH]
// troupe keys list [--db PATH]
// troupe keys revoke ID [--db PATH]
// argv[1] is "keys". The key text is printed once, by create, on stdout.
int run_keys(int argc, char** argv);
}  // namespace troupe::cli
