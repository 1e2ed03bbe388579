#!/bin/bash
# Build the test bed's base boot image: a busybox initramfs with LTTng's
# session daemon and tools, kmod, the ATA disk drivers and the built LTTng
# modules, plus the isolinux ISO that boots it with the Debian kernel.
# The payload under test never goes in here: it comes on a raw-tar disk at
# boot (testbed/guest-run.sh), so this image is built once per kernel.
#
# usage: testbed/mkbase.sh KERNEL_CACHE LTTNG_BUILD OUT_DIR
# Leaves OUT_DIR/boot.iso, OUT_DIR/initrd.img, OUT_DIR/libs.txt (the shared
# libraries in the image) and OUT_DIR/.stamp (cache key).
set -euo pipefail

die() { echo "mkbase: $*" >&2; exit 2; }

kcache=${1:?usage: mkbase.sh KERNEL_CACHE LTTNG_BUILD OUT_DIR}
lttng=${2:?usage: mkbase.sh KERNEL_CACHE LTTNG_BUILD OUT_DIR}
out=${3:?usage: mkbase.sh KERNEL_CACHE LTTNG_BUILD OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)

[ -f "$kcache/.done" ] || die "$kcache is not a fetched kernel"
[ -f "$lttng/.stamp" ] || die "$lttng holds no built lttng-modules"
kver=$(cat "$kcache/kver")
kroot=$kcache/root
vmlinuz=$kroot/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "kernel image $vmlinuz missing"
kmods=$kroot/lib/modules/$kver
[ -d "$kmods" ] || die "kernel modules $kmods missing"

# Userland copied from the host, with every library ldd names.
bins="/usr/bin/busybox /usr/bin/lttng /usr/bin/lttng-sessiond
	/usr/lib/x86_64-linux-gnu/lttng/libexec/lttng-consumerd /usr/bin/kmod"
isolinux=/usr/lib/ISOLINUX/isolinux.bin
ldlinux=/usr/lib/syslinux/modules/bios/ldlinux.c32
for f in $bins $isolinux $ldlinux /usr/share/xml/lttng/session.xsd; do
	[ -e "$f" ] || die "$f missing (run: testbed/install-deps.sh e2e)"
done
# Disk drivers, loaded by the guest init through modprobe (dependencies resolved there).
drivers="ata_piix sd_mod"

stamp="kver=$kver lttng=$(cat "$lttng/.stamp" | tr ' ' ,)"
stamp="$stamp files=$(cat "$0" "$here/guest/init" "$here/guest/lib.sh" | sha256sum | cut -c1-16)"
stamp="$stamp bins=$(ls -lL $bins | sha256sum | cut -c1-16)"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] &&
   [ -s "$out/boot.iso" ]; then
	echo "mkbase: base image for $kver already in $out"
	exit 0
fi
echo "mkbase: building the base initramfs and ISO for $kver in $out"

mkdir -p "$out"
tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
r=$tmp/rootfs
mkdir -p "$r"/{usr/bin,usr/sbin,usr/lib64,usr/lib/x86_64-linux-gnu,etc,proc,sys,dev,tmp,run,root,in,out,var}
# Debian is merged-/usr: the loader and libraries are found under /lib*.
ln -s usr/bin "$r/bin"
ln -s usr/sbin "$r/sbin"
ln -s usr/lib "$r/lib"
ln -s usr/lib64 "$r/lib64"
ln -s ../run "$r/var/run"

for b in $bins; do
	mkdir -p "$r$(dirname "$b")"
	cp -L "$b" "$r$b"
done
for l in $(ldd $bins 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
	# Copy to the path ldd printed, resolved under merged /usr.
	dst=$r$(readlink -f "$l")
	mkdir -p "$(dirname "$dst")"
	cp -L "$l" "$dst"
	name=$r/usr/${l#/usr/}
	[ -e "$name" ] || { mkdir -p "$(dirname "$name")"; ln -s "$(readlink -f "$l")" "$name"; }
done
# busybox applets, then kmod's module tools over busybox's (libkmod's
# modules.*.bin indexes are what lttng-sessiond's modprobe reads).
for a in $(/usr/bin/busybox --list); do
	[ -e "$r/usr/bin/$a" ] || ln -s busybox "$r/usr/bin/$a"
done
for a in insmod rmmod lsmod modprobe depmod modinfo; do
	rm -f "$r/usr/bin/$a" "$r/usr/sbin/$a"
	ln -s ../bin/kmod "$r/usr/sbin/$a"
done
mkdir -p "$r/usr/share/xml"
cp -a /usr/share/xml/lttng "$r/usr/share/xml/"

# Kernel modules: the disk drivers with their dependencies, LTTng's modules.
m=$r/usr/lib/modules/$kver
mkdir -p "$m/extra/lttng"
cp "$kmods"/modules.builtin "$kmods"/modules.builtin.modinfo "$kmods"/modules.order "$m/"
[ -f "$kmods/modules.dep.bin" ] || depmod -b "$kroot" "$kver" || die "depmod of $kmods failed"
need=""
for d in $drivers; do
	need="$need $(modprobe -S "$kver" -d "$kroot" --show-depends "$d" |
		awk '$1 == "insmod" { print $2 }')"
done
[ -n "${need// /}" ] || die "cannot resolve the disk drivers' dependencies in $kmods"
for k in $need; do
	rel=${k#"$kroot"/lib/modules/"$kver"/}
	mkdir -p "$m/$(dirname "$rel")"
	cp "$k" "$m/$rel"
done
find "$lttng" -name '*.ko' -exec cp {} "$m/extra/lttng/" \;
find "$m/extra" -name '*.ko' -exec strip --strip-debug {} +
depmod -b "$r" "$kver" || die "depmod failed"

printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
printf 'root:x:0:\ntracing:x:999:\n' > "$r/etc/group"
install -m 0755 "$here/guest/init" "$r/init"
mkdir -p "$r/usr/lib/hvtrace-testbed"
install -m 0644 "$here/guest/lib.sh" "$r/usr/lib/hvtrace-testbed/lib.sh"

mkdir -p "$tmp/iso/isolinux"
(cd "$r" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 > "$tmp/iso/initrd.img"
cp "$vmlinuz" "$tmp/iso/vmlinuz"
cp "$isolinux" "$ldlinux" "$tmp/iso/isolinux/"
cat > "$tmp/iso/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT hvtrace
PROMPT 0
TIMEOUT 0
LABEL hvtrace
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND console=ttyS0,115200 rdinit=/init cryptomgr.notests panic=-1 oops=panic reboot=t
CFG
genisoimage -quiet -o "$tmp/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table -J -R "$tmp/iso" ||
	die "genisoimage failed"
mv "$tmp/boot.iso" "$out/boot.iso"
mv "$tmp/iso/initrd.img" "$out/initrd.img"
# The libraries the image has, for payload-add-bin.sh to leave out.
find "$r/usr/lib" "$r/usr/lib64" -name '*.so*' -printf '%f\n' | sort -u > "$out/libs.txt"
echo "$stamp" > "$out/.stamp"
echo "mkbase: $(du -h "$out/initrd.img" | cut -f1) initramfs, ISO in $out/boot.iso"
