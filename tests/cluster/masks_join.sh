#!/bin/sh
# masks_join.sh DVM ENGINE -- a masks-only program (the master has no
# copy of a commit's pages) while a node joins: the nodes that home
# pages change mid-program, so results whose changes went to the holders
# of before wait at the master until their node sends them again to the
# holders now (DRESEND), and the joined node makes versions from what it
# is sent.  The counter's output is exact, every line once; no step
# depends on timing (each waits for what it checks).
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/masks_lib.sh"
masks_counter_start 2 300
node_start joiner 2 --name joiner
nodes_joined 3
masks_counter_check
grep -q 'node joiner serves the pages it homes' "$work/master.log" ||
    { echo "FAIL: the joined node homes nothing"; exit 1; }
echo ok
