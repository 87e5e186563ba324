#!/bin/sh
# failalloc.sh -- the `dvm` command under allocation failure (the SQLite
# idea), for a build with -DDVM_ALLOC_FAILPOINTS=ON.
#
# For each command below, DVM_FAIL_ALLOC=N makes the N-th allocation and
# every later one fail; N walks 1, 2, ... until the command succeeds (or a
# cap).  Every run must end with a clean status (asm, dis: 0 or 2; run: 0,
# 1 or 2), never by a signal or a sanitizer report, within 20 seconds; a
# failing run must say why on standard error (and not "no error"), and a
# failing `dvm asm -o` must leave no output file behind.  The RComp
# processes of `dvm run` inherit the variable and must fail cleanly too.
#
#   failalloc.sh DVM SRCDIR WORKDIR [PART]
#
# PART runs some of the commands: asm (dvm asm and dvm dis), run (dvm run
# of hello), newr and zero (dvm run of a program whose stacks the DVM
# chooses, of one with a large .zero); all (the default) runs every one.
# ctest runs the parts as tests of their own, side by side.
set -u
DVM=$1
SRC=$2
WORK=$3
PART=${4:-all}
case $PART in
    all|asm|run|newr|zero) ;;
    *) echo "failalloc.sh: unknown part '$PART'" >&2; exit 2 ;;
esac
# part NAME: whether the part NAME runs.
part() { [ "$PART" = all ] || [ "$PART" = "$1" ]; }
rm -rf "$WORK"
mkdir -p "$WORK"
fails=0

bad() {
    echo "FAIL: $*" >&2
    sed -n '1,12p' "$WORK/err" >&2
    fails=$((fails + 1))
}

# check NAME N RC OKCODES: judges one run from its status and $WORK/err.
check() {
    name=$1 n=$2 rc=$3 okcodes=$4
    if [ "$rc" -eq 124 ]; then
        bad "$name: DVM_FAIL_ALLOC=$n: hung (killed after 20 s)"
        return
    fi
    case " $okcodes " in
        *" $rc "*) ;;
        *) bad "$name: DVM_FAIL_ALLOC=$n: exit status $rc"; return ;;
    esac
    if grep -q -e 'Sanitizer' -e 'runtime error' "$WORK/err"; then
        bad "$name: DVM_FAIL_ALLOC=$n: sanitizer report"
        return
    fi
    if [ "$rc" -ne 0 ]; then
        if [ ! -s "$WORK/err" ]; then
            bad "$name: DVM_FAIL_ALLOC=$n: failed without a message"
        elif grep -q -e 'no error' -e ': ok$' "$WORK/err"; then
            bad "$name: DVM_FAIL_ALLOC=$n: failure explained as success"
        fi
    fi
}

# walk NAME CAP OKCODES CMD...: runs CMD for N = 1.. until it exits 0.
walk() {
    name=$1 cap=$2 okcodes=$3
    shift 3
    n=1
    while [ "$n" -le "$cap" ]; do
        rm -f "$WORK/out.dvm"
        DVM_FAIL_ALLOC=$n timeout 20 "$@" >"$WORK/out" 2>"$WORK/err" \
            </dev/null
        rc=$?
        check "$name" "$n" "$rc" "$okcodes"
        if [ "$rc" -eq 0 ]; then
            echo "$name: succeeds from allocation $n on"
            return 0
        fi
        if [ -e "$WORK/out.dvm" ]; then
            bad "$name: DVM_FAIL_ALLOC=$n: output file left behind"
        fi
        n=$((n + 1))
    done
    echo "$name: still failing at the cap ($cap): every run was clean"
}

# asm_part: dvm asm of three programs, dvm dis of an image.
asm_part() {
    for prog in examples/hello.dasm examples/kmeans.dasm \
                tests/asm/features.dasm
    do
        walk "asm $prog" 400 "0 2" "$DVM" asm "$SRC/$prog" -o "$WORK/out.dvm"
    done
    "$DVM" asm "$SRC/tests/asm/features.dasm" -o "$WORK/features.dvm" || {
        echo "FAIL: cannot assemble features.dasm without failpoints" >&2
        exit 1
    }
    walk "dis features.dvm" 400 "0 2" "$DVM" dis "$WORK/features.dvm"
}

# run_part: dvm run of hello, which must print it once it succeeds.
run_part() {
    walk "run hello.dasm" 300 "0 1 2" \
        "$DVM" run -n 1 --engine interp "$SRC/examples/hello.dasm"
    if [ "$rc" -eq 0 ] && [ "$(cat "$WORK/out")" != "hello, world" ]; then
        echo "FAIL: run hello.dasm printed '$(cat "$WORK/out")'" >&2
        fails=$((fails + 1))
    fi
}

# DISA 1.1: stacks chosen by the DVM (the master's allocator, the RComp's
# pools), and a program with a large .zero.
part asm && asm_part
part run && run_part
part newr && walk "run newr_chosen.dasm" 400 "0 1 2" \
    "$DVM" run -n 1 --engine interp "$SRC/tests/conformance/newr_chosen.dasm"
part zero && walk "run zero_fill.dasm" 400 "0 1 2" \
    "$DVM" run -n 1 --engine interp "$SRC/tests/conformance/zero_fill.dasm"

if [ "$fails" -ne 0 ]; then
    echo "failalloc: $fails failures" >&2
    exit 1
fi
echo "failalloc: every run ended cleanly"
