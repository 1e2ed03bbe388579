#!/bin/bash
# Boot the Debian kernel in Bochs (an emulator that implements Intel VMX) and
# run a payload inside it.  The payload folder goes to the guest on a raw-tar
# disk; the guest runs its run.sh with /in = the payload and /out = results,
# then the host unpacks /out into --out, with serial.log next to it.
#
# usage: testbed/guest-run.sh --payload DIR --out DIR [--cpu-model MODEL]
#            [--timeout SEC] [--mem MB] [--out-mb MB] [--cpus N] [--quiet]
# Exit status: 0 the guest finished and run.sh exited 0; 1 the guest finished
# but run.sh failed (results still extracted; its status is in OUT/run.rc);
# 2 anything else (bad usage, build failure, kernel panic or oops, triple
# fault, time-out, the end marker missing): the reason and the tail of
# serial.log on stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
prog=guest-run

die() { echo "$prog: $*" >&2; exit 2; }
usage() {
	sed -n 's/^# usage: /usage: /p; s/^#            /           /p' "$0" | head -n 2 >&2
	exit 2
}

payload=""
out=""
cpu_model=corei7_skylake_x
cpus=1
timeout_s=1800
mem_mb=2048
out_mb=""
quiet=no
while [ $# -gt 0 ]; do
	case $1 in
	--payload) payload=${2:-}; shift 2 || usage ;;
	--out) out=${2:-}; shift 2 || usage ;;
	--cpu-model) cpu_model=${2:-}; shift 2 || usage ;;
	--timeout) timeout_s=${2:-}; shift 2 || usage ;;
	--mem) mem_mb=${2:-}; shift 2 || usage ;;
	--cpus) cpus=${2:-}; shift 2 || usage ;;
	--out-mb) out_mb=${2:-}; shift 2 || usage ;;
	--quiet) quiet=yes; shift ;;
	-h|--help) usage ;;
	*) echo "$prog: unknown option '$1'" >&2; usage ;;
	esac
done
[ -n "$payload" ] && [ -n "$out" ] || usage
[ -f "$payload/run.sh" ] || die "payload '$payload' has no run.sh"
[[ $timeout_s =~ ^[0-9]+$ ]] && [ "$timeout_s" -gt 0 ] || die "bad --timeout '$timeout_s'"
[[ $mem_mb =~ ^[0-9]+$ ]] && [ "$mem_mb" -ge 256 ] && [ "$mem_mb" -le 3072 ] ||
	die "bad --mem '$mem_mb' (256..3072 MB)"
out_mb=${out_mb:-$mem_mb}
[[ $out_mb =~ ^[0-9]+$ ]] && [ "$out_mb" -ge 8 ] || die "bad --out-mb '$out_mb'"
[[ $cpu_model =~ ^[a-z0-9_]+$ ]] || die "bad --cpu-model '$cpu_model'"
command -v bochs > /dev/null || die "bochs missing (run: testbed/install-deps.sh e2e)"
# Results of an earlier run must never pass for this one's.
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ]; then
	die "output folder '$out' is not empty"
fi

# Cached ingredients: kernel, LTTng modules, base initramfs + ISO.  A lock
# keeps concurrent runs from building them twice.  HVT_BASE_READY=1: the
# caller made HVT_BASE_DIR itself (mkbase.sh for another kernel than
# fetch-kernel.sh's, kmod/tests/bochs-kernels.sh): it is used as it is.
kcache=${HVT_KERNEL_CACHE:-$top/build/cache/kernel}
lttng=${HVT_LTTNG_BUILD:-$top/build/cache/lttng-build}
base=${HVT_BASE_DIR:-$top/build/cache/testbed-base}
mkdir -p "$top/build/cache"
if [ "${HVT_BASE_READY:-}" != 1 ]; then
	(
		flock 9
		"$here/fetch-kernel.sh" "$kcache" >&2
		"$here/build-lttng.sh" "$kcache" "$lttng" >&2
		"$here/mkbase.sh" "$kcache" "$lttng" "$base" >&2
	) 9> "$top/build/cache/.testbed.lock" || die "cannot prepare the boot image"
fi
[ -s "$base/boot.iso" ] || die "no boot image in $base"

# Bochs' host memory block is at most 2048 MB; a larger guest pages the rest
# to a file.  The ALSA sound plugin aborts Bochs when no sound device exists:
# always the dummy driver.

# Per-run work folder: concurrent runs never share a file.
mkdir -p "$top/build/testbed-runs"
work=$(mktemp -d "$top/build/testbed-runs/run.XXXXXX")
tailpid=""
bpid=""
cleanup() {
	# timeout(1) puts Bochs in a process group of its own: stop it by id.
	[ -n "$bpid" ] && kill "$bpid" 2> /dev/null
	[ -n "$tailpid" ] && pkill -P "$tailpid" 2> /dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

# Input disk: the payload as a raw tar, padded to whole cylinders
# (16 heads x 63 sectors x 512 bytes); output disk: sparse and zeroed.
cyl=516096
tar cf "$work/in.img" -C "$payload" . || die "cannot pack '$payload'"
sz=$(stat -c %s "$work/in.img")
n=$(( (sz + cyl - 1) / cyl ))
[ "$n" -ge 2 ] || n=2
truncate -s $(( n * cyl )) "$work/in.img"
truncate -s $(( (out_mb * 1048576 + cyl - 1) / cyl * cyl )) "$work/out.img"
cp "$base/boot.iso" "$work/boot.iso"
cat > "$work/bochsrc.txt" <<RC
memory: guest=$mem_mb, host=$(( mem_mb < 2048 ? mem_mb : 2048 ))
cpu: model=$cpu_model, count=$cpus, ips=100000000, reset_on_triple_fault=0
clock: sync=none, time0=local
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
display_library: rfb, options="timeout=0"
pci: enabled=1, chipset=i440fx
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=disk, path=out.img, mode=flat
ata0-slave: type=cdrom, path=boot.iso, status=inserted
ata1: enabled=1, ioaddr1=0x170, ioaddr2=0x370, irq=15
ata1-master: type=disk, path=in.img, mode=flat
boot: cdrom
com1: enabled=1, mode=file, dev=serial.log
mouse: enabled=0
speaker: enabled=0
sound: driver=dummy
log: bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
RC
printf 'c\nq\n' > "$work/dbg.rc"
: > "$work/serial.log"

start=$(date +%s)
if [ "$quiet" = no ]; then
	echo "$prog: booting Bochs ($cpu_model, $mem_mb MB); the kernel takes about a minute to start" >&2
	(
		tail -n +1 -F "$work/serial.log" 2> /dev/null |
		while IFS= read -r line; do
			case $line in
			HVT*) echo "$prog: +$(( $(date +%s) - start ))s ${line%$'\r'}" >&3 ;;
			esac
		done
	) 3>&2 2> /dev/null &
	tailpid=$!
fi
set +e
(cd "$work" && exec timeout -k 10 "$timeout_s" bochs -q -unlock -rc dbg.rc -f bochsrc.txt \
	< /dev/null > bochs.stdout 2>&1) &
bpid=$!
wait "$bpid"
brc=$?
bpid=""
set -e
elapsed=$(( $(date +%s) - start ))
sleep 0.3
if [ -n "$tailpid" ]; then
	pkill -P "$tailpid" 2> /dev/null || true
	tailpid=""
fi

mkdir -p "$out"
cp "$work/serial.log" "$out/serial.log"
cp "$work/bochs.log" "$work/bochs.stdout" "$out/" 2> /dev/null || true

fail() {
	echo "$prog: $* (after ${elapsed}s; results in $out)" >&2
	echo "$prog: last lines of serial.log:" >&2
	tail -n 25 "$out/serial.log" | sed 's/^/  | /' >&2
	exit 2
}
ser=$out/serial.log
# Judge by the guest's own markers, never by Bochs' exit status.
if grep -qa 'HVT-GUEST: FAIL' "$ser"; then
	fail "guest init failed: $(grep -a -m1 'HVT-GUEST: FAIL' "$ser" | sed 's/.*FAIL //')"
fi
if grep -qaE 'Kernel panic|Oops: |BUG: |general protection fault' "$ser"; then
	fail "guest kernel crashed: $(grep -a -m1 -E 'Kernel panic|Oops: |BUG: |general protection fault' "$ser")"
fi
if ! grep -qa 'HVT-GUEST: END rc=' "$ser"; then
	if grep -qai 'triple fault' "$out/bochs.log" 2> /dev/null; then
		fail "guest triple-faulted"
	elif [ "$brc" -eq 124 ] || [ "$brc" -eq 137 ]; then
		fail "time-out: no end marker within ${timeout_s}s"
	else
		fail "guest stopped without its end marker (bochs status $brc: $(grep -a -m1 -E 'PANIC|FATAL|>>PANIC' "$out/bochs.log" 2>/dev/null || true))"
	fi
fi
tar xf "$work/out.img" -C "$out" --strip-components=1 ||
	fail "cannot unpack the guest's output disk"
rc=$(grep -a -m1 -o 'HVT-GUEST: END rc=[0-9]*' "$ser" | sed 's/.*rc=//')
echo "$prog: guest finished in ${elapsed}s, run.sh status $rc; results in $out" >&2
[ "$rc" = 0 ] || exit 1
exit 0
