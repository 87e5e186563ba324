#!/bin/sh
# take_back.sh DVM ENGINE -- a node takes back the runners its RComp has
# not started when the master asks (MSG_TAKE_BACK, MSG_GIVEN_BACK: the claim
# boards of src/net/claim.h on the node), and they run on another node,
# each once.  tests/system/take_back.c0 on 2 nodes of 1 RComp: one long
# runner heads one node's batch, the other node runs dry, and the runners
# queued behind the long one are taken back (--stats counts them); every
# runner prints its number once.  A count, not a time.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
sys=$(dirname "$0")/../system
"$dvm" cc "$sys/take_back.c0" -o "$work/tb.img"
cluster_start 2 1
run "$work/tb.img" "$work/out" --stats
each_once "$work/out" 64
n=$(taken_back)
echo "taken back: $n"
[ "$n" -ge 1 ] || { echo "FAIL: nothing taken back"; cat "$work/submit.err"; exit 1; }
none_lost "taking back"
echo "ok: runners taken back from a node and run once"
