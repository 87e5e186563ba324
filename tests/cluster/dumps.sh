#!/bin/sh
# dumps.sh DVM ENGINE -- a masks-only program's dump comes from the
# dumped pages' holders at the end of the run, not from the master's
# copy (it has none).  Both holders (2 nodes) answer the master's first
# question as if they lacked the page (DVM_TEST_LACK_AT=dump): the master
# asks one, then the other, then the first again, and the dump is exactly
# dvm run's.  With DVM_TEST_STOP_AT=dump the master stops itself once the
# tree sum ended, before it asks the holders:
#   * 2 nodes (both hold every page), one killed (kill -9) there: the
#     dump comes from the other, exactly dvm run's, and no changed page
#     came with its data;
#   * 2 nodes, both killed there: the program fails (exit 2) with a
#     message that says the dumped page's version was lost.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
CLUSTER_SIGKILL=1      # kill -9 of DVM processes (lib.sh: cleanup)
ex=$(dirname "$0")/../../examples
args="--dump slots+16:1:q $ex/treesum.dasm"
# shellcheck disable=SC2086
"$dvm" run -n 2 --engine "$engine" $args > "$work/ref"
treesum_exact "$work/ref"

# end_cluster: the cluster ends in order (SIGTERM through the timeouts);
# its master's log is kept aside.
ended=0
end_cluster() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do
        for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    done
    pids=""
    rm -f "$work/port"
    ended=$((ended + 1))
    mv "$work/master.log" "$work/master$ended.log"
}

# two_holders VAR: a master and 2 nodes of 1 RComp started with VAR=dump
# in their environment, once both nodes serve their homes.
two_holders() {
    export "$1=dump"
    cluster_start 2 1
    unset "$1"
    for i in $(seq 1 200); do
        [ "$(grep -c 'serves the pages it homes' "$work/master.log")" -ge 2 ] &&
            break
        sleep 0.05
    done
}

# dump_exact WHAT: the last tree sum (exit status rc) ran masks only and
# gave dvm run's output and dump, its dumped page fetched from a holder.
dump_exact() {
    if [ "$rc" != 0 ] || ! cmp -s "$work/ref" "$work/out"; then
        echo "FAIL: $1: rc $rc"
        diff "$work/ref" "$work/out" | head -5
        cat "$work/err" "$work/master.log" 2>/dev/null
        exit 1
    fi
    grep -q 'results bring masks only' "$work/master.log" ||
        { echo "FAIL: $1: the tree sum did not run masks only"; exit 1; }
    set -- "$1" $(status_figures dump_pages_from_homes)
    [ "$2" = 1 ] || { echo "FAIL: $1: $2 dumped pages fetched from holders"; exit 1; }
}

# stopped_master: waits until the master process stopped itself.
stopped_master() {
    m=$(pgrep -P "$master_pid")
    for i in $(seq 1 1200); do
        case $(ps -o stat= -p "$m" 2>/dev/null) in T*) return 0 ;; esac
        sleep 0.05
    done
    echo "FAIL: the master did not stop before the dump"
    cat "$work/master.log"
    exit 1
}

# phase KILL: a master and 2 nodes; the tree sum with its dump until the
# master stops before the dump; the first KILL nodes killed; the master
# let go on.  The client's exit status in rc.
phase() {
    two_holders DVM_TEST_STOP_AT
    # shellcheck disable=SC2086
    timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        $args > "$work/out" 2> "$work/err" &
    sp=$!
    stopped_master
    for k in $(seq 1 "$1"); do
        kill -9 "$(node_dvm "$k")"
    done
    sleep 0.2
    kill -CONT "$m"
    rc=0
    wait "$sp" || rc=$?
}

# Each holder lacks the page at the master's first question.
two_holders DVM_TEST_LACK_AT
rc=0
run "$ex/treesum.dasm" "$work/out" --dump slots+16:1:q
dump_exact "holders that lacked the page once"
for k in 1 2; do
    grep -q "answering 'dump' as lacking it" "$work/node$k.log" ||
        { echo "FAIL: node $k was not asked for the dumped page"; cat "$work/master.log"; exit 1; }
done
echo "both holders lacked the page once: asked in turn, the dump exact"
end_cluster

phase 1
dump_exact "one holder lost before the dump"
echo "one holder killed before the dump: the dump came from the other"
end_cluster

phase 2
if [ $rc != 2 ] || ! grep -q "lost" "$work/err"; then
    echo "FAIL: every holder lost before the dump: rc $rc"
    cat "$work/err" "$work/master.log"
    exit 1
fi
echo "every holder killed before the dump: exit 2, $(grep -m1 lost "$work/err")"
echo ok
