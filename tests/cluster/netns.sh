#!/bin/sh
# netns.sh DVM ENGINE -- a master and two nodes on three "hosts": network
# namespaces joined by veth pairs (10.77.0.0/24), with a cluster secret;
# the examples give dvm run's results, then again with 200 us of netem
# delay on every link.  Needs root and ip netns; skipped (77) otherwise.
dvm=$1 engine=$2
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null ||
   ! ip netns add "dvmprobe$$" 2>/dev/null; then
    echo "skipped: needs root and ip netns (network namespaces)"
    exit 77
fi
ip netns del "dvmprobe$$"
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
tag=d$$
m=${tag}m
netns_cleanup() {
    for ns in "$m" "${tag}n1" "${tag}n2"; do ip netns del "$ns" 2>/dev/null; done
}
trap 'st=$?; netns_cleanup; (exit $st); cluster_cleanup' EXIT
# One subnet: the master's namespace holds a bridge (10.77.0.1) with one
# veth pair to each node's namespace (10.77.0.1k), so that every address
# the master has is reachable from every node.
ip netns add "$m"
ip -n "$m" link set lo up
ip -n "$m" link add "${tag}br" type bridge
ip -n "$m" addr add 10.77.0.1/24 dev "${tag}br"
ip -n "$m" link set "${tag}br" up
for k in 1 2; do
    ns=${tag}n$k
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "${tag}a$k" netns "$m" type veth peer name "${tag}b$k" netns "$ns"
    ip -n "$m" link set "${tag}a$k" master "${tag}br"
    ip -n "$ns" addr add "10.77.0.1$k/24" dev "${tag}b$k"
    ip -n "$m" link set "${tag}a$k" up
    ip -n "$ns" link set "${tag}b$k" up
done
umask 077
echo "netns secret" > "$work/secret"
sec="--secret-file $work/secret"

# shellcheck disable=SC2086
timeout "$CLUSTER_LIMIT" ip netns exec "$m" "$dvm" master --listen 0.0.0.0:0 \
    --port-file "$work/port" $sec 2> "$work/master.log" &
pids="$pids $!"
for i in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
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
for k in 1 2; do
    if ! ip netns exec "$m" tc qdisc add dev "${tag}a$k" root netem \
            delay 200us 2>/dev/null ||
       ! ip netns exec "${tag}n$k" tc qdisc add dev "${tag}b$k" root netem \
            delay 200us 2>/dev/null; then
        echo "ok: three network namespaces (netem delay skipped: tc netem" \
             "is not available in this kernel)"
        exit 0
    fi
done
t0=$(date +%s.%N)
run_all
echo "with 200us delay: $(echo "$(date +%s.%N) $t0" | awk '{ print $1 - $2 }') s"
echo "ok: three network namespaces, with and without 200us delay"
