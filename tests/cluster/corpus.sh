#!/bin/sh
# corpus.sh DVM ENGINE NODES -- every conformance program and example on a
# master and NODES nodes (loopback).  A conformance program's standard
# output (dumps included) must be its .out byte for byte, its exit status
# its `# EXIT:` header, and its standard error must say each `# STDERR:`
# line, fed its `# STDIN:` text, exactly as tests/conformance/run.sh
# requires of `dvm run` (so the two agree).  Then the examples
# (examples_lib.sh): identical to dvm run's, run beside them.
dvm=$1 engine=$2 nodes=$3
# The whole corpus runs on one master: its bound comes from ctest's
# (tests/cmake/cluster.cmake); run by hand, 20 s inside ctest's 300 s.
: "${CLUSTER_LIMIT:=280}"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/examples_lib.sh"
here=$(dirname "$0")
cluster_start "$nodes" 2
header() { sed -n '/^#/!q; s/^# '"$1"': \{0,1\}//p' "$2"; }

# expect PROG: submits PROG as tests/conformance/run.sh runs it and
# compares with what that test requires of dvm run.
expect() {
    printf '%b' "$(header STDIN "$1")" > "$work/stdin"
    want=$(header EXIT "$1")
    set +e
    # shellcheck disable=SC2046  # ARGS is split into words on purpose
    timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        $(header ARGS "$1") "$1" < "$work/stdin" > "$work/got" \
        2> "$work/submit.err"
    rc=$?
    set -e
    ok=1
    cmp -s "${1%.dasm}.out" "$work/got" && [ "$rc" = "${want:-0}" ] || ok=0
    header STDERR "$1" > "$work/want_err"
    while IFS= read -r text; do
        if [ -n "$text" ] && ! grep -qF -- "$text" "$work/submit.err"; then
            ok=0
        fi
    done < "$work/want_err"
    [ $ok = 1 ] && return 0
    echo "FAIL: $(basename "$1"): submit (rc $rc) differs from its" \
         ".out / EXIT ${want:-0} / STDERR headers"
    diff "${1%.dasm}.out" "$work/got" | head -10
    head -5 "$work/submit.err"
    exit 1
}
n=0
for prog in "$here"/../conformance/*.dasm; do
    expect "$prog"
    n=$((n + 1))
done
examples_check
echo "ok: $n conformance programs and the examples identical on $nodes nodes"
