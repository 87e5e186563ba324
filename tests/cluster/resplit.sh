#!/bin/sh
# resplit.sh DVM ENGINE -- examples/resplit.dasm (one chain of runners per
# node, re-split whenever __nnode changes) on 2 nodes while a third joins
# and then the first leaves in order (SIGTERM): the sum is exact and
# printed once, the program made a new plan at least once, the leaving
# node exits 0.  The program is told (input `plans`) to hold its total
# until a second plan, so a fast engine cannot finish before the nodes
# come and go, and the nodes come and go only once the program runs:
# the test does not depend on timing.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
master_start
node_start node1 2
first=$node_pid
node_start node2 2
nodes_joined 2
printf '\002' > "$work/plans"
timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --in plans="$work/plans" --dump gen:1:q "$ex/resplit.dasm" > "$work/out" 2> "$work/submit.err" &
sp=$!
# The third node joins, and the first leaves, once the program runs: a
# loaded host can take longer than any fixed pause to start it, and a
# program that begins after both sees __nnode change never and polls
# for its second plan until the timeouts end it.
commits_reach 1
node_start node3 2
nodes_joined 3
sleep 0.3
kill -TERM "$(pgrep -P "$first")"
wait "$first" || { echo "FAIL: the leaving node did not exit 0"; exit 1; }
wait "$sp" || { echo "FAIL: submit failed"; cat "$work/submit.err"; exit 1; }
sum=$(sed -n 1p "$work/out")
gen=$(sed -n 2p "$work/out")
[ "$(wc -l < "$work/out")" = 2 ] && [ "$sum" = 36028797153181696 ] ||
    { echo "FAIL: resplit printed: $(cat "$work/out")"; exit 1; }
[ "$gen" -ge 2 ] || { echo "FAIL: no new plan while nodes came and went (gen $gen)"; exit 1; }
echo "ok: exact sum with $gen plans while a node joined and one left"
