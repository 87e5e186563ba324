#!/bin/sh
# trace_nofd.sh DVM SHIM ENGINE -- a submit with --trace to a master that
# cannot make the trace's file (memfd_create fails: SHIM, preloaded) fails
# at once with the reason and exit status 2; one without --trace runs.
dvm=$1 shim=$2 engine=$3
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
master_start_failing "$shim" memfd_trace
node_start n1 2
nodes_joined 1
st=0
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --trace "$work/trace.json" "$ex/sum.dasm" > "$work/out" 2> "$work/err" ||
    st=$?
[ "$st" = 2 ] || { echo "FAIL: --trace without a file: exit $st"; cat "$work/err"; exit 1; }
grep -q 'cannot make a file for the trace' "$work/err" ||
    { echo "FAIL: no reason given:"; cat "$work/err"; exit 1; }
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    "$ex/sum.dasm" > "$work/out" 2> "$work/err" ||
    { echo "FAIL: the next program"; cat "$work/err"; exit 1; }
echo "ok: --trace without a file refused with its reason"
