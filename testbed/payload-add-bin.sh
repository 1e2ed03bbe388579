#!/bin/bash
# Copy host executables into a test bed payload, with the libraries ldd names
# that the guest's base image lacks (build/cache/testbed-base/libs.txt, or
# $HVT_BASE_LIBS): PAYLOAD/bin/NAME and PAYLOAD/lib/*.so*.
# The guest init puts PAYLOAD/bin on PATH and PAYLOAD/lib on LD_LIBRARY_PATH.
#
# usage: testbed/payload-add-bin.sh PAYLOAD_DIR EXECUTABLE...
set -euo pipefail
die() { echo "payload-add-bin: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: payload-add-bin.sh PAYLOAD_DIR EXECUTABLE..."
dst=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
base_libs=${HVT_BASE_LIBS:-$top/build/cache/testbed-base/libs.txt}
mkdir -p "$dst/bin" "$dst/lib"
for b in "$@"; do
	[ -x "$b" ] || die "'$b' is not an executable"
	cp -L "$b" "$dst/bin/"
	ldd "$b" > /dev/null 2>&1 || continue	# static or a script
	for l in $(ldd "$b" | awk '/=> \// { print $3 }'); do
		# The loader and libc must match the base image's: leave them out.
		case ${l##*/} in
		libc.so.*|libm.so.*|ld-linux*|libpthread.so.*|libdl.so.*|librt.so.*) continue ;;
		esac
		[ -f "$base_libs" ] && grep -qxF "${l##*/}" "$base_libs" && continue
		[ -e "$dst/lib/${l##*/}" ] || cp -L "$l" "$dst/lib/"
	done
done
