#!/bin/sh
# counter.sh DVM ENGINE RCOMPS -- thousands of conflicting increments:
# the exact count, and exactly one line per increment, in commit order.
set -eu
dvm=$1 engine=$2 n=$3
src=$(dirname "$0")/../../examples/counter.dasm
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$dvm" run --engine "$engine" -n "$n" --dump counter:1:q "$src" > "$out"
N=2000
expected=$(seq 1 $N; echo $N)
if [ "$(cat "$out")" != "$expected" ]; then
    echo "FAIL: output is not 1..$N followed by the dump $N"
    diff "$out" - <<EOF2 | head -20
$expected
EOF2
    exit 1
fi
echo "ok: $N increments, one line each, in commit order"
