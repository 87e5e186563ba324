#!/bin/sh
# cluster.sh -- the cluster DVM on loopback against dvm run on the same
# host, side by side: a master and NODES nodes of RCOMPS RComps each
# (dvm submit) against dvm run -n NODES*RCOMPS, on the counter (conflicting
# commits), the tree sum (watchers), runner.dasm (100,000 empty runners)
# and commit.dasm (100,000 one-word commits).  Every result is checked
# against dvm run's; then one JSON line per program:
#   {"bench":"treesum","engine":"jit","nodes":2,"rcomps":4,"run_s":...,
#    "cluster_s":...,"ratio":...}
# (medians of RUNS runs, whole commands).
#
# usage: bench/cluster.sh [RUNS] [NODES] [RCOMPS]   (build/dvm must exist)
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-3} NODES=${2:-2} RC=${3:-2}
DVM=${DVM_BIN:-build/dvm}
OUT=bench/out
mkdir -p "$OUT"
[ -x "$DVM" ] || { echo "cluster.sh: $DVM not built" >&2; exit 2; }
ENGINE=$("$DVM" run --engine jit examples/hello.dasm >/dev/null 2>&1 &&
         echo jit || echo interp)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; wait 2>/dev/null' EXIT
rm -f "$OUT/cluster.port"
"$DVM" master --listen 127.0.0.1:0 --port-file "$OUT/cluster.port" \
    2> "$OUT/cluster.master.log" &
pids="$pids $!"
while [ ! -s "$OUT/cluster.port" ]; do sleep 0.05; done
port=$(cat "$OUT/cluster.port")
for k in $(seq 1 "$NODES"); do
    "$DVM" node --master "127.0.0.1:$port" --rcomps "$RC" 2> /dev/null &
    pids="$pids $!"
done
while [ "$(grep -c ' joined ' "$OUT/cluster.master.log")" -lt "$NODES" ]; do
    sleep 0.05
done

median() {
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# timed_median OUTFILE CMD...: median seconds of RUNS runs; stdout of the
# last run in OUTFILE.
timed_median() {
    f=$1; shift
    for i in $(seq 1 "$RUNS"); do
        t0=$(date +%s.%N)
        "$@" > "$f"
        t1=$(date +%s.%N)
        echo "$t0 $t1" | awk '{ printf "%.4f\n", $2 - $1 }'
    done | median
}

# one NAME ARGS...: dvm run and dvm submit of ARGS, checked, one line.
one() {
    name=$1; shift
    n=$((NODES * RC))
    r=$(timed_median "$OUT/$name.run" "$DVM" run -n $n --engine "$ENGINE" "$@")
    c=$(timed_median "$OUT/$name.cluster" "$DVM" submit --master \
        "127.0.0.1:$port" --engine "$ENGINE" "$@")
    if ! cmp -s "$OUT/$name.run" "$OUT/$name.cluster"; then
        echo "cluster.sh: $name: the cluster's output differs" >&2
        exit 1
    fi
    awk -v b="$name" -v e="$ENGINE" -v nn="$NODES" -v rc="$n" -v r="$r" \
        -v c="$c" 'BEGIN { printf "{\"bench\":\"%s\",\"engine\":\"%s\",\"nodes\":%d,\"rcomps\":%d,\"run_s\":%.4f,\"cluster_s\":%.4f,\"ratio\":%.3f}\n", b, e, nn, rc, r, c, c / r }'
}

one counter --dump counter:1:q examples/counter.dasm
one treesum --dump slots+16:1:q examples/treesum.dasm
one runner bench/runner.dasm
one commit bench/commit.dasm
