#!/bin/sh
# jit_keep.sh DVM PROG -- translations are kept across runs by default.
#
# In a home of its own (XDG_CACHE_HOME unset, DVM_JIT_KEEP unset): the
# first run of PROG on the translator translates, the second loads every
# region it translated from ~/.cache/dvm/jit and translates none, with the
# same output; the directories it made are the user's alone (0700).
# XDG_CACHE_HOME, when absolute, is used instead.  DVM_JIT_KEEP=off keeps
# nothing; DVM_JIT_KEEP=DIR keeps in DIR, and a DIR others may write is
# said and not used.  A home where nothing can be made (a file) is passed
# over in silence: the run translates and succeeds.
set -eu
dvm=$1 prog=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset DVM_JIT_KEEP XDG_CACHE_HOME
export DVM_JIT=eager

fail() { echo "FAIL: $*"; exit 1; }

# run LABEL: runs PROG with --stats into $work/LABEL.{out,err}.
run() {
    "$dvm" run --engine jit --stats "$prog" > "$work/$1.out" 2> "$work/$1.err" ||
        fail "$1: dvm run exited $? ($(tail -3 "$work/$1.err"))"
}
# count LABEL WORD: the number after WORD on the translator's stats line.
count() {
    sed -n "s/.*translator:.*$2 \([0-9]*\).*/\1/p" "$work/$1.err"
}

mkdir "$work/home"
export HOME="$work/home"
run first
run second
t1=$(count first "regions translated") t2=$(count second "regions translated")
k2=$(count second "kept from earlier runs")
[ -n "$t1" ] && [ "$t1" -gt 0 ] || fail "first run translated '$t1' regions"
[ "$t2" = 0 ] || fail "second run translated $t2 regions (kept: $k2)"
[ "$k2" = "$t1" ] || fail "second run loaded $k2 kept regions, not $t1"
cmp -s "$work/first.out" "$work/second.out" || fail "outputs differ"
for d in .cache .cache/dvm .cache/dvm/jit; do
    m=$(stat -c %a "$HOME/$d")
    [ "$m" = 700 ] || fail "$d made with mode $m"
done
ls "$HOME"/.cache/dvm/jit/*/*.o > /dev/null || fail "no entry kept"
echo "ok: default: $t1 translated, then $k2 loaded from ~/.cache/dvm/jit"

export XDG_CACHE_HOME="$work/xdg"
run xdg
[ "$(count xdg "regions translated")" = "$t1" ] || fail "xdg: not translated"
ls "$work"/xdg/dvm/jit/*/*.o > /dev/null || fail "xdg: nothing kept there"
unset XDG_CACHE_HOME

mkdir "$work/home2"
HOME="$work/home2" DVM_JIT_KEEP=off run off
[ "$(count off "regions translated")" = "$t1" ] || fail "off: not translated"
[ ! -e "$work/home2/.cache" ] || fail "off: made $work/home2/.cache"

DVM_JIT_KEEP="$work/keep" run named1
DVM_JIT_KEEP="$work/keep" run named2
[ "$(count named2 "kept from earlier runs")" = "$t1" ] ||
    fail "DVM_JIT_KEEP=DIR: second run did not load from DIR"

mkdir -m 0777 "$work/open"
DVM_JIT_KEEP="$work/open" run open
grep -q "others may write it" "$work/open.err" ||
    fail "a directory others may write was not said: $(cat "$work/open.err")"
[ "$(count open "regions translated")" = "$t1" ] || fail "open: not translated"

: > "$work/file"
HOME="$work/file" run nohome
grep -q "kept translations" "$work/nohome.err" &&
    fail "an unusable default was said: $(cat "$work/nohome.err")"
[ "$(count nohome "regions translated")" = "$t1" ] || fail "nohome: not translated"
cmp -s "$work/first.out" "$work/nohome.out" || fail "nohome: output differs"
echo "ok: XDG_CACHE_HOME, off, DIR, a DIR others may write, an unusable home"
