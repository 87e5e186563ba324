#!/bin/sh
# expect.sh DVM ENGINE RCOMPS EXPECTED PROG [ARGS...] -- runs PROG and
# compares its standard output (lines joined by '|') with EXPECTED.
set -eu
dvm=$1 engine=$2 n=$3 expected=$4 prog=$5
shift 5
got=$("$dvm" run --engine "$engine" -n "$n" "$@" "$prog" | paste -sd '|' -)
if [ "$got" != "$expected" ]; then
    echo "FAIL: $(basename "$prog"): got '$got', expected '$expected'"
    exit 1
fi
echo "ok: $(basename "$prog"): $got"
