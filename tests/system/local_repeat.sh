#!/bin/sh
# local_repeat.sh DVM ENGINE TIMES -- runs tests/c0/local_chains.c0 TIMES
# times at -n 2 with children started where their creator ran, and checks
# each run's output.  Chains of local children whose creators were local
# children themselves meet every hand-over of src/rcomp/local.c (private
# copies handed on, given back to the pool, copied again); a frame given
# back while a child still ran on it once made one run in ~50 commit a
# wrong counter, so one run is not enough.
set -eu
dvm=$1 engine=$2 times=$3
c0=$(dirname "$0")/../c0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=0
while [ $i -lt "$times" ]; do
    "$dvm" run --engine "$engine" -n 2 --local-children --dump last:4:q \
        --dump total:1:q --dump ridok:4:q "$c0/local_chains.c0" > "$out"
    if ! cmp -s "$out" "$c0/local_chains.out"; then
        echo "FAIL at run $i:"
        diff "$out" "$c0/local_chains.out" || true
        exit 1
    fi
    i=$((i + 1))
done
echo "ok: $times runs"
