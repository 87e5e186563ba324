#!/bin/sh
# signal.sh DVM ENGINE -- a watcher on __nrcomp wakes when an RComp is
# killed (the DVM shrinks and grows back: system page signals).
#
# The kill must land after the first runner has committed (the watcher
# exists from then on) and before the spinning worker ends.  On a machine
# under heavy load the first commit can come later than the kill; such a
# run prints nothing (the signal came before anyone watched), so the test
# tries up to three times.  A DVM that never delivers the signal fails all
# three.
set -eu
dvm=$1 engine=$2
prog=$(dirname "$0")/../../examples/signal.dasm
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for try in 1 2 3; do
    "$dvm" run --engine "$engine" -n 2 "$prog" > "$out" &
    pid=$!
    victim=""
    while [ -z "$victim" ]; do
        victim=$(pgrep -P "$pid" -f __rcomp | head -1 || true)
    done
    sleep $((try - 1)).1
    kill -9 "$victim" 2>/dev/null || true
    wait "$pid"
    if grep -q "^signal: 2 rcomps$" "$out"; then
        echo "ok (try $try): $(cat "$out")"
        exit 0
    fi
done
echo "FAIL: the watcher on __nrcomp did not report the signal: $(cat "$out")"
exit 1
