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
