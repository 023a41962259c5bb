// SPDX-License-Identifier: GPL-2.0
/*
 * walk_bench: how fast ptscope reads a process's page tables, against the
 * kernel's own /proc/PID/pagemap and its PAGEMAP_SCAN ioctl (6.7+), in the
 * same run. Each method answers the same question: which pages of a range
 * are present. The counts must agree, or the numbers mean nothing.
 *
 * Cases: dense (256 MiB, every page written, no THP) and sparse (64 GiB
 * reserved, one page written per GiB).
 */
#define _GNU_SOURCE
#include <time.h>

#include "../selftests/ptscope_util.h"

/* From include/uapi/linux/fs.h (6.7+); Debian 12's libc headers predate it. */
struct bench_page_region {
	__u64 start, end, categories;
};

struct bench_pm_scan_arg {
	__u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
	__u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define BENCH_PAGEMAP_SCAN	_IOWR('f', 16, struct bench_pm_scan_arg)
#define BENCH_PAGE_IS_PRESENT	(1 << 3)

#define MB (1UL << 20)
#define GB (1UL << 30)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long last_runs;

static long present_ptscope(int fd, uint64_t start, uint64_t end)
{
	struct ptscope_run *runs = NULL;
	long n = ptscope_walk_all(fd, start, end, 0, &runs), i, pages = 0;

	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		if (runs[i].kind == PTSCOPE_KIND_PAGE)
			pages += runs[i].count << (runs[i].shift - 12);
	free(runs);
	last_runs = n;
	return pages;
}

static long present_pagemap(int pmfd, uint64_t start, uint64_t end)
{
	static uint64_t buf[4096];
	long pages = 0;
	uint64_t a;

	for (a = start; a < end; a += sizeof(buf) / 8 * PAGE) {
		size_t want = (end - a) / PAGE;
		ssize_t got, i;

		if (want > sizeof(buf) / 8)
			want = sizeof(buf) / 8;
		got = pread(pmfd, buf, want * 8, a / PAGE * 8);
		if (got < 0)
			return -errno;
		for (i = 0; i < got / 8; i++)
			pages += !!(buf[i] & PM_PRESENT);
	}
	return pages;
}

static long present_scan(int pmfd, uint64_t start, uint64_t end)
{
	static struct bench_page_region vec[512];
	long pages = 0;

	while (start < end) {
		struct bench_pm_scan_arg arg = {
			.size = sizeof(arg), .start = start, .end = end,
			.vec = (uintptr_t)vec, .vec_len = 512,
			.category_mask = BENCH_PAGE_IS_PRESENT,
			.return_mask = BENCH_PAGE_IS_PRESENT,
		};
		long n = ioctl(pmfd, BENCH_PAGEMAP_SCAN, &arg), i;

		if (n < 0)
			return -errno;
		for (i = 0; i < n; i++)
			pages += (vec[i].end - vec[i].start) / PAGE;
		start = arg.walk_end;
	}
	return pages;
}

/* Seconds per call of @fn, over at least 0.3 s and 3 calls; its result in *pages. */
static double per_call(long (*fn)(int, uint64_t, uint64_t), int fd, uint64_t s,
		       uint64_t e, long *pages)
{
	double t0 = now(), t;
	int calls = 0;

	do {
		*pages = fn(fd, s, e);
		calls++;
		t = now() - t0;
	} while (*pages >= 0 && (t < 0.3 || calls < 3));
	return t / calls;
}

static uint64_t region;

static int act_dense(struct target_shared *sh, int cmd)
{
	char *p;

	if (cmd)
		return 0;
	p = mmap(NULL, 256 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, 256 * MB, MADV_NOHUGEPAGE))
		return -1;
	for (size_t i = 0; i < 256 * MB; i += PAGE)
		p[i] = 1;
	sh->addr[0] = (uintptr_t)p;
	sh->len[0] = 256 * MB;
	return 0;
}

static int act_sparse(struct target_shared *sh, int cmd)
{
	char *p;

	if (cmd)
		return 0;
	p = mmap(NULL, 64 * GB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED || madvise(p, 64 * GB, MADV_NOHUGEPAGE))
		return -1;
	for (size_t i = 0; i < 64 * GB; i += GB)
		p[i] = 1;
	sh->addr[0] = (uintptr_t)p;
	sh->len[0] = 64 * GB;
	return 0;
}

static int run_case(const char *name, target_action act)
{
	struct target t = { 0 };
	long np, nm, ns = -1;
	double tp, tm, ts = 0;
	char path[64];
	int fd, pmfd, ret = 0;

	if (target_start(&t, act)) {
		printf("not ok - %s: the target could not set up\n", name);
		return 1;
	}
	fd = ptscope_open_target(t.pid, NULL);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", t.pid);
	pmfd = open(path, O_RDONLY);
	if (fd < 0 || pmfd < 0) {
		printf("not ok - %s: cannot open the device or pagemap\n", name);
		target_stop(&t);
		return 1;
	}
	region = t.sh->addr[0];
	tp = per_call(present_ptscope, fd, region, region + t.sh->len[0], &np);
	tm = per_call(present_pagemap, pmfd, region, region + t.sh->len[0], &nm);
	if (present_scan(pmfd, region, region + PAGE) >= 0)
		ts = per_call(present_scan, pmfd, region, region + t.sh->len[0], &ns);

	if (np < 0 || np != nm || (ts && ns != np)) {
		printf("not ok - %s: present pages disagree: ptscope %ld, pagemap %ld, PAGEMAP_SCAN %ld\n",
		       name, np, nm, ns);
		ret = 1;
	} else {
		printf("ok - %s: %ld present pages in %ld runs; ptscope %.3f ms, pagemap %.3f ms (ratio %.2f)",
		       name, np, last_runs, tp * 1e3, tm * 1e3, tp / tm);
		if (ts)
			printf(", PAGEMAP_SCAN %.3f ms (ratio %.2f)\n", ts * 1e3, tp / ts);
		else
			printf(", PAGEMAP_SCAN unsupported on this kernel\n");
	}
	close(fd);
	close(pmfd);
	target_stop(&t);
	return ret;
}

int main(void)
{
	int failed = 0;

	failed += run_case("walk-dense (256 MiB written, 4 KiB pages)", act_dense);
	failed += run_case("walk-sparse (64 GiB reserved, 64 pages written)", act_sparse);
	return failed ? 1 : 0;
}
