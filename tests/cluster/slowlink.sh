#!/bin/sh
# slowlink.sh DVM ENGINE GEN -- placement keeps input-heavy runners off a
# slow link (dist/linkcost.h, "links" in sched/master.c).  A master and
# three nodes of one RComp on four "hosts" (network namespaces), node 3's
# link limited to 2 Mbit/s (tc tbf, both ends): a page of k-means' input
# takes it ~16 ms to fetch, a chunk of 25 pages ~0.4 s, where the others
# fetch it in a fraction of a millisecond.  k-means (examples/kmeans.dasm,
# 100,000 points, 32 chunks, 10 iterations) gives dvm run's output, and
# node 3 fetched less than a quarter of the input: before placement
# weighed links it ran its third of the chunks and fetched a third of it
# (docs/performance.md, "A slow link"), while now it is sent two runners
# until its first result says what its link costs (PLACE_BATCH_FRESH),
# and after that only the chunks it holds, or those no other RComp would
# start sooner.  dvm status shows node 3's link at least five times
# slower a page than node 1's.  Needs root, ip netns and tc tbf; skipped
# (77) otherwise.
dvm=$1 engine=$2 gen=$3
. "$(dirname "$0")/netns_lib.sh"
netns_probe
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
netns_setup 3
if ! ip netns exec "$m" tc qdisc add dev "${tag}a3" root tbf rate 2mbit \
        burst 3kb latency 1s 2>/dev/null ||
   ! ip netns exec "${tag}n3" tc qdisc add dev "${tag}b3" root tbf \
        rate 2mbit burst 3kb latency 1s 2>/dev/null; then
    echo "skipped: tc tbf is not available in this kernel"
    exit 77
fi
netns_master
for k in 1 2 3; do
    # shellcheck disable=SC2086
    timeout "$CLUSTER_LIMIT" ip netns exec "${tag}n$k" "$dvm" node \
        --master "10.77.0.1:$port" --rcomps 1 $sec 2> "$work/node$k.log" &
    pids="$pids $!"
done
nodes_joined 3 || { cat "$work"/*.log; exit 1; }

pts=$work/points.bin
"$gen" points 7 100000 16 10 32 "$pts" > /dev/null
args="--in points=$pts --dump centroids:64:f $ex/kmeans.dasm"
# shellcheck disable=SC2086
"$dvm" run -n 3 --engine "$engine" $args > "$work/ref"
t0=$(date +%s.%N)
# shellcheck disable=SC2086
timeout 120 ip netns exec "$m" "$dvm" submit --master "127.0.0.1:$port" \
    $sec --engine "$engine" $args > "$work/out" 2> "$work/submit.err" ||
    { echo "FAIL: submit failed"; cat "$work/submit.err" "$work"/*.log; exit 1; }
t=$(echo "$(date +%s.%N) $t0" | awk '{ print $1 - $2 }')
cmp -s "$work/ref" "$work/out" ||
    { echo "FAIL: k-means differs from dvm run's"; diff "$work/ref" "$work/out" | head; exit 1; }
pages=$(( ($(stat -c %s "$pts") + 8 + 4095) / 4096 ))
# shellcheck disable=SC2086
ip netns exec "$m" "$dvm" status --master "127.0.0.1:$port" $sec --json |
python3 -c '
import json, sys
pages, t = int(sys.argv[1]), sys.argv[2]
hosts = {h["host"].split(":")[0]: h for h in json.load(sys.stdin)["hosts"]}
slow, fast = hosts.get("10.77.0.13"), hosts.get("10.77.0.11")
if not slow or not fast:
    sys.exit("FAIL: nodes 1 and 3 not in dvm status: %s" % sorted(hosts))
got = [hosts[h]["input_pages_fetched"] for h in sorted(hosts)]
link = [hosts[h]["link_us_per_input_page"] for h in sorted(hosts)]
print("k-means in %s s; input pages fetched by nodes 1-3: %s of %d; "
      "their links, us a page: %s" % (t, got, pages, link))
if slow["input_pages_fetched"] * 4 >= pages:
    sys.exit("FAIL: the node behind the slow link fetched %d input pages "
             "of %d" % (slow["input_pages_fetched"], pages))
if slow["link_us_per_input_page"] < 5 * max(fast["link_us_per_input_page"], 1):
    sys.exit("FAIL: the slow link measured %d us a page, the fast %d"
             % (slow["link_us_per_input_page"], fast["link_us_per_input_page"]))
print("ok")' "$pages" "$t"
