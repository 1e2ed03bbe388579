#!/bin/sh
# Negative boot (a Bochs CPU model without VMX): hvtrace.ko must refuse to
# load with its documented message and errno, and the guest must go on.
. /usr/lib/hvtrace-testbed/lib.sh
grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -x vmx > /out/vmx-flag.txt
insmod /in/modules/hvtrace.ko > /out/insmod.txt 2>&1
echo "rc=$?" >> /out/insmod.txt
cat /out/insmod.txt
if grep -q '^hvtrace ' /proc/modules; then echo "listed=yes"; else echo "listed=no"; fi > /out/listed.txt
dmesg | grep 'hvtrace:' > /out/dmesg-hvtrace.txt
# Still alive: the kernel keeps working after the refusal.
echo "alive $(cut -d' ' -f1 /proc/uptime)" > /out/alive.txt
exit 0
