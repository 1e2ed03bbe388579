#!/bin/bash
# TAP: the KVM backend at run time on each kernel it is built for, in Bochs
# (corei7_haswell_4770: VMX with EPT, XSAVE kept on): Debian's 6.1 (the test
# bed's kernel) and Debian's current 6.12, each booted with its own
# kvm_intel and a hvtrace.ko built against its headers.  No LTTng (Debian
# 12's lttng-modules does not build against 6.12): ftrace records
# hvtrace's events beside KVM's own kvm_exit while kmod/tests/kernels/
# attach-run attaches the backend around one hvt-vmm run, and
# kmod/tests/kernels/check.py compares the two and the plan (every RIP, the
# change mask of every resume).  dmesg must say which kvm_entry prototype
# the backend found, and nothing else of note.
#
# usage: kmod/tests/bochs-kernels.sh [6.1] [6.12]     (default: both)
# Results in build/kernels-e2e/KERNEL/ (HVT_KERNELS_RES moves them).  The
# 6.12 image (about 107 MB, linux-image of the headers' ABI) is cached in
# build/cache/kernel-6.12-boot, its boot image in build/cache/testbed-base-6.12.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
res=${HVT_KERNELS_RES:-$top/build/kernels-e2e}
kernels=${*:-6.1 6.12}
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() {	# check "description" command...
	local d=$1
	shift
	if "$@" > "$res/check.log" 2>&1; then ok "$d"; else
		not_ok "$d"
		sed 's/^/# /' "$res/check.log" | tail -n 15
	fi
}

if ! command -v bochs > /dev/null; then
	echo "1..0 # SKIP bochs missing (testbed/install-deps.sh e2e)"
	exit 0
fi
mkdir -p "$res/bin"
if ! ${CC:-cc} -std=gnu11 -Wall -Wextra -O2 -static -I kmod/uapi -o "$res/bin/attach-run" \
	kmod/tests/kernels/attach-run.c > "$res/tools.log" 2>&1 ||
   ! ${CC:-cc} -std=gnu11 -Wall -Wextra -O2 -static -o "$res/bin/hvt-vmm" tests/kvm/hvt-vmm.c \
	>> "$res/tools.log" 2>&1; then
	not_ok "attach-run and hvt-vmm build"
	sed 's/^/# /' "$res/tools.log" | tail -n 10
	echo "1..$n"
	exit 1
fi

# prepare KERNEL: sets kver, kdir, kroot and the guest-run environment
prepare() {
	local kc hc lttng base
	case $1 in
	6.1)
		kc=$top/build/cache/kernel
		# under guest-run.sh's lock: other suites boot from this cache
		flock "$top/build/cache/.testbed.lock" \
			bash testbed/fetch-kernel.sh "$kc" > "$res/$1/fetch.log" 2>&1 || return 1
		kver=$(cat "$kc/kver")
		kdir=$kc/root/usr/src/linux-headers-$kver
		kroot=$kc/root
		genv=()
		;;
	6.12)
		# the headers (and their ABI) as build-kernels.sh fetches them
		kdir=$(bash kmod/tests/build-kernels.sh --fetch-only 2> "$res/$1/fetch.log") || return 1
		hc=$top/build/cache/kernel-6.12
		kver=$(cat "$hc/kver")
		kc=$top/build/cache/kernel-6.12-boot
		if [ "$(cat "$kc/kver" 2> /dev/null)" != "$kver" ] || [ ! -f "$kc/.done" ]; then
			local sandbox=()
			[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
			rm -rf "$kc"
			mkdir -p "$kc/debs"
			(cd "$kc/debs" && apt-get "${sandbox[@]}" download "linux-image-$kver") \
				>> "$res/$1/fetch.log" 2>&1 || return 1
			dpkg -x "$kc"/debs/linux-image-*.deb "$kc/root" || return 1
			rm -rf "$kc/debs"
			echo "$kver" > "$kc/kver"
			touch "$kc/.done"
		fi
		kroot=$kc/root
		# the base image without LTTng modules (none build for 6.12)
		lttng=$top/build/cache/lttng-none
		mkdir -p "$lttng"
		echo none > "$lttng/.stamp"
		base=$top/build/cache/testbed-base-6.12
		bash testbed/mkbase.sh "$kc" "$lttng" "$base" >> "$res/$1/fetch.log" 2>&1 || return 1
		genv=(HVT_BASE_READY=1 HVT_BASE_DIR="$base" HVT_KERNEL_CACHE="$kc"
			HVT_BASE_LIBS="$base/libs.txt")
		;;
	*)
		return 1
		;;
	esac
}

# a module of the kernel's tree into the payload, uncompressed
add_module() {
	local f
	f=$(find "$kroot/lib/modules/$kver/kernel" -name "$1.ko" -o -name "$1.ko.xz" | sed -n 1p)
	[ -n "$f" ] || return 1
	case $f in
	*.xz) xz -dc "$f" > "$2/$1.ko" ;;
	*) cp "$f" "$2/$1.ko" ;;
	esac
}

for k in $kernels; do
	out=$res/$k/out
	rm -rf "$res/$k"
	mkdir -p "$res/$k"
	if ! prepare "$k"; then
		not_ok "$k: kernel image, headers and boot image prepared"
		tail -n 10 "$res/$k/fetch.log" | sed 's/^/# /'
		continue
	fi
	# hvtrace.ko for this kernel, in a scratch copy
	s=$res/$k/src
	mkdir -p "$s"
	cp -a kmod asm schemas "$s/"
	find "$s" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \
		-o -name Module.symvers -o -name modules.order \) -delete
	rm -f "$s/kmod/hvt-asm"
	p=$res/$k/payload
	mkdir -p "$p/modules" "$p/bin"
	if make -C "$s/kmod" KDIR="$kdir" LTTNG_SRC= > "$res/$k/build.log" 2>&1 &&
	   cp "$s/kmod/hvtrace.ko" "$p/modules/" &&
	   add_module irqbypass "$p/modules" && add_module kvm "$p/modules" &&
	   add_module kvm-intel "$p/modules"; then
		ok "$k: hvtrace.ko built against $kver ($(modinfo -F hvtrace_kvm "$s/kmod/hvtrace.ko")), kvm.ko and kvm-intel.ko of its image"
	else
		not_ok "$k: hvtrace.ko built against $kver, kvm.ko and kvm-intel.ko of its image"
		tail -n 10 "$res/$k/build.log" | sed 's/^/# /'
		continue
	fi
	cp "$res/bin/attach-run" "$res/bin/hvt-vmm" "$p/bin/"
	cp kmod/tests/kernels/run.sh "$p/run.sh"
	printf 'SEED=%s\nOPS=%s\n' "${HVT_KVM_SEED:-42}" "${HVT_KVM_OPS:-300}" > "$p/env"
	start=$(date +%s)
	env "${genv[@]}" testbed/guest-run.sh --payload "$p" --out "$out" \
		--cpu-model corei7_haswell_4770 --mem 1024 --timeout 2400 --quiet \
		> "$res/$k/guest-run.log" 2>&1
	rc=$?
	took=$(( $(date +%s) - start ))
	if [ $rc -eq 0 ] && grep -q "init start, kernel $kver" "$out/serial.log"; then
		ok "$k: $kver booted in Bochs and ran the payload (${took}s)"
	else
		not_ok "$k: $kver booted in Bochs and ran the payload (status $rc, ${took}s)"
		tail -n 15 "$res/$k/guest-run.log" | sed 's/^/# /'
		continue
	fi
	L=$out/logs
	check "$k: kvm_intel and hvtrace.ko load" \
		sh -c "grep -qx rc=0 '$L/modprobe-kvm.txt' && grep -qx rc=0 '$L/modprobe-hvtrace.txt'"
	check "$k: attach found kvm_entry(vcpu, force_immediate_exit) and hvt-vmm ran its plan" \
		sh -c "grep -q 'kvm attach 1: tracing every VMM, $kver, kvm_entry(vcpu, force_immediate_exit)' '$out/dmesg.txt' &&
		       grep -qx 0 '$L/attach-run.rc' && grep -q 'ops ran as planned' '$L/attach-run.out'"
	check "$k: every exit traced, kvm_exit and hvtrace_exit agree, every resume as planned" \
		python3 kmod/tests/kernels/check.py "$out/trace.txt" "$out/plan.jsonl" "$L/attach-run.out"
	cp "$res/check.log" "$res/$k/check.txt"
	# the checker itself: an XMM bit in one resume's mask and one exit's RIP
	python3 - "$out/trace.txt" "$res/$k/bad-mask.txt" "$res/$k/bad-rip.txt" <<'PYEOF'
import re, sys
L = open(sys.argv[1]).read().splitlines(True)
r = [i for i, x in enumerate(L) if "hvtrace_resume:" in x]
e = [i for i, x in enumerate(L) if "hvtrace_exit:" in x]
M = list(L)
M[r[len(r) // 2]] = re.sub(r"changed=(0x[0-9a-f]+|0)",
                           lambda m: "changed=%#x" % (int(m.group(1), 16) ^ (1 << 20)), M[r[len(r) // 2]])
open(sys.argv[2], "w").write("".join(M))
R = list(L)
R[e[len(e) // 3]] = re.sub(r"rip=0x([0-9a-f]+)", lambda m: "rip=%#x" % (int(m.group(1), 16) + 1), R[e[len(e) // 3]])
open(sys.argv[3], "w").write("".join(R))
PYEOF
	check "$k: check.py reports an XMM bit flipped in one resume and one RIP changed" \
		sh -c "! python3 kmod/tests/kernels/check.py '$res/$k/bad-mask.txt' '$out/plan.jsonl' '$L/attach-run.out' &&
		       ! python3 kmod/tests/kernels/check.py '$res/$k/bad-rip.txt' '$out/plan.jsonl' '$L/attach-run.out' > '$res/$k/bad-rip.out' &&
		       grep -q 'kvm_exit rip .*hvtrace_exit rip' '$res/$k/bad-rip.out'"
	# from the modules' load on (the boot is not under test)
	sed -n '/kvm\|hvtrace/,$p' "$out/dmesg.txt" > "$res/$k/dmesg-tail.txt"
	check "$k: dmesg from kvm's load on: no register-cache refusal, warning, oops or IBT trap; hvtrace unloads" \
		sh -c "grep -q 'kvm detach 1: ' '$res/$k/dmesg-tail.txt' &&
		       ! grep -E 'register cache is not what|WARNING:|BUG:|Oops|general protection|Missing ENDBR|control protection' '$res/$k/dmesg-tail.txt' &&
		       grep -qx rc=0 '$L/rmmod-hvtrace.txt'"
done
echo "1..$n"
[ $failed -eq 0 ]
