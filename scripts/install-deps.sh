#!/usr/bin/env bash
# Installs, from Debian 12 only, whatever Troupe needs that is not there yet.
# Idempotent: asks apt-get only for absent packages. `--test` adds what the
# test suite uses (real servers and clients: PostgreSQL, sqlite3, jinja2, jsonschema, curl,
# Node.js for the OpenAI SDK and ws clients).
set -euo pipefail
build_pkgs=(cmake ninja-build g++ pkg-config ccache openssl
  libcaf-dev libboost1.81-dev libboost-json1.81-dev libssl-dev nlohmann-json3-dev
  libsqlite3-dev libpcre2-dev libutf8proc-dev libtomlplusplus-dev libpq-dev libgtest-dev)
test_pkgs=(sqlite3 postgresql python3 python3-jinja2 python3-jsonschema curl nginx-light gnuplot-nox
  haproxy prometheus
  clang libclang-rt-14-dev)  # clang + libFuzzer/ASan runtimes: tests/fuzz, scripts/fuzz.sh
pkgs=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
  pkgs+=("${test_pkgs[@]}")
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: everything is installed"
fi
