#!/bin/bash
# scaling.sh DIR [MAXN] -- scaling runs over RComp counts 1, 2, 4, ... MAXN
# (default: nproc), for a many-core host that may lack the build tools:
# DIR holds a self-contained `dvm` (built with -DDVM_LLVM_STATIC=ON and
# stripped), static peers prime_omp, kmeans_omp and spawn (gcc -O2
# -fopenmp -static), and the data files prime_1000000000_1000_1000.bin,
# kmeans_1_100000_1000_5_64.bin, count_100000.bin (made by bench/prime,
# bench/kmeans and bench/tasks).  Prints one JSON line per result, medians
# of REPS runs (default 3); the DVM's prime count is checked against the
# OpenMP peer's before any time is printed.
#
# Then the cluster on the same host: MAXN RComps in all, spread over 1, 2,
# 4, ... node processes (MAXNODES, default 8, at most MAXN) of a master on
# loopback, prime and k-means through `dvm submit`, against `dvm run -n
# MAXN` in the same run ("cluster-nodes" lines; targets: ratio_vs_run
# <= 1.10 prime, <= 1.25 k-means).  Every submitted result must equal
# dvm run's.  NODES=0 skips this part.
set -euo pipefail
dir=$1
maxn=${2:-$(nproc)}
reps=${REPS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
dvm=$dir/dvm

# median_time CMD... -- runs CMD reps times; prints the median seconds and
# leaves the last run's stdout in the file $lastf.
lastf=$(mktemp)
trap 'rm -f "$lastf"' EXIT
median_time() {
    local times=()
    for ((r = 0; r < reps; r++)); do
        local t0 t1
        t0=$(date +%s.%N)
        "$@" > "$lastf" 2>/dev/null
        t1=$(date +%s.%N)
        times+=("$(echo "$t1 - $t0" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

json() { echo "{$1}"; }

prime_in=$dir/prime_1000000000_1000_1000.bin
kmeans_in=$dir/kmeans_1_100000_1000_5_64.bin
count_in=$dir/count_100000.bin
n=1
while [ "$n" -le "$maxn" ]; do
    t=$(median_time "$dvm" run --engine jit -n "$n" --in "params=$prime_in" \
        "$root/examples/prime.dasm")
    dvm_count=$(cat "$lastf")
    to=$(OMP_NUM_THREADS=$n median_time "$dir/prime_omp" 1000000000 1000 1000)
    omp_count=$(head -1 "$lastf")
    [ "$dvm_count" = "$omp_count" ] || { echo "prime mismatch: $dvm_count vs $omp_count" >&2; exit 1; }
    json "\"bench\":\"prime\",\"rcomps\":$n,\"dvm_s\":$t,\"peer\":\"c-openmp\",\"peer_s\":$to,\"ratio\":$(echo "$t / $to" | bc -l | cut -c1-6),\"primes\":$dvm_count"
    t=$(median_time "$dvm" run --engine jit -n "$n" --in "count=$count_in" \
        "$root/bench/runner.dasm")
    json "\"bench\":\"runner\",\"rcomps\":$n,\"runners\":100000,\"dvm_s\":$t,\"us_per_runner\":$(echo "$t * 10" | bc -l | cut -c1-6)"
    t=$(median_time "$dvm" run --engine jit -n "$n" --in "count=$count_in" \
        "$root/bench/commit.dasm")
    json "\"bench\":\"commit\",\"rcomps\":$n,\"commits\":100000,\"dvm_s\":$t,\"commits_per_s\":$(echo "100000 / $t" | bc -l | cut -d. -f1)"
    n=$((n * 2))
done
reps=1
n=1
while [ "$n" -le "$maxn" ]; do
    t=$(median_time "$dvm" run --engine jit -n "$n" --in "points=$kmeans_in" \
        "$root/examples/kmeans.dasm")
    to=$(OMP_NUM_THREADS=$n median_time "$dir/kmeans_omp" "$kmeans_in")
    json "\"bench\":\"kmeans\",\"rcomps\":$n,\"dvm_s\":$t,\"peer\":\"c-openmp\",\"peer_s\":$to,\"ratio\":$(echo "$t / $to" | bc -l | cut -c1-6)"
    n=$((n * 4))
done
s=$("$dir/spawn" 20000 2>&1 | tr '\n' ' ')
json "\"bench\":\"spawn-peer\",\"output\":\"$s\""

# ---- the cluster: MAXN RComps over 1, 2, 4, ... nodes --------------------
[ "${NODES:-1}" = 0 ] && exit 0
maxnodes=${MAXNODES:-8}
work=$(mktemp -d)
cpids=""
cluster_stop() {
    # shellcheck disable=SC2086
    [ -n "$cpids" ] && kill $cpids 2>/dev/null && wait $cpids 2>/dev/null
    cpids=""
}
trap 'cluster_stop; rm -rf "$work" "$lastf"' EXIT
# cluster_start K: a master and K nodes sharing MAXN RComps; sets port.
cluster_start() {
    local k=$1 i r
    rm -f "$work/port" "$work/master.log"
    "$dvm" master --listen 127.0.0.1:0 --port-file "$work/port" \
        2> "$work/master.log" &
    cpids="$!"
    for ((i = 0; i < 200; i++)); do [ -s "$work/port" ] && break; sleep 0.05; done
    port=$(cat "$work/port")
    for ((i = 0; i < k; i++)); do
        r=$((maxn / k + (i < maxn % k ? 1 : 0)))
        "$dvm" node --master "127.0.0.1:$port" --rcomps "$r" \
            --name "n$i" 2> "$work/node$i.log" &
        cpids="$cpids $!"
    done
    for ((i = 0; i < 400; i++)); do
        [ "$(grep -c ' joined ' "$work/master.log")" -ge "$k" ] && return 0
        sleep 0.05
    done
    echo "cluster of $k nodes did not come up" >&2
    cat "$work/master.log" >&2
    exit 1
}
reps=${REPS:-3}
for prog in prime kmeans; do
    case $prog in
        prime) args=(--in "params=$prime_in" "$root/examples/prime.dasm") ;;
        kmeans) args=(--in "points=$kmeans_in" --dump centroids:64:f
                      "$root/examples/kmeans.dasm") ;;
    esac
    run_s=$(median_time "$dvm" run --engine jit -n "$maxn" "${args[@]}")
    want=$(cat "$lastf")
    k=1
    while [ "$k" -le "$maxnodes" ] && [ "$k" -le "$maxn" ]; do
        cluster_start "$k"
        t=$(median_time "$dvm" submit --master "127.0.0.1:$port" \
            --engine jit "${args[@]}")
        [ "$(cat "$lastf")" = "$want" ] ||
            { echo "$prog on $k nodes differs from dvm run" >&2; exit 1; }
        cluster_stop
        json "\"bench\":\"cluster-nodes\",\"prog\":\"$prog\",\"nodes\":$k,\"rcomps\":$maxn,\"s\":$t,\"run_s\":$run_s,\"ratio_vs_run\":$(echo "$t / $run_s" | bc -l | cut -c1-6)"
        k=$((k * 2))
    done
done
