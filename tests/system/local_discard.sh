#!/bin/sh
# local_discard.sh DVM ENGINE TIMES -- children started where their
# creator ran, on creators that often conflict (tests/system/
# local_discard.c0): an RComp keeps the pages a local child ran on in its
# window through the chain, and must settle them before a runner the
# master sent runs there -- the listed version, or dropped -- or that
# runner reads what a discarded attempt wrote.  The program's checker
# reads the first words of 256 stack blocks without declaring them; their
# sum must be that of the memory the run committed, dumped after it.
# Without the settling every run failed.
set -eu
dvm=$1 engine=$2 times=$3
prog=$(dirname "$0")/local_discard.c0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=0
while [ $i -lt "$times" ]; do
    "$dvm" run -n 2 --engine "$engine" --local-children --dump seen:1:q \
        --dump 0x3E0000000000:131072:q "$prog" > "$out"
    python3 - "$out" <<'PY' || exit 1
import sys
v = [int(x) for x in open(sys.argv[1]).read().split()]
seen, words = v[0], v[1:]
assert len(words) == 256 * 512, "short dump"
s = sum(3 * words[b * 512] + 5 * words[b * 512 + 1] + 7 * words[b * 512 + 2]
        for b in range(256))
s = (s + (1 << 63)) % (1 << 64) - (1 << 63)     # c0's long arithmetic
if s != seen:
    print("FAIL: the checker read %d, the committed blocks sum to %d"
          % (seen, s))
    sys.exit(1)
PY
    i=$((i + 1))
done
echo "ok: $times runs"
