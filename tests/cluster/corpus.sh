#!/bin/sh
# corpus.sh DVM ENGINE NODES -- every conformance program and example on a
# master and NODES nodes (loopback): standard output (dumps included) and
# exit status identical to dvm run's.
dvm=$1 engine=$2 nodes=$3
# The whole corpus runs on one master: its bound comes from ctest's
# (tests/cmake/cluster.cmake); run by hand, 20 s inside ctest's 300 s.
: "${CLUSTER_LIMIT:=280}"
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
cluster_start "$nodes" 2
header() { sed -n '/^#/!q; s/^# '"$1"': \{0,1\}//p' "$2"; }
n=0
for prog in "$here"/../conformance/*.dasm; do
    # shellcheck disable=SC2046  # ARGS is split into words on purpose
    same $(header ARGS "$prog") "$prog"
    n=$((n + 1))
done
ex=$here/../../examples
same --dump result:1:q "$ex/sum.dasm"
same --dump counter:1:q "$ex/counter.dasm"
same --dump slots+16:1:q "$ex/treesum.dasm"
spin=signal
if [ -n "${DVM_SANITIZED:-}" ]; then
    # signal.dasm spins 300 million rounds: about 50 s per run on a
    # sanitizer's interpreter, twice.  Its cluster behaviour is that of the
    # other examples; the unsanitized builds run it.
    echo "note: signal.dasm left out in a sanitizer build"
    spin=""
fi
for p in hello producers pipeline subleq $spin; do
    same "$ex/$p.dasm"
done
SORTED=1 same "$ex/channels.dasm"
# Input channels: the client's file, readable on every node.
seq 1 30000 > "$work/in.txt"
same --in data="$work/in.txt" "$ex/inputsum.dasm"
# Output channels: the client's files.
"$dvm" run -n 2 --engine "$engine" --out log="$work/log.run" \
    "$ex/channels.dasm" > /dev/null 2>&1
timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    --out log="$work/log.sub" "$ex/channels.dasm" > /dev/null 2>&1
[ "$(sort "$work/log.run")" = "$(sort "$work/log.sub")" ] && [ -s "$work/log.sub" ] ||
    { echo "FAIL: --out files differ"; exit 1; }
echo "ok: $n conformance programs and the examples identical on $nodes nodes"
