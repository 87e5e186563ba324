#!/bin/sh
# manyclients.sh DVM HELPER -- a master serves 256 clients at once and
# refuses (closes, with a reason in its log) the 257th rather than serving
# it untracked: a peer it does not know as a client could then join as a
# node.
dvm=$1 helper=$2
. "$(dirname "$0")/lib.sh"
master_start
got=$(timeout 90 "$helper" "127.0.0.1:$port" 257) ||
    { echo "FAIL: the clients had no answer: $got"; exit 1; }
[ "$got" = "answered 256 closed 1" ] ||
    { echo "FAIL: 257 clients at once: $got"; exit 1; }
grep -q 'too many clients at once' "$work/master.log" ||
    { echo "FAIL: the refusal was not logged"; exit 1; }
echo "ok: $got"
