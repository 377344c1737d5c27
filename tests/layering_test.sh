#!/usr/bin/env bash
# Fails when a source file includes a header from a layer above its own.
# Allowed: net -> actors -> actors/engine -> gpu; config is a leaf read by net
# and actors. Layers and what each may include (besides itself):
set -u
root=${1:?repository root}
cd "$root" || exit 2
allowed() {  # $1 = including layer, $2 = included layer
  case "$1:$2" in
    gpu:gpu) return 0 ;;
    engine:engine|engine:gpu) return 0 ;;
    actors:actors|actors:engine|actors:gpu|actors:config) return 0 ;;
    net:net|net:actors|net:engine|net:gpu|net:config) return 0 ;;
    config:config) return 0 ;;
  esac
  return 1
}
layer_of() {
  case "$1" in
    gpu/*) echo gpu ;;
    actors/engine/*) echo engine ;;
    actors/*) echo actors ;;
    net/*) echo net ;;
    config/*) echo config ;;
    *) echo "" ;;
  esac
}
bad=0
while IFS= read -r file; do
  from=$(layer_of "$file")
  [ -n "$from" ] || continue
  while IFS= read -r inc; do
    to=$(layer_of "$inc")
    [ -n "$to" ] || continue
    if ! allowed "$from" "$to"; then
      echo "upward include: $file ($from) includes \"$inc\" ($to)"
      bad=1
    fi
  done < <(grep -hoE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^"]+"' "$file" |
           sed -E 's/.*"([^"]+)".*/\1/')
done < <(git ls-files -co --exclude-standard -- gpu actors net config |
         grep -E '\.(hpp|cpp|cu|cuh|h)$')
if [ "$bad" -eq 0 ]; then echo "layering: no upward includes"; fi
exit "$bad"
