// SPDX-License-Identifier: GPL-2.0
/*
 * The calls to /dev/ptscope, with the batching and resuming the ABI asks
 * for. Each function prints what went wrong and what to do about it, and
 * returns 0 or an exit code of ptscope(1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common.h"

#define BATCH_RUNS	4096
#define BATCH_VMAS	64

static int target_pid;
int dev_quiet;
struct ptscope_version dev_version;

/* dev_open - open the device and check its ABI; a fd, or -EXIT_* */
int dev_open(void)
{
	struct ptscope_version v = { .size = sizeof(v) };
	int fd = open(PTSCOPE_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			fprintf(stderr, "ptscope: %s does not exist: the ptscope module is not "
				"loaded; load it as root with 'modprobe ptscope' (installed by "
				"make install or the ptscope-dkms package) or 'insmod "
				"module/ptscope.ko' (in a build tree)\n", PTSCOPE_DEV);
		else if (errno == EACCES || errno == EPERM)
			fprintf(stderr, "ptscope: %s: %s: the device is root-only (mode 0600, "
				"and opening it needs CAP_SYS_ADMIN unless the module was loaded "
				"with allow_unprivileged=1): run ptscope as root\n",
				PTSCOPE_DEV, strerror(errno));
		else
			fprintf(stderr, "ptscope: %s: %s\n", PTSCOPE_DEV, strerror(errno));
		return -EXIT_NODEV;
	}
	if (ioctl(fd, PTSCOPE_IOC_VERSION, &v)) {
		fprintf(stderr, "ptscope: %s: version: %s\n", PTSCOPE_DEV, strerror(errno));
		close(fd);
		return -EXIT_NODEV;
	}
	if (v.abi_major != PTSCOPE_ABI_MAJOR) {
		fprintf(stderr, "ptscope: the loaded module speaks ABI %u.%u, this tool %u.%u: "
			"load the ptscope.ko built from the same tree\n",
			v.abi_major, v.abi_minor, PTSCOPE_ABI_MAJOR, PTSCOPE_ABI_MINOR);
		close(fd);
		return -EXIT_NODEV;
	}
	/* Before ABI 1.3 the module ran on x86-64 only and did not say so. */
	if (v.arch == PTSCOPE_ARCH_UNKNOWN)
		v.arch = PTSCOPE_ARCH_X86_64;
	dev_version = v;
	entry_arch_set(v.arch);
	return fd;
}

/* An ioctl the module does not know: it is older than this tool. */
static int dev_unsupported(const char *what)
{
	fprintf(stderr, "ptscope: the loaded module does not implement %s: "
		"load the ptscope.ko built from the same tree as this tool\n", what);
	return EXIT_NODEV;
}

int dev_target(int fd, int pid, struct ptscope_target *t)
{
	memset(t, 0, sizeof(*t));
	t->size = sizeof(*t);
	t->pid = pid;
	target_pid = pid;
	if (!ioctl(fd, PTSCOPE_IOC_TARGET, t))
		return 0;
	if (dev_quiet && (errno == ESRCH || errno == EPERM || errno == EACCES || errno == EINVAL))
		return EXIT_NOPROC;
	switch (errno) {
	case ESRCH:
		fprintf(stderr, "ptscope: no such process: %d\n", pid);
		return EXIT_NOPROC;
	case EPERM:
	case EACCES:
		fprintf(stderr, "ptscope: not allowed to inspect process %d: reading another "
			"process's page tables needs CAP_SYS_PTRACE over it (run as root)\n", pid);
		return EXIT_NOPROC;
	case EINVAL:
		fprintf(stderr, "ptscope: process %d is a kernel thread: it has no user "
			"address space\n", pid);
		return EXIT_NOPROC;
	case ENOTTY:
		return dev_unsupported("target selection");
	default:
		fprintf(stderr, "ptscope: process %d: %s\n", pid, strerror(errno));
		return EXIT_FAIL;
	}
}

/* The target went away between two calls, or another failure. */
static int dev_query_failed(const char *what)
{
	if (errno == ENOTTY)
		return dev_unsupported(what);
	if (errno == ESRCH) {
		if (!dev_quiet)
			fprintf(stderr, "ptscope: process %d exited\n", target_pid);
		return EXIT_NOPROC;
	}
	fprintf(stderr, "ptscope: %s of process %d: %s\n", what, target_pid, strerror(errno));
	return EXIT_FAIL;
}

/*
 * dev_vma_query - a per-VMA query (PTSCOPE_IOC_VMAS, PTSCOPE_IOC_HUGE_VMAS)
 * over [start, end): records of @rec_size bytes, in batches
 */
static int dev_vma_query(int fd, unsigned long cmd, const char *what, uint64_t start,
			 uint64_t end, unsigned int flags, size_t rec_size, void **recs,
			 size_t *n)
{
	struct ptscope_vmas q;
	size_t cap = 0;

	*recs = NULL;
	*n = 0;
	do {
		if (cap - *n < BATCH_VMAS) {
			cap += BATCH_VMAS;
			*recs = xrealloc(*recs, cap, rec_size);
		}
		memset(&q, 0, sizeof(q));
		q.size = sizeof(q);
		q.flags = flags;
		q.start = start;
		q.end = end;
		q.vmas = (uintptr_t)((char *)*recs + *n * rec_size);
		q.vma_size = rec_size;
		q.count = cap - *n;
		if (ioctl(fd, cmd, &q))
			return dev_query_failed(what);
		*n += q.count;
		start = q.next;
	} while (q.next && q.count);
	return 0;
}

/* dev_vmas - every VMA in [start, end) */
int dev_vmas(int fd, uint64_t start, uint64_t end, unsigned int flags,
	     struct ptscope_vma **vmas, size_t *n)
{
	return dev_vma_query(fd, PTSCOPE_IOC_VMAS, "the VMA list", start, end, flags,
			     sizeof(**vmas), (void **)vmas, n);
}

/* dev_huge_vmas - the huge-page view of every VMA */
int dev_huge_vmas(int fd, struct ptscope_huge_vma **vmas, size_t *n)
{
	return dev_vma_query(fd, PTSCOPE_IOC_HUGE_VMAS, "the huge pages", 0, 0, 0,
			     sizeof(**vmas), (void **)vmas, n);
}

int dev_huge_system(int fd, struct ptscope_huge_system *h)
{
	memset(h, 0, sizeof(*h));
	h->size = sizeof(*h);
	if (!ioctl(fd, PTSCOPE_IOC_HUGE_SYSTEM, h))
		return 0;
	if (errno == ENOTTY)
		return dev_unsupported("the huge-page view");
	fprintf(stderr, "ptscope: the huge-page state: %s\n", strerror(errno));
	return EXIT_FAIL;
}

/* dev_walk - the page-table runs of [start, end), resuming at ->next */
int dev_walk(int fd, uint64_t start, uint64_t end, unsigned int flags,
	     struct ptscope_run **runs, size_t *n)
{
	struct ptscope_walk w;
	size_t cap = 0;

	*runs = NULL;
	*n = 0;
	while (start < end) {
		if (cap - *n < BATCH_RUNS) {
			cap += BATCH_RUNS;
			*runs = xrealloc(*runs, cap, sizeof(**runs));
		}
		memset(&w, 0, sizeof(w));
		w.size = sizeof(w);
		w.flags = flags;
		w.start = start;
		w.end = end;
		w.runs = (uintptr_t)(*runs + *n);
		w.run_size = sizeof(**runs);
		w.count = cap - *n;
		if (ioctl(fd, PTSCOPE_IOC_WALK, &w))
			return dev_query_failed("the page-table walk");
		*n += w.count;
		if (w.next <= start) {
			fprintf(stderr, "ptscope: the walk made no progress at 0x%llx\n",
				(unsigned long long)start);
			return EXIT_FAIL;
		}
		start = w.next;
	}
	return 0;
}

int dev_vtop(int fd, uint64_t addr, struct ptscope_vtop *v)
{
	memset(v, 0, sizeof(*v));
	v->size = sizeof(*v);
	v->addr = addr;
	if (!ioctl(fd, PTSCOPE_IOC_VTOP, v))
		return 0;
	if (errno == EINVAL) {
		fprintf(stderr, "ptscope: 0x%llx is not a user address of process %d\n",
			(unsigned long long)addr, target_pid);
		return EXIT_USAGE;
	}
	return dev_query_failed("the translation");
}
