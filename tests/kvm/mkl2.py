#!/usr/bin/env python3
"""mkl2.py VMLINUZ BUSYBOX OUTDIR: the real Linux guest for the QEMU proof.

OUTDIR/vmlinux: the uncompressed ELF kernel inside Debian's vmlinuz (one XZ
stream; the ELF has the PVH note, so QEMU's -kernel boots it directly, with
no decompression inside the nested guest).
OUTDIR/tiny.cpio.gz: a newc initramfs with a static busybox, /dev/console and
an /init that prints a marker with the guest's uptime and powers off."""
import gzip, lzma, os, sys

vmlinuz, busybox, out = sys.argv[1:4]
data = open(vmlinuz, 'rb').read()
at = data.find(b'\xfd7zXZ\x00')
if at < 0:
    sys.exit('mkl2: no XZ stream in ' + vmlinuz)
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[at:])
if elf[:4] != b'\x7fELF':
    sys.exit('mkl2: the XZ stream is not an ELF kernel')
os.makedirs(out, exist_ok=True)
open(os.path.join(out, 'vmlinux'), 'wb').write(elf)

init = b'''#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "L2-MARKER: a Linux guest under KVM reached init, uptime $(/bin/busybox cut -d' ' -f1 /proc/uptime)"
/bin/busybox poweroff -f
'''
ino = [1]
def entry(name, mode, body=b'', rdev=(0, 0)):
    ino[0] += 1
    hdr = '070701' + ''.join('%08x' % v for v in (
        ino[0], mode, 0, 0, 1, 0, len(body), 0, 0, rdev[0], rdev[1], len(name) + 1, 0))
    b = hdr.encode() + name.encode() + b'\0'
    b += b'\0' * (-len(b) % 4) + body
    return b + b'\0' * (-len(b) % 4)
cpio = b''.join([
    entry('bin', 0o40755), entry('dev', 0o40755), entry('proc', 0o40755),
    entry('dev/console', 0o20600, rdev=(5, 1)),
    entry('bin/busybox', 0o100755, open(busybox, 'rb').read()),
    entry('init', 0o100755, init),
    entry('TRAILER!!!', 0),
])
with gzip.open(os.path.join(out, 'tiny.cpio.gz'), 'wb') as f:
    f.write(cpio)
