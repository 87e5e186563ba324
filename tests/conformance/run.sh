#!/bin/sh
# run.sh DVM ENGINE PROG.dasm -- runs one conformance program and compares.
#
# Runs `DVM run --engine ENGINE -n 2 [ARGS] PROG.dasm` and checks its
# standard output against PROG.out (exactly), its exit status against the
# `# EXIT: N` header (default 0), and that every `# STDERR: text` header
# appears in its standard error.  `# ARGS: ...` adds run arguments;
# `# STDIN: text` feeds text (printf %b escapes) to its standard input,
# which is otherwise empty.  Headers
# are comment lines at the top of the program.  Prints a diff on mismatch.
# With CONFORMANCE_MASTER=HOST:PORT the program is run through a cluster
# master with `DVM submit` instead (tests/cluster/corpus.sh), bounded to
# 60 s, and must meet the same expectations.
set -u
dvm=$1 engine=$2 prog=$3
dir=$(dirname "$prog")
name=$(basename "$prog" .dasm)
expected="$dir/$name.out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/conf.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

header() { sed -n '/^#/!q; s/^# '"$1"': \{0,1\}//p' "$prog"; }
args=$(header ARGS)
want_status=$(header EXIT)
want_status=${want_status:-0}
printf '%b' "$(header STDIN)" >"$tmp/in"

# shellcheck disable=SC2086  # ARGS is split into words on purpose
if [ -n "${CONFORMANCE_MASTER:-}" ]; then
    timeout 60 "$dvm" submit --master "$CONFORMANCE_MASTER" \
        --engine "$engine" $args "$prog" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
else
    "$dvm" run --engine "$engine" -n 2 $args "$prog" <"$tmp/in" \
        >"$tmp/out" 2>"$tmp/err"
fi
status=$?
fail=0
if ! diff -u "$expected" "$tmp/out" >"$tmp/diff"; then
    echo "$name: standard output differs:"
    cat "$tmp/diff"
    fail=1
fi
if [ "$status" != "$want_status" ]; then
    echo "$name: exit status $status, expected $want_status"
    fail=1
fi
header STDERR >"$tmp/want_err"
while IFS= read -r text; do
    [ -n "$text" ] || continue
    if ! grep -qF -- "$text" "$tmp/err"; then
        echo "$name: standard error lacks: $text"
        fail=1
    fi
done <"$tmp/want_err"
if [ "$fail" != 0 ]; then
    echo "--- standard error:"
    cat "$tmp/err"
    exit 1
fi
exit 0
