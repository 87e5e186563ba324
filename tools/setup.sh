#!/bin/sh
# setup.sh -- installs everything DVM needs to build, test and benchmark on
# Debian 12.  Idempotent, non-interactive; run as root (or with sudo).
set -eu
PKGS="build-essential cmake pkg-config git
      llvm-15-dev libucx-dev libssl-dev libcmocka-dev
      clang libclang-rt-14-dev
      openmpi-bin libopenmpi-dev
      python3 python3-numpy python3-dask python3-distributed
      gnuplot-nox iproute2 procps gdb
      libmicrohttpd-dev liblmdb-dev prometheus chromium"
# node and npm drive headless Chromium in the dashboard test (tests/obs);
# Debian's nodejs and npm only where no node is installed already.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi
