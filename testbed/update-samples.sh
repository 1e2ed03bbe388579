#!/bin/bash
# Copy a few small real traces from the last `make e2e` run into samples/,
# each with RECORDED.txt saying exactly how it was recorded.
#
# usage: testbed/update-samples.sh   (after make e2e passed)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
latest=$top/build/e2e/latest
die() { echo "update-samples: $*" >&2; exit 2; }
[ -f "$latest/inputs.sha" ] || die "no complete e2e results in $latest (run make e2e)"
. "$latest/env"
kver=$(cat "$top/build/cache/kernel/kver")
lttng_ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}/\1/p' \
	"$top/build/cache/kernel/lttng-modules/dkms.conf" 2> /dev/null | head -n 1)
commit=$(git -C "$top" rev-parse --short HEAD)

# name  source-trace  workload  seed  iterations  what it shows
samples="cpuid cpuid cpuid $SEED $ITERATIONS CPUID exits only: the smallest complete trace
mix-s$SEED-a mix-a mix $SEED $MIX_ITERATIONS seeded mix of every exit kind (first run)
mix-s$SEED-b mix-b mix $SEED $MIX_ITERATIONS the same seed again: hvtrace diff against -a exits 0
mix-s$SEED2 mix-c mix $SEED2 $MIX_ITERATIONS another seed: hvtrace diff against -a exits 1"
while read -r name src wl seed iters what; do
	dir=$top/samples/$name
	[ -f "$latest/traces/$src/kernel/metadata" ] || die "trace $src missing in $latest"
	grep -qx 'rc=0' "$latest/logs/record-$src.txt" || die "recording of $src failed"
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -a "$latest/traces/$src/kernel" "$dir/"
	run=$(grep -m1 '^run ' "$latest/logs/record-$src.txt")
	cat > "$dir/RECORDED.txt" <<TXT
$what

Recorded inside the Bochs test bed by \`make e2e\` (testbed/e2e/guest.sh), tree $commit:

  lttng-sessiond -b --extra-kmod-probes=hvtrace
  hvtrace record --workload $wl --seed $seed --iterations $iters --output /out/traces/$src

Guest: Bochs 2.7, CPU model corei7_skylake_x, Debian kernel $kver,
lttng-modules ${lttng_ver:-2.13.9} (testbed/build-lttng.sh).
record said:
  $run
  $(grep -m1 '^events discarded' "$latest/logs/record-$src.txt")

Try: hvtrace hist samples/$name    hvtrace replay --check samples/$name
TXT
	echo "update-samples: samples/$name ($(du -sh "$dir" | cut -f1))"
done <<< "$samples"
