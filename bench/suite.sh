#!/bin/sh
# suite.sh -- every program of the conformance suite (tests/conformance,
# with its `# ARGS:` header) on the interpreter and on the jit engine, in
# turn, run after run; the median wall time (and CPU time, user + system
# of all the run's processes: GNU time) of RUNS runs of `dvm run -n 2`
# each.  The outputs are the suite's business (ctest); this only times.
# One JSON line per program:
#   {"bench":"suite","prog":"call","interp_s":...,"jit_s":...,"ratio":...,
#    "interp_cpu_s":...,"jit_cpu_s":...}
#
# usage: bench/suite.sh [RUNS]       (DVM=path/to/dvm, default build/dvm)
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-5}
. bench/lib.sh
bench_init suite.sh

# once ENGINE PROG ARGS: appends "wall cpu" seconds of one run (its
# output discarded; cpu: user + system of all its processes) to
# $OUT/suite_ENGINE.times.
once() {
    # shellcheck disable=SC2086  # ARGS is split into words on purpose
    /usr/bin/time -f "%e %U %S" -o "$OUT/suite.time" \
        "$DVM" run --engine "$1" -n 2 $3 "$2" > /dev/null 2>&1
    tail -n 1 "$OUT/suite.time" |
        awk '{ printf "%.4f %.4f\n", $1, $2 + $3 }' >> "$OUT/suite_$1.times"
}

# med ENGINE K: the median of field K of the ENGINE times.
med() {
    cut -d' ' -f"$2" "$OUT/suite_$1.times" | median
}

for prog in tests/conformance/*.dasm; do
    name=$(basename "$prog" .dasm)
    args=$(sed -n '/^#/!q; s/^# ARGS: \{0,1\}//p' "$prog")
    : > "$OUT/suite_interp.times"
    : > "$OUT/suite_jit.times"
    i=0
    while [ $i -lt "$RUNS" ]; do
        once interp "$prog" "$args"
        once jit "$prog" "$args"
        i=$((i + 1))
    done
    awk -v p="$name" -v a="$(med interp 1)" -v b="$(med jit 1)" \
        -v c="$(med interp 2)" -v d="$(med jit 2)" 'BEGIN {
        printf "{\"bench\":\"suite\",\"prog\":\"%s\",\"interp_s\":%.4f,\"jit_s\":%.4f,\"ratio\":%.3f,\"interp_cpu_s\":%.3f,\"jit_cpu_s\":%.3f}\n",
               p, a, b, b / a, c, d }'
done
