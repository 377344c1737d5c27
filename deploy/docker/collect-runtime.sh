#!/usr/bin/env bash
# Stages the troupe binary and the shared libraries it needs into ROOT
# (ROOT/bin/troupe, ROOT/lib/*.so*, ROOT/share/troupe/models), so that the
# runtime image copies one folder and installs no -dev package. The C library,
# the loader and the CUDA driver/runtime libraries are left to the base image.
# Used by both Dockerfiles' build stages; deploy/check/run.sh runs it on a
# local build to check the staged binary starts with only these libraries.
# usage: collect-runtime.sh BUILD_DIR SOURCE_DIR ROOT
set -euo pipefail
build=$1 src=$2 root=$3
mkdir -p "$root/bin" "$root/lib" "$root/share/troupe"
install -m 0755 "$build/troupe" "$root/bin/troupe"
ldd "$build/troupe" | awk '/=> \// { print $3 }' | while read -r lib; do
  case "$(basename "$lib")" in
    # glibc, the loader and libstdc++'s peers stay the base image's; the GPU
    # driver and CUDA runtime come from the CUDA base image (or the host).
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libgcc_s.so*) continue ;;
    libcuda.so*|libcudart.so*|libcublas*.so*|libnvidia*) continue ;;
  esac
  cp -L "$lib" "$root/lib/"
done
cp -r "$src/models" "$root/share/troupe/"
echo "collect-runtime: $(ls "$root/lib" | wc -l) libraries staged in $root/lib"
