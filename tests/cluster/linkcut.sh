#!/bin/sh
# linkcut.sh DVM ENGINE GEN REF -- a master and 4 nodes in network
# namespaces (netns_lib.sh); during the counter, the tree sum and k-means
# one node's link goes down for 3 s.  The master must give the node up by
# its heartbeat (--heartbeat 1.5) and run its runners elsewhere; when the
# link is back, the old node is closed (what it still sends is dropped),
# it ends, and its supervisor starts it again: it rejoins.  RComps are
# killed meanwhile too.  Then the same with netem loss, delay and
# reordering on every link, when the kernel has netem (skipped with a
# message otherwise).  Every run ends with the exact result, each line
# once.  Root only; skipped (77) otherwise.
dvm=$1 engine=$2 gen=$3 ref=$4
CLUSTER_LIMIT=60
. "$(dirname "$0")/netns_lib.sh"
netns_probe
. "$(dirname "$0")/lib.sh"
CLUSTER_SIGKILL=1      # kill -9 of DVM processes (lib.sh: cleanup)
. "$(dirname "$0")/faults_lib.sh"
netns_setup 4
trap 'st=$?; faults_stop; netns_cleanup; cluster_cleanup "$st"' EXIT
netns_master --heartbeat 1.5
master_addr=127.0.0.1:$port
submit_pre="ip netns exec $m"
faults_data
for k in 1 2 3 4; do
    # shellcheck disable=SC2086
    supervise "$k" ip netns exec "${tag}n$k" "$dvm" node \
        --master "10.77.0.1:$port" --rcomps 2 --heartbeat 1.5 $sec
done
nodes_joined 4

# count WHAT: lines of the master's log that say WHAT.
count() { grep -c "$1" "$work/master.log" || true; }

# live C: node C is a member now (dvm status lists its address).
live() {
    # shellcheck disable=SC2086
    ip netns exec "$m" "$dvm" status --master "$master_addr" $sec --json |
        grep -q "\"host\":\"10.77.0.1$1:"
}

# cut_during PROG: PROG runs while the link of node C, a member, is down
# for 3 s (random faults meanwhile); the master must give C up (by its
# heartbeat, or UCX's own error), and C must join again once the link is
# back.
cut_during() {
    c=$(shuf -i 1-4 -n 1)
    for i in $(seq 1 300); do live "$c" && break; sleep 0.05; done
    joined=$(count "10.77.0.1$c:[0-9]* joined")
    lost=$(count 'no heartbeat\|endpoint failed')
    submit_bg "$1"
    sleep 0.2
    echo "link of node $c down at $(date +%s.%N)" >> "$work/cuts.log"
    ip -n "${tag}n$c" link set "${tag}b$c" down
    # C is one node down already: no other node goes until the master
    # gave C up and copied its versions again (node_may_go).
    gone_addrs="10.77.0.1$c:"
    for i in 1 2 3 4 5 6; do random_fault; sleep 0.5; done
    ip -n "${tag}n$c" link set "${tag}b$c" up
    gone_addrs=""
    echo "link of node $c up at $(date +%s.%N)" >> "$work/cuts.log"
    faults=$((faults + 1))
    submit_check "$1"
    for i in $(seq 1 300); do
        [ "$(count 'no heartbeat\|endpoint failed')" -gt "$lost" ] &&
            [ "$(count "10.77.0.1$c:[0-9]* joined")" -gt "$joined" ] && return 0
        sleep 0.05
    done
    echo "FAIL: node $c: not given up by its heartbeat, or did not rejoin"
    tail -n 30 "$work/master.log" "$work/cuts.log" "$work/node$c.log"
    exit 1
}

for p in $fault_programs; do
    cut_during "$p" || exit 1
done
echo "link cuts: $faults faults; results exact, the cut node rejoined each time"
if ! netns_netem delay 1ms 500us loss 1% reorder 5% 50%; then
    echo "ok: link cuts (netem loss, delay and reordering skipped: tc netem" \
         "is not available in this kernel)"
    exit 0
fi
for p in $fault_programs; do
    submit_bg "$p"
    while kill -0 "$sp" 2>/dev/null; do random_fault; sleep 0.3; done
    submit_check "$p"
done
echo "ok: link cuts, and netem loss, delay and reordering; results exact"
