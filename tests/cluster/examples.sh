#!/bin/sh
# examples.sh DVM ENGINE NODES -- a master and NODES nodes on loopback run
# the examples: output, dumps and exit codes identical to dvm run.
dvm=$1 engine=$2 nodes=$3
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
cluster_start "$nodes" 2
same --dump result:1:q "$ex/sum.dasm"
same --dump counter:1:q "$ex/counter.dasm"
same --dump slots+16:1:q "$ex/treesum.dasm"
same "$ex/hello.dasm"
same "$ex/producers.dasm"
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
echo "ok: examples identical on $nodes nodes"
