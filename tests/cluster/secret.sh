#!/bin/sh
# secret.sh DVM ENGINE -- with a cluster secret, only peers that prove it
# join or submit: a node and a client with the wrong secret or none are
# refused with a message, and the cluster keeps working.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
umask 077
echo "the cluster secret" > "$work/secret"
echo "another secret" > "$work/wrong"
master_start --secret-file "$work/secret"
node_start good 2 --secret-file "$work/secret"
nodes_joined 1
node_start stranger 2 --secret-file "$work/wrong"
st=0
wait "$node_pid" || st=$?
[ $st = 2 ] || { echo "FAIL: a node with the wrong secret: status $st"; exit 1; }
node_start nosecret 2
st=0
wait "$node_pid" || st=$?
[ $st = 2 ] || { echo "FAIL: a node without a secret: status $st"; exit 1; }
for args in "--secret-file $work/wrong" ""; do
    st=0
    # shellcheck disable=SC2086
    timeout 30 "$dvm" submit --master "127.0.0.1:$port" $args \
        --engine "$engine" "$ex/hello.dasm" > "$work/out" 2> "$work/err" || st=$?
    if [ $st != 2 ] || [ -s "$work/out" ]; then
        echo "FAIL: submit '$args' was not refused (status $st)"
        exit 1
    fi
    grep -q "secret" "$work/err" ||
        { echo "FAIL: no message about the secret:"; cat "$work/err"; exit 1; }
done
[ "$(grep -c ' joined ' "$work/master.log")" = 1 ] ||
    { echo "FAIL: a stranger joined"; exit 1; }
got=$(timeout 30 "$dvm" submit --master "127.0.0.1:$port" --secret-file \
      "$work/secret" --engine "$engine" --dump result:1:q "$ex/sum.dasm")
[ "$got" = "$("$dvm" run -n 2 --engine "$engine" --dump result:1:q "$ex/sum.dasm")" ] ||
    { echo "FAIL: the cluster does not work after the refusals"; exit 1; }
# Nodes serve each other the versions they home over connections that
# prove the same secret: with three nodes the tree sum fetches from homes,
# and a stranger that connects to a node's listener is refused.
node_start good2 2 --secret-file "$work/secret"
node_start good3 2 --secret-file "$work/secret"
nodes_joined 3
got=$(timeout 60 "$dvm" submit --master "127.0.0.1:$port" --secret-file \
      "$work/secret" --engine "$engine" "$ex/treesum.dasm")
[ "$got" = 209725440 ] || { echo "FAIL: tree sum: $got"; exit 1; }
homes=$("$dvm" status --master "127.0.0.1:$port" --secret-file "$work/secret" \
        --json | python3 -c '
import json, sys
print(sum(h["pages_from_homes"] for h in json.load(sys.stdin)["hosts"]))')
[ "$homes" -gt 0 ] || { echo "FAIL: no version fetched from a home"; exit 1; }
naddr=$(sed -n 's/.* serves the pages it homes on //p' "$work/master.log" | head -1)
st=0
timeout 30 "$dvm" status --master "$naddr" --secret-file "$work/wrong" \
    > /dev/null 2> "$work/err" || st=$?
[ $st = 2 ] && grep -q "secret" "$work/err" ||
    { echo "FAIL: a stranger at node $naddr: status $st"; cat "$work/err"; exit 1; }
echo "ok: strangers refused, members served"
