#!/bin/sh
# suite.sh -- every program of the conformance suite (tests/conformance,
# with its `# ARGS:` header) on the interpreter and on the jit engine, in
# turn, run after run; the median wall time of RUNS runs of `dvm run -n 2`
# each.  The outputs are the suite's business (ctest); this only times.
# One JSON line per program:
#   {"bench":"suite","prog":"call","interp_s":...,"jit_s":...,"ratio":...}
#
# usage: bench/suite.sh [RUNS]       (DVM=path/to/dvm, default build/dvm)
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-5}
. bench/lib.sh
bench_init suite.sh

# once ENGINE PROG ARGS: seconds of one run (its output discarded).
once() {
    t0=$(now)
    # shellcheck disable=SC2086  # ARGS is split into words on purpose
    "$DVM" run --engine "$1" -n 2 $3 "$2" > /dev/null 2>&1
    t1=$(now)
    echo "$t0 $t1" | awk '{ printf "%.4f\n", $2 - $1 }'
}

for prog in tests/conformance/*.dasm; do
    name=$(basename "$prog" .dasm)
    args=$(sed -n '/^#/!q; s/^# ARGS: \{0,1\}//p' "$prog")
    : > "$OUT/suite_interp.times"
    : > "$OUT/suite_jit.times"
    i=0
    while [ $i -lt "$RUNS" ]; do
        once interp "$prog" "$args" >> "$OUT/suite_interp.times"
        once jit "$prog" "$args" >> "$OUT/suite_jit.times"
        i=$((i + 1))
    done
    awk -v p="$name" -v a="$(median < "$OUT/suite_interp.times")" \
        -v b="$(median < "$OUT/suite_jit.times")" 'BEGIN {
        printf "{\"bench\":\"suite\",\"prog\":\"%s\",\"interp_s\":%.4f,\"jit_s\":%.4f,\"ratio\":%.3f}\n",
               p, a, b, b / a }'
done
