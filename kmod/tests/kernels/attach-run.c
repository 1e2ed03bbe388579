// SPDX-License-Identifier: GPL-2.0
/*
 * attach-run COMMAND [ARGS...]: attaches the KVM backend through
 * /dev/hvtrace (every VMM, every exit reason), runs COMMAND, detaches and
 * prints the attachment's counters as "key value" lines.  No LTTng: the
 * events go to whatever tracer is on them (ftrace in the kernels test,
 * kmod/tests/bochs-kernels.sh).  Status: COMMAND's, or 2 when the attach
 * or detach fails (the errno is printed; dmesg says why).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvtrace.h"

int main(int argc, char **argv)
{
	struct hvtrace_kvm_attach a;
	struct hvtrace_kvm_stats st;
	int fd, status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: attach-run COMMAND [ARGS...]\n");
		return 2;
	}
	fd = open(HVTRACE_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "attach-run: %s: %s\n", HVTRACE_DEVICE, strerror(errno));
		return 2;
	}
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, HVTRACE_IOC_KVM_ATTACH, &a) < 0) {
		printf("attach %s\n", strerror(errno));
		return 2;
	}
	printf("attach ok %llu\n", (unsigned long long)a.attach_id);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "attach-run: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		status = 2 << 8;
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	st.version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, HVTRACE_IOC_KVM_DETACH, &st) < 0) {
		printf("detach %s\n", strerror(errno));
		return 2;
	}
	printf("exits %llu\ntraced %llu\nresumes %llu\ndropped %llu\n"
	       "untraceable %llu\nvms %llu\nvcpus %llu\nfpu_from_memory %llu\n",
	       (unsigned long long)st.exits, (unsigned long long)st.traced,
	       (unsigned long long)st.resumes, (unsigned long long)st.dropped,
	       (unsigned long long)st.untraceable, (unsigned long long)st.vms,
	       (unsigned long long)st.vcpus,
	       (unsigned long long)st.fpu_from_memory);
	printf("command status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
