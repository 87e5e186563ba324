#!/bin/sh
# hostile.sh -- hostile input to the `dvm` command, and programs that
# misbehave at run time.
#
# Bad input (missing, unreadable, empty, garbage or damaged files, bad
# options and bindings) must give exit status 2 and a first line on
# standard error that starts with "dvm" and names the file or option at
# fault; nothing may crash or hang.  Misbehaving programs
# (tests/system/hostile/*.dasm) must not crash the DVM: exit status 1 with
# "dvm: runner N: fault at 0x...: ..." lines, or 0.
#
#   hostile.sh DVM SRCDIR WORKDIR
set -u
DVM=$1
SRC=$2
WORK=$3
H=$SRC/tests/system/hostile
HELLO=$SRC/examples/hello.dasm
rm -rf "$WORK"
mkdir -p "$WORK"
fails=0

bad() {
    echo "FAIL: $*" >&2
    sed -n '1,8p' "$WORK/err" >&2
    fails=$((fails + 1))
}

# try SECONDS CMD...: runs CMD with a time limit; sets rc and first.
try() {
    secs=$1
    shift
    timeout "$secs" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
    rc=$?
    first=$(sed -n 1p "$WORK/err")
}

# refused WHAT NAME CMD...: CMD must exit 2 with a first line naming NAME
# ("dvm...: ..." or an assembler diagnostic "FILE:LINE:COL: error: ...").
refused() {
    what=$1 name=$2
    shift 2
    try 20 "$@"
    if [ "$rc" -ne 2 ]; then
        bad "$what: exit status $rc, want 2"
    elif grep -q -e 'Sanitizer' -e 'runtime error' "$WORK/err"; then
        bad "$what: sanitizer report"
    else
        case $first in
            *"$name"*) echo "ok: $what: $first" ;;
            *) bad "$what: first line does not name '$name': $first" ;;
        esac
    fi
}

# survives WHAT SECONDS CMD...: CMD must exit 0, or 1 with fault lines.
survives() {
    what=$1 secs=$2
    shift 2
    try "$secs" "$@"
    if grep -q -e 'Sanitizer' -e 'runtime error' "$WORK/err"; then
        bad "$what: sanitizer report"
        return
    fi
    case $rc in
        0) echo "ok: $what: exit 0" ;;
        1) if grep -q -E '^dvm: runner [0-9]+: fault at 0x[0-9a-f]+: .+' \
                   "$WORK/err"; then
               echo "ok: $what: $(grep -c 'fault at' "$WORK/err") faults"
           else
               bad "$what: exit 1 without a fault line"
           fi ;;
        *) bad "$what: exit status $rc" ;;
    esac
}

# ---- files --------------------------------------------------------------
refused "missing program" nosuch.dasm "$DVM" run "$WORK/nosuch.dasm"
mkdir "$WORK/dir.dasm"
refused "directory as program" dir.dasm "$DVM" run "$WORK/dir.dasm"
refused "directory to dis" dir.dasm "$DVM" dis "$WORK/dir.dasm"
: >"$WORK/empty.dasm"
refused "empty program" empty.dasm "$DVM" run -n 1 "$WORK/empty.dasm"
head -c 4096 /dev/urandom >"$WORK/garbage.dasm"
refused "garbage source" garbage.dasm "$DVM" run -n 1 "$WORK/garbage.dasm"
refused "garbage to asm" garbage.dasm "$DVM" asm "$WORK/garbage.dasm" \
    -o "$WORK/garbage.dvm"
[ -e "$WORK/garbage.dvm" ] && bad "asm left garbage.dvm behind"

"$DVM" asm "$SRC/examples/kmeans.dasm" -o "$WORK/good.dvm" || {
    echo "FAIL: cannot assemble examples/kmeans.dasm" >&2
    exit 1
}
len=$(wc -c <"$WORK/good.dvm")
k=0
while [ "$k" -lt "$len" ]; do
    head -c "$k" "$WORK/good.dvm" >"$WORK/trunc.dvm"
    # An empty file is source, not an image: it is refused as empty.
    refused "image truncated to $k bytes" trunc.dvm \
        "$DVM" run -n 1 "$WORK/trunc.dvm" >/dev/null
    # (An empty file disassembles as an empty program.)
    [ "$k" -eq 0 ] || refused "dis of image truncated to $k bytes" \
        trunc.dvm "$DVM" dis "$WORK/trunc.dvm" >/dev/null
    k=$((k + 7))
done
echo "ok: every 7th truncation of a $len-byte image refused"

# patch FILE OFFSET BYTE: overwrites one byte (BYTE in octal).
patch() {
    printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
for off in 9 40 100 $((len / 2)) $((len - 1)); do
    cp "$WORK/good.dvm" "$WORK/flip.dvm"
    byte=$(od -An -tu1 -j "$off" -N1 "$WORK/flip.dvm" | tr -d ' ')
    patch "$WORK/flip.dvm" "$off" "$(printf '%o' $(( (byte ^ 0x5a) & 255 )))"
    refused "image with byte $off flipped" flip.dvm \
        "$DVM" run -n 1 "$WORK/flip.dvm"
done
# The version is the 32-bit word after the 8-byte magic (image-format.md).
cp "$WORK/good.dvm" "$WORK/v99.dvm"
patch "$WORK/v99.dvm" 8 143        # 99
patch "$WORK/v99.dvm" 9 000
refused "image version 99" v99.dvm "$DVM" run -n 1 "$WORK/v99.dvm"
refused "dis of image version 99" v99.dvm "$DVM" dis "$WORK/v99.dvm"

# ---- channels ------------------------------------------------------------
INSUM=$SRC/examples/inputsum.dasm
refused "--in with a missing file" nosuch.bin \
    "$DVM" run -n 1 --in data="$WORK/nosuch.bin" "$INSUM"
refused "--in for an undeclared channel" nochan \
    "$DVM" run -n 1 --in nochan="$WORK/good.dvm" "$HELLO"
refused "--out for an undeclared channel" nochan \
    "$DVM" run -n 1 --out nochan="$WORK/o.txt" "$HELLO"
refused "--out to an unwritable path" /proc/x/y \
    "$DVM" run -n 1 --out result=/proc/x/y "$H/out_channel.dasm"

# ---- options -------------------------------------------------------------
refused "--dump of an unknown symbol" nosuch \
    "$DVM" run -n 1 --dump nosuch:1:q "$HELLO"
refused "--dump with a bad type" msg:1:zz \
    "$DVM" run -n 1 --dump msg:1:zz "$HELLO"
refused "--dump beyond 2^46" 0x400000000000 \
    "$DVM" run -n 1 --dump 0x400000000000:1:q "$HELLO"
refused "--dump running past 2^46" 0x3ffffffffff8 \
    "$DVM" run -n 1 --dump 0x3ffffffffff8:2:q "$HELLO"
refused "-n 0" 0 "$DVM" run -n 0 "$HELLO"
refused "-n abc" abc "$DVM" run -n abc "$HELLO"
refused "-n without a value" -n "$DVM" run "$HELLO" -n
refused "unknown option" --frobnicate "$DVM" run --frobnicate "$HELLO"
refused "unknown command" frob "$DVM" frob "$HELLO"
refused "two programs" sum.dasm "$DVM" run "$HELLO" "$SRC/examples/sum.dasm"
refused "two programs to asm" sum.dasm \
    "$DVM" asm "$HELLO" "$SRC/examples/sum.dasm"

# ---- misbehaving programs -------------------------------------------------
for n in 1 2; do
    for p in write_code jump_data div_zero bad_addr newr_hostile big_output
    do
        survives "$p -n $n" 20 "$DVM" run -n "$n" "$H/$p.dasm"
        [ "$rc" -eq 1 ] || bad "$p -n $n: want faults (exit 1), got $rc"
    done
    survives "watch_chain -n $n" 20 \
        "$DVM" run -n "$n" --dump n:1:q "$H/watch_chain.dasm"
    [ "$rc" -eq 0 ] && [ "$(cat "$WORK/out")" = 1 ] ||
        bad "watch_chain -n $n: rc $rc, output '$(cat "$WORK/out")'"
done
survives "many_children" 200 \
    "$DVM" run -n 2 --dump counts:64:q "$H/many_children.dasm"
if [ "$rc" -eq 0 ]; then
    sum=$(awk '{ s += $1 } END { print s }' "$WORK/out")
    [ "$sum" = 50000 ] || bad "many_children: the children counted $sum"
fi

if [ "$fails" -ne 0 ]; then
    echo "hostile: $fails failures" >&2
    exit 1
fi
echo "hostile: every hostile input refused cleanly, no crash"
