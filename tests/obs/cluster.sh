#!/bin/sh
# cluster.sh DVM PROMETHEUS SRC ARTIFACT_DIR MODE -- what a cluster master
# serves with --http: a master (`dvm master --http 127.0.0.1:0`) and two
# nodes named n1 and n2 of 2 RComps each on loopback, started and cleaned
# up by tests/cluster/lib.sh; then tests/obs/cluster_check.py MODE
# ("prometheus" or "dashboard") submits examples/counter.dasm and checks
# what the master shows.  Exits 77 (skipped) without Prometheus, or
# Chromium, node and the npm packages.
dvm=$1 prom=$2 src=$3 art=$4 mode=$5
here=$(cd "$(dirname "$0")" && pwd)
if [ "$mode" = prometheus ] && ! command -v "$prom" > /dev/null; then
    echo "SKIP: no Prometheus server ($prom); tools/setup.sh installs Debian's prometheus"
    exit 77
fi
. "$here/../cluster/lib.sh"
master_start --http 127.0.0.1:0
node_start n1 2 --name n1
node_start n2 2 --name n2
nodes_joined 2
url=$(sed -n 's|.*dashboard at \(http://127\.0\.0\.1:[0-9]*/\).*|\1|p' \
      "$work/master.log")
[ -n "$url" ] || { echo "FAIL: the master does not say where it serves"; exit 1; }
python3 "$here/cluster_check.py" "$mode" "$dvm" "127.0.0.1:$port" "$url" \
    "$prom" "$src" "$art" "$work"
