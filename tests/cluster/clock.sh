#!/bin/sh
# clock.sh DVM ENGINE -- runner slices of a cluster trace are on the
# master's clock: two nodes, one with its clock 5 s ahead
# (`--clock-skew-ns`, a test aid), run examples/counter.dasm with --trace;
# the master must have measured both offsets (within half the round trip
# it measured them with), and in the merged trace every runner must start
# after the commit that made it ready and end before its own commit.
# Without the correction the skewed node's runners end 5 s after their
# commits.  Both nodes name themselves after the host: the second gets
# the suffix "-2".
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
skew=5000000000
master_start
node_start plain 2
nodes_joined 1
node_start skewed 2 --clock-skew-ns $skew
nodes_joined 2
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --trace "$work/t.json" "$ex/counter.dasm" > "$work/out"
[ "$(tail -1 "$work/out")" = 2000 ] || { echo "FAIL: counter output"; exit 1; }
python3 - "$work/t.json" "$work/master.log" $skew <<'PY'
import json, re, sys
trace, log, skew = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3])
names = re.findall(r" joined as (\S+) ", log)
assert len(names) == 2 and names[1] == names[0] + "-2", names
# "node NAME: clock offset +N ns (round trip R ns)", in join order
clk = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(
    r"node (\S+): clock offset ([-+]\d+) ns \(round trip (\d+) ns\)", log)}
assert set(clk) == set(names), (clk, names)
(off0, rtt0), (off1, rtt1) = clk[names[0]], clk[names[1]]
assert abs(off0) <= rtt0 / 2, clk
assert abs(off1 - skew) <= rtt1 / 2, clk
slack = max(rtt0, rtt1) / 2 / 1000          # µs: the offsets' error bound
ev = json.load(open(trace))["traceEvents"]
runs = [e for e in ev if e["ph"] == "X"]
commits = {e["args"]["rid"]: e["ts"] for e in ev
           if e["ph"] == "i" and e["name"] == "commit"}
ready = {e["id"]: e["ts"] for e in ev if e["ph"] == "s"}
tracks = {e["tid"] for e in runs}
assert len(tracks) == 4, tracks             # both nodes' RComps ran
late = early = 0
for x in runs:
    rid, end = x["args"]["rid"], x["ts"] + x["dur"]
    if x["args"]["outcome"] == "commit" and end > commits[rid] + slack:
        late += 1
    if x["args"]["attempt"] == 0 and rid in ready and \
            x["ts"] < ready[rid] - slack:
        early += 1
assert late == 0 and early == 0, \
    f"{late} runners end after their commit, {early} start before ready"
print(f"ok: {len(runs)} slices on the master's clock; offsets "
      f"{off0} ns and {off1 - skew:+} ns from the truth "
      f"(round trips {rtt0}, {rtt1} ns)")
PY
