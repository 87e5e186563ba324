#!/bin/sh
# examples.sh DVM ENGINE NODES -- a master and NODES nodes on loopback run
# the examples (examples_lib.sh says what is checked).  corpus.sh runs the
# same after the conformance programs; this runs them alone, as
# cluster/examples_data does with the results' data brought to the master.
dvm=$1 engine=$2 nodes=$3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/examples_lib.sh"
cluster_start "$nodes" 2
examples_check
echo "ok: examples identical on $nodes nodes"
