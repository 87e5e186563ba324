#!/bin/sh
# heartbeat.sh DVM ENGINE -- the default heartbeat bound (docs/cluster.md,
# Heartbeats), with no --heartbeat anywhere:
#  1. a node stopped (SIGSTOP of it and its RComps) during the counter is
#     given up by the master with the default bound, and its runners run
#     elsewhere: the output is exact and the master says why; let go on
#     (SIGCONT), the node finds its connection closed and joins again
#     by itself (its --reconnect);
#  2. a master whose loop stalls, deaf, for three times the bound (the
#     test hook DVM_TEST_STALL_MS, dist/stall.h: as a long commit or a
#     disk write would) and a node whose start of its RComps takes as long
#     (turning its transport meanwhile) give up no one: exact output,
#     nothing lost, no node gone.
# Nothing here is timed: each check is an outcome or a line of a log.
dvm=$1 engine=$2
CLUSTER_HEARTBEAT=default           # no --heartbeat from lib.sh either
. "$(dirname "$0")/lib.sh"
CLUSTER_SIGKILL=1      # kill -9 of DVM processes (lib.sh: cleanup)
ex=$(dirname "$0")/../../examples
out=$work/out
bound_ms=700                        # CMSG_NODE_SILENT_MS
[ -z "${DVM_SANITIZED:-}" ] || bound_ms=3000  # its sanitizer-build value
# The stalls: three times the plain build's bound, and below the node's
# own bound for its master (5 s).  A sanitizer build's bound is longer
# than the stalls, so there they check less: that nothing else misfires.
stall_ms=2100
expect=$(seq 1 2000; echo 2000)

# counter_until LINES: submits the counter in the background (pid sp)
# and waits until it committed LINES lines.
counter_until() {
    timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        --dump counter:1:q "$ex/counter.dasm" > "$out" 2> "$work/submit.err" &
    sp=$!
    for i in $(seq 1 1200); do
        [ "$(wc -l < "$out")" -ge "$1" ] && return 0
        kill -0 "$sp" 2>/dev/null || return 0
        sleep 0.05
    done
}

# counter_done: the counter's submit ended with status 0 and exact output.
counter_done() {
    rc=0
    wait "$sp" || rc=$?
    [ "$rc" = 0 ] || { echo "FAIL: $1: submit exited $rc"; cat "$work/submit.err"; exit 1; }
    [ "$(cat "$out")" = "$expect" ] ||
        { echo "FAIL: $1: output differs"; echo "$expect" | diff - "$out" | head; exit 1; }
}

# --- 1. a silent node, given up with the default bound
master_start
node_start node1 2 --reconnect 0
node_start node2 2 --reconnect 0
node_start node3 2 --name victim
nodes_joined 3
victim_t=$node_pid                  # node3's timeout
# The victim's own connection, as the master names it when it closes it:
# on a loaded host another node may be starved past the bound as well,
# and its line must not be taken for the victim's.
vaddr=$(sed -n 's/.*node \([^ ]*\) joined as victim .*/\1/p' "$work/master.log")
[ -n "$vaddr" ] || { echo "FAIL: no join line of the victim"; exit 1; }
counter_until 200
victim=$(pgrep -P "$victim_t")
rcomps=$(pgrep -P "$victim" -f __rcomp || true)
kill -STOP "$victim"                # it starts no RComp from now on
for r in $rcomps; do kill -STOP "$r" 2>/dev/null || true; done   # one may have ended
counter_done "a stopped node"
given_up="closing $vaddr: no heartbeat within the bound of $bound_ms ms"
for i in $(seq 1 200); do           # the program may have ended first
    grep -qF "$given_up" "$work/master.log" && break
    sleep 0.05
done
grep -qF "$given_up" "$work/master.log" ||
    { echo "FAIL: the stopped node was not given up by the default bound"; exit 1; }
kill -CONT "$victim" $rcomps 2>/dev/null || true
for i in $(seq 1 600); do
    [ "$(grep -c ' joined as victim ' "$work/master.log")" -ge 2 ] && break
    sleep 0.05
done
[ "$(grep -c ' joined as victim ' "$work/master.log")" -ge 2 ] ||
    { echo "FAIL: the node given up did not join again"; cat "$work/node3.log"; exit 1; }
rcomps=$(pgrep -P "$victim" -f __rcomp || true)
kill -9 "$victim" $rcomps 2>/dev/null || true   # not to join the next master
echo "ok: a stopped node given up with the default bound; output exact; it joined again"

# --- 2. stalls of the master and of a node give up no one
kill "$master_pid"
wait "$master_pid" 2>/dev/null || true
mv "$work/master.log" "$work/master1.log"
rm -f "$work/port"
DVM_TEST_STALL_MS=$stall_ms
export DVM_TEST_STALL_MS
master_start
node_start slow 2 --reconnect 0
unset DVM_TEST_STALL_MS
node_start quick 2 --reconnect 0
nodes_joined 2
# The tree sum commits no output until its end, so nothing turns the
# master's transport between its stall and its next check (output to the
# client would: transport_drain).
got=$(timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
      "$ex/treesum.dasm" 2> "$work/submit.err") ||
    { echo "FAIL: stalls: submit failed"; cat "$work/submit.err"; exit 1; }
[ "$got" = 209725440 ] || { echo "FAIL: stalls: tree sum $got"; exit 1; }
grep -q "dvm master: stalling $stall_ms ms (test, deaf)" "$work/master.log" ||
    { echo "FAIL: the master did not stall"; cat "$work/master.log"; exit 1; }
grep -q "dvm node: stalling $stall_ms ms (test, turning" "$work/slow.log" ||
    { echo "FAIL: the node did not stall"; cat "$work/slow.log"; exit 1; }
if grep -q 'no heartbeat\| lost\| left (' "$work/master.log" ||
   grep -q 'is gone' "$work/slow.log" "$work/quick.log"; then
    echo "FAIL: a stall gave someone up"
    cat "$work/master.log" "$work/slow.log" "$work/quick.log"
    exit 1
fi
echo "ok: a master and a node stalled for ${stall_ms} ms; no one given up"
