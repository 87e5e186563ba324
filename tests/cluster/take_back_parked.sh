#!/bin/sh
# take_back_parked.sh DVM ENGINE -- a node takes back runners of a
# dispatch parked for its pages (as behind a slow link), not only of
# dispatches its RComp holds: 64 short runners
# (tests/cluster/short_runners.c0) on 2 nodes of 1 RComp, one of which
# parks every dispatch for 2 s (the test hook DVM_TEST_PARK_MS).  The
# other runs dry within milliseconds and the master asks for the parked
# runners back: every runner prints its number once, at least 8 are
# taken back, and the parking node's RComp ran at most 8 of them (when a
# node with a dispatch parked gave nothing back, none was taken back and
# it ran its whole first batch, 16 runners or more).  Counts, not times.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
"$dvm" cc "$(dirname "$0")/short_runners.c0" -o "$work/short.img"
master_start
node_start fast 1 --name fast
export DVM_TEST_PARK_MS=2000
node_start slow 1 --name slow
unset DVM_TEST_PARK_MS
nodes_joined 2
run "$work/short.img" "$work/out" --stats
each_once "$work/out" 64
n=$(taken_back)
echo "taken back: $n"
[ "$n" -ge 8 ] ||
    { echo "FAIL: $n taken back from the parked dispatch"; cat "$work/submit.err"; exit 1; }
none_lost "taking back"
slow=$("$dvm" status --master "127.0.0.1:$port" --json | python3 -c '
import json, sys
print(sum(h["results"] for h in json.load(sys.stdin)["hosts"] if h["name"] == "slow"))')
echo "results of the parking node: $slow"
[ "$slow" -le 8 ] || { echo "FAIL: the parking node ran $slow runners"; exit 1; }
echo "ok: runners taken back from a parked dispatch, each run once"
