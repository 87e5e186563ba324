#!/bin/sh
# libpath.sh DVM -- the dvm binary finds its shared libraries only where
# the system keeps them: no RPATH or RUNPATH entry that is empty or
# relative (the dynamic loader reads an empty one as the current
# directory, so a library dropped there would be loaded), and every
# library it needs resolves without one.
dvm=$1
command -v readelf >/dev/null || { echo "skipped: no readelf"; exit 77; }
paths=$(readelf -d "$dvm" | sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]$/\1/p')
[ -z "$paths" ] ||
for p in $(echo "$paths" | tr ':' '\n' | sed 's/^$/<empty>/'); do
    case $p in
    /*) ;;
    *) echo "FAIL: $dvm searches for libraries in '$p' (RUNPATH '$paths')"
       exit 1 ;;
    esac
done
case $paths in
:*|*:|*::*) echo "FAIL: $dvm has an empty library path entry ('$paths')"
            exit 1 ;;
esac
if ldd "$dvm" | grep -q "not found"; then
    echo "FAIL: a library of $dvm is not found:"
    ldd "$dvm" | grep "not found"
    exit 1
fi
echo "ok: library search path '${paths:-system only}'"
