// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-cycles N MS: attaches the KVM backend through /dev/hvtrace, waits MS
 * milliseconds, detaches, N times (no LTTng session: exits seen while no
 * tracer is on hvtrace_exit are counted as dropped).  Prints one line per
 * cycle and a summary; status 0 only if every attach and detach succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "hvtrace.h"

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? strtoul(argv[1], NULL, 0) : 50;
	unsigned int ms = argc > 2 ? strtoul(argv[2], NULL, 0) : 50;
	unsigned long long exits = 0, vms = 0;
	unsigned int i, ok = 0;
	int fd = open(HVTRACE_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "kvm-cycles: %s: %s\n", HVTRACE_DEVICE, strerror(errno));
		return 2;
	}
	for (i = 0; i < n; i++) {
		struct hvtrace_kvm_attach a;
		struct hvtrace_kvm_stats st;
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.version = HVTRACE_ABI_VERSION;
		if (ioctl(fd, HVTRACE_IOC_KVM_ATTACH, &a) < 0) {
			printf("cycle %u: attach: %s\n", i + 1, strerror(errno));
			continue;
		}
		nanosleep(&ts, NULL);
		memset(&st, 0, sizeof(st));
		st.size = sizeof(st);
		st.version = HVTRACE_ABI_VERSION;
		if (ioctl(fd, HVTRACE_IOC_KVM_DETACH, &st) < 0) {
			printf("cycle %u: detach: %s\n", i + 1, strerror(errno));
			continue;
		}
		printf("cycle %u: attach %llu: %llu exits, %llu dropped, %llu VMs\n", i + 1,
		       (unsigned long long)st.attach_id, (unsigned long long)st.exits,
		       (unsigned long long)st.dropped, (unsigned long long)st.vms);
		exits += st.exits;
		vms += st.vms;
		ok++;
	}
	printf("cycles %u ok %u exits %llu vms %llu\n", n, ok, exits, vms);
	return ok == n ? 0 : 1;
}
