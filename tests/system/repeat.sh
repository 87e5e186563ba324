#!/bin/sh
# repeat.sh DVM ENGINE TIMES EXPECTED PROG [ARGS...] -- runs PROG TIMES
# times at -n 8 (more RComps than cores: maximal interleaving) and checks
# the output each time: a lost wake-up shows up as a missing line.
set -eu
dvm=$1 engine=$2 times=$3 expected=$4 prog=$5
shift 5
i=0
while [ $i -lt "$times" ]; do
    got=$("$dvm" run --engine "$engine" -n 8 "$@" "$prog")
    if [ "$got" != "$expected" ]; then
        echo "FAIL at iteration $i: got '$got', expected '$expected'"
        exit 1
    fi
    i=$((i + 1))
done
echo "ok: $times runs of $(basename "$prog")"
