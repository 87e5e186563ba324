#!/bin/sh
# drain_cmd.sh DVM ENGINE -- the operator drains a node by name (dvm node
# --drain NAME): during the tree sum on 3 nodes the named node leaves in
# order (LEAVE ASK/ACK/DONE, as on SIGTERM) and exits 0, the command
# prints that it left and exits 0, the result is exact; asking again while
# it is leaving is fine; an unknown or malformed name exits 2 at once; a node lost before
# it could leave (stopped, given up by the heartbeat) makes it exit 1.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
node_names=n cluster_start 3 2 --drain-wait 60
drain() { "$dvm" node --drain "$1" --master "127.0.0.1:$port"; }

# Names the master does not know, or cannot be names: 2, with the reason.
set +e
drain nosuch > "$work/unknown.out" 2> "$work/unknown.err"
rc=$?
set -e
[ "$rc" = 2 ] || { echo "FAIL: unknown name exited $rc"; exit 1; }
grep -q "no node named 'nosuch'" "$work/unknown.err" ||
    { echo "FAIL: unknown name: $(cat "$work/unknown.err")"; exit 1; }
set +e
drain 'n/1' 2> "$work/bad.err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q 'bad node name' "$work/bad.err" ||
    { echo "FAIL: bad name exited $rc: $(cat "$work/bad.err")"; exit 1; }

out=$work/out
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --stats --dump slots+16:1:q "$ex/treesum.dasm" > "$out" \
    2> "$work/submit.err" &
sp=$!
runners_running
# Node 2's RComps are stopped: what it is sent stays unfinished, so it
# cannot leave (--drain-wait 60) until they go on.  The first request
# starts its leave; the second finds it leaving and waits for the same.
node=$(node_nth 2)
rcomps=$(rcomps_of "$(node_dvm 2)")
# One may have ended since pgrep (the tree sum may even be over: then the
# node holds nothing, a case handled below).
for r in $rcomps; do kill -STOP "$r" 2>/dev/null || true; done
drain n2 > "$work/d1.out" 2> "$work/d1.err" &
d1=$!
for i in $(seq 1 400); do
    grep -q "node 127.0.0.1:[0-9]* is leaving" "$work/master.log" && break
    sleep 0.05
done
drain n2 > "$work/d2.out" 2> "$work/d2.err" &
d2=$!
# (Or until the second request ended: it found the node gone already.)
for i in $(seq 1 400); do
    [ "$(grep -c 'asks node n2 to leave' "$work/master.log")" -ge 2 ] && break
    kill -0 "$d2" 2>/dev/null || break
    sleep 0.05
done
# (A node sent nothing left at once: its RComps may be gone already.)
for r in $rcomps; do kill -CONT "$r" 2>/dev/null || true; done
set +e
wait "$d1"; r1=$?
wait "$d2"; r2=$?
wait "$node"; nrc=$?
wait "$sp"; rc=$?
set -e
# Node 2 was almost surely sent runners while its RComps were stopped;
# if it had none, it left at once and the second request may have found
# it gone already (2).
held=1
grep -q 'leaving: 0 runners' "$work/node2.log" && held=0
[ "$r1" = 0 ] && { [ "$r2" = 0 ] || [ "$held$r2" = 02 ]; } ||
    { echo "FAIL: drain exited $r1 and $r2"; cat "$work/d1.err" "$work/d2.err"; exit 1; }
ds="d1 d2"
[ "$r2" = 0 ] || ds=d1
for d in $ds; do
    grep -q '^node n2 left the cluster in order' "$work/$d.out" ||
        { echo "FAIL: $d printed: $(cat "$work/$d.out")"; exit 1; }
done
[ "$nrc" = 0 ] || { echo "FAIL: the drained node exited with $nrc"; exit 1; }
grep -q 'the master asks this node (n2) to leave' "$work/node2.log" &&
    grep -q 'left the cluster' "$work/node2.log" ||
    { echo "FAIL: node 2 did not leave in order"; exit 1; }
[ "$rc" = 0 ] || { echo "FAIL: submit exited with $rc"; cat "$work/submit.err"; exit 1; }
treesum_exact "$out"
none_lost "the drain"
[ "$(grep -c 'left (drained' "$work/master.log")" = 1 ] ||
    { echo "FAIL: the master did not see node 2 leave once"; exit 1; }
[ "$held" = 0 ] || grep -q 'leaving: [1-9][0-9]* runners' "$work/node2.log" ||
    { echo "FAIL: node 2 did not say what it had to finish"; exit 1; }
# Gone now: its name is unknown.
set +e
drain n2 2> "$work/gone.err"
rc=$?
set -e
[ "$rc" = 2 ] || { echo "FAIL: draining a node gone exited $rc"; exit 1; }
# A second master that gives a node up after 1 s: the node is stopped
# before it hears DRAIN, so it is lost, not drained.
rm -f "$work/port"
master_start --heartbeat 1
node_start stopped 1 --name stopped --reconnect 0
nodes_joined 1
victim=$(pgrep -P "$node_pid")
kill -STOP "$victim"
set +e
drain stopped 2> "$work/lost.err"
rc=$?
set -e
kill -CONT "$victim"
[ "$rc" = 1 ] && grep -q 'lost before it left in order' "$work/lost.err" ||
    { echo "FAIL: a lost node's drain exited $rc: $(cat "$work/lost.err")"; exit 1; }
echo "ok: node n2 drained by name during the tree sum; a lost one reported"
