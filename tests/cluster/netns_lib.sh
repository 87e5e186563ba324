# netns_lib.sh -- "hosts" for the cluster tests: network namespaces joined
# by veth pairs (10.77.0.0/24), for netns.sh and linkcut.sh.
#
# Sourced before lib.sh.  netns_probe exits 77 (skipped) without root or
# ip netns.  After lib.sh, netns_setup N makes the master's namespace $m
# with a bridge (10.77.0.1) and N node namespaces ${tag}nK (10.77.0.1K),
# each joined to the bridge by a veth pair (${tag}aK in $m, ${tag}bK in the
# node's), so that every address the master has is reachable from every
# node; netns_master ARGS starts the master there (port in $port) with the
# cluster secret ($sec).  The namespaces go when the test ends.
netns_probe() {
    if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null ||
       ! ip netns add "dvmprobe$$" 2>/dev/null; then
        echo "skipped: needs root and ip netns (network namespaces)"
        exit 77
    fi
    ip netns del "dvmprobe$$"
}

tag=d$$
m=${tag}m
netns_n=0
netns_cleanup() {
    ip netns del "$m" 2>/dev/null
    for k in $(seq 1 "$netns_n"); do ip netns del "${tag}n$k" 2>/dev/null; done
}

netns_setup() {
    netns_n=$1
    trap 'st=$?; netns_cleanup; cluster_cleanup "$st"' EXIT
    ip netns add "$m"
    ip -n "$m" link set lo up
    ip -n "$m" link add "${tag}br" type bridge
    ip -n "$m" addr add 10.77.0.1/24 dev "${tag}br"
    ip -n "$m" link set "${tag}br" up
    for k in $(seq 1 "$netns_n"); do
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
}

netns_master() {
    # shellcheck disable=SC2086
    timeout "$CLUSTER_LIMIT" ip netns exec "$m" "$dvm" master --listen 0.0.0.0:0 \
        --port-file "$work/port" $sec $(suite_heartbeat "$@") "$@" \
        2> "$work/master.log" &
    pids="$pids $!"
    for i in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.05; done
    port=$(cat "$work/port")
}

# netns_netem ARGS: netem ARGS on both ends of every node's link; 1 when
# the kernel has no netem (nothing changed then).
netns_netem() {
    for k in $(seq 1 "$netns_n"); do
        # shellcheck disable=SC2068
        if ! ip netns exec "$m" tc qdisc add dev "${tag}a$k" root netem $@ 2>/dev/null ||
           ! ip netns exec "${tag}n$k" tc qdisc add dev "${tag}b$k" root netem $@ 2>/dev/null; then
            return 1
        fi
    done
}

# netns_rate RATE: every node's link limited to RATE (tc tbf) on both
# ends -- a slow link, where packets wait their turn to be sent: a 4 KiB
# page takes ~0.35 ms to cross a 100 Mbit/s link and back, 64 KiB ~5 ms
# (measured across these namespaces).  The stand-in for netem delay in a
# kernel without netem; 1 when tbf is missing too.
netns_rate() {
    for k in $(seq 1 "$netns_n"); do
        if ! ip netns exec "$m" tc qdisc add dev "${tag}a$k" root tbf \
                rate "$1" burst 3kb latency 100ms 2>/dev/null ||
           ! ip netns exec "${tag}n$k" tc qdisc add dev "${tag}b$k" root tbf \
                rate "$1" burst 3kb latency 100ms 2>/dev/null; then
            return 1
        fi
    done
}
