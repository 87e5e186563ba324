#!/bin/sh
# bad_options.sh DVM -- every numeric option of dvm node and dvm master is
# refused, exit 2 and a message naming it, when it is not a number in its
# range (an empty value too), before anything starts.
dvm=$1
fails=0
# refused CMD MESSAGE ARGS...: dvm CMD ARGS exits 2 saying MESSAGE.
refused() {
    cmd=$1 msg=$2
    shift 2
    err=$("$dvm" "$cmd" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" != 2 ] || ! printf '%s\n' "$err" | grep -qF "dvm $cmd: $msg"; then
        echo "FAIL: dvm $cmd $*: exit $rc: $(printf '%s\n' "$err" | head -1)"
        fails=1
    fi
}
m="--master 127.0.0.1:9"
for v in -1 1025 1x "" 99999999999999999999; do
    refused node "bad RComp count" $m --rcomps "$v"
done
for v in -1 86401 1.5 ""; do
    refused node "bad reconnect time" $m --reconnect "$v"
done
for v in -0.1 3601 x "" nan; do
    refused node "bad drain wait" $m --drain-wait "$v"
    refused node "bad drain wait" --drain n1 $m --drain-wait "$v"
done
for v in 0.3 3601 x "" inf; do
    refused node "bad heartbeat" $m --heartbeat "$v"
    refused master "bad heartbeat" --heartbeat "$v"
done
[ "$fails" = 0 ] && echo "ok: bad numeric options refused"
exit "$fails"
