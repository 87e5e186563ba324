#!/bin/sh
# netns.sh DVM ENGINE -- a master and two nodes on three "hosts": network
# namespaces joined by veth pairs (10.77.0.0/24), with a cluster secret;
# the examples give dvm run's results, then again with 200 us of netem
# delay on every link -- or, in a kernel without netem, with every link
# limited to 100 Mbit/s (tc tbf: packets wait to be sent, a 4 KiB page
# ~0.35 ms there and back).  Needs root and ip netns; skipped (77)
# otherwise.
dvm=$1 engine=$2
. "$(dirname "$0")/netns_lib.sh"
netns_probe
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
netns_setup 2
netns_master
for k in 1 2; do
    # shellcheck disable=SC2086
    timeout "$CLUSTER_LIMIT" ip netns exec "${tag}n$k" "$dvm" node \
        --master "10.77.0.1:$port" --rcomps 2 $sec 2> "$work/node$k.log" &
    pids="$pids $!"
done
nodes_joined 2 || { cat "$work"/*.log; exit 1; }

# nsame ARGS PROG: submit (inside the master's namespace) = dvm run.
nsame() {
    ref=$("$dvm" run -n 2 --engine "$engine" "$@")
    # shellcheck disable=SC2086
    got=$(timeout 120 ip netns exec "$m" "$dvm" submit --master \
          "127.0.0.1:$port" $sec --engine "$engine" "$@") ||
        { echo "FAIL: submit $* failed"; exit 1; }
    [ "$ref" = "$got" ] || { echo "FAIL: $* differs: $got"; exit 1; }
}
run_all() {
    nsame --dump result:1:q "$ex/sum.dasm"
    nsame --dump counter:1:q "$ex/counter.dasm"
    nsame --dump slots+16:1:q "$ex/treesum.dasm"
}
t0=$(date +%s.%N)
run_all
echo "three namespaces: $(echo "$(date +%s.%N) $t0" | awk '{ print $1 - $2 }') s"
if netns_netem delay 200us; then
    what="200us delay"
elif netns_rate 100mbit; then
    what="links of 100 Mbit/s (tc netem is not in this kernel)"
else
    echo "ok: three network namespaces (delay skipped: neither tc netem" \
         "nor tc tbf is available in this kernel)"
    exit 0
fi
t0=$(date +%s.%N)
run_all
echo "with $what: $(echo "$(date +%s.%N) $t0" | awk '{ print $1 - $2 }') s"
echo "ok: three network namespaces, and again with $what"
