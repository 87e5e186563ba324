#!/bin/sh
# rcomp_exe.sh DVM SRCDIR -- which executable the RComps of a run are
# (util/exe.h): dvm-rcomp where it sits beside dvm, else dvm itself as
# `dvm __rcomp`.
#
# A run whose main runner spins for a while (the interpreter) is caught
# with its RComps alive: each child of the master must be the expected
# executable, and the run must end with its output.  dvm copied alone
# into a directory of its own (no dvm-rcomp, no dvm-jit.so beside it)
# runs hello.dasm and the spinning program on itself.  dvm-rcomp started
# by hand refuses with exit status 2.
set -eu
dvm=$1 src=$2
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
pid=
fail() { echo "FAIL: $*"; exit 1; }

cat > "$work/spin.dasm" <<'DASM'
        .text
main:   add i:q, $1, i
        br:l i:q, $30000000, main
        mov $'k', __out+8
        mov $1, __out
        exit:c
        .data
i:      .quad 0
DASM

# children_exe DVM EXPECTED: runs spin.dasm on DVM, and checks that its
# RComps' executable is EXPECTED while they run.
children_exe() {
    "$1" run -n 2 --engine interp "$work/spin.dasm" > "$work/out" &
    pid=$!
    seen=0 i=0
    while [ $i -lt 200 ] && [ $seen -lt 2 ]; do
        seen=0
        for c in $(pgrep -P $pid 2>/dev/null || true); do
            exe=$(readlink "/proc/$c/exe" 2>/dev/null || true)
            [ -n "$exe" ] || continue
            [ "$exe" = "$2" ] || fail "an RComp of $1 is $exe, not $2"
            grep -q __rcomp "/proc/$c/cmdline" ||
                fail "RComp $c's command line lacks __rcomp"
            seen=$((seen + 1))
        done
        i=$((i + 1))
        sleep 0.02
    done
    [ $seen = 2 ] || fail "$1: saw $seen RComps running"
    wait $pid || fail "$1 run exited $?"
    pid=
    [ "$(cat "$work/out")" = k ] || fail "$1: output '$(cat "$work/out")'"
}

dir=$(cd "$(dirname "$dvm")" && pwd)
[ -x "$dir/dvm-rcomp" ] || fail "no dvm-rcomp beside $dvm"
children_exe "$dvm" "$dir/dvm-rcomp"
echo "ok: RComps are $dir/dvm-rcomp"

mkdir "$work/alone"
cp "$dvm" "$work/alone/dvm"
out=$("$work/alone/dvm" run -n 2 --engine interp "$src/examples/hello.dasm") ||
    fail "dvm alone: exit $?"
[ "$out" = "hello, world" ] || fail "dvm alone: output '$out'"
children_exe "$work/alone/dvm" "$work/alone/dvm"
echo "ok: without dvm-rcomp, RComps are dvm __rcomp"

rc=0
"$dir/dvm-rcomp" > "$work/o" 2> "$work/e" || rc=$?
[ $rc = 2 ] || fail "dvm-rcomp by hand: exit $rc, not 2"
grep -q "never by hand" "$work/e" || fail "dvm-rcomp by hand: $(cat "$work/e")"
rc=0
"$dir/dvm-rcomp" __rcomp --index 0 > "$work/o" 2> "$work/e" || rc=$?
[ $rc != 0 ] || fail "dvm-rcomp without a master exited 0"
echo "ok: dvm-rcomp refuses to run by hand"
