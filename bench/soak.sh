#!/bin/sh
# soak.sh -- the cluster's fault injection, over and over, by hand (not a
# test of the suite): tests/cluster/faults.sh (kill -9 of RComps and
# nodes, nodes leaving, during the counter, the tree sum and k-means on 4
# nodes) and, as root with network namespaces, tests/cluster/linkcut.sh (a
# node's link cut for 3 s; netem loss, delay and reordering where the
# kernel has it), alternately, for MINUTES.  One JSON line per run:
#   {"bench":"soak","test":"faults","run":7,"ok":true,"secs":4.1,
#    "runs":7,"failures":0}
# (runs and failures so far, all tests together); the log of a failed run
# is kept as bench/out/soak-RUN.log.  Exit status 1 when any run failed.
# There is no peer to compare with: the figure is the failure count.
#
# usage: bench/soak.sh [MINUTES] [ENGINE]   (default 10, interp; build/dvm,
#        build/wl_gen_points and build/wl_kmeans_ref must exist)
set -eu
cd "$(dirname "$0")/.."
MIN=${1:-10} ENGINE=${2:-interp}
B=$(dirname "${DVM_BIN:-build/dvm}")
OUT=bench/out
mkdir -p "$OUT"
for f in dvm wl_gen_points wl_kmeans_ref; do
    [ -x "$B/$f" ] || { echo "soak.sh: $B/$f not built" >&2; exit 2; }
done
tests="faults"
if [ "$(id -u)" = 0 ] && ip netns add "dvmsoak$$" 2>/dev/null; then
    ip netns del "dvmsoak$$"
    tests="faults linkcut"
else
    echo "soak.sh: not root or no network namespaces: link cuts left out" >&2
fi
end=$(($(date +%s) + MIN * 60))
runs=0 failures=0
while [ "$(date +%s)" -lt "$end" ]; do
    for t in $tests; do
        runs=$((runs + 1))
        t0=$(date +%s.%N)
        ok=true
        sh "tests/cluster/$t.sh" "$B/dvm" "$ENGINE" "$B/wl_gen_points" \
            "$B/wl_kmeans_ref" > "$OUT/soak-$runs.log" 2>&1 || ok=false
        secs=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }')
        if [ $ok = true ]; then
            rm -f "$OUT/soak-$runs.log"
        else
            failures=$((failures + 1))
        fi
        printf '{"bench":"soak","test":"%s","run":%d,"ok":%s,"secs":%s,"runs":%d,"failures":%d}\n' \
            "$t" "$runs" "$ok" "$secs" "$runs" "$failures"
    done
done
[ "$failures" = 0 ]
