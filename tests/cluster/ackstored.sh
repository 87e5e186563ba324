#!/bin/sh
# ackstored.sh DVM ENGINE -- a commit is acknowledged (its output leaves
# the master) only once its page versions are kept by their home and
# their backup.  A node that only homes pages (--rcomps 0) and a node
# that runs the RComps (and homes pages too) hold every version between
# them.  While the homing node is stopped (SIGSTOP) its acks cannot come:
# `dvm status` shows output held and the client has received nothing;
# once it goes on (SIGCONT) the output arrives exactly.  Then, on a
# master with --heartbeat 1, the stopped node is given up: its versions
# are placed again and the output arrives without it.  No step depends on
# timing: each waits for what it checks.  Meanwhile the master holds at
# most its bound of output (16 MiB): a program of 24 commits of 1 MiB
# each has its later results wait uncommitted until the node goes on.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples

# held: "HELD WAITING RESULTS" from dvm status --json.
held() {
    status_figures output_held_bytes versions_waiting_for_homes \
        results_waiting_for_acks
}

# A cluster of a worker node and a homing node; one run with both going.
cluster() {
    master_start "$@"
    node_start worker 2 --name worker
    worker_pid=$node_pid
    node_start homer 0 --name homer --heartbeat 60
    homer_pid=$node_pid
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

# 1. Stopped, then going on.
cluster --heartbeat 60
submit_stopped "$ex/counter.dasm"
h=$(held)
set -- $h
[ "$2" -gt 0 ] || { echo "FAIL: output held but no version waiting ($h)"; exit 1; }
[ ! -s "$work/out" ] ||
    { echo "FAIL: output reached the client before its versions were stored"; exit 1; }
kill -CONT "$(pgrep -P "$homer_pid")"
finish "$work/ref"
echo "held $1 bytes for $2 versions until the homing node went on"

# 1b. The bound: results wait uncommitted while 16 MiB are held.
"$dvm" run --engine "$engine" "$(dirname "$0")/manyout.dasm" > "$work/ref_many"
submit_stopped "$(dirname "$0")/manyout.dasm" results
h=$(held)
set -- $h
[ "$1" -le $((17 << 20)) ] || { echo "FAIL: $1 bytes held past the bound"; exit 1; }
[ ! -s "$work/out" ] || { echo "FAIL: output before its versions were stored"; exit 1; }
kill -CONT "$(pgrep -P "$homer_pid")"
finish "$work/ref_many"
echo "held $1 bytes, $3 results waiting, until the homing node went on"
for p in $worker_pid $homer_pid $master_pid; do kill "$p"; done
for p in $worker_pid $homer_pid $master_pid; do wait "$p" 2>/dev/null || true; done

# 2. Stopped and given up by the master: the versions are placed again at
# the node left, and the output arrives.
rm -f "$work/port"
mv "$work/master.log" "$work/master1.log"
cluster --heartbeat 2
stopped=$(pgrep -P "$homer_pid")
submit_stopped "$ex/counter.dasm" nowait
finish "$work/ref"
grep -q 'no heartbeat within the bound' "$work/master.log" ||
    { echo "FAIL: the homing node was not given up"; cat "$work/master.log"; exit 1; }
kill -CONT "$stopped" 2>/dev/null || true
echo "ok"
