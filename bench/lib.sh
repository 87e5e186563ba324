# lib.sh -- helpers the shell benchmarks share (sourced, from the
# repository root): the dvm binary, the output folder, times and medians.
#   bench_init NAME: DVM (default build/dvm) must be built; makes OUT.

OUT=bench/out

# Translations are kept across runs by default (~/.cache/dvm/jit); the
# benchmarks time a program's first run on a host, where every run
# translates, unless DVM_JIT_KEEP is set (bench/peers/benchlib.py alike).
export DVM_JIT_KEEP="${DVM_JIT_KEEP-off}"

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

# wait_idle: waits until the 1-minute load average is below BENCH_LOAD_MAX
# (default half the cores), at most BENCH_LOAD_WAIT seconds (default 120);
# keeps the highest load seen in $OUT/load (load_json prints it for a JSON
# line and starts over).  The same rule as bench/peers/benchlib.py.
wait_idle() {
    max=${BENCH_LOAD_MAX:-$(nproc | awk '{ print ($1 / 2 < 0.5) ? 0.5 : $1 / 2 }')}
    left=${BENCH_LOAD_WAIT:-120}
    while :; do
        l=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
        busy=$(awk -v l="$l" -v m="$max" 'BEGIN { print (l >= m) }')
        [ "$busy" = 1 ] && [ "$left" -gt 0 ] || break
        sleep 2
        left=$((left - 2))
    done
    echo "$l $busy" >> "$OUT/load"
}

# load_json: ,"load1":HIGHEST,"load_busy":true|false for the runs since the
# last call
load_json() {
    [ -s "$OUT/load" ] || { rm -f "$OUT/load"; return 0; }
    awk '{ if ($1 > m) m = $1; if ($2) b = 1 } END {
        printf ",\"load1\":%.2f,\"load_busy\":%s", m, b ? "true" : "false" }' "$OUT/load"
    rm -f "$OUT/load"
}
