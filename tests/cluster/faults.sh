#!/bin/sh
# faults.sh DVM ENGINE GEN REF -- random faults during the counter, the
# tree sum and k-means on 4 nodes: kill -9 of RComps and of whole nodes,
# and nodes leaving (SIGTERM); a supervisor starts every node that ended
# again, so work goes on.  Every run ends with the exact result, each
# output line once.  FAULT_MASTER=1 adds a kill -9 of the master (the hook
# in faults_lib.sh; needs a master that restarts with its state).
dvm=$1 engine=$2 gen=$3 ref=$4
CLUSTER_LIMIT=60
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_lib.sh"
trap 'st=$?; faults_stop; (exit $st); cluster_cleanup' EXIT
master_start
master_pid=$(echo $pids | awk '{ print $NF }')
master_addr=127.0.0.1:$port
submit_pre="" sec=""
faults_data
for k in 1 2 3 4; do
    supervise "$k" "$dvm" node --master "$master_addr" --rcomps 2
done
nodes_joined 4
for p in $fault_programs; do
    submit_bg "$p"
    sleep 0.1
    while kill -0 "$sp" 2>/dev/null; do
        random_fault
        [ "$p" = treesum ] && fault_master
        sleep 0.$(shuf -i 10-30 -n 1)
    done
    submit_check "$p"
done
[ "$faults" -ge 3 ] || { echo "FAIL: only $faults faults injected"; exit 1; }
echo "ok: $faults faults (RComps and nodes killed, nodes leaving) during $fault_programs; results exact"
