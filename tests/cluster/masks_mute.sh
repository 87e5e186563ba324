#!/bin/sh
# masks_mute.sh DVM ENGINE -- a masks-only program (the master has no
# copy of a commit's pages) whose only RComps are on a node that sends
# its changes to no home, not even when asked again (the test hook
# DVM_TEST_NO_DELTAS=never; a node that homes pages, no RComps, beside
# it).  Every result waits at the commit gate until its RComp is
# replaced, and the runner that runs again does the same: the program
# fails with a message that says so, after a few replacements in a row,
# instead of replacing RComps for ever; the master, the nodes and the
# client end cleanly and the master takes the next program.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
unset DVM_TEST_RESULTS_WITH_DATA
master_start
node_start homer 0 --name homer
node_pids="$node_pid"
export DVM_TEST_NO_DELTAS=never
node_start mute 2 --name mute
node_pids="$node_pids $node_pid"
unset DVM_TEST_NO_DELTAS
nodes_joined 2
rc=0
timeout 100 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    "$ex/counter.dasm" > "$work/out" 2> "$work/submit.err" || rc=$?
[ "$rc" = 124 ] && { echo "FAIL: the program did not fail within 100 s"; exit 1; }
[ "$rc" != 0 ] || { echo "FAIL: the program succeeded"; exit 1; }
grep -q 'results bring masks only' "$work/master.log" ||
    { echo "FAIL: the program did not run masks only"; exit 1; }
grep -q 'waited in vain for a home to hold their changes' "$work/submit.err" ||
    { echo "FAIL: no clear message"; cat "$work/submit.err"; exit 1; }
echo "submit exited $rc: $(grep 'in vain' "$work/submit.err")"
[ ! -s "$work/out" ] || { echo "FAIL: output was committed"; exit 1; }
# The master takes the next program once the mute node left and one
# that sends its changes joined.
"$dvm" run --engine "$engine" "$ex/counter.dasm" > "$work/ref"
mute=$(node_dvm 2)
kill -TERM "$mute"
for i in $(seq 1 400); do kill -0 "$mute" 2>/dev/null || break; sleep 0.05; done
kill -0 "$mute" 2>/dev/null && { echo "FAIL: the mute node did not leave"; exit 1; }
node_start good 2 --name good
node_pids="$node_pids $node_pid"
nodes_joined 3
timeout 100 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    "$ex/counter.dasm" > "$work/out" 2> "$work/submit.err" ||
    { echo "FAIL: the next program"; cat "$work/submit.err"; exit 1; }
cmp -s "$work/ref" "$work/out" ||
    { echo "FAIL: the next program's output differs"; exit 1; }
echo "ok: the next program ran exactly"
