#!/bin/sh
# masks_peerdown.sh DVM ENGINE -- a masks-only program whose nodes lose
# their connections to each other while both go on (the test hook
# DVM_TEST_PEER_ABORT aborts them once each node has sent 200 deltas, the
# last DELTA with them, as a link that broke).  A result's changes reach
# the other holder only over that link, and the master has no copy: each
# node must connect again (its node still homes pages), and DRESEND then
# gets the changes there.  The counter's output is exact and no RComp is
# replaced for changes no holder had; each node logs the loss and the
# new connection.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/masks_lib.sh"
DVM_TEST_PEER_ABORT=200
export DVM_TEST_PEER_ABORT
masks_counter_start 2 100
masks_counter_check
for n in node1 node2; do
    grep -q 'the connection to node .* went down' "$work/$n.log" ||
        { echo "FAIL: $n lost no connection"; exit 1; }
    grep -q 'connected again to node' "$work/$n.log" ||
        { echo "FAIL: $n did not connect again"; exit 1; }
done
echo ok
