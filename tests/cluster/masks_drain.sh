#!/bin/sh
# masks_drain.sh DVM ENGINE -- a masks-only program (the master has no
# copy of a commit's pages) while a node that homes pages leaves in order
# (SIGTERM): the holders change mid-program, so results whose changes
# went to the leaving node wait at the master until their node sends them
# again to the holders now (DRESEND).  The node leaves within its bound,
# nothing counts as a lost RComp, and the counter's output is exact,
# every line once; no step depends on timing.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/masks_lib.sh"
masks_counter_start 3 300
victim=$(node_dvm 2)
kill -TERM "$victim"
for i in $(seq 1 300); do kill -0 "$victim" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$victim" 2>/dev/null; then
    echo "FAIL: node 2 did not leave within 15 s of SIGTERM"
    exit 1
fi
masks_counter_check
grep -q 'left the cluster' "$work/node2.log" ||
    { echo "FAIL: node 2 did not say it left"; exit 1; }
none_lost "the drain"
echo ok
