#!/usr/bin/env bash
# Checks everything under deploy/ with the real tools, each of which can fail:
#   haproxy -c             the HAProxy config
#   promtool               Prometheus config, alert/recording rules and their unit tests
#   kubectl kustomize      each overlay renders (when kubectl is installed)
#   validate_k8s.mjs       every rendered (or, without kubectl, every base) object
#                          against the Kubernetes API schemas (npm kubernetes-models)
#   check_dashboard.py     the Grafana JSON; its PromQL parsed by promtool
#   check_compose.mjs      the compose file's structure and cross-references
#   collect-runtime.sh     the Dockerfiles' staging step on a local build: the
#                          staged binary must start with only the staged libraries
# usage: deploy/check/run.sh [BUILD_DIR]   (exit 77 when a required tool is missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
export NODE_PATH=${NODE_PATH:-$root/tests/node/node_modules}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for tool in haproxy promtool node python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/install-deps.sh --test)"; exit 77; }
done

echo "== haproxy -c"
TROUPE_LB_BIND=:8080 TROUPE_LB_STATS=:8404 TROUPE_GATEWAY_1=gateway-1:8000 TROUPE_GATEWAY_2=gateway-2:8000 \
  haproxy -c -f "$root/deploy/haproxy/haproxy.cfg"

echo "== promtool"
promtool check config "$root/deploy/prometheus/prometheus.yml"
promtool check rules "$root/deploy/prometheus/troupe-recording.yml" "$root/deploy/prometheus/troupe-alerts.yml"
(cd "$root/deploy/prometheus" && promtool test rules troupe-rules-test.yml)

echo "== Kubernetes manifests"
if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
  for overlay in "$root"/deploy/k8s/overlays/*/; do
    name=$(basename "$overlay")
    kubectl kustomize "$overlay" > "$tmp/k8s-$name.yaml"
    echo "kustomize $name: $(grep -c '^kind:' "$tmp/k8s-$name.yaml") objects"
  done
  node "$root/deploy/check/validate_k8s.mjs" "$tmp"/k8s-*.yaml
else
  echo "kubectl not installed: validating the base manifests without kustomize"
  node "$root/deploy/check/validate_k8s.mjs" $(ls "$root"/deploy/k8s/base/*.yaml | grep -v kustomization.yaml)
fi

echo "== Grafana dashboard"
python3 "$root/deploy/check/check_dashboard.py" "$root" "$tmp/dashboard-rules.yml"
promtool check rules "$tmp/dashboard-rules.yml"

echo "== compose"
node "$root/deploy/check/check_compose.mjs" "$root/deploy/compose"

echo "== image staging (the Dockerfiles' collect-runtime step)"
if [ -x "$build/troupe" ]; then
  "$root/deploy/docker/collect-runtime.sh" "$build" "$root" "$tmp/stage"
  env -i LD_LIBRARY_PATH="$tmp/stage/lib" "$tmp/stage/bin/troupe" serve --help > "$tmp/help.txt"
  grep -q -- "--shutdown-grace-ms" "$tmp/help.txt"
  test -f "$tmp/stage/share/troupe/models/troupe-tiny-chat/config.json"
  echo "staged binary starts with only its staged libraries (and the CUDA runtime, which the CUDA base image provides)"
else
  echo "no built troupe in $build: staging step skipped"
fi
echo "deploy checks passed"
