#!/bin/sh
# cancel.sh DVM ENGINE -- Ctrl-C on dvm submit cancels the program on the
# cluster (exit 130) and the master runs the next one; when the master
# goes away, a running submit says so (exit 2) and the nodes exit (with
# --reconnect 0: they do not wait for it to come back).
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
CLUSTER_SIGKILL=1      # kill -9 of DVM processes (lib.sh: cleanup)
ex=$(dirname "$0")/../../examples
cluster_start 2 2 --reconnect 0
# A program that runs for a long time: the counter, 100 times longer.
sed 's/^\( *\.equ N, *\)[0-9]*/\1200000/' "$ex/counter.dasm" > "$work/long.dasm"
grep -q 'equ N, *200000' "$work/long.dasm" ||
    { echo "FAIL: cannot make a long counter"; exit 1; }
cp -r "$ex/lib" "$work/lib"
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    "$work/long.dasm" > "$work/out" 2> "$work/err" &
sp=$!
for i in $(seq 1 200); do [ -s "$work/out" ] && break; sleep 0.05; done
kill -INT "$sp"
st=0
wait "$sp" || st=$?
[ $st = 130 ] || { echo "FAIL: interrupted submit: status $st"; cat "$work/err"; exit 1; }
grep -q cancelled "$work/err" || { echo "FAIL: no message"; exit 1; }
for i in $(seq 1 100); do
    grep -q "cancelled" "$work/master.log" && break
    sleep 0.05
done
grep -q "cancelled" "$work/master.log" ||
    { echo "FAIL: the master did not cancel the program"; exit 1; }
same --dump counter:1:q "$ex/counter.dasm"
# The master goes away during a run.  (out is emptied here, not only by
# the background job's redirection, which may come after the wait below
# has seen the first submit's output.)
: > "$work/out"
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --reconnect 0 \
    "$work/long.dasm" > "$work/out" 2> "$work/err" &
sp=$!
for i in $(seq 1 200); do [ -s "$work/out" ] && break; sleep 0.05; done
master=$(pgrep -P "$(echo $pids | cut -d' ' -f1)")
kill -9 "$master"
st=0
wait "$sp" || st=$?
[ $st = 2 ] || { echo "FAIL: submit after the master died: status $st"; exit 1; }
grep -q "master went away" "$work/err" ||
    { echo "FAIL: no message:"; cat "$work/err"; exit 1; }
# The nodes notice and exit (their RComps with them).
for i in $(seq 1 200); do
    [ -z "$(for p in $pids; do pgrep -P "$p"; done)" ] && break
    sleep 0.05
done
[ -z "$(for p in $pids; do pgrep -P "$p"; done)" ] ||
    { echo "FAIL: nodes outlive their master"; exit 1; }
echo "ok: cancelled by Ctrl-C; the master's end ends submit and nodes"
