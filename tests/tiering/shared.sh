#!/bin/sh
# tests/tiering/shared.sh DVM SRCDIR -- two RComps of one program share
# their translations (src/exec/jit_cache.h): examples/prime.dasm's hot
# loop, which both RComps run, is translated once (the other RComp loads
# it, or never gets hot), the result is the known one (48,155 primes in
# [10^9, 10^9 + 10^6), the program's default range, as the interpreter
# prints), and the run's cache directory is gone at its end.
set -eu
dvm=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TMPDIR=$tmp "$dvm" run -n 2 --engine jit --stats "$src/examples/prime.dasm" \
    >"$tmp/jit.out" 2>"$tmp/jit.err"
[ "$(cat "$tmp/jit.out")" = 48155 ] || { cat "$tmp/jit.out"; exit 1; }
line=$(grep 'translator: regions translated' "$tmp/jit.err") || {
    cat "$tmp/jit.err"; echo "no translator line in --stats"; exit 1; }
echo "$line"
translated=$(echo "$line" | sed 's/.*translated \([0-9]*\),.*/\1/')
loaded=$(echo "$line" | sed 's/.*shared cache \([0-9]*\) .*/\1/')
bad=$(echo "$line" | sed 's/.*bad entries \([0-9]*\).*/\1/')
[ "$translated" -eq 1 ] || { echo "translated $translated times"; exit 1; }
[ "$loaded" -le 1 ] && [ "$bad" -eq 0 ] || { echo "unexpected: $line"; exit 1; }
left=$(find "$tmp" -maxdepth 1 -name 'dvm-jit-*' | wc -l)
[ "$left" -eq 0 ] || { echo "cache directory left behind"; exit 1; }
