#!/bin/sh
# jit_ahead.sh DVM SRCDIR -- `dvm translate` does the translator's work
# ahead of a program's runs (src/cli/cmd_translate.c).
#
# With a keeping directory of the test's own: translating a hand-written
# program (prime.dasm) and a c0 one (prime.c0, compiled as `dvm run`
# compiles it) translates every loop head; a run of each then translates
# nothing and loads its hot regions from what was kept, with the known
# result (48,155 primes); translating again finds every loop kept and
# translates none.  Errors say why and exit 2: nowhere to keep
# (DVM_JIT_KEEP=off), a missing program, a bad option.
set -eu
dvm=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -m 700 "$work/keep"
export DVM_JIT_KEEP="$work/keep"
unset DVM_JIT

fail() { echo "FAIL: $*"; exit 1; }
# field LINE WORD: the number before WORD in translate's line.
field() { echo "$1" | sed -n "s/.* \([0-9]*\) $2.*/\1/p"; }
# stat FILE WORD: the number after WORD on a run's translator line.
stat() { sed -n "s/.*translator:.*$2 \([0-9]*\).*/\1/p" "$1"; }

for prog in prime.dasm prime.c0; do
    p=$src/examples/$prog
    line=$("$dvm" translate "$p") || fail "$prog: translate exited $?"
    echo "$line"
    loops=$(field "$line" loops) done=$(field "$line" translated)
    [ -n "$loops" ] && [ "$loops" -ge 1 ] || fail "$prog: loops '$loops'"
    [ "$done" = "$loops" ] || fail "$prog: translated $done of $loops"
    "$dvm" run -n 2 --engine jit --stats "$p" > "$work/out" 2> "$work/err" ||
        fail "$prog: run exited $? ($(tail -3 "$work/err"))"
    [ "$(cat "$work/out")" = 48155 ] || fail "$prog: output $(cat "$work/out")"
    grep translator: "$work/err"
    [ "$(stat "$work/err" "regions translated")" = 0 ] ||
        fail "$prog: the run translated"
    kept=$(stat "$work/err" "kept from earlier runs")
    [ -n "$kept" ] && [ "$kept" -ge 1 ] || fail "$prog: kept '$kept'"
    again=$("$dvm" translate "$p") || fail "$prog: second translate"
    [ "$(field "$again" translated)" = 0 ] &&
        [ "$(field "$again" "kept already")" = "$loops" ] ||
        fail "$prog: second translate: $again"
done

# expect_2 LABEL WORDS CMD...: CMD exits 2 and says WORDS on stderr.
expect_2() {
    label=$1 words=$2
    shift 2
    rc=0
    "$@" > "$work/o" 2> "$work/e" || rc=$?
    [ "$rc" = 2 ] || fail "$label: exit $rc, not 2"
    grep -q "$words" "$work/e" || fail "$label: stderr: $(cat "$work/e")"
}
expect_2 off "kept nowhere" env DVM_JIT_KEEP=off "$dvm" translate \
    "$src/examples/prime.dasm"
expect_2 missing "nothing.dasm" "$dvm" translate "$work/nothing.dasm"
expect_2 option "unknown option" "$dvm" translate --frobnicate \
    "$src/examples/prime.dasm"
echo "ok"
