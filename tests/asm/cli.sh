#!/bin/sh
# cli.sh DVM WORKDIR SRC -- `dvm asm` / `dvm dis` from the command line:
# round trip through files, default output name, exit status 2 with no
# output file on an assembly error, and a clear load error for dis.
set -u
dvm=$1; work=$2; src=$3
rm -rf "$work"; mkdir -p "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

cp "$src/examples/hello.dasm" "$work/h.dasm"
"$dvm" asm "$work/h.dasm" || fail "asm hello"
[ -f "$work/h.dvm" ] || fail "default output name h.dvm"
"$dvm" dis "$work/h.dvm" > "$work/h2.dasm" || fail "dis"
"$dvm" asm "$work/h2.dasm" -o "$work/h2.dvm" || fail "asm listing"
cmp "$work/h.dvm" "$work/h2.dvm" || fail "round trip differs"

# DISA 1.1: a large .zero costs the image nothing, and the image runs
printf 'main: mov $7, after:q\n exit:c\n.data\nbig: .zero 1024*1024*1024\nafter: .quad 5\n' > "$work/z.dasm"
"$dvm" asm "$work/z.dasm" || fail "asm .zero"
[ "$(wc -c < "$work/z.dvm")" -lt 1024 ] || fail "image of a large .zero not small"
"$dvm" dis "$work/z.dvm" > "$work/z2.dasm" || fail "dis .zero"
"$dvm" asm "$work/z2.dasm" -o "$work/z2.dvm" || fail "asm .zero listing"
cmp "$work/z.dvm" "$work/z2.dvm" || fail ".zero round trip differs"
"$dvm" run -n 1 --dump big+65536:1:q --dump after:1:q "$work/z.dvm" > "$work/zout" || fail "run .zero image"
printf '0\n7\n' | cmp -s - "$work/zout" || fail "dump of the .zero image"

# DISA 1.1: --in NAME=- reads standard input; a closed one is an error
stdin_prog="$src/tests/conformance/stdin_in.dasm"
"$dvm" run -n 1 --engine interp --in inp=- "$stdin_prog" <&- > /dev/null 2> "$work/err"
[ $? -eq 2 ] || fail "exit status with standard input closed"
grep -q "cannot read standard input" "$work/err" || fail "closed stdin message"
head -c 300000 /dev/zero | "$dvm" run -n 2 --engine interp --in inp=- --in again=- \
    "$stdin_prog" > "$work/sout" || fail "large standard input"
[ "$(wc -c < "$work/sout")" -eq 1200000 ] || fail "large standard input size"

printf 'main: exit\n  mov $1, $2\nbogus\n' > "$work/bad.dasm"
"$dvm" asm "$work/bad.dasm" -o "$work/bad.dvm" 2> "$work/err"
[ $? -eq 2 ] || fail "exit status on assembly error"
[ -e "$work/bad.dvm" ] && fail "output left behind"
grep -q "bad.dasm:2:11: error:" "$work/err" || fail "diagnostic 2:11"
grep -q "bad.dasm:3:1: error:" "$work/err" || fail "diagnostic 3:1"

printf 'not an image' > "$work/junk.dvm"
printf 'DVMIMG\r\n\001\002' > "$work/trunc.dvm"
"$dvm" dis "$work/trunc.dvm" > /dev/null 2> "$work/err"
[ $? -eq 2 ] || fail "exit status on a bad image"
grep -q "^dvm: $work/trunc.dvm: " "$work/err" || fail "load error message"
"$dvm" dis "$work/missing.dvm" > /dev/null 2> "$work/err"
[ $? -eq 2 ] || fail "exit status on a missing file"
grep -q "^dvm: $work/missing.dvm: " "$work/err" || fail "missing message"
"$dvm" asm > /dev/null 2>&1
[ $? -eq 2 ] || fail "usage exit status"
rm -rf "$work"
echo ok
