#!/bin/sh
# fault_note.sh DVM ENGINE SRC -- `dvm run PROG.c0` follows a runner's
# fault report with "FILE:LINE: note: fault in function F" (C0.md 9), on
# the given engine; a program run from DISA text gets no such note.
set -eu
dvm=$1 engine=$2 src=$3
prog=$src/tests/c0/faults/divide.c0
err=$(mktemp)
trap 'rm -f "$err"' EXIT
fail() { echo "FAIL: $*"; cat "$err"; exit 1; }
rc=0
"$dvm" run -n 1 --engine "$engine" "$prog" 2> "$err" || rc=$?
[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
grep -q '^dvm: runner 1: fault at 0x[0-9a-f]*: arithmetic fault' "$err" ||
    fail "no fault report"
[ "$(sed -n 2p "$err")" = "$prog:6: note: fault in function ratio" ] ||
    fail "the note after the report is wrong"
# The same program as DISA text: the fault, without a note.
dasm=$(mktemp --suffix=.dasm)
"$dvm" cc "$prog" -o "$dasm"
rc=0
"$dvm" run -n 1 --engine "$engine" "$dasm" 2> "$err" || rc=$?
rm -f "$dasm"
[ "$rc" = 1 ] || fail "DISA text: exit status $rc"
! grep -q 'note:' "$err" || fail "a note for a program not compiled by run"
echo "ok: $engine"
