#!/bin/sh
# run.sh -- differential test of dvm cc against gcc on random programs from
# Csmith, restricted to the c0 subset by its flags.  Each program is built
# by gcc (tests/c0/gcc_shim.h supplies the c0 library) and run by dvm; the
# checksums they print must be equal.  Programs that gcc's build does not
# finish within the time limit are skipped.
#
#   tests/csmith/run.sh [COUNT] [FIRST_SEED]      (DVM: the dvm binary)
#
# Exits 1 on the first difference (the program is kept in the work
# directory), 77 when csmith is missing.
set -u
COUNT=${1:-20}
SEED=${2:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DVM=${DVM:-$ROOT/build/dvm}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
command -v csmith >/dev/null || { echo "run.sh: csmith not found" >&2; exit 77; }
FLAGS="--no-argc --no-bitfields --no-packed-struct --no-float --no-volatiles
       --max-funcs 6 --max-block-depth 3 --max-array-dim 2"
i=0; ran=0; skipped=0
while [ $i -lt "$COUNT" ]; do
    s=$((SEED + i)); i=$((i + 1))
    p=$WORK/p$s.c
    csmith --seed $s $FLAGS -o $p >/dev/null 2>&1 || continue
    sed -i 's/if (print_hash_value) printf(.*);//' $p   # c0 has no printf
    gcc -O1 -fwrapv -w -I"$ROOT/tests/csmith" -include "$ROOT/tests/c0/gcc_shim.h" \
        -o $WORK/g$s $p -lm 2>/dev/null || continue
    timeout 5 $WORK/g$s >$WORK/g$s.out 2>/dev/null || continue
    cp $p $WORK/p$s.c0
    timeout 60 "$DVM" run -n 1 -I"$ROOT/tests/csmith" $WORK/p$s.c0 \
        >$WORK/d$s.out 2>$WORK/d$s.err
    if grep -q "cannot return a struct" $WORK/d$s.err; then
        skipped=$((skipped + 1))      # c0 1.0 has no struct results
        continue
    fi
    if ! cmp -s $WORK/g$s.out $WORK/d$s.out; then
        echo "csmith seed $s: dvm differs from gcc ($WORK/p$s.c0)" >&2
        head -5 $WORK/d$s.err >&2
        exit 1
    fi
    ran=$((ran + 1))
done
echo "csmith: $ran programs agree with gcc ($skipped skipped: struct results)"
