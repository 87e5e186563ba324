#!/usr/bin/env python3
"""trace_check.py DVM PROG -- runs PROG with --trace and checks that the
file is valid JSON in the Chrome trace-event format, with one complete
("X") event per runner attempt on an RComp track, commit instant events,
named tracks, and one flow ("s" on the master's track, "f" bound to the
runner's slice) per runner made schedulable by a commit: from that commit
to the start of its first attempt -- what Perfetto and chrome://tracing
need to open it and draw the arrows."""
import json
import os
import subprocess
import sys
import tempfile

dvm, prog = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "t.json")
    r = subprocess.run([dvm, "run", "-n", "2", "--stats", "--trace", path,
                        prog], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with open(path) as f:
        doc = json.load(f)
events = doc["traceEvents"]
assert isinstance(events, list) and events, "no events"
for e in events:
    assert e["ph"] in ("X", "i", "M", "s", "f"), e
    assert isinstance(e["pid"], int) and isinstance(e["tid"], int), e
    if e["ph"] != "M":
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
runs = [e for e in events if e["ph"] == "X"]
commits = [e for e in events if e["ph"] == "i" and e["name"] == "commit"]
names = {e["tid"]: e["args"]["name"] for e in events
         if e["ph"] == "M" and e["name"] == "thread_name"}
stats = r.stderr
n_run = int(stats.split("runners: run ")[1].split(",")[0])
n_commit = int(stats.split("commits ")[1].split(",")[0])
assert len(runs) == n_run, (len(runs), n_run)
assert len(commits) == n_commit, (len(commits), n_commit)
assert all(e["dur"] >= 0 and e["tid"] in (1, 2) for e in runs)
assert names.get(0) == "master" and names.get(1) == "rcomp 0", names
assert {e["args"]["outcome"] for e in runs} <= {"commit", "abort", "fault"}
# Flows: one pair per runner made ready by a commit (every runner but the
# first), the start on the master's track no later than the end, which is
# the start of the runner's first attempt on its RComp's track.
starts = {e["id"]: e for e in events if e["ph"] == "s"}
ends = {e["id"]: e for e in events if e["ph"] == "f"}
assert starts.keys() == ends.keys(), "unpaired flow events"
first = {e["args"]["rid"]: e for e in runs if e["args"]["attempt"] == 0}
assert len(starts) == len(first) - 1, (len(starts), len(first))
for rid, s in starts.items():
    f, x = ends[rid], first[rid]
    assert s["tid"] == 0 and f["tid"] == x["tid"] and f["bp"] == "e", (s, f)
    assert abs(f["ts"] - x["ts"]) < 0.002 and s["ts"] <= f["ts"] + 0.001, (s, f)
# Dispatches: each attempt was sent to the RComp that ran it, before it
# started there (a runner taken back and sent again has two).
disp = {}
for e in events:
    if e["ph"] == "i" and e["name"] == "dispatch":
        assert e["tid"] == 0, e
        disp.setdefault(e["args"]["rid"], []).append(e)
assert sum(len(v) for v in disp.values()) >= len(runs), "dispatches missing"
for x in runs:
    sent = [d for d in disp.get(x["args"]["rid"], [])
            if d["args"]["rcomp"] == x["tid"] and d["ts"] <= x["ts"] + 0.001]
    assert sent, ("attempt never dispatched to its RComp", x)
print(f"ok: {len(runs)} runner slices, {len(commits)} commits, "
      f"{len(starts)} flows")
