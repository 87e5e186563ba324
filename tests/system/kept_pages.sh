#!/bin/sh
# kept_pages.sh DVM ENGINE -- the tree sum keeps its pages: at most one page
# fetched on touch per 100 runners (--stats; src/rcomp/keep.c), and the
# right total.  A count, not a time.
set -eu
dvm=$1
engine=$2
dir=$(dirname "$0")/../../examples
out=$("$dvm" run --engine "$engine" -n 2 --stats "$dir/treesum.dasm" 2>&1)
echo "$out"
echo "$out" | grep -qx 209725440
runners=$(echo "$out" | sed -n 's/.*runners: run \([0-9]*\),.*/\1/p')
fetched=$(echo "$out" | sed -n 's/.*fetched on touch \([0-9]*\),.*/\1/p')
if [ -z "$runners" ] || [ -z "$fetched" ]; then
    echo "kept_pages: no stats line" >&2
    exit 1
fi
if [ $((fetched * 100)) -gt "$runners" ]; then
    echo "kept_pages: $fetched pages fetched on touch for $runners runners" \
         "(more than 1 per 100)" >&2
    exit 1
fi
