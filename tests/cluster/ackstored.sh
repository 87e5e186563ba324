#!/bin/sh
# ackstored.sh DVM ENGINE -- a commit is acknowledged (its output leaves
# the master), and seen by new snapshots, only once its page versions
# are kept by their home and their backup.  A node that only homes pages
# (--rcomps 0) and a node that runs the RComps (and homes pages too) hold
# every version between them.  While the homing node is stopped (SIGSTOP)
# its acks cannot come: the program's first runner, which must see the
# commits that loaded the program, is not dispatched (`dvm status`: a
# runner waiting for its commit to be stored, no commit of a runner) and
# the client receives nothing; once the node goes on (SIGCONT) the output
# arrives exactly.  Then a homing node that stops itself before it
# stores a page one runner writes (DVM_TEST_STOP_ON_PAGE), while 24
# runners dispatched beside it commit 1 MiB of output each: their output
# is held, at most the master's bound (16 MiB), later results wait
# uncommitted, until the node goes on.  Then, on a master with
# --heartbeat 2, the stopped node is given up: its versions are placed
# again and the output arrives without it.  No step depends on timing:
# each waits for what it checks.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples

# held: "HELD WAITING RESULTS" from dvm status --json.
held() {
    status_figures output_held_bytes versions_waiting_for_homes \
        results_waiting_for_acks
}

# A cluster of a worker node (of $worker_rcomps RComps, default 2) and a
# homing node (that stops before storing page $stop_page, when set); one
# run with both going.
cluster() {
    master_start "$@"
    node_start worker "${worker_rcomps:-2}" --name worker
    worker_pid=$node_pid
    [ -z "${stop_page:-}" ] || export DVM_TEST_STOP_ON_PAGE="$stop_page"
    node_start homer 0 --name homer --heartbeat 60
    homer_pid=$node_pid
    unset DVM_TEST_STOP_ON_PAGE
    nodes_joined 2
    "$dvm" run --engine "$engine" "$ex/counter.dasm" > "$work/ref"
    [ "$(wc -l < "$work/ref")" = 2000 ] || { echo "FAIL: reference"; exit 1; }
    timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        "$ex/counter.dasm" > "$work/out0"
    cmp -s "$work/ref" "$work/out0" || { echo "FAIL: first run"; exit 1; }
    grep -q 'node homer serves the pages it homes' "$work/master.log" ||
        { echo "FAIL: the homing node homes nothing"; exit 1; }
}

# submit_stopped PROG [nowait|results]: PROG while the homing node is
# stopped; returns once the master holds output (the program committed,
# acks missing), with `results` once results wait uncommitted too, or at
# once with nowait.
submit_stopped() {
    kill -STOP "$(pgrep -P "$homer_pid")"
    timeout 90 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        "$1" > "$work/out" 2> "$work/submit.err" &
    sp=$!
    [ "${2:-}" = nowait ] && return 0
    for i in $(seq 1 600); do
        h=$(held)
        if [ "${2:-}" = results ]; then
            [ "${h##* }" -gt 0 ] && return 0
        else
            [ "${h%% *}" -gt 0 ] && return 0
        fi
        kill -0 "$sp" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: no output held (status: $h)"
    exit 1
}

# finish REF: the submit ends well with the output of REF.
finish() {
    rc=0
    wait "$sp" || rc=$?
    [ $rc = 0 ] || { echo "FAIL: submit exited $rc"; cat "$work/submit.err"; exit 1; }
    cmp -s "$1" "$work/out" ||
        { echo "FAIL: output differs: $(head -c 100 "$work/out")"; exit 1; }
}

# gated: "WAITING RUNNING READY" (runners) from dvm status --json, once
# a runner waits for its commit to be stored (fails after 60 s).
gated() {
    for i in $(seq 1 600); do
        g=$(status_figures runners_waiting_for_stable runners_running \
            runners_ready)
        [ "${g%% *}" -gt 0 ] && { echo "$g"; return 0; }
        kill -0 "$sp" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: no runner waits for its commit to be stored ($g)" >&2
    exit 1
}

# stop_cluster: the nodes and the master end.
stop_cluster() {
    for p in $worker_pid $homer_pid $master_pid; do kill "$p"; done
    for p in $worker_pid $homer_pid $master_pid; do wait "$p" 2>/dev/null || true; done
    rm -f "$work/port"
    mv "$work/master.log" "$work/master$1.log"
}

# 1. Stopped, then going on: nothing is dispatched meanwhile.
cluster --heartbeat 60
submit_stopped "$ex/counter.dasm" nowait
g=$(gated)
h=$(held)
set -- $h
[ "$1" = 0 ] && [ "$2" -gt 0 ] && [ "$3" = 0 ] ||
    { echo "FAIL: held output, waiting versions, waiting results: $h"; exit 1; }
for g in "$g" "$(gated)"; do
    set -- $g
    [ "$2" = 0 ] && [ "$3" = 0 ] ||
        { echo "FAIL: runners waiting, running, ready: $g"; exit 1; }
done
[ ! -s "$work/out" ] ||
    { echo "FAIL: output reached the client before its versions were stored"; exit 1; }
kill -CONT "$(pgrep -P "$homer_pid")"
finish "$work/ref"
echo "the first runner waited until the homing node went on"
stop_cluster 1

# 1b. The bound: a homing node stops before it stores the page runner W
# writes; the runners dispatched beside W commit after it (one RComp: in
# dispatch order), their output is held and, past 16 MiB, their results
# wait uncommitted; the runner W made waits for W's commit meanwhile.
"$dvm" run --engine "$engine" "$(dirname "$0")/heldout.dasm" > "$work/ref_many"
worker_rcomps=1 stop_page=0x48000000
cluster --heartbeat 60
stopped=$(pgrep -P "$homer_pid")
timeout 90 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    "$(dirname "$0")/heldout.dasm" > "$work/out" 2> "$work/submit.err" &
sp=$!
# Results also wait, briefly, behind W's until a holder other than its
# node holds W's changes (masks only): a sample then holds no output yet.
# So the wait is for output held at the bound with results waiting.
for i in $(seq 1 600); do
    h=$(held)
    set -- $h
    [ "$3" -gt 0 ] && [ "$1" -ge $((16 << 20)) ] && break
    kill -0 "$sp" 2>/dev/null || break
    sleep 0.1
done
set -- $h
[ "$3" -gt 0 ] || { echo "FAIL: no results waiting ($h)"; exit 1; }
grep -q 'stopping before storing page 0x48000000' "$work/homer.log" ||
    { echo "FAIL: the homing node did not stop"; exit 1; }
[ "$1" -ge $((16 << 20)) ] && [ "$1" -le $((17 << 20)) ] ||
    { echo "FAIL: $1 bytes held, not the bound"; exit 1; }
[ ! -s "$work/out" ] || { echo "FAIL: output before its versions were stored"; exit 1; }
# X, made by W's commit, waits for it to be stored; the printers went on.
x=$(status_figures runners_waiting_for_stable)
[ "$x" = 1 ] || { echo "FAIL: $x runners waiting for W's commit, not 1"; exit 1; }
kill -CONT "$stopped"
finish "$work/ref_many"
echo "held $1 bytes, $3 results waiting, until the homing node went on"
stop_cluster 2
worker_rcomps=2 stop_page=

# 2. Stopped and given up by the master: the versions are placed again at
# the node left, and the output arrives.
cluster --heartbeat 2
stopped=$(pgrep -P "$homer_pid")
submit_stopped "$ex/counter.dasm" nowait
finish "$work/ref"
grep -q 'no heartbeat within the bound' "$work/master.log" ||
    { echo "FAIL: the homing node was not given up"; cat "$work/master.log"; exit 1; }
kill -CONT "$stopped" 2>/dev/null || true
echo "ok"
