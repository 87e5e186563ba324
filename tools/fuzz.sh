#!/bin/sh
# fuzz.sh -- builds every libFuzzer target (src/*/*_fuzz.c) with clang,
# ASan and UBSan, and runs each for SECONDS (default 60) on a scratch copy
# of its seed corpus tests/fuzz/<name without _fuzz>/, so the committed
# corpus never grows.  Exits 1 on any crash, leak or sanitizer report,
# 77 when clang or libFuzzer is missing (ctest skips the test then).
#
#   tools/fuzz.sh [SECONDS]
#
# BUILD_DIR (default <repo>/build-fuzz), JOBS (default 2) and OPT (the
# targets' optimization, default -O1) may be set; the suite's smoke run
# builds at -O0, which takes a third less CPU to compile and still runs
# each target a thousand times or more in its seconds.
set -u
SECS=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${JOBS:-2}
OPT=${OPT:--O1}
SKIP=77

case $SECS in
    ''|*[!0-9]*) echo "usage: tools/fuzz.sh [SECONDS]" >&2; exit 2 ;;
esac
CC=$(command -v clang || command -v clang-14 || true)
if [ -z "$CC" ]; then
    echo "fuzz.sh: clang not found, skipping" >&2
    exit $SKIP
fi
# libFuzzer ships with compiler-rt; probe for it before configuring.
PROBE=$(mktemp -d) || exit 1
trap 'rm -rf "$PROBE"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$PROBE/p.c"
if ! "$CC" -fsanitize=fuzzer "$PROBE/p.c" -o "$PROBE/p" >/dev/null 2>&1; then
    echo "fuzz.sh: $CC cannot link libFuzzer, skipping" >&2
    exit $SKIP
fi

TARGETS=""
for f in "$ROOT"/src/*/*_fuzz.c; do
    [ -e "$f" ] || continue
    TARGETS="$TARGETS $(basename "$f" .c)"
done
if [ -z "$TARGETS" ]; then
    echo "fuzz.sh: no fuzz targets" >&2
    exit 0
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="$CC" -DDVM_FUZZ=ON \
      -DDVM_WITH_LLVM=OFF -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="$OPT" \
      -DCMAKE_C_FLAGS_DEBUG=-gline-tables-only >"$PROBE/cfg.log" 2>&1 || {
    cat "$PROBE/cfg.log" >&2
    echo "fuzz.sh: configure failed" >&2
    exit 1
}
# shellcheck disable=SC2086
cmake --build "$BUILD" -j"$JOBS" --target $TARGETS || {
    echo "fuzz.sh: build failed" >&2
    exit 1
}

status=0
for t in $TARGETS; do
    seeds="$ROOT/tests/fuzz/${t%_fuzz}"
    corpus="$PROBE/corpus-$t"
    mkdir -p "$corpus"
    if [ -d "$seeds" ]; then
        cp -R "$seeds"/. "$corpus"/
    else
        echo "fuzz.sh: $t: no seed corpus at $seeds" >&2
    fi
    echo "fuzz.sh: $t for ${SECS}s"
    ( cd "$PROBE" &&
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
      "$BUILD/$t" -max_total_time="$SECS" -detect_leaks=1 -timeout=10 \
                  -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
                  -artifact_prefix="$PROBE/$t-" "$corpus" \
                  >"$PROBE/$t.log" 2>&1 )
    rc=$?
    if [ $rc -ne 0 ]; then
        tail -n 60 "$PROBE/$t.log" >&2
        for a in "$PROBE/$t"-*; do
            [ -e "$a" ] || continue
            mkdir -p "$BUILD/artifacts"
            cp "$a" "$BUILD/artifacts/"
            echo "fuzz.sh: $t: reproducer saved as $BUILD/artifacts/$(basename "$a")" >&2
        done
        echo "fuzz.sh: $t FAILED (exit $rc)" >&2
        status=1
    else
        grep -E 'stat::number_of_executed_units' "$PROBE/$t.log" || true
        echo "fuzz.sh: $t ok"
    fi
done
exit $status
