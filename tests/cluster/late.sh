#!/bin/sh
# late.sh DVM ENGINE -- a program submitted to a master without nodes runs
# on the node started after it began (and gives dvm run's result); a node
# that joins during a run receives runners; __nnode and __nrcomp count
# them; dvm status lists both.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
master_start
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --dump counter:1:q "$ex/counter.dasm" > "$work/out1" 2>"$work/s1.err" &
s1=$!
sleep 0.3
node_start early 2
wait "$s1"
[ "$(cat "$work/out1")" = "$(seq 1 2000; echo 2000)" ] ||
    { echo "FAIL: counter on the late node"; exit 1; }
# A second node joins while a program runs; it must get runners.  The
# program goes on until it sees two hosts, then for 3,200 more runners:
# a program of fixed length (the tree sum, once) could end before the
# node joins on a fast machine, and the node got nothing.
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    "$(dirname "$0")/until_two.dasm" > "$work/out2" 2>"$work/s2.err" &
s2=$!
sleep 0.2
node_start late 2
wait "$s2" || { cat "$work/s2.err"; echo "FAIL: until_two exited $?"; exit 1; }
[ "$(cat "$work/out2")" = done ] ||
    { echo "FAIL: until_two: $(cat "$work/out2")"; exit 1; }
# The tree sum on both nodes gives dvm run's result.
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --dump slots+16:1:q "$ex/treesum.dasm" > "$work/out3" 2>"$work/s3.err" ||
    { cat "$work/s3.err"; echo "FAIL: tree sum exited"; exit 1; }
[ "$(cat "$work/out3")" = "$(printf '209725440\n209725440')" ] ||
    { echo "FAIL: tree sum: $(cat "$work/out3")"; exit 1; }
# The system page: both nodes, their four RComps.
got=$(timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
      "$(dirname "$0")/sysinfo.dasm")
[ "$got" = "2 4" ] || { echo "FAIL: __nnode __nrcomp: '$got', expected '2 4'"; exit 1; }
"$dvm" status --master "127.0.0.1:$port" > "$work/status"
"$dvm" status --master "127.0.0.1:$port" --json > "$work/status.json"
cat "$work/status"
python3 - "$work/status.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
hosts = s["hosts"]
assert len(hosts) == 2, hosts
assert all(h["results"] > 0 for h in hosts), "a node got no runners: %s" % hosts
# The round trip that placement weighs (clock pings at join).
assert all(h["round_trip_us"] > 0 for h in hosts), hosts
assert all("speed_pct" in h for h in hosts), hosts
PY
echo "ok: runners on nodes started after the programs began"
