#!/bin/sh
# taskbench.sh DVM ENGINE -- Task Bench graphs (bench/taskbench/gen) as a
# test of chosen stacks, watchers and snapshots under many small tasks:
# every task creates its children on stacks the DVM chooses (DISA 1.1),
# which go back to the RComp that ran their runner and are reused there
# while still mapped (src/sched/stacks.h, src/rcomp/stacks.c), and every
# task checks that its inputs are the values its dependencies committed
# (a wrong one faults the run).  Each graph runs at 1 RComp (the
# reference), at 2 and 3, and at 2 with runners taken back at every turn;
# all must succeed and dump the same slots.
set -eu
dvm=$1 engine=$2
gen=$(dirname "$0")/../../bench/taskbench/gen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<qq", 16, 1))' \
    > "$work/params"
# run OPTIONS...: graph $p on the engine, its slots dumped.
run() {
    timeout 120 "$dvm" run --engine "$engine" "$@" --in "stdin=$work/params" \
        --dump slots:1280:uq "$work/$p.dasm"
}
for p in stencil_1d fft tree random_nearest spread; do
    python3 "$gen" "$p" 8 40 -o "$work/$p.c0" || fail "$p: gen"
    "$dvm" cc "$work/$p.c0" -o "$work/$p.dasm" || fail "$p: cc"
    run -n 1 > "$work/ref" || fail "$p -n 1: exited $?"
    [ "$(wc -l < "$work/ref")" = 1280 ] || fail "$p: no dump"
    for n in 2 3; do
        run -n $n > "$work/out" || fail "$p -n $n: exited $?"
        cmp -s "$work/ref" "$work/out" || fail "$p -n $n: slots differ"
    done
    DVM_TAKE_BACK_US=always run -n 2 > "$work/out" ||
        fail "$p taken back: exited $?"
    cmp -s "$work/ref" "$work/out" || fail "$p taken back: slots differ"
done
echo PASS
