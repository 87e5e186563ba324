#!/bin/sh
# run.sh -- the hostile-input battery of the `dvm` command, in one place.
#
#   run.sh DVM SRCDIR WORKDIR [PART]
#
# Every case is one line of tests/hostile/cases (read its header for the
# kinds); this script prepares the files the cases use (in WORKDIR), runs
# each line, and adds the cases that are generated (truncations of
# an image, flipped bytes, the misbehaving programs on 1 and 2 RComps).
# Nothing may crash, hang or print a sanitizer report.
#
# PART runs one third of the battery: cases (the lines of the file),
# images (truncated and flipped images) or programs (the misbehaving
# programs); all (the default) runs every part.  ctest runs the three as
# tests of their own, side by side.
set -u
DVM=$1
SRC=$2
W=$3
PART=${4:-all}
case $PART in
    all|cases|images|programs) ;;
    *) echo "run.sh: unknown part '$PART'" >&2; exit 2 ;;
esac
# part NAME: whether the part NAME runs.
part() { [ "$PART" = all ] || [ "$PART" = "$1" ]; }
P=$SRC/tests/hostile/programs
HELLO=$SRC/examples/hello.dasm
export DVM SRC W P HELLO
rm -rf "$W"
mkdir -p "$W"
fails=0
cases=0

bad() {
    echo "FAIL: $*" >&2
    sed -n '1,8p' "$W/err" >&2
    fails=$((fails + 1))
}

# try SECONDS CMD: runs the shell command CMD with a time limit (timeout
# signals the whole process group); sets rc, first (the first line of
# standard error) and out (standard output, newlines as spaces).
try() {
    cases=$((cases + 1))
    timeout -k 5 "$1" sh -c "$2" >"$W/out" 2>"$W/err" </dev/null
    rc=$?
    first=$(sed -n 1p "$W/err")
    out=$(tr '\n' ' ' <"$W/out" | sed 's/ $//')
    if grep -q -e 'Sanitizer' -e 'runtime error' "$W/err"; then
        bad "$what: sanitizer report"
        rc=999
    fi
}

# refused WHAT NAME CMD: exit 2 with a first line naming NAME ("dvm...:"
# or an assembler diagnostic "FILE:LINE:COL: error: ...").
refused() {
    what=$1
    try 20 "$3"
    [ "$rc" -eq 999 ] && return
    if [ "$rc" -ne 2 ]; then
        bad "$what: exit status $rc, want 2"
    else
        case $first in
            *"$2"*) echo "ok: $what: $first" ;;
            *) bad "$what: first line does not name '$2': $first" ;;
        esac
    fi
}

# survives WHAT SECONDS CMD: exit 0, or 1 with "dvm: runner N: fault at
# 0x...: ..." lines.
survives() {
    what=$1
    try "$2" "$3"
    case $rc in
        999) ;;
        0) echo "ok: $what: exit 0" ;;
        1) if grep -q -E '^dvm: runner [0-9]+: fault at 0x[0-9a-f]+: .+' \
                   "$W/err"; then
               echo "ok: $what: $(grep -c 'fault at' "$W/err") faults"
           else
               bad "$what: exit 1 without a fault line"
           fi ;;
        *) bad "$what: exit status $rc" ;;
    esac
}

# faults WHAT SECONDS CMD: like survives, and there must be faults.
faults() {
    survives "$@"
    [ "$rc" -eq 1 ] || [ "$rc" -eq 999 ] || bad "$1: want faults, got $rc"
}

# output WHAT RC:TEXT CMD: exit status RC, and standard output TEXT (lines
# joined by spaces).
output() {
    what=$1
    try 60 "$3"
    want_rc=${2%%:*}
    want=${2#*:}
    [ "$rc" -eq 999 ] && return
    if [ "$rc" -ne "$want_rc" ] || [ "$out" != "$want" ]; then
        bad "$what: exit $rc, output '$out'; want exit $want_rc, '$want'"
    else
        echo "ok: $what: exit $rc, '$out'"
    fi
}

# ---- the files the cases use -------------------------------------------
mkdir "$W/dir.dasm"
: >"$W/empty.dasm"
head -c 4096 /dev/urandom >"$W/garbage.dasm"
"$DVM" asm "$SRC/examples/kmeans.dasm" -o "$W/good.dvm" || {
    echo "FAIL: cannot assemble examples/kmeans.dasm" >&2
    exit 1
}

# ---- the cases, one a line ----------------------------------------------
trim() {
    printf '%s' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'
}
part cases && while IFS='|' read -r kind what arg cmd; do
    case $kind in ''|'#'*) continue ;; esac
    kind=$(trim "$kind")
    what=$(trim "$what")
    arg=$(trim "$arg")
    case $kind in
        refused|survives|faults|output) "$kind" "$what" "$arg" "$cmd" ;;
        *) echo "FAIL: cases: unknown kind '$kind'" >&2
           fails=$((fails + 1)) ;;
    esac
done <"$SRC/tests/hostile/cases"
[ -e "$W/garbage.dvm" ] && bad "asm left garbage.dvm behind"

# ---- generated cases ------------------------------------------------------
# images: every truncation of an image, and flipped bytes.
images() {
    len=$(wc -c <"$W/good.dvm")
    k=0
    while [ "$k" -lt "$len" ]; do
        head -c "$k" "$W/good.dvm" >"$W/trunc.dvm"
        # An empty file is source, not an image: it is refused as empty.
        refused "image truncated to $k bytes" trunc.dvm \
            '"$DVM" run -n 1 "$W/trunc.dvm"'
        # (An empty file disassembles as an empty program.)
        [ "$k" -eq 0 ] || refused "dis of image truncated to $k bytes" \
            trunc.dvm '"$DVM" dis "$W/trunc.dvm"'
        # Every byte of the header, every 7th of the section tables, then
        # every 127th of the sections' bytes (alike; the image fuzzer covers
        # them byte by byte).  HOSTILE_SPARSE=1 (a sanitizer build, where
        # each run costs 0.1 s of a CPU to start): every 3rd, 31st, 509th.
        if [ "${HOSTILE_SPARSE:-0}" = 1 ]; then
            if [ "$k" -lt 96 ]; then k=$((k + 3))
            elif [ "$k" -lt 512 ]; then k=$((k + 31))
            else k=$((k + 509)); fi
        elif [ "$k" -lt 96 ]; then k=$((k + 1))
        elif [ "$k" -lt 512 ]; then k=$((k + 7))
        else k=$((k + 127)); fi
    done
    echo "ok: truncations of a $len-byte image refused"

    # patch FILE OFFSET BYTE: overwrites one byte (BYTE in octal).
    patch() {
        printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
    }
    for off in 9 40 100 $((len / 2)) $((len - 1)); do
        cp "$W/good.dvm" "$W/flip.dvm"
        byte=$(od -An -tu1 -j "$off" -N1 "$W/flip.dvm" | tr -d ' ')
        patch "$W/flip.dvm" "$off" "$(printf '%o' $(( (byte ^ 0x5a) & 255 )))"
        refused "image with byte $off flipped" flip.dvm \
            '"$DVM" run -n 1 "$W/flip.dvm"'
    done
    # The version is the 32-bit word after the 8-byte magic (image-format.md).
    cp "$W/good.dvm" "$W/v99.dvm"
    patch "$W/v99.dvm" 8 143        # 99
    patch "$W/v99.dvm" 9 000
    refused "image version 99" v99.dvm '"$DVM" run -n 1 "$W/v99.dvm"'
    refused "dis of image version 99" v99.dvm '"$DVM" dis "$W/v99.dvm"'
}
part images && images

part programs && for n in 1 2; do
    for p in write_code jump_data div_zero bad_addr newr_hostile big_output
    do
        faults "$p -n $n" 20 "\"\$DVM\" run -n $n \"\$P/$p.dasm\""
    done
    output "watch_chain -n $n" 0:1 \
        "\"\$DVM\" run -n $n --dump n:1:q \"\$P/watch_chain.dasm\""
done

if [ "$fails" -ne 0 ]; then
    echo "hostile: $fails of $cases cases failed" >&2
    exit 1
fi
echo "hostile: all $cases cases passed: refused cleanly, no crash, no hang"
