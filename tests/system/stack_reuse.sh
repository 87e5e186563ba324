#!/bin/sh
# stack_reuse.sh DVM ENGINE N -- DISA 1.1 stacks chosen by the DVM are
# reused: a chain of 300 runners, each asking for a quarter of the stack
# area (2^38 bytes) with sb = 0 and creating the next, lives 75 times the
# area's size; at most three such stacks fit at once next to the first
# runner's.  Run with N RComps; the last runner stores its depth.  Then
# a run with conflicts: no chosen stack is held once it is over.
set -eu
dvm=$1 engine=$2 n=$3
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
sed 's/^        .equ depth, 20000$/        .equ depth, 300/' \
    "$(dirname "$0")/stack_chain.dasm" > "$d/chain.dasm"
out=$("$dvm" run --engine "$engine" -n "$n" --stats --dump res:1:q --dump ss:1:q \
      "$d/chain.dasm" 2> "$d/err") || { cat "$d/err"; echo "FAIL: run"; exit 1; }
[ "$out" = "$(printf '300\n274877906944')" ] ||
    { echo "FAIL: got $out"; cat "$d/err"; exit 1; }
grep -q "stack bytes held at the end 0$" "$d/err" ||
    { echo "FAIL: stacks still held after the run"; cat "$d/err"; exit 1; }

# 40 workers increment one counter (they conflict and run again) and each
# creates a child on a chosen stack; main's are chosen too.  Whatever the
# conflicts, no stack is held once the run is over.
cat > "$d/conflicts.dasm" <<'DASM'
        .equ sd, 0x100
        .equ k, 0x200
        .text
main:   mov $0, k:q
next:   mov $0, sd:q
        mov $4096, sd+8:q
        newr $sd, $hdw, $wd, $entw
        add k:q, $1, k
        br:l k:q, $40, next
        exit:c
worker: add counter:q, $1, counter
        mov $0, sd:q
        mov $0x10000, sd+8:q
        newr $sd, $hdc, $wd, $entc
        exit:c
child:  exit:c
        .data
hdw:    .quad 1, counter, 8
hdc:    .quad 0
wd:     .quad 0
entw:   .quad worker
entc:   .quad child
counter: .quad 0
DASM
out=$("$dvm" run --engine "$engine" -n "$n" --stats --dump counter:1:q \
      "$d/conflicts.dasm" 2> "$d/err") || { cat "$d/err"; echo "FAIL: run"; exit 1; }
[ "$out" = 40 ] || { echo "FAIL: counter $out"; cat "$d/err"; exit 1; }
grep -q "stack bytes held at the end 0$" "$d/err" ||
    { echo "FAIL: stacks still held after the conflicting run"; cat "$d/err"; exit 1; }
echo "ok: 300 runners on quarter-area stacks chosen by the DVM; none held after a conflicting run"
