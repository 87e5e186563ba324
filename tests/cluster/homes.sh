#!/bin/sh
# homes.sh DVM ENGINE -- page versions live at homes on the nodes: on five
# nodes the tree sum is exact while one node is killed (kill -9) during
# it, the master copies the lost node's versions to new holders (or has
# the surviving holder's copy pulled), the nodes fetched versions from
# each other's homes, and the master gave away the data of versions
# stored at their home and backup.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
CLUSTER_SIGKILL=1      # kill -9 of DVM processes (lib.sh: cleanup)
ex=$(dirname "$0")/../../examples
master_start
node_pids=""
for k in 1 2 3 4 5; do
    node_start "node$k" 2
    node_pids="$node_pids $node_pid"
done
nodes_joined 5
dvm_nodes() { for t in $node_pids; do pgrep -P "$t" || true; done; }

# figures: "STORED AWAY": versions the nodes acknowledged so far (all
# runs), and versions whose data the master gave away (now).
figures() {
    "$dvm" status --master "127.0.0.1:$port" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(sum(h["versions_stored"] for h in s["hosts"]),
      s["page_versions_data_at_homes_only"])'
}

# One tree sum; unless told "nokill", a node is killed once versions were
# stored at homes and while the program runs (killed=1 when that
# happened).  The nodes' RComps are stopped while the figures are read and
# the victim chosen, so that the program cannot end in between however
# fast it runs; the nodes themselves go on (heartbeats, STORED).  Records
# in away_max the most versions seen whose data only their homes held.
killed=0
away_max=0
rcomps() { for n in $(dvm_nodes); do pgrep -P "$n" || true; done; }
attempt() {
    before=$(figures | cut -d' ' -f1)
    timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        "$ex/treesum.dasm" > "$work/out" 2> "$work/submit.err" &
    sp=$!
    done_kill=${1:-}
    while kill -0 "$sp" 2>/dev/null; do
        held=""
        if [ "$done_kill" != nokill ]; then
            held=$(rcomps)   # empty while the RComps start; some may end
            [ -z "$held" ] || kill -STOP $held 2>/dev/null || true
        fi
        f=$(figures)
        [ "${f#* }" -gt "$away_max" ] && away_max=${f#* }
        if [ "$done_kill" != nokill ] && [ "${f% *}" -gt "$before" ]; then
            victim=$(dvm_nodes | shuf -n 1)
            kill -0 "$sp" 2>/dev/null && kill -9 "$victim" && killed=1
            done_kill=nokill
        fi
        # (the victim's RComps are gone: kill fails for them, not the others)
        [ -z "$held" ] || kill -CONT $held 2>/dev/null || true
        sleep 0.02
    done
    rc=0
    wait "$sp" || rc=$?
    [ $rc = 0 ] || { echo "FAIL: submit exited $rc"; cat "$work/submit.err"; exit 1; }
    [ "$(cat "$work/out")" = 209725440 ] ||
        { echo "FAIL: tree sum: $(cat "$work/out")"; exit 1; }
}
# A victim that held no version yet (the first versions live on two of
# the five nodes) proves nothing: then another run kills another node.
copied() { grep -q "lost: [1-9][0-9]* page versions copied to new holders" "$work/master.log"; }
for i in 1 2 3; do
    attempt
    [ $killed = 1 ] && copied && break
done
[ $killed = 1 ] || { echo "FAIL: the program always ended before a node was killed"; exit 1; }
copied || {
    echo "FAIL: no versions copied after the loss"; cat "$work/master.log"; exit 1; }
# Another run on what is left, then the nodes' figures.
attempt nokill
"$dvm" status --master "127.0.0.1:$port" --json > "$work/status.json"
python3 - "$work/status.json" <<'PY'
import json, sys
hosts = json.load(open(sys.argv[1]))["hosts"]
homes = sum(h["pages_from_homes"] for h in hosts)
served = sum(h["pages_served_to_nodes"] for h in hosts)
master = sum(h["pages_fetched"] for h in hosts)
stored = sum(h["versions_stored"] for h in hosts)
print("versions fetched from homes %d (served %d), from the master %d, "
      "stored at homes %d" % (homes, served, master, stored))
assert homes > 0 and served > 0, hosts
assert stored > 0, hosts
PY
[ "$away_max" -gt 0 ] || { echo "FAIL: the master never gave a version's data away"; exit 1; }
echo "at most $away_max versions had their data at their homes only"
echo "ok: exact tree sum with a node killed; versions served by homes"
