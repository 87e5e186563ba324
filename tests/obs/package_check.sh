#!/bin/sh
# package_check.sh BUILD_DIR -- the Debian package, unpacked into a scratch
# root (dpkg -x), holds dvm, its manual page, the systemd units and
# /etc/default/dvm (a conffile), and runs an example from there;
# `cmake --install` (with DESTDIR) puts the same files in place.
# Exits 77 (skipped) without dpkg-deb.
set -eu
build=$(cd "$1" && pwd)
command -v dpkg-deb >/dev/null || { echo "SKIP: no dpkg-deb"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

(cd "$build" && cpack -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) ||
    { cat "$tmp/cpack.log"; fail "cpack"; }
deb=$(ls "$tmp"/pkg/dvm_*.deb)
root=$tmp/root
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$tmp/control"
for f in usr/bin/dvm usr/share/man/man1/dvm.1.gz etc/default/dvm \
         usr/lib/systemd/system/dvm-master.service \
         usr/lib/systemd/system/dvm-node.service \
         usr/share/dvm/examples/hello.dasm; do
    [ -e "$root/$f" ] || fail "the package lacks /$f"
done
grep -qx /etc/default/dvm "$tmp/control/conffiles" || fail "no conffile"
# The libraries dvm loads when first needed (src/util/dynlib.h) are
# dependencies of the package although dvm does not link them.
for p in libucx0 libssl3 libmicrohttpd12; do
    grep -q "^Depends:.*\b$p\b" "$tmp/control/control" ||
        fail "the package does not depend on $p"
done
gzip -dc "$root/usr/share/man/man1/dvm.1.gz" | grep -q '^\.TH DVM 1' ||
    fail "the manual page is not roff"
gzip -dc "$root/usr/share/man/man1/dvm.1.gz" | grep -q 'linger' ||
    fail "the manual page lacks the usage text"
for u in master node; do
    unit=$root/usr/lib/systemd/system/dvm-$u.service
    grep -q "^ExecStart=.*/usr/bin/dvm $u " "$unit" || fail "dvm-$u ExecStart"
    grep -q '^EnvironmentFile=/etc/default/dvm$' "$unit" ||
        fail "dvm-$u EnvironmentFile"
    grep -q 'DVM_SECRET_FILE' "$unit" || fail "dvm-$u secret file"
done
grep -q '^CacheDirectory=dvm$' "$root/usr/lib/systemd/system/dvm-node.service" &&
    grep -q '^Environment=XDG_CACHE_HOME=/var/cache$' \
        "$root/usr/lib/systemd/system/dvm-node.service" ||
    fail "dvm-node: no cache directory for kept translations"
grep -q 'DVM_RCOMPS' "$root/usr/lib/systemd/system/dvm-node.service" ||
    fail "dvm-node RComp count"
grep -q 'DVM_LISTEN' "$root/usr/lib/systemd/system/dvm-master.service" ||
    fail "dvm-master listen address"

# The RComp's executable, beside the module (found from bin/dvm).
[ -x "$(cd "$root" && find "$PWD" -name dvm-rcomp | head -1)" ] ||
    fail "the package lacks the RComp's executable dvm-rcomp"

# Run from the scratch root.
"$root/usr/bin/dvm" --version | grep -Eq '^dvm [0-9.]+ \(DISA 1\.1, c0 1\.0\)$' ||
    fail "dvm --version"
out=$("$root/usr/bin/dvm" run -n 2 --engine interp \
      "$root/usr/share/dvm/examples/hello.dasm")
[ "$out" = "hello, world" ] || fail "hello.dasm printed '$out'"
out=$("$root/usr/bin/dvm" run -n 2 --engine interp --dump counter:1:q \
      "$root/usr/share/dvm/examples/counter.dasm" | tail -1)
[ "$out" = 2000 ] || fail "counter.dasm dumped '$out'"
# The translator's module, where the package put it (from an unpacked
# root: found relative to the binary), translating every region.
if [ -e "$build/dvm-jit.so" ]; then
    [ -n "$(cd "$root" && find . -name dvm-jit.so)" ] ||
        fail "the package lacks the translator's module dvm-jit.so"
    out=$(DVM_JIT=eager "$root/usr/bin/dvm" run -n 2 --engine jit \
          --dump counter:1:q "$root/usr/share/dvm/examples/counter.dasm" \
          2>"$tmp/jit.err" | tail -1)
    [ "$out" = 2000 ] && [ ! -s "$tmp/jit.err" ] ||
        { cat "$tmp/jit.err"; fail "counter.dasm on the translator: '$out'"; }
fi

# cmake --install puts the same files in place.
DESTDIR=$tmp/destdir cmake --install "$build" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "cmake --install"; }
(cd "$root" && find . -type f | sort) >"$tmp/pkg.list"
(cd "$tmp/destdir" && find . -type f | sort) >"$tmp/inst.list"
cmp -s "$tmp/pkg.list" "$tmp/inst.list" ||
    { diff "$tmp/pkg.list" "$tmp/inst.list"; fail "install != package"; }
echo "ok: $(basename "$deb") unpacks and runs; cmake --install agrees"
