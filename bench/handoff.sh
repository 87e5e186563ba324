#!/bin/sh
# bench/handoff.sh -- builds bench/handoff.c into bench/out and runs it:
# the one-way hand-off between two processes (a UNIX socket byte, an
# eventfd, a polled word in shared memory), on one CPU and on two.  One
# JSON line per result.
#
#   bench/handoff.sh [N]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$ROOT/bench/out"
${CC:-cc} -O2 -Wall -Wextra -Werror -o "$ROOT/bench/out/handoff" "$ROOT/bench/handoff.c"
exec "$ROOT/bench/out/handoff" "$@"
