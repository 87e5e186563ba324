#!/bin/sh
# take_back.sh DVM ENGINE DIR -- runners queued behind a long one are taken
# back and run elsewhere, each exactly once (src/sched/master.c, "taking
# back"; src/net/claim.h).  DIR holds take_back.c0.
#
#   1. take_back.c0 (one long runner and 63 short ones, all made by main):
#      every runner prints its number once, and --stats says some were
#      taken back; with DVM_TAKE_BACK_US=off none is, same output.
#   2. DVM_TAKE_BACK_US=always (half of every RComp's queue taken back at
#      every turn of the master's loop, so RComps skip runners all the
#      time and get more after): the tree sum (runners and watchers)
#      gives its usual result, three times.  (The prime checker's long runners were
#      taken back ~30 times each that way: 100 s under ASan.)
# Counts, not times.
set -eu
dvm=$1 engine=$2 dir=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ex=$dir/../../examples

fail() { echo "FAIL: $*"; exit 1; }

# taken FILE: the runners taken back, per --stats (0 when not said).
taken() {
    n=$(sed -n 's/.*runners taken back from a busy RComp \([0-9]*\).*/\1/p' "$1")
    echo "${n:-0}"
}

"$dvm" cc "$dir/take_back.c0" -o "$work/tb.img"
seq 0 63 > "$work/want"
for mode in default off; do
    if [ $mode = off ]; then export DVM_TAKE_BACK_US=off; fi
    "$dvm" run --engine "$engine" -n 2 --stats "$work/tb.img" \
        > "$work/$mode.out" 2> "$work/$mode.err" ||
        fail "$mode: dvm run exited $? ($(tail -3 "$work/$mode.err"))"
    sort -n "$work/$mode.out" > "$work/$mode.sorted"
    cmp -s "$work/want" "$work/$mode.sorted" ||
        fail "$mode: runners did not print once each: $(tr '\n' ' ' < "$work/$mode.out")"
    echo "$mode: $(taken "$work/$mode.err") taken back"
done
unset DVM_TAKE_BACK_US
[ "$(taken "$work/default.err")" -ge 1 ] || fail "nothing taken back"
[ "$(taken "$work/off.err")" -eq 0 ] || fail "taken back with it off"

# Three times: runners taken back behind a long one used to run the claim
# numbers a whole board ahead of the one queued behind it, whose word was
# then reused while it was queued (net/claim.h; an assertion in Debug and
# ASan builds, a runner never answered in others), in one run of three.
export DVM_TAKE_BACK_US=always
for i in 1 2 3; do
    out=$("$dvm" run --engine "$engine" -n 2 --stats "$ex/treesum.dasm" 2>"$work/ts.err") ||
        fail "treesum: exited $? ($(tail -3 "$work/ts.err"))"
    [ "$out" = 209725440 ] || fail "treesum printed '$out'"
    [ "$(taken "$work/ts.err")" -ge 1 ] || fail "treesum: nothing taken back"
    echo "treesum: $(taken "$work/ts.err") taken back"
done
echo PASS
