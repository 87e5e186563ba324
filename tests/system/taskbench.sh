#!/bin/sh
# taskbench.sh DVM ENGINE -- Task Bench graphs (bench/taskbench/gen) as a
# test of chosen stacks, watchers and snapshots under many small tasks:
# every task creates its children on stacks the DVM chooses (DISA 1.1),
# which go back to the RComp that ran their runner and are reused there
# while still mapped (src/sched/stacks.h, src/rcomp/stacks.c), and every
# task checks that its inputs are the values its dependencies committed
# (a wrong one faults the run).  Each graph runs at 1, 2 and 3 RComps and
# at 2 with runners taken back at every turn, and at 1 and 2 with
# children started where their creator ran; every run must succeed and
# dump exactly the slots of graph.py's reference: each task's tag, value
# and check word, zeros where the graph has no task.  `trivial` has only
# roots, which its program creates through a tree of runners.  At 1
# RComp a run may touch at most 400 frames of the store.
set -eu
dvm=$1 engine=$2
tb=$(dirname "$0")/../../bench/taskbench
gen=$tb/gen
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
# expect P: the dump graph.py predicts for pattern P, 8 x 40, 16 iterations.
expect() {
    python3 - "$tb" "$1" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import graph as G
g = G.Graph(sys.argv[2], 8, 40, 3, 3, 0.25)
val = g.reference(16)[2]
for x in range(8 * 40):
    tag = x + 1 if x in val else 0
    v = val.get(x, 0)
    chk = G.mix(tag ^ v) if tag else 0
    print("%d\n%d\n%d\n0" % (tag, v, chk))
EOF
}
started=0
for p in trivial stencil_1d dom fft tree random_nearest spread; do
    python3 "$gen" "$p" 8 40 -o "$work/$p.c0" || fail "$p: gen"
    "$dvm" cc "$work/$p.c0" -o "$work/$p.dasm" || fail "$p: cc"
    expect "$p" > "$work/ref" || fail "$p: reference"
    [ "$(wc -l < "$work/ref")" = 1280 ] || fail "$p: no reference"
    for n in 1 2 3; do
        run -n $n --stats > "$work/out" 2> "$work/err" ||
            { cat "$work/err"; fail "$p -n $n: exited $?"; }
        cmp -s "$work/ref" "$work/out" || fail "$p -n $n: slots differ from graph.py's"
        # The frames a run touches stay few: the master collects old
        # versions often and an RComp asks for frames in small batches,
        # so freed frames, still mapped, are reused before fresh ones
        # (each a first-touch page fault).  With one RComp, whose queue
        # bounds how old a snapshot in flight can be whatever the load,
        # these graphs need ~200 (~700 with batches and collections of
        # 256).  trivial's 320 ready tasks hold a stack page each at once.
        t=$(sed -n 's/.*frames touched \([0-9]*\).*/\1/p' "$work/err")
        [ -n "$t" ] || fail "$p -n $n: no frame count in --stats"
        [ $n != 1 ] || [ $p = trivial ] || [ "$t" -le 400 ] ||
            fail "$p -n 1: $t frames touched (at most 400 expected)"
    done
    DVM_TAKE_BACK_US=always run -n 2 > "$work/out" ||
        fail "$p taken back: exited $?"
    cmp -s "$work/ref" "$work/out" || fail "$p taken back: slots differ"
    # Children started where their creator ran (sched/local.h): a task
    # that read a neighbour's slot before it was committed, or its run
    # id, runs again; the slots stay graph.py's.
    for n in 1 2; do
        run -n $n --local-children --stats > "$work/out" 2> "$work/err$n" ||
            { cat "$work/err$n"; fail "$p local -n $n: exited $?"; }
        cmp -s "$work/ref" "$work/out" ||
            fail "$p local -n $n: slots differ from graph.py's"
    done
    started=$((started + $(cat "$work/err1" "$work/err2" |
        sed -n 's/.*children started where their creator ran \([0-9]*\).*/\1/p' |
        awk '{ s += $1 } END { print s + 0 }')))
done
# Whether a child starts at once depends on the moment (an RComp with
# nothing queued), so only the graphs together must have started some.
[ "$started" -gt 0 ] || fail "no child started at once in any graph"
echo PASS
