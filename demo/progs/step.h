/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one thing every tour program shares: step() prints a line
 * "@ NAME key=value ..." for the tour (demo/tour.py), which then looks at
 * the process with ptscope and the kernel's own files, and waits until the
 * tour writes a line back. At end of input the program exits.
 */
#ifndef DEMO_STEP_H
#define DEMO_STEP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static void __attribute__((format(printf, 1, 2))) step(const char *fmt, ...)
{
	char line[64];
	va_list ap;

	fputs("@ ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		exit(0);
}

/* faults - this process's minor and major faults so far (getrusage) */
static inline void faults(long *minor, long *major)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*minor = ru.ru_minflt;
	*major = ru.ru_majflt;
}

#define PAGE_BYTES	((size_t)sysconf(_SC_PAGESIZE))	/* 4 KiB, or 16 KiB on arm64 */

static inline void die(const char *what)
{
	perror(what);
	exit(1);
}

/*
 * page_out - push [p, p + len) out to swap with MADV_PAGEOUT; 0 or an errno.
 * Reclaim skips pages still in a CPU's LRU batch: the caller runs on one CPU
 * (one_cpu()), whose batch madvise drains, and we retry until mincore() says
 * no page of the range is left in memory.
 */
static inline int page_out(void *p, size_t len)
{
	unsigned char vec[1024];
	size_t i, n = len / PAGE_BYTES;
	int tries, left = 1;

	for (tries = 0; tries < 20 && left; tries++) {
		if (madvise(p, len, MADV_PAGEOUT))
			return errno;
		if (n > sizeof(vec) || mincore(p, len, vec))
			return 0;
		for (i = 0, left = 0; i < n; i++)
			left += vec[i] & 1;
		if (left)
			usleep(10000);
	}
	return 0;
}

/* one_cpu - run on the first CPU we may use, so page_out() is reliable */
static inline void one_cpu(void)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
		;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

#endif
