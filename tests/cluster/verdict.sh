#!/bin/sh
# verdict.sh DVM ENGINE -- the master dies after the counter ended but
# before its verdict reached the client: with DVM_TEST_STOP_AT=verdict it
# stops itself once the verdict is saved and before it is sent, and is
# killed (kill -9) there.  A master started again on the same store keeps
# the verdict for the client, which resumes and gets it: exit status 0,
# the output and the dump exactly dvm run's, every line once.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
CLUSTER_SIGKILL=1      # kill -9 of DVM processes (lib.sh: cleanup)
ex=$(dirname "$0")/../../examples
export DVM_TEST_STOP_AT=verdict
master_start --state "$work/state"
unset DVM_TEST_STOP_AT
node_start node1 2
node_start node2 2
nodes_joined 2
args="--dump counter:1:q $ex/counter.dasm"
# shellcheck disable=SC2086
ref=$("$dvm" run -n 2 --engine "$engine" $args 2> "$work/run.err")
# shellcheck disable=SC2086
timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    $args > "$work/out" 2> "$work/err" &
sp=$!
m=$(pgrep -P "$master_pid")
for i in $(seq 1 1200); do
    case $(ps -o stat= -p "$m" 2>/dev/null) in T*) break ;; esac
    sleep 0.05
done
case $(ps -o stat= -p "$m" 2>/dev/null) in
    T*) ;;
    *) echo "FAIL: the master did not stop at the verdict"; cat "$work/master.log"; exit 1 ;;
esac
kill -0 "$sp" 2>/dev/null ||
    { echo "FAIL: the client ended without the verdict"; cat "$work/err"; exit 1; }
kill -9 "$m"
for i in $(seq 1 400); do kill -0 "$m" 2>/dev/null || break; sleep 0.05; done
master_again "$work/master2.log" --state "$work/state"
st=0
wait "$sp" || st=$?
if [ $st != 0 ] || [ "$(cat "$work/out")" != "$ref" ]; then
    echo "FAIL: the verdict after the master's restart: rc $st"
    echo "$ref" | diff - "$work/out" | head -5
    cat "$work/err" "$work/master2.log"
    exit 1
fi
grep -q "resumed the program that ended" "$work/master2.log" ||
    { echo "FAIL: the client did not get the kept verdict"; cat "$work/master2.log"; exit 1; }
echo "ok: a verdict the master died before sending reached its client from the restarted master"
