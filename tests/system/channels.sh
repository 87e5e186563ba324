#!/bin/sh
# channels.sh DVM ENGINE -- named output channels: one line per runner in
# stdout and in the bound channel, in the same (commit) order; an unbound
# channel's bytes are discarded with a warning; bound, they arrive whole.
set -eu
dvm=$1 engine=$2
prog=$(dirname "$0")/../../examples/channels.dasm
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
"$dvm" run --engine "$engine" -n 2 --out log="$d/log" "$prog" \
    > "$d/out" 2> "$d/err"
[ "$(wc -l < "$d/out")" -eq 50 ] || { echo "FAIL: stdout lines"; exit 1; }
sed 's/^log //' "$d/log" > "$d/log2"
cmp -s "$d/out" "$d/log2" || { echo "FAIL: log differs from stdout"; exit 1; }
[ "$(sort -n "$d/out" | paste -sd ' ')" = "$(seq 0 49 | paste -sd ' ')" ] ||
    { echo "FAIL: not one line per runner"; exit 1; }
grep -q "100 bytes written to unbound channel 'unused'" "$d/err" ||
    { echo "FAIL: no warning for the unbound channel"; exit 1; }
"$dvm" run --engine "$engine" -n 2 --out log="$d/log" --out unused="$d/u" \
    "$prog" > /dev/null 2> "$d/err"
[ "$(grep -c '^x$' "$d/u")" -eq 50 ] && [ ! -s "$d/err" ] ||
    { echo "FAIL: bound unused channel"; exit 1; }
echo "ok: stdout and log agree line for line; unbound bytes warned about"
