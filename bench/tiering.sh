#!/bin/sh
# tiering.sh -- the translator on programs where translating costs more
# than it saves, side by side with the interpreter: calls (bench/
# gen_calls.sh 800: 800 return points of c0-style functions, each reached
# once through `br:j (c0.ra)`) and straight (bench/gen_straight.sh
# 2000000: two million instructions run once).  Medians of RUNS runs; each
# result checked against the generator's before its time is printed.  One
# JSON line per program and engine:
#   {"bench":"calls","engine":"jit","s":...,"peak_kb":...,"interp_s":...,"ratio_vs_interp":...}
# peak_kb: the largest resident set of the run's processes (GNU time %M).
#
# usage: bench/tiering.sh [RUNS]     (DVM=path/to/dvm, default build/dvm;
#        PROGS="calls:800 straight:2000000", the programs and their sizes)
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-3}
. bench/lib.sh
bench_init tiering.sh
[ -x /usr/bin/time ] || { echo "tiering.sh: needs GNU time" >&2; exit 2; }

# once NAME ENGINE WANT: one run of the program on ENGINE, checked;
# appends "s peak_kb" to $OUT/NAME_ENGINE.times.
once() {
    /usr/bin/time -f "%e %M" -o "$OUT/$1_$2.time" \
        "$DVM" run -n 1 --engine "$2" --dump result:1:uq \
        "$OUT/$1.dasm" > "$OUT/$1_$2.out"
    got=$(tail -n 1 "$OUT/$1_$2.out")
    if [ "$got" != "$3" ]; then
        echo "tiering.sh: $1 on $2: result $got, expected $3" >&2
        exit 1
    fi
    tail -n 1 "$OUT/$1_$2.time" >> "$OUT/$1_$2.times"
}

# field NAME ENGINE K: the median of field K of the NAME_ENGINE times.
field() {
    cut -d' ' -f"$3" "$OUT/$1_$2.times" | median
}

# The engines run in turn, run after run, so that a load on the machine
# weighs on both alike.
for prog in ${PROGS:-calls:800 straight:2000000}; do
    name=${prog%%:*} n=${prog#*:}
    sh "bench/gen_$name.sh" "$n" > "$OUT/$name.dasm"
    want=$(sh "bench/gen_$name.sh" "$n" expect)
    : > "$OUT/${name}_interp.times"
    : > "$OUT/${name}_jit.times"
    i=0
    while [ $i -lt "$RUNS" ]; do
        once "$name" interp "$want"
        once "$name" jit "$want"
        i=$((i + 1))
    done
    is=$(field "$name" interp 1)
    for engine in interp jit; do
        awk -v b="$name" -v e="$engine" -v s="$(field "$name" $engine 1)" \
            -v kb="$(field "$name" $engine 2)" -v i="$is" -v n="$n" 'BEGIN {
            printf "{\"bench\":\"%s\",\"n\":%d,\"engine\":\"%s\",\"s\":%.3f,\"peak_kb\":%d,\"interp_s\":%.3f,\"ratio_vs_interp\":%.3f}\n",
                   b, n, e, s, kb, i, s / i }'
    done
done
