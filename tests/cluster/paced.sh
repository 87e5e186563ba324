#!/bin/sh
# paced.sh DVM ENGINE -- a node's large result does not pile up in a
# master that is slow to take it.  One commit of 256 MiB of output
# (tests/system/big_output.dasm) through dvm submit on 2 nodes, with the
# master stalled for 3 s, turning its transport, at the first record of
# the result's frames it copies in (DVM_TEST_STALL_AT=frames, stall.h):
# a master on a loaded host, slow to copy each record in while UCX keeps
# reading.  The node paces its records by what the master's application
# took (the transport's TAKEN), not by what UCX sent, so the master
# queues a few MiB of them meanwhile, not the output: its peak resident
# set grows far less than that over the one after a small run.  The
# output is byte for byte dvm run's.
dvm=$1 engine=$2
# A small AddressSanitizer quarantine: the 1 MiB receive buffers freed
# would all count in the peak otherwise (as in bigoutput.sh).
[ -n "${ASAN_OPTIONS+x}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=4"
. "$(dirname "$0")/lib.sh"
prog=$(dirname "$0")/../system/big_output.dasm
sed 's/PAGES, 65536/PAGES, 16/' "$prog" > "$work/small.dasm"
export DVM_TEST_STALL_AT=frames DVM_TEST_STALL_MS=3000
master_start
unset DVM_TEST_STALL_AT DVM_TEST_STALL_MS
node_start node1 1
node_start node2 1
nodes_joined 2
m=$(pgrep -P "$master_pid" | head -1)
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$m/status"; }
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --out side=/dev/null "$work/small.dasm" > /dev/null
base=$(hwm)
grep -q stalling "$work/master.log" &&
    { echo "FAIL: the small run's result had records ahead"; exit 1; }
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --out side=/dev/null "$prog" | sha256sum > "$work/sub.sum"
"$dvm" run -n 1 --engine "$engine" --out side=/dev/null "$prog" | sha256sum > "$work/run.sum"
cmp "$work/sub.sum" "$work/run.sum" ||
    { echo "FAIL: submit's output differs from run's"; exit 1; }
peak=$(hwm)
grep -q "stalling 3000 ms (test, turning the transport)" "$work/master.log" ||
    { echo "FAIL: the master did not stall"; exit 1; }
# A master whose receive queue took whatever the node shipped grew by the
# output's size, less what UCX had not read when the stall ended.
[ $((peak - base)) -lt 49152 ] ||
    { echo "FAIL: master peak RSS $((peak / 1024)) MiB for 256 MiB," \
           "$((base / 1024)) MiB after a small run"; exit 1; }
echo "ok: 256 MiB through a stalled master; master peak RSS" \
     "$((peak / 1024)) MiB ($((base / 1024)) MiB after a small run)"
