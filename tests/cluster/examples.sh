#!/bin/sh
# examples.sh DVM ENGINE NODES -- a master and NODES nodes on loopback run
# the examples: output, dumps and exit codes identical to dvm run.
dvm=$1 engine=$2 nodes=$3
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples
cluster_start "$nodes" 2
same --dump result:1:q "$ex/sum.dasm"
same --dump counter:1:q "$ex/counter.dasm"
same --dump slots+16:1:q "$ex/treesum.dasm"
same "$ex/hello.dasm"
same "$ex/producers.dasm"
same "$ex/pipeline.dasm"
echo "ok: examples identical on $nodes nodes"
