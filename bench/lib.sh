# lib.sh -- helpers the shell benchmarks share (sourced, from the
# repository root): the dvm binary, the output folder, times and medians.
#   bench_init NAME: DVM (default build/dvm) must be built; makes OUT.

OUT=bench/out

bench_init() {
    DVM=${DVM:-build/dvm}
    mkdir -p "$OUT"
    [ -x "$DVM" ] || { echo "$1: $DVM not built" >&2; exit 2; }
}

# now: seconds since the epoch, with nanoseconds
now() { date +%s.%N; }

# median of the numbers on stdin
median() {
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
