#!/bin/sh
# inputs.sh DVM ENGINE -- a program's inputs stay with the master: a node
# fetches the pages of the input windows its RComps touch, not every input
# whole before the program starts (START carries none: docs/cluster.md,
# "Inputs").  tests/cluster/inputs.dasm reads 16 bytes 12 MiB into a
# 16 MiB input and its length word, on 2 nodes: its output is dvm run's,
# the master sent the nodes at most 1 MiB of input (a fetch is 32 pages,
# 128 KiB), and no node's peak resident set grew by as much as
# 8 MiB over the run of a small input (it received 16 MiB each when
# START carried the inputs).  Then k-means (examples/kmeans.dasm, 20,000
# points, every page of its input read) gives OpenMP's peer's figures,
# and the input bytes sent are about its input once per node at most.
dvm=$1 engine=$2 gen=$3
. "$(dirname "$0")/lib.sh"
prog=$(dirname "$0")/inputs.dasm
python3 -c '
import sys
b = bytearray(b"x" * (16 << 20))
b[12 << 20:(12 << 20) + 16] = b"twelve MiB in:-)"
open(sys.argv[1], "wb").write(bytes(b))
open(sys.argv[2], "wb").write(b"small")' "$work/big" "$work/small"
"$dvm" run --engine "$engine" --in data="$work/big" "$prog" > "$work/ref"
[ "$(cat "$work/ref")" = "twelve MiB in:-)A" ] ||
    { echo "FAIL: dvm run printed '$(cat "$work/ref")'"; exit 1; }
cluster_start 2 1
hwm() {
    for p in $node_pids; do
        awk '/^VmHWM:/ { print $2 }' "/proc/$(pgrep -P "$p" -x dvm | head -1)/status"
    done
}
run "$prog" "$work/out0" --in data="$work/small"
base=$(hwm)
run "$prog" "$work/out" --in data="$work/big"
cmp -s "$work/ref" "$work/out" ||
    { echo "FAIL: submit printed '$(cat "$work/out")'"; exit 1; }
peak=$(hwm)
set -- $(status_figures input_bytes_to_nodes)
echo "input bytes sent to nodes: $1; node peaks $(echo $base) KiB," \
     "then $(echo $peak) KiB"
[ "$1" -le 1048576 ] ||
    { echo "FAIL: $1 input bytes sent for 16 bytes read"; exit 1; }
set -- $base
for p in $peak; do
    [ $((p - $1)) -lt 8192 ] ||
        { echo "FAIL: a node's peak grew from $1 to $p KiB"; exit 1; }
    shift
done
# Every page of an input read, by runners on both nodes.
pts=$work/points.bin
"$gen" points 3 20000 8 4 32 "$pts" > /dev/null
set -- $(status_figures input_bytes_to_nodes)
sent0=$1
"$dvm" run --engine "$engine" --in points="$pts" \
    "$(dirname "$0")/../../examples/kmeans.dasm" > "$work/kref"
run "$(dirname "$0")/../../examples/kmeans.dasm" "$work/kout" --in points="$pts"
cmp -s "$work/kref" "$work/kout" ||
    { echo "FAIL: k-means output differs from dvm run's"; exit 1; }
set -- $(status_figures input_bytes_to_nodes)
pages=$(( ($(stat -c %s "$pts") + 8 + 4095) / 4096 ))
echo "k-means: $(($1 - sent0)) input bytes sent for an input of $pages pages"
# At most every page once per node, and what a node read ahead past the
# end (31 pages).
[ $(($1 - sent0)) -le $((2 * (pages + 31) * 4096)) ] ||
    { echo "FAIL: more input sent than the input once per node"; exit 1; }
# The nodes' own counts add up to the master's.
set -- $(status_figures input_bytes_to_nodes)
"$dvm" status --master "127.0.0.1:$port" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
n = sum(h["input_pages_fetched"] for h in s["hosts"]) * 4096
sys.exit(0 if n == int(sys.argv[1]) else "FAIL: nodes count %d input bytes, the master %s" % (n, sys.argv[1]))' "$1"
echo "ok"
