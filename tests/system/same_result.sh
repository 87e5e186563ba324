#!/bin/sh
# same_result.sh DVM ENGINE PROG [ARGS...] -- a schedule-independent
# program gives identical output at -n 1, -n 2 and -n 8.
set -eu
dvm=$1 engine=$2 prog=$3
shift 3
ref=$("$dvm" run --engine "$engine" -n 1 "$@" "$prog")
for n in 2 8; do
    got=$("$dvm" run --engine "$engine" -n $n "$@" "$prog")
    if [ "$got" != "$ref" ]; then
        echo "FAIL: -n $n differs from -n 1"
        echo "-n 1: $ref" | head -5
        echo "-n $n: $got" | head -5
        exit 1
    fi
done
echo "ok: identical at -n 1, 2, 8: $(echo "$ref" | head -3 | tr '\n' ' ')"
