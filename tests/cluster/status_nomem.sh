#!/bin/sh
# status_nomem.sh DVM SHIM -- a master that cannot build its status
# (open_memstream fails: SHIM, preloaded) closes the client, which fails
# at once with a reason, instead of waiting without end for an answer.
dvm=$1 shim=$2
. "$(dirname "$0")/lib.sh"
master_start_failing "$shim" open_memstream
st=0
timeout 60 "$dvm" status --master "127.0.0.1:$port" > "$work/out" \
    2> "$work/err" || st=$?
[ "$st" != 0 ] && [ "$st" != 124 ] ||
    { echo "FAIL: status without memory: exit $st"; cat "$work/err"; exit 1; }
[ ! -s "$work/out" ] || { echo "FAIL: a status was printed"; exit 1; }
grep -q 'out of memory for the status' "$work/master.log" ||
    { echo "FAIL: the master did not say why"; cat "$work/master.log"; exit 1; }
echo "ok: status without memory fails at once (exit $st): $(cat "$work/err")"
