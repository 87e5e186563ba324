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
"$dvm" run --engine "$engine" -n 2 $args "$prog" <"$tmp/in" >"$tmp/out" \
    2>"$tmp/err"
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
