#!/bin/sh
# examples.sh DVM ENGINE NODES -- a master and NODES nodes on loopback run
# the examples: output, dumps and exit codes identical to dvm run; the
# results bring masks only from 2 nodes on (the default), their pages'
# data with DVM_TEST_RESULTS_WITH_DATA set.
dvm=$1 engine=$2 nodes=$3
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
cluster_start "$nodes" 2
same --dump result:1:q "$ex/sum.dasm"
same --dump counter:1:q "$ex/counter.dasm"
same --dump slots+16:1:q "$ex/treesum.dasm"
same "$ex/hello.dasm"
same "$ex/producers.dasm"
# Output in frames (the node ships them up with the result): 8 MiB in one
# commit on stdout and 5000 bytes in a file, byte for byte as dvm run.
sed 's/PAGES, 65536/PAGES, 2048/' \
    "$(dirname "$0")/../system/big_output.dasm" > "$work/out8.dasm"
"$dvm" run -n 2 --engine "$engine" --out side="$work/side.run" \
    "$work/out8.dasm" > "$work/out.run"
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --out side="$work/side.sub" "$work/out8.dasm" > "$work/out.sub"
[ "$(wc -c < "$work/out.sub")" -eq $((2048 * 4096)) ] &&
    cmp "$work/out.run" "$work/out.sub" &&
    cmp "$work/side.run" "$work/side.sub" ||
    { echo "FAIL: output in frames differs through submit"; exit 1; }
# A full device: said once, exit status 2 (as dvm run).
set +e
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --out side=/dev/full "$work/out8.dasm" > /dev/null 2> "$work/full.err"
rc=$?
set -e
[ $rc -eq 2 ] && [ "$(grep -c 'No space left' "$work/full.err")" -eq 1 ] &&
    grep -q '^dvm: error: writing channel side: ' "$work/full.err" ||
    { echo "FAIL: full device through submit: rc $rc"; cat "$work/full.err"
      exit 1; }
same "$ex/pipeline.dasm"
# --stats and --trace come back to the client: one slice per runner run.
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --stats --trace "$work/t.json" "$ex/treesum.dasm" > /dev/null 2> "$work/stats"
python3 - "$work/t.json" "$work/stats" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
stats = open(sys.argv[2]).read()
runs = [e for e in doc["traceEvents"] if e["ph"] == "X"]
n_run = int(stats.split("runners: run ")[1].split(",")[0])
assert len(runs) == n_run and n_run > 0, (len(runs), n_run)
PY
# Results bring masks only by default, once two nodes home pages, and
# their pages' data with --results-with-data (its test hook here).
if [ -n "${DVM_TEST_RESULTS_WITH_DATA:-}" ] || [ "$nodes" -lt 2 ]; then
    ! grep -q 'results bring masks only' "$work/master.log" ||
        { echo "FAIL: masks only on $nodes nodes, asked for data"; exit 1; }
else
    grep -q 'results bring masks only' "$work/master.log" ||
        { echo "FAIL: not masks only by default on $nodes nodes"; exit 1; }
fi
echo "ok: examples identical on $nodes nodes"
