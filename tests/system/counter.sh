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
# At one RComp the run's frames are reused as soon as their versions are
# collected, which happens before each grant of frames (sched/rcomps.c,
# rcomp_grant): 100 distinct frames for the 2,000 commits, 130 when the
# master collected only every 32 commits.  Once per engine (the test is
# registered for several RCOMPS; the check is at one).
[ "$n" = 2 ] || exit 0
"$dvm" run --engine "$engine" -n 1 --stats "$src" > /dev/null 2> "$out"
t=$(sed -n 's/.*frames touched \([0-9]*\).*/\1/p' "$out")
if [ -z "$t" ] || [ "$t" -gt 110 ]; then
    echo "FAIL: -n 1: ${t:-no} frames touched (at most 110 expected)"
    exit 1
fi
echo "ok: $t frames at -n 1"
