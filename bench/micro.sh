#!/bin/sh
# micro.sh -- the alu and mem benchmarks of DESIGN.md 9, side by side with
# their C peers (gcc -O2), medians of RUNS runs each.  Prints one JSON line
# per result:
#   {"bench":"alu","engine":"jit","dvm_s":...,"peer":"c-O2","peer_s":...,"ratio":...}
# The interpreter runs alu on a chain 2^SHIFT times shorter (its time is
# scaled up by that factor, and the line says so with "scaled_by"); every
# result is checked against the peer's on the same input.
#
# usage: bench/micro.sh [RUNS]     (from anywhere; build/dvm must exist;
#        BENCHES="alu mem" chooses the benchmarks, DVM the binary)
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-3}
SHIFT=6                                 # interp alu: 2^31 / 2^6 steps
. bench/lib.sh
bench_init micro.sh
gcc -O2 -o "$OUT/alu_peer" bench/alu_peer.c
gcc -O2 -o "$OUT/mem_peer" bench/mem_peer.c

SEED=88172645463325252 A=6364136223846793005 C=1442695040888963407
COUNT=2147483648
SMALL=$((COUNT >> SHIFT))
sed "s/^count: *\.quad .*/count:  .quad $SMALL/" bench/alu.dasm > "$OUT/alu_small.dasm"

# timed OUTFILE CMD...: runs CMD with stdout to OUTFILE; prints seconds.
timed() {
    f=$1; shift
    wait_idle
    t0=$(now)
    "$@" > "$f"
    t1=$(now)
    echo "$t0 $t1" | awk '{ printf "%.4f\n", $2 - $1 }'
}

# bench NAME EXPECTED CMD...: runs CMD RUNS times, checks its output
# against EXPECTED, prints the median time.
bench() {
    name=$1 want=$2; shift 2
    : > "$OUT/$name.times"
    i=0
    while [ $i -lt "$RUNS" ]; do
        timed "$OUT/$name.out" "$@" >> "$OUT/$name.times"
        got=$(tail -n 1 "$OUT/$name.out")
        if [ "$got" != "$want" ]; then
            echo "micro.sh: $name: result $got, expected $want" >&2
            exit 1
        fi
        i=$((i + 1))
    done
    median < "$OUT/$name.times"
}

# json BENCH ENGINE DVM_S PEER_S [EXTRA]
json() {
    awk -v b="$1" -v e="$2" -v d="$3" -v p="$4" -v x="${5:-}$(load_json)" 'BEGIN {
        printf "{\"bench\":\"%s\",\"engine\":\"%s\",\"dvm_s\":%.4f,\"peer\":\"c-O2\",\"peer_s\":%.4f,\"ratio\":%.3f%s}\n",
               b, e, d, p, d / p, x }'
}

# ---- alu ----
case " ${BENCHES:-alu mem} " in *" alu "*)
want=$("$OUT/alu_peer" $SEED $COUNT $A $C)
want_small=$("$OUT/alu_peer" $SEED $SMALL $A $C)
peer=$(bench alu_peer "$want" "$OUT/alu_peer" $SEED $COUNT $A $C)
jit=$(bench alu_jit "$want" "$DVM" run --engine jit --dump result:1:uq bench/alu.dasm)
json alu jit "$jit" "$peer"
interp=$(bench alu_interp "$want_small" "$DVM" run --engine interp --dump result:1:uq "$OUT/alu_small.dasm")
scaled=$(echo "$interp" | awk -v s=$SHIFT '{ printf "%.4f", $1 * 2 ^ s }')
json alu interp "$scaled" "$peer" ",\"scaled_by\":$((1 << SHIFT)),\"measured_s\":$interp"
;; esac

# ---- mem ----
case " ${BENCHES:-alu mem} " in *" mem "*)
WORDS=134217728                         # 1 GiB of 64-bit words
want=$("$OUT/mem_peer" $WORDS)
peer=$(bench mem_peer "$want" "$OUT/mem_peer" $WORDS)
for engine in jit interp; do
    t=$(bench "mem_$engine" "$want" "$DVM" run --engine $engine --dump result:1:uq bench/mem.dasm)
    json mem $engine "$t" "$peer"
done
;; esac
