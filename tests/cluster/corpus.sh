#!/bin/sh
# corpus.sh DVM ENGINE NODES -- every conformance program and example on a
# master and NODES nodes (loopback).  A conformance program's standard
# output (dumps included) must be its .out byte for byte, its exit status
# its `# EXIT:` header, and its standard error must say each `# STDERR:`
# line, fed its `# STDIN:` text: tests/conformance/run.sh, which requires
# the same of `dvm run`, runs it through the master (so the two agree).
# Then the examples (examples_lib.sh): identical to dvm run's, run beside
# them.
dvm=$1 engine=$2 nodes=$3
# The whole corpus runs on one master: its bound comes from ctest's
# (tests/cmake/cluster.cmake); run by hand, 20 s inside ctest's 300 s.
: "${CLUSTER_LIMIT:=280}"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/examples_lib.sh"
here=$(dirname "$0")
cluster_start "$nodes" 2
n=0
for prog in "$here"/../conformance/*.dasm; do
    CONFORMANCE_MASTER=127.0.0.1:$port \
        sh "$here/../conformance/run.sh" "$dvm" "$engine" "$prog" ||
        { echo "FAIL: $(basename "$prog") through submit"; exit 1; }
    n=$((n + 1))
done
examples_check
echo "ok: $n conformance programs and the examples identical on $nodes nodes"
