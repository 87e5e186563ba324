#!/bin/sh
# masks_kill.sh DVM ENGINE -- in a masks-only program (dvm master
# --masks-only) the master has no copy of a commit's pages, so it commits
# a result only once a home other than its committing node holds the
# result's changes (DHELD).  A homing node H (no RComps) and a worker A
# hold every page between them.  During the counter H is stopped
# (SIGSTOP): A's results wait at the master, uncommitted (dvm status:
# results waiting behind one whose changes no home holds yet).  A is
# killed (kill -9) while its result waits: the result is dropped with A's
# RComps; H goes on (SIGCONT) and a node C joins, where the runner runs
# again (C gets A's versions from H).
# Nothing is lost: the output is exact, every line once.  No step depends
# on timing: each waits for what it checks.
dvm=$1 engine=$2
CLUSTER_SIGKILL=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/masks_lib.sh"

# A silent H must not be given up while it is stopped on purpose.
master_start --masks-only --heartbeat 60
node_start homer 0 --name homer --heartbeat 60
homer_pid=$node_pid
node_start worker 2 --name worker
worker_pid=$node_pid
nodes_joined 2
masks_serving 2
masks_counter_held "$homer_pid"
kill -9 "$(pgrep -P "$worker_pid")"
for i in $(seq 1 600); do
    grep -q 'node worker lost' "$work/master.log" && break
    sleep 0.05
done
kill -CONT "$(pgrep -P "$homer_pid")"
node_start late 2 --name late
wait "$sp" || { echo "FAIL: submit"; cat "$work/submit.err"; exit 1; }
cmp -s "$work/ref" "$work/out" ||
    { echo "FAIL: counter output differs"; diff "$work/ref" "$work/out" | head; exit 1; }
set -- $(status_figures results_waited_for_held_deltas versions_needed)
echo "results that waited for held changes: $1; versions asked for again: $2"
echo ok
