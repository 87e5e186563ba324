#!/bin/sh
# stable.sh DVM ENGINE -- snapshots at the stable epoch: every version a
# runner's snapshot names is kept by its home and backup, so on four nodes
# the counter and the tree sum run with no page data from the master --
# no FETCH answered with data (each node's pages_fetched), no first touch
# answered with data (first_touch_from_master) -- while first touches go
# to the homes; the output is exact and --stats counts runners that waited
# for their commit to be stored.  (With snapshots at the newest epoch a
# dispatch could name a version no holder kept yet, and the master sent
# it.)  No step depends on timing: the figures are counts.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples

# from_master: the pages every node fetched from the master, summed.
from_master() {
    "$dvm" status --master "127.0.0.1:$port" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(sum(h["pages_fetched"] for h in s["hosts"]))'
}

"$dvm" run --engine "$engine" "$ex/counter.dasm" > "$work/ref"
cluster_start 4 2
run "$ex/counter.dasm" "$work/out" --stats
cmp -s "$work/ref" "$work/out" || { echo "FAIL: counter output differs"; exit 1; }
w=$(sed -n 's/.*runners that waited for their commit to be stored at its homes \([0-9]*\).*/\1/p' "$work/submit.err")
[ "${w:-0}" -gt 0 ] || { echo "FAIL: no runner waited: $(cat "$work/submit.err")"; exit 1; }
f=$(from_master)
[ "$f" = 0 ] || { echo "FAIL: the counter fetched $f pages from the master"; exit 1; }
run "$ex/treesum.dasm" "$work/ts" --stats --dump slots+16:1:q
treesum_exact "$work/ts"
f=$(from_master)
set -- $(status_figures first_touch_from_homes first_touch_from_master)
echo "counter: $w runners waited; tree sum: $1 first touches from homes, $2 from the master; $f pages fetched from the master"
[ "$f" = 0 ] && [ "$2" = 0 ] && [ "$1" -gt 0 ] ||
    { echo "FAIL: page data from the master"; exit 1; }
echo ok
