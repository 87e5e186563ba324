#!/bin/sh
# sleepers.sh DVM ENGINE -- every hand-off rung: with DVM_SPIN_US=0 no
# process polls, so each message between the master and its RComps
# crosses its queue in shared memory (src/net/shmq.h) and reaches a peer
# only by the doorbell the peer asked for before it slept.  A doorbell
# lost, or results left in a queue unrung, stalls the run: each program
# has a time limit far above its run time.
#   1. the tree sum (runners, watchers, results gathered while the FIFO
#      holds more) at 2 and 3 RComps;
#   2. the counter (a chain: one runner in flight, every result rung);
#   3. big output (frames of output larger than a queue).
# Results, not times.
set -eu
dvm=$1 engine=$2
ex=$(dirname "$0")/../../examples
sys=$(dirname "$0")
export DVM_SPIN_US=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
for n in 2 3; do
    out=$(timeout 60 "$dvm" run --engine "$engine" -n $n "$ex/treesum.dasm") ||
        fail "treesum -n $n: exited $?"
    [ "$out" = 209725440 ] || fail "treesum -n $n printed '$out'"
done
timeout 60 "$dvm" run --engine "$engine" -n 2 --dump counter:1:q \
    "$ex/counter.dasm" > "$work/counter" || fail "counter: exited $?"
[ "$(cat "$work/counter")" = "$(seq 1 2000; echo 2000)" ] ||
    fail "counter: not 1..2000 and the dump 2000"
sum=$(timeout 60 "$dvm" run --engine "$engine" -n 2 "$sys/big_output.dasm" |
      cksum) || fail "big output: exited $?"
ref=$(DVM_SPIN_US=50 timeout 60 "$dvm" run --engine "$engine" -n 2 \
      "$sys/big_output.dasm" | cksum) || fail "big output (polling): exited $?"
[ "$sum" = "$ref" ] || fail "big output differs when every wait sleeps"
echo PASS
