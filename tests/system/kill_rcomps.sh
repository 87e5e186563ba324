#!/bin/sh
# kill_rcomps.sh DVM ENGINE -- kill -9 RComps at random moments of a run:
# nothing is lost, nothing printed twice, the result is unchanged.
set -eu
dvm=$1 engine=$2
src=$(dirname "$0")/../../examples/counter.dasm
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$dvm" run --engine "$engine" -n 2 --dump counter:1:q "$src" > "$out" &
pid=$!
kills=0
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do
    kids=$(pgrep -P "$pid" || true)
    victim=$(echo "$kids" | shuf -n 1 2>/dev/null || true)
    if [ -n "$victim" ]; then
        kill -9 "$victim" 2>/dev/null && kills=$((kills + 1))
    fi
    sleep 0.0$(shuf -i 1-9 -n 1)
    i=$((i + 1))
done
wait "$pid"
N=2000
expected=$(seq 1 $N; echo $N)
if [ "$(cat "$out")" != "$expected" ]; then
    echo "FAIL after $kills kills: output differs"
    diff "$out" - <<EOF2 | head -20
$expected
EOF2
    exit 1
fi
echo "ok: $kills RComps killed, result unchanged"
