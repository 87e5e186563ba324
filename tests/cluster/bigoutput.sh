#!/bin/sh
# bigoutput.sh DVM ENGINE -- one commit of 256 MiB of output
# (tests/system/big_output.dasm) through dvm submit on 2 nodes: byte for
# byte what dvm run prints, and the master's peak resident set stays far
# below it.  The node ships the output's frames up in paced records and
# the master streams them from its frames to the client.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
prog=$(dirname "$0")/../system/big_output.dasm
cluster_start 2 1
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --out side="$work/side.sub" "$prog" | sha256sum > "$work/sub.sum"
"$dvm" run -n 1 --engine "$engine" --out side="$work/side.run" "$prog" |
    sha256sum > "$work/run.sum"
cmp "$work/sub.sum" "$work/run.sum" && cmp "$work/side.sub" "$work/side.run" ||
    { echo "FAIL: submit's output differs from run's"; exit 1; }
m=$(pgrep -P "$master_pid" | head -1)
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$m/status")
[ "$hwm" -lt 65536 ] ||
    { echo "FAIL: master peak RSS $((hwm / 1024)) MiB for 256 MiB"; exit 1; }
echo "ok: 256 MiB through submit as dvm run; master peak RSS $((hwm / 1024)) MiB"
