#!/bin/sh
# bench/fetch_raw.sh -- builds bench/fetch_raw.c (CMake target fetch_raw) in
# BUILD_DIR (default <repo>/build) and runs it: the raw round trip of a
# 64 B and a 4 KiB reply through the cluster transport (UCX active
# messages, UCX's own transport choice and UCX_TLS=tcp, eager and forced
# rendezvous) and over a plain TCP socket.  One JSON line per result.
#
#   bench/fetch_raw.sh [ITERS]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
[ -f "$BUILD/CMakeCache.txt" ] ||
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DDVM_WITH_LLVM=OFF >/dev/null
cmake --build "$BUILD" --target fetch_raw -j"${JOBS:-2}" >/dev/null
exec "$BUILD/fetch_raw" "$@"
