#!/bin/sh
# tests/tiering/shared.sh DVM SRCDIR -- two RComps of one program share
# their translations (src/exec/jit_cache.h): examples/prime.dasm's hot
# loop, which both RComps run, is translated once (the other RComp loads
# it, or never gets hot), the result is the known one (48,155 primes in
# [10^9, 10^9 + 10^6), the program's default range, as the interpreter
# prints), only the process that translates loads the translator's module
# dvm-jit.so (the other sizes the region without it, jit_find.h, and
# loads the entry with the project's own loader), and the run's cache
# directory is gone at its end.
set -eu
dvm=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TMPDIR=$tmp LD_DEBUG=files LD_DEBUG_OUTPUT=$tmp/ld "$dvm" run -n 2 \
    --engine jit --stats "$src/examples/prime.dasm" \
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
if [ -e "$(dirname "$dvm")/dvm-jit.so" ]; then   # a module build
    # LD_DEBUG_OUTPUT: a file per process; dlopen of the module says
    # "file=.../dvm-jit.so [0];  dynamically loaded by ...".
    loaders=$(grep -l 'file=[^ ]*dvm-jit\.so .*dynamically loaded' \
              "$tmp"/ld.* 2>/dev/null | wc -l)
    [ "$loaders" -eq 1 ] || {
        echo "dvm-jit.so loaded by $loaders processes, not 1"; exit 1; }
fi
rm -f "$tmp"/ld.*
left=$(find "$tmp" -maxdepth 1 -name 'dvm-jit-*' | wc -l)
[ "$left" -eq 0 ] || { echo "cache directory left behind"; exit 1; }
