#!/bin/sh
# cli.sh -- `dvm cc` and `dvm run PROG.c0` options (C0.md section 11):
# default output name, -o -, -I, -D, -U, -E, -w, -Werror, status 2 with
# nothing written on an error, the same bytes for the same input.
#   tests/c0/cli.sh DVM WORKDIR
set -eu
DVM=$1
W=$2
rm -rf "$W"; mkdir -p "$W/inc"
fail() { echo "cli.sh: $*" >&2; exit 1; }
cat >"$W/inc/val.h" <<'H'
#define VAL 40
H
cat >"$W/p.c0" <<'C'
#include <val.h>
#ifndef EXTRA
#define EXTRA 0
#endif
void main() { output_q(VAL + EXTRA); output_char('\n'); commitd; }
C
cd "$W"
"$DVM" cc -I inc -w p.c0 || fail "cc failed"
[ -f p.dasm ] || fail "no default output p.dasm"
"$DVM" cc -I inc -w p.c0 -o again.dasm
cmp -s p.dasm again.dasm || fail "output differs between two runs"
[ "$("$DVM" run -n 1 p.dasm)" = 40 ] || fail "p.dasm does not print 40"
[ "$("$DVM" run -n 1 -I inc -DEXTRA=2 -w p.c0)" = 42 ] || fail "run -D"
[ "$("$DVM" run -n 1 -Iinc -D EXTRA -U EXTRA -w p.c0)" = 40 ] || fail "run -U"
"$DVM" cc -I inc -E p.c0 -o - | grep -q "output_q(40 + 0)" || fail "-E"
"$DVM" cc -I inc p.c0 -o - 2>warn.txt | grep -q "^main:" || fail "-o -"
grep -q "warning: 'commitd'" warn.txt || fail "no commitd warning"
rm -f w.dasm
if "$DVM" cc -I inc -Werror p.c0 -o w.dasm 2>err.txt; then fail "-Werror passed"; fi
[ ! -f w.dasm ] || fail "-Werror wrote output"
set +e
"$DVM" cc p.c0 -o x.dasm 2>err.txt; rc=$?
set -e
[ $rc = 2 ] || fail "missing include: status $rc"
[ ! -f x.dasm ] || fail "failed compile wrote output"
grep -q "^p.c0:1:1: error: cannot find include file 'val.h'" err.txt || fail "include diagnostic"
set +e
"$DVM" run -n 1 p.c0 >/dev/null 2>&1; rc=$?
set -e
[ $rc = 2 ] || fail "run of a bad program: status $rc"
echo "cli.sh: ok"
