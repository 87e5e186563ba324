#!/bin/sh
# masks_joinstop.sh DVM ENGINE -- masks only (the master keeps no copy of
# a commit's pages): a node joins while a homing node is stopped, then
# the committing node dies.  A homing node H (no RComps) and a worker A
# hold every page between them.  After 100 lines of the counter H is
# stopped (SIGSTOP): A's results wait at the master, since no holder
# other than A holds their changes.  A node J (no RComps) joins: pages
# move from H or A to J, which must fetch the versions it now homes.
# Only then may J's word let A's results through: it counts once J can
# reach the version the changes apply to, and the holder that gave the
# pages up keeps them until J keeps them (docs/cluster.md, "Nothing is
# lost with the committing node", and the placement after a join).  A is
# killed (kill -9), H goes on (SIGCONT), and a late node runs the rest.
# Nothing is lost: the output is exact, every line once.  No step
# depends on timing: each waits for what it checks.
dvm=$1 engine=$2
CLUSTER_SIGKILL=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/masks_lib.sh"

# Stopped nodes must not be given up: H is stopped on purpose.
master_start --masks-only --heartbeat 60
node_start homer 0 --name homer --heartbeat 60
homer_pid=$node_pid
node_start worker 2 --name worker --heartbeat 60
worker_pid=$node_pid
nodes_joined 2
masks_serving 2
masks_counter_held "$homer_pid"
node_start joiner 0 --name joiner --heartbeat 60
masks_serving 3
echo "J homes pages after $(wc -l < "$work/out") lines"
kill -9 "$(pgrep -P "$worker_pid")"
for i in $(seq 1 600); do
    grep -q 'node worker lost' "$work/master.log" && break
    sleep 0.05
done
grep -q 'node worker lost' "$work/master.log" ||
    { echo "FAIL: the worker's loss was not seen"; exit 1; }
echo "A killed after $(wc -l < "$work/out") lines"
kill -CONT "$(pgrep -P "$homer_pid")"
node_start late 2 --name late --heartbeat 60
wait "$sp" || { echo "FAIL: submit"; cat "$work/submit.err"; exit 1; }
cmp -s "$work/ref" "$work/out" ||
    { echo "FAIL: counter output differs"; diff "$work/ref" "$work/out" | head; exit 1; }
set -- $(status_figures results_waited_for_held_deltas versions_needed)
echo "results that waited for held changes: $1; versions asked for again: $2"
echo ok
