#!/bin/sh
# garbage.sh DVM GARBAGE ENGINE -- peers that pass the handshake and send
# malformed messages (as clients and as nodes), and a raw TCP peer sending
# random bytes: the master logs and closes them and keeps serving, a run
# in progress included.
dvm=$1 garbage=$2 engine=$3
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
cluster_start 2 2
timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --dump counter:1:q "$ex/counter.dasm" > "$work/out" 2> "$work/err" &
sp=$!
timeout 60 "$garbage" "127.0.0.1:$port" 40
python3 - "$port" <<'PY'
import os, socket, sys
for i in range(5):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    try:
        s.sendall(os.urandom(4096))
    except OSError:
        pass
    s.close()
PY
wait "$sp" || { echo "FAIL: the run failed"; cat "$work/err"; exit 1; }
[ "$(cat "$work/out")" = "$(seq 1 2000; echo 2000)" ] ||
    { echo "FAIL: counter output differs"; exit 1; }
grep -q "closing" "$work/master.log" ||
    { echo "FAIL: the master logged no refusal"; exit 1; }
same --dump result:1:q "$ex/sum.dasm"
echo "ok: garbage refused, the cluster kept working"
