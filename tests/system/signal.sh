#!/bin/sh
# signal.sh DVM ENGINE -- a watcher on __nrcomp wakes when an RComp is
# killed (the DVM shrinks and grows back: system page signals).
set -eu
dvm=$1 engine=$2
prog=$(dirname "$0")/../../examples/signal.dasm
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$dvm" run --engine "$engine" -n 2 "$prog" > "$out" &
pid=$!
victim=""
while [ -z "$victim" ]; do
    victim=$(pgrep -P "$pid" | head -1 || true)
done
sleep 0.1
kill -9 "$victim"
wait "$pid"
if ! grep -q "^signal: 2 rcomps$" "$out"; then
    echo "FAIL: the watcher on __nrcomp did not report the signal: $(cat "$out")"
    exit 1
fi
echo "ok: $(cat "$out")"
