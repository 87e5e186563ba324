#!/bin/sh
# drain.sh DVM ENGINE -- nodes that leave in order: SIGTERM to a node
# while the tree sum and the counter run makes it finish what it was sent,
# say LEAVE and exit 0; the results are exact, nothing counts as a lost
# RComp, __nnode and __nrcomp count what is left; an idle node leaves the
# same way; runners that cannot finish within --drain-wait are given back
# and run elsewhere, not counted as lost.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
cluster_start 3 2
out=$work/out

# drain_during K LINES PROG ARGS: submits PROG and, once LINES lines of
# output are committed (or at once for 0), SIGTERMs node K; the node must
# exit 0 within the leave bound (10 s) and a margin.
drain_during() {
    k=$1 lines=$2
    shift 2
    victim=$(node_dvm "$k")
    : > "$out"
    timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        --stats "$@" > "$out" 2> "$work/submit.err" &
    sp=$!
    while [ "$(wc -l < "$out")" -lt "$lines" ] && kill -0 "$sp" 2>/dev/null; do
        sleep 0.01
    done
    [ "$lines" = 0 ] && sleep 0.3
    kill -TERM "$victim"
    for i in $(seq 1 300); do kill -0 "$victim" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$victim" 2>/dev/null; then
        echo "FAIL: node $k did not leave within 15 s of SIGTERM"
        exit 1
    fi
    set +e
    wait "$(node_nth "$k")"
    nrc=$?
    wait "$sp"
    rc=$?
    set -e
    [ "$nrc" = 0 ] || { echo "FAIL: drained node $k exited with $nrc"; exit 1; }
    [ "$rc" = 0 ] || { echo "FAIL: submit exited with $rc"; cat "$work/submit.err"; exit 1; }
    grep -q 'left the cluster' "$work/node$k.log" ||
        { echo "FAIL: node $k did not say it left"; exit 1; }
    none_lost "the drain"   # a clean leave is not a lost RComp
}

drain_during 1 0 --dump slots+16:1:q "$ex/treesum.dasm"
treesum_exact "$out"
drain_during 2 300 --dump counter:1:q "$ex/counter.dasm"
[ "$(cat "$out")" = "$(seq 1 2000; echo 2000)" ] ||
    { echo "FAIL: counter differs after a drain"; exit 1; }
[ "$(grep -c 'left (drained' "$work/master.log")" = 2 ] ||
    { echo "FAIL: the master did not see two nodes leave"; exit 1; }
got=$(timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
      "$(dirname "$0")/sysinfo.dasm")
[ "$got" = "1 2" ] || { echo "FAIL: __nnode __nrcomp: '$got', expected '1 2'"; exit 1; }
# An idle node leaves at once; a second signal ends a leaving node.
node_start idle 2
nodes_joined 4
victim=$(pgrep -P "$node_pid")
kill -TERM "$victim"
wait "$node_pid" || { echo "FAIL: the idle node's drain failed"; exit 1; }
[ "$(grep -c 'left (drained' "$work/master.log")" = 3 ] ||
    { echo "FAIL: the idle node's leave was not seen"; exit 1; }
got=$(timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
      "$(dirname "$0")/sysinfo.dasm")
[ "$got" = "1 2" ] || { echo "FAIL: after the idle leave: '$got'"; exit 1; }
# Runners that cannot finish in time (--drain-wait 0.3; the node's
# RComps stopped) are given back and run elsewhere, not counted as lost:
# the only node left takes spin.dasm, its RComps are stopped, it is told
# to leave, and a new node runs what it gave back.
node_start short 2 --drain-wait 0.3
short=$node_pid
nodes_joined 5
kill -TERM "$(node_dvm 3)"
wait "$(node_nth 3)" || { echo "FAIL: node 3's drain failed"; exit 1; }
: > "$out"
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --stats "$(dirname "$0")/spin.dasm" > "$out" 2> "$work/submit.err" &
sp=$!
runners_running
victim=$(pgrep -P "$short")
stop_rcomps "$victim"
kill -TERM "$victim"
node_start after 2
wait "$short" || { echo "FAIL: the node with stopped RComps did not exit 0"; exit 1; }
wait "$sp" || { echo "FAIL: spin: submit failed"; cat "$work/submit.err"; exit 1; }
[ "$(sort "$out")" = "$(printf 'spin 0\nspin 1\nspin 2\nspin 3')" ] ||
    { echo "FAIL: spin printed: $(cat "$out")"; exit 1; }
none_lost "runners given back"
had=$(sed -n 's/.*leaving: \([0-9]*\) runners.*/\1/p' "$work/short.log")
back=$(sed -n 's/.*left the cluster (\([0-9]*\) runners given back.*/\1/p' "$work/short.log")
[ -n "$had" ] && [ "$had" = "$back" ] ||
    { echo "FAIL: stopped RComps had $had runners, $back given back"; exit 1; }
[ "$had" -ge 1 ] ||
    { echo "FAIL: the node with stopped RComps had no runner to give back"; exit 1; }
echo "ok: nodes drained during the tree sum and the counter, and idle; $back runners given back"
