# examples_lib.sh -- the examples through a running cluster: sourced by
# corpus.sh and examples.sh after lib.sh and cluster_start.
#
# examples_check: every example's standard output (dumps included) and
# exit status identical to dvm run's; output in frames and channel files
# byte for byte as dvm run's; a full device said once; --stats and
# --trace brought back to the client; and the results bring masks only
# from 2 nodes on (the default), their pages' data with
# DVM_TEST_RESULTS_WITH_DATA set.  Variables: dvm, engine, nodes, work,
# port (lib.sh); fails the test on the first difference.
ex=$(dirname "$0")/../../examples
examples_check() {
    same --dump result:1:q "$ex/sum.dasm"
    same --dump counter:1:q "$ex/counter.dasm"
    same --dump slots+16:1:q "$ex/treesum.dasm"
    spin=signal
    if [ -n "${DVM_SANITIZED:-}" ]; then
        # signal.dasm spins 300 million rounds: about 50 s per run on a
        # sanitizer's interpreter, twice.  Its cluster behaviour is that
        # of the other examples; the unsanitized builds run it.
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
    examples_channel_files
    examples_frames
    examples_stats
    examples_masks_said
}

# examples_channel_files: output channels written to the client's files.
examples_channel_files() {
    "$dvm" run -n 2 --engine "$engine" --out log="$work/log.run" \
        "$ex/channels.dasm" > /dev/null 2>&1
    timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        --out log="$work/log.sub" "$ex/channels.dasm" > /dev/null 2>&1
    [ "$(sort "$work/log.run")" = "$(sort "$work/log.sub")" ] &&
        [ -s "$work/log.sub" ] || { echo "FAIL: --out files differ"; exit 1; }
}

# examples_frames: output in frames (the node ships them up with the
# result): 8 MiB in one commit on stdout and 5000 bytes in a file, byte
# for byte as dvm run; and a full device, said once, exit status 2 (as
# dvm run).
examples_frames() {
    sed 's/PAGES, 65536/PAGES, 2048/' \
        "$(dirname "$0")/../system/big_output.dasm" > "$work/out8.dasm"
    "$dvm" run -n 2 --engine "$engine" --out side="$work/side.run" \
        "$work/out8.dasm" > "$work/out.run"
    timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        --out side="$work/side.sub" "$work/out8.dasm" > "$work/out.sub"
    [ "$(wc -c < "$work/out.sub")" -eq $((2048 * 4096)) ] &&
        cmp "$work/out.run" "$work/out.sub" &&
        cmp "$work/side.run" "$work/side.sub" ||
        { echo "FAIL: output in frames differs through submit"; exit 1; }
    set +e
    timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        --out side=/dev/full "$work/out8.dasm" > /dev/null 2> "$work/full.err"
    rc=$?
    set -e
    [ $rc -eq 2 ] && [ "$(grep -c 'No space left' "$work/full.err")" -eq 1 ] &&
        grep -q '^dvm: error: writing channel side: ' "$work/full.err" ||
        { echo "FAIL: full device through submit: rc $rc"; cat "$work/full.err"
          exit 1; }
    # That client ended on its own error: the master cancels its program
    # once it sees it gone, and refuses another until then.
    master_idle
}

# examples_stats: --stats and --trace come back to the client, one slice
# per runner run.
examples_stats() {
    timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        --stats --trace "$work/t.json" "$ex/treesum.dasm" > /dev/null \
        2> "$work/stats" ||
        { echo "FAIL: --stats --trace through submit"; cat "$work/stats"; exit 1; }
    python3 - "$work/t.json" "$work/stats" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
stats = open(sys.argv[2]).read()
runs = [e for e in doc["traceEvents"] if e["ph"] == "X"]
n_run = int(stats.split("runners: run ")[1].split(",")[0])
assert len(runs) == n_run and n_run > 0, (len(runs), n_run)
PY
}

# examples_masks_said: results bring masks only by default, once two
# nodes home pages, and their pages' data with --results-with-data (its
# test hook here); the master says which.
examples_masks_said() {
    if [ -n "${DVM_TEST_RESULTS_WITH_DATA:-}" ] || [ "$nodes" -lt 2 ]; then
        ! grep -q 'results bring masks only' "$work/master.log" ||
            { echo "FAIL: masks only on $nodes nodes, asked for data"; exit 1; }
    else
        grep -q 'results bring masks only' "$work/master.log" ||
            { echo "FAIL: not masks only by default on $nodes nodes"; exit 1; }
    fi
}
