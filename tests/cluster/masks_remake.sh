#!/bin/sh
# masks_remake.sh DVM ENGINE -- in a masks-only program a version is made
# only at its holders, from the committing node's delta.  Here the only
# holder that got the delta dies before the other holder pulled the
# version from it: no live holder can make it, and only the committing
# node's kept delta can.  Three homing nodes: A and B (no RComps) join
# first, so they have the lowest ids; the worker W (2 RComps) sends each
# delta to one holder other than itself, the one of lowest id (the test
# hook DVM_TEST_DELTA_ONE_HOLDER), so A gets every delta of the pages A
# and B hold, and the gate lets each result through on A's word.  A is
# killed (the test hook DVM_TEST_EXIT_AFTER_APPLIED) once it made 40
# versions: the last ones reach B only as a PULL that no node can answer.
# The master makes them again (dist/dremake.h: APPLY to the holders that
# lack them, DRESEND to W) and the counter ends exactly; without that the
# run waits for the versions until its limit (checked by hand with both
# paths turned off: the submit fails, the master logging the CI failure's
# "holder b, not acknowledged; holder w, not acknowledged").  The exact
# output within the limit is what decides; versions_remade above 0 only
# says the path ran (B asks for every version, NEED, under the hook).
dvm=$1 engine=$2
CLUSTER_SIGKILL=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/masks_lib.sh"
ex=$(dirname "$0")/../../examples
"$dvm" run --engine "$engine" "$ex/counter.dasm" > "$work/ref"
[ "$(wc -l < "$work/ref")" = 2000 ] || { echo "FAIL: reference"; exit 1; }
unset DVM_TEST_RESULTS_WITH_DATA
master_start
DVM_TEST_EXIT_AFTER_APPLIED=40 node_start a 0 --name a
nodes_joined 1
node_start b 0 --name b
nodes_joined 2
DVM_TEST_DELTA_ONE_HOLDER=1 node_start w 2 --name w
nodes_joined 3
masks_serving 3
timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    "$ex/counter.dasm" > "$work/out" 2> "$work/submit.err" ||
    { echo "FAIL: submit"; cat "$work/submit.err"; tail -20 "$work/master.log"; exit 1; }
grep -q 'results bring masks only' "$work/master.log" ||
    { echo "FAIL: the counter did not run masks only"; exit 1; }
grep -q 'killed after 40 versions made' "$work/a.log" ||
    { echo "FAIL: node a was not killed by its hook"; cat "$work/a.log"; exit 1; }
cmp -s "$work/ref" "$work/out" ||
    { echo "FAIL: counter output differs"; diff "$work/ref" "$work/out" | head; exit 1; }
set -- $(status_figures versions_remade rcomps_replaced_for_held_deltas)
echo "versions made again: $1; RComps replaced: $2"
[ "$1" -gt 0 ] || { echo "FAIL: no version was made again"; exit 1; }
grep 'made again' "$work/master.log" | head -3
echo ok
