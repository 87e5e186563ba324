#!/bin/sh
# stack_reuse.sh DVM ENGINE N -- DISA 1.1 stacks chosen by the DVM are
# reused: a chain of 300 runners, each asking for a quarter of the stack
# area (2^38 bytes) with sb = 0 and creating the next, lives 75 times the
# area's size; at most three such stacks fit at once next to the first
# runner's.  Run with N RComps; the last runner stores its depth.
set -eu
dvm=$1 engine=$2 n=$3
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cat > "$d/chain.dasm" <<'DASM'
        .equ sd, 0x100
        .equ depth, 300
        .text
main:   mov $1, 0x200:q
        br:j spawn
link:   mov (__sb):q, 0x200
        br:ge 0x200:q, $depth, last
spawn:  mov $0, sd:q
        mov $0x4000000000, sd+8:q
        newr $sd, $hd, $wd, $ent
        add 0x200:q, $1, (sd)
        exit:c
last:   mov 0x200:q, res
        mov __ss:q, ss
        exit:c
        .data
hd:     .quad 2, res, 8, ss, 8
wd:     .quad 0
ent:    .quad link
res:    .quad 0
ss:     .quad 0
DASM
out=$("$dvm" run --engine "$engine" -n "$n" --stats --dump res:1:q --dump ss:1:q \
      "$d/chain.dasm" 2> "$d/err") || { cat "$d/err"; echo "FAIL: run"; exit 1; }
[ "$out" = "$(printf '300\n274877906944')" ] ||
    { echo "FAIL: got $out"; cat "$d/err"; exit 1; }
echo "ok: 300 runners on quarter-area stacks chosen by the DVM"
