// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope walker selftests: what the module reads of a real process is
 * compared, page by page, with /proc/PID/pagemap, and VMA by VMA with
 * /proc/PID/maps and /proc/PID/smaps. The process is a quiet child
 * (target_start) that makes the mappings of each case and then sits still.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "kselftest_harness.h"
#include "ptscope_util.h"

#define PMD pmd_size()		/* 2 MiB with 4 KiB pages, 32 MiB with 16 KiB */
#define GB (1UL << 30)
#define PMD_PAGES (pmd_size() / PAGE)	/* 512 with 4 KiB pages, 2048 with 16 KiB */

/* ---- comparing one range with pagemap ------------------------------------ */

/*
 * expect_matches_pagemap - every base page in [start, end) of @pid as the
 * module's runs describe it equals pagemap: present, swap, PFN, swap
 * type/offset, soft-dirty, exclusive and file bits.
 */
static void expect_matches_pagemap(struct __test_metadata *_metadata, int fd, pid_t pid,
				   uint64_t vma_start, uint64_t start, uint64_t end)
{
	size_t npages = (end - start) / PAGE, i, mismatches = 0;
	struct ptscope_run *runs = NULL;
	uint64_t *pm = calloc(npages, sizeof(*pm));
	struct page_view *pv = calloc(npages, sizeof(*pv));
	int sd_vma = smaps_vmflag(pid, vma_start, "sd");
	char path[64];
	long n, r;
	int pmfd;

	ASSERT_NE(NULL, pm);
	ASSERT_NE(NULL, pv);
	n = ptscope_walk_all(fd, start, end, 0, &runs);
	ASSERT_LE(0, n) TH_LOG("walk: %s", strerror(-n));

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pmfd = open(path, O_RDONLY);
	ASSERT_LE(0, pmfd);
	ASSERT_EQ((ssize_t)(npages * sizeof(*pm)),
		  pread(pmfd, pm, npages * sizeof(*pm), start / PAGE * sizeof(*pm)));
	close(pmfd);

	/* Expand the runs to base pages; runs come in address order. */
	for (r = 0; r < n; r++) {
		uint64_t span = runs[r].count << runs[r].shift, a;

		if (runs[r].kind == PTSCOPE_KIND_TABLE)
			continue;
		for (a = runs[r].start; a < runs[r].start + span; a += PAGE) {
			if (a < start || a >= end)
				continue;
			pv[(a - start) / PAGE] = page_view_of(&runs[r], 1, a);
		}
	}

	for (i = 0; i < npages && mismatches < 5; i++) {
		uint64_t addr = start + i * PAGE, e = pm[i];
		int present = pv[i].kind == PTSCOPE_KIND_PAGE;
		int swap = pv[i].kind != PTSCOPE_KIND_PAGE && pv[i].kind != PTSCOPE_KIND_NONE;
		int sd = sd_vma || (pv[i].bits & PTSCOPE_B_SOFT_DIRTY);
		int ok = 1;

		ok &= !!(e & PM_PRESENT) == present;
		ok &= !!(e & PM_SWAP) == swap;
		ok &= !!(e & PM_SOFT_DIRTY) == sd;
		if (present) {
			ok &= (e & PM_PFN_MASK) == pv[i].pfn;
			ok &= !!(e & PM_MMAP_EXCLUSIVE) == !!(pv[i].page & PTSCOPE_PAGE_EXCLUSIVE);
			ok &= !!(e & PM_FILE) ==
			      !!(pv[i].page & (PTSCOPE_PAGE_FILE | PTSCOPE_PAGE_SHMEM));
		}
		if (pv[i].kind == PTSCOPE_KIND_SWAP)
			ok &= (e & PM_PFN_MASK) == (pv[i].swap_type | pv[i].swap_offset << 5);
		if (!ok) {
			mismatches++;
			TH_LOG("%#lx: pagemap %#llx, module kind %d level %d bits %#llx pfn %#llx page %#x swap %u:%#llx",
			       (unsigned long)addr, (unsigned long long)e, pv[i].kind, pv[i].level,
			       (unsigned long long)pv[i].bits, (unsigned long long)pv[i].pfn,
			       pv[i].page, pv[i].swap_type, (unsigned long long)pv[i].swap_offset);
		}
	}
	EXPECT_EQ(0, mismatches);
	free(runs);
	free(pm);
	free(pv);
}

/* expect_counts_match_smaps - the VMA's counts equal smaps' for it */
static void expect_counts_match_smaps(struct __test_metadata *_metadata, int fd, pid_t pid,
				      uint64_t addr)
{
	struct ptscope_vma v;
	const __u64 *c = v.counts;
	long hugetlb_kb;

	ASSERT_EQ(0, ptscope_vma_at(fd, addr, &v));
	EXPECT_EQ(smaps_field(pid, v.start, "Rss"),
		  (long)((c[PTSCOPE_CNT_RSS_PTE] + c[PTSCOPE_CNT_RSS_PMD] + c[PTSCOPE_CNT_RSS_PUD]) *
			 PAGE_KB));
	EXPECT_EQ(smaps_field(pid, v.start, "Swap"), (long)(c[PTSCOPE_CNT_SWAP] * PAGE_KB));
	EXPECT_EQ(smaps_field(pid, v.start, "Anonymous"), (long)(c[PTSCOPE_CNT_ANON] * PAGE_KB));
	EXPECT_EQ(smaps_field(pid, v.start, "AnonHugePages"),
		  (long)(c[PTSCOPE_CNT_THP_PMD] * (pmd_size() / 1024)));
	hugetlb_kb = smaps_field(pid, v.start, "Private_Hugetlb") +
		     smaps_field(pid, v.start, "Shared_Hugetlb");
	EXPECT_EQ(hugetlb_kb, (long)(c[PTSCOPE_CNT_HUGETLB] * v.page_size / 1024));
}

/* A whole VMA of the child: pagemap, then smaps. */
static void expect_vma_matches(struct __test_metadata *_metadata, int fd, pid_t pid,
			       uint64_t addr)
{
	struct ptscope_vma v;

	ASSERT_EQ(0, ptscope_vma_at(fd, addr, &v));
	expect_matches_pagemap(_metadata, fd, pid, v.start, v.start, v.end);
	expect_counts_match_smaps(_metadata, fd, pid, addr);
}

/* Field @key of /proc/PID/status, in kB; -1 if absent. */
static long status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			val = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return val;
}

/* PTE, PMD and PUD tables the TABLE runs point to, each counted once. */
static long distinct_tables(const struct ptscope_run *runs, long n, unsigned int levels)
{
	long i, j, count = 0;

	for (i = 0; i < n; i++) {
		const struct ptscope_run *r = &runs[i];
		int seen = 0;

		if (r->kind != PTSCOPE_KIND_TABLE)
			continue;
		/* Entries of the top table point to P4D tables with 5 levels. */
		if (r->level == PTSCOPE_LEVEL_PGD && levels == 5)
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = runs[j].kind == PTSCOPE_KIND_TABLE && runs[j].level == r->level &&
			       runs[j].start == r->start;
		count += !seen;
	}
	return count;
}

/* ---- the mapping cases: each child's set-up and actions -------------------- */

static void *map_anon(size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* The article's example: 1 GiB reserved, one byte written every 4 KiB, 64 times. */
static int act_article(struct target_shared *sh, int cmd)
{
	char *p;
	int i;

	if (cmd)
		return 0;
	p = map_anon(GB, PROT_READ | PROT_WRITE);
	/* Without THP, which would back the first touch with a 2 MiB page. */
	if (p == MAP_FAILED || madvise(p, GB, MADV_NOHUGEPAGE))
		return -errno;
	for (i = 0; i < 64; i++)
		p[i * PAGE] = 1;
	sh->addr[0] = (uintptr_t)p;
	sh->len[0] = GB;
	return 0;
}

/*
 * Two PTE tables' span with pages written at the edges of the walker's
 * groups of empty entries (8 PTEs) and of each table, and at random.
 */
static int act_scattered(struct target_shared *sh, int cmd)
{
	static const size_t edge[] = { 0, 1, 7, 8, 9, 15, 17, 24, 31, 32, 33, 63 };
	size_t ptrs = pmd_size() / PAGE, len = 2 * pmd_size(), i;
	uint64_t seed = 13;
	char *p;

	if (cmd)
		return 0;
	p = map_aligned(len, pmd_size());
	if (p == MAP_FAILED || madvise(p, len, MADV_NOHUGEPAGE))
		return -errno;
	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		p[edge[i] * PAGE] = 1;
		p[(ptrs - 1 - edge[i]) * PAGE] = 1;
		p[(ptrs + edge[i]) * PAGE] = 1;
	}
	for (i = 0; i < 64; i++)
		p[splitmix64(&seed) % (2 * ptrs) * PAGE] = 1;
	sh->addr[0] = (uintptr_t)p;
	sh->len[0] = len;
	return 0;
}

/* Anonymous memory: untouched, partly touched, fully touched. */
static int act_anon(struct target_shared *sh, int cmd)
{
	char *a, *b, *c;
	int i;

	if (cmd)
		return 0;
	a = map_anon(16 * PAGE, PROT_READ | PROT_WRITE);
	b = map_anon(16 * PAGE, PROT_READ | PROT_WRITE);
	c = map_anon(16 * PAGE, PROT_READ | PROT_WRITE);
	if (a == MAP_FAILED || b == MAP_FAILED || c == MAP_FAILED)
		return -1;
	b[0] = b[2 * PAGE] = b[5 * PAGE] = 1;
	for (i = 0; i < 16; i++)
		c[i * PAGE] = 1;
	sh->addr[0] = (uintptr_t)a;
	sh->addr[1] = (uintptr_t)b;
	sh->addr[2] = (uintptr_t)c;
	return 0;
}

/* A file of 8 pages, mapped private (read, then written: COW) and shared (written). */
static int act_file(struct target_shared *sh, int cmd)
{
	char path[] = "/tmp/ptscope-file-XXXXXX", buf[8 * PAGE];
	volatile char *priv, *shared;
	int fd = mkstemp(path);

	if (cmd || fd < 0)
		return cmd ? 0 : -1;
	memset(buf, 'x', sizeof(buf));
	if (write(fd, buf, sizeof(buf)) != sizeof(buf))
		return -1;
	unlink(path);
	priv = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	shared = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (priv == MAP_FAILED || shared == MAP_FAILED)
		return -1;
	(void)priv[0];
	(void)priv[PAGE];
	priv[2 * PAGE] = 'y';		/* COW: an anonymous page in a file VMA */
	shared[3 * PAGE] = 'z';
	sh->addr[0] = (uintptr_t)priv;
	sh->addr[1] = (uintptr_t)shared;
	return 0;
}

/* memfd and shared anonymous memory (both shmem). */
static int act_shmem(struct target_shared *sh, int cmd)
{
	int fd = memfd_create("ptscope", 0);
	char *m, *s;

	if (cmd)
		return 0;
	if (fd < 0 || ftruncate(fd, 4 * PAGE))
		return -1;
	m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	s = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || s == MAP_FAILED)
		return -1;
	m[0] = m[PAGE] = 1;
	s[2 * PAGE] = 1;
	sh->addr[0] = (uintptr_t)m;
	sh->addr[1] = (uintptr_t)s;
	return 0;
}

/*
 * Layout changes: mprotect splitting a VMA, a munmap hole, mlock, a
 * PROT_NONE guard, heap and stack growth, the zero page after a read.
 */
static int act_layout(struct target_shared *sh, int cmd)
{
	char *p, *g, *z, *heap;
	volatile char *vz;
	char stack[64 * 1024];

	if (cmd)
		return 0;
	p = map_anon(8 * PAGE, PROT_READ | PROT_WRITE);
	g = map_anon(4 * PAGE, PROT_NONE);
	z = map_anon(4 * PAGE, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED || g == MAP_FAILED || z == MAP_FAILED)
		return -1;
	memset(p, 1, 8 * PAGE);
	if (mprotect(p + 2 * PAGE, 2 * PAGE, PROT_READ))	/* three VMAs */
		return -1;
	if (munmap(p + 5 * PAGE, PAGE))				/* a hole */
		return -1;
	if (mlock(p + 6 * PAGE, 2 * PAGE))
		return -1;
	vz = z;
	(void)vz[0];						/* the zero page */
	heap = sbrk(0);
	if (sbrk(64 * PAGE) == (void *)-1)
		return -1;
	memset(heap, 1, 64 * PAGE);
	memset(stack, 1, sizeof(stack));			/* the stack grows */
	sh->addr[0] = (uintptr_t)p;
	sh->addr[1] = (uintptr_t)g;
	sh->addr[2] = (uintptr_t)z;
	sh->addr[3] = (uintptr_t)heap;
	sh->addr[4] = (uintptr_t)stack;
	return stack[100] == 1 ? 0 : -1;
}

/* THP: MADV_HUGEPAGE on an aligned region of two PMDs (4 MiB), touched. */
static int act_thp(struct target_shared *sh, int cmd)
{
	char *p;

	if (cmd)
		return 0;
	p = map_aligned(2 * PMD, PMD);
	if (p == MAP_FAILED || madvise(p, 2 * PMD, MADV_HUGEPAGE))
		return -1;
	memset(p, 1, 2 * PMD);
	sh->addr[0] = (uintptr_t)p;
	return 0;
}

/* hugetlb: one page of the default size (the PMD's) from the pool. */
static int act_hugetlb(struct target_shared *sh, int cmd)
{
	char *p;

	if (cmd)
		return 0;
	p = mmap(NULL, PMD, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		return -2;
	p[0] = 1;
	sh->addr[0] = (uintptr_t)p;
	return 0;
}

/* Swap: 16 pages written, then paged out (action 1). */
static int act_swap(struct target_shared *sh, int cmd)
{
	char *p = (char *)(uintptr_t)sh->addr[0];
	cpu_set_t cpus;
	int i;

	if (cmd == 1)
		return madvise(p, 16 * PAGE, MADV_PAGEOUT);
	if (cmd)
		return 0;
	/*
	 * On one CPU: MADV_PAGEOUT drains only this CPU's LRU batch, and skips
	 * pages still waiting in another CPU's.
	 */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		return -1;
	p = map_anon(16 * PAGE, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < 16; i++)
		p[i * PAGE] = i + 1;
	sh->addr[0] = (uintptr_t)p;
	return 0;
}

/* Soft-dirty: 8 pages written; action 1 writes page 3 (after clear_refs). */
static int act_softdirty(struct target_shared *sh, int cmd)
{
	char *p = (char *)(uintptr_t)sh->addr[0];

	if (cmd == 1) {
		p[3 * PAGE] = 2;
		return 0;
	}
	if (cmd)
		return 0;
	p = map_anon(8 * PAGE, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return -1;
	memset(p, 1, 8 * PAGE);
	sh->addr[0] = (uintptr_t)p;
	return 0;
}

/*
 * Fork: one written page, then a fork (action 1: the grandchild's pid in
 * sh->arg), then the grandchild writes it (action 2).
 */
static int act_fork(struct target_shared *sh, int cmd)
{
	static int down[2], up[2];
	char *p = (char *)(uintptr_t)sh->addr[0];
	char c = 0;
	pid_t pid;

	switch (cmd) {
	case 0:
		p = map_anon(PAGE, PROT_READ | PROT_WRITE);
		if (p == MAP_FAILED)
			return -1;
		p[0] = 1;
		sh->addr[0] = (uintptr_t)p;
		return 0;
	case 1:
		if (pipe(down) || pipe(up))
			return -1;
		pid = fork();
		if (pid == 0) {
			while (read(down[0], &c, 1) == 1) {
				p[0] = 2;
				if (write(up[1], &c, 1) != 1)
					break;
			}
			_exit(0);
		}
		sh->arg = pid;
		return pid > 0 ? 0 : -1;
	case 2:
		return write(down[1], &c, 1) == 1 && read(up[0], &c, 1) == 1 ? 0 : -1;
	}
	return 0;
}

/*
 * 64 pages written in a row (frames in a row, as a fresh mapping mostly gets
 * them), then shared with a child that unmaps the middle half of its copy:
 * the same PTE bits all along, but mapcounts 2, 1, 2.
 */
static int act_fork_unmap_middle(struct target_shared *sh, int cmd)
{
	int up[2];
	char *p, c = 0;
	size_t i;
	pid_t pid;

	if (cmd)
		return 0;
	p = map_anon(64 * PAGE, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED || madvise(p, 64 * PAGE, MADV_NOHUGEPAGE) || pipe(up))
		return -1;
	for (i = 0; i < 64; i++)
		p[i * PAGE] = 1;
	pid = fork();
	if (pid == 0) {
		munmap(p + 16 * PAGE, 32 * PAGE);
		if (write(up[1], &c, 1) == 1)
			pause();
		_exit(0);
	}
	sh->addr[0] = (uintptr_t)p;
	sh->arg = pid;
	return pid > 0 && read(up[0], &c, 1) == 1 ? 0 : -1;
}

/*
 * mTHPs in every shape the walker's batches of a folio must break at:
 * MTHP_FOLIOS folios of mthp_size() (MADV_POPULATE_WRITE, under mthp_only()),
 * then, by folio (sh->arg: pages per folio, P):
 *   2: its second half read-only (the block unfolded, the folio whole);
 *   3: its first quarter unmapped (the folio partly mapped);
 *   4, 5: MADV_FREE (clean and old), then one page of 4 written;
 *   6 to 9: shared with a child (the rest MADV_DONTFORK) that unmaps the
 *      second half of 7 and page 1 of 8: mapcounts 2 and 1 inside a folio.
 * THP is then disabled for the process (PR_SET_THP_DISABLE): khugepaged
 * leaves the folios be. Action 1, after the test's clear_refs: page 5 of 10
 * read, page 9 of 11 written, all of 12 read (young and dirty for some
 * entries of a block).
 */
#define MTHP_FOLIOS 16

static int act_mthp_shapes(struct target_shared *sh, int cmd)
{
	size_t sz = mthp_size(), per = sz / PAGE, i;
	char *p = (char *)(uintptr_t)sh->addr[0], c = 0;
	volatile char sink = 0;
	int up[2];
	pid_t pid;

	if (cmd == 1) {
		sink += p[10 * sz + 5 * PAGE];
		p[11 * sz + 9 * PAGE] = 2;
		for (i = 0; i < per; i++)
			sink += p[12 * sz + i * PAGE];
		return 0;
	}
	if (cmd)
		return 0;
	p = map_aligned(MTHP_FOLIOS * sz, pmd_size());
	if (p == MAP_FAILED || madvise(p, MTHP_FOLIOS * sz, MADV_POPULATE_WRITE) ||
	    mprotect(p + 2 * sz + sz / 2, sz / 2, PROT_READ) || munmap(p + 3 * sz, sz / 4) ||
	    madvise(p + 4 * sz, 2 * sz, MADV_FREE) || madvise(p, 3 * sz, MADV_DONTFORK) ||
	    madvise(p + 3 * sz + sz / 4, 3 * sz - sz / 4, MADV_DONTFORK) ||
	    madvise(p + 10 * sz, 6 * sz, MADV_DONTFORK) ||
	    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) || pipe(up))
		return -1;
	p[4 * sz + 3 * PAGE] = 1;
	pid = fork();
	if (pid == 0) {
		munmap(p + 7 * sz + sz / 2, sz / 2);
		munmap(p + 8 * sz + PAGE, PAGE);
		if (write(up[1], &c, 1) == 1)
			pause();
		_exit(0);
	}
	sh->addr[0] = (uintptr_t)p;
	sh->addr[1] = pid;
	sh->arg = per;
	return pid > 0 && read(up[0], &c, 1) == 1 ? 0 : -1;
}

/*
 * MTHP_FOLIOS folios of mthp_size() of shared anonymous memory (shmem,
 * under mthp_only(..., "shmem_enabled")), written: the second half of folio
 * 1 read-only, the first quarter of folio 2 unmapped, and shared with a
 * child that maps folios 4 and 5 but for the second half of 4 and page 1
 * of 5 (fork() copies no PTEs of a shared mapping: the child faults its
 * own in). THP is then disabled for the process, for khugepaged.
 */
static int act_mthp_shmem(struct target_shared *sh, int cmd)
{
	size_t sz = mthp_size(), len = MTHP_FOLIOS * sz;
	char *p, c = 0;
	int up[2];
	pid_t pid;

	if (cmd)
		return 0;
	p = map_aligned(len, pmd_size());
	if (p != MAP_FAILED)
		p = mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0);
	if (p == MAP_FAILED || madvise(p, len, MADV_POPULATE_WRITE) ||
	    mprotect(p + sz + sz / 2, sz / 2, PROT_READ) || munmap(p + 2 * sz, sz / 4) ||
	    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) || pipe(up))
		return -1;
	pid = fork();
	if (pid == 0) {
		munmap(p + 4 * sz + sz / 2, sz / 2);
		munmap(p + 5 * sz + PAGE, PAGE);
		if (!madvise(p + 4 * sz, sz / 2, MADV_POPULATE_READ) &&
		    !madvise(p + 5 * sz, PAGE, MADV_POPULATE_READ) &&
		    !madvise(p + 5 * sz + 2 * PAGE, sz - 2 * PAGE, MADV_POPULATE_READ) &&
		    write(up[1], &c, 1) == 1)
			pause();
		_exit(0);
	}
	sh->addr[0] = (uintptr_t)p;
	sh->addr[1] = pid;
	return pid > 0 && read(up[0], &c, 1) == 1 ? 0 : -1;
}

/* Shared memory between two processes: a MAP_SHARED page written by both. */
static char *shared_page;

static int act_share(struct target_shared *sh, int cmd)
{
	if (cmd)
		return 0;
	shared_page[0]++;
	sh->addr[0] = (uintptr_t)shared_page;
	return 0;
}

/* The huge zero page: an aligned two-PMD MADV_HUGEPAGE region, read, never written. */
static int act_huge_zero(struct target_shared *sh, int cmd)
{
	volatile char *p;

	if (cmd)
		return 0;
	p = map_aligned(2 * PMD, PMD);
	if (p == MAP_FAILED || madvise((void *)p, 2 * PMD, MADV_HUGEPAGE))
		return -1;
	(void)p[0];
	sh->addr[0] = (uintptr_t)p;
	return 0;
}

/* The vDSO's clock reads its data page: [vvar] (a VM_PFNMAP VMA) gets mapped. */
static int act_vvar(struct target_shared *sh, int cmd)
{
	struct timespec ts;

	if (cmd)
		return 0;
	return clock_gettime(CLOCK_MONOTONIC, &ts);
}

/*
 * 1 GiB of written 4 KiB pages (THP off for the process): 512 full PTE
 * tables. MAP_POPULATE write-faults them in the kernel, much faster than
 * 262144 faults from here under an emulated CPU.
 */
static int act_gib_written(struct target_shared *sh, int cmd)
{
	char *p;

	if (cmd)
		return 0;
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		return -errno;
	p = mmap(NULL, GB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		 -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	sh->addr[0] = (uintptr_t)p;
	return 0;
}

/*
 * 64 pages, the first 32 written from the first to the last, the others
 * from the last to the first, so that in one half or the other the frames
 * tend to count down as the addresses count up, then made PROT_NONE: x86
 * keeps such entries' frames inverted (L1TF), and an entry whose descriptor
 * is the one before's + 4 KiB then maps the frame before.
 */
static int act_protnone_down(struct target_shared *sh, int cmd)
{
	char *p;
	int i;

	if (cmd)
		return 0;
	p = map_anon(64 * PAGE, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED || madvise(p, 64 * PAGE, MADV_NOHUGEPAGE))
		return -errno;
	for (i = 0; i < 32; i++)
		p[i * PAGE] = 1;
	for (i = 63; i >= 32; i--)
		p[i * PAGE] = 1;
	if (mprotect(p, 64 * PAGE, PROT_NONE))
		return -errno;
	sh->addr[0] = (uintptr_t)p;
	return 0;
}

/* ---- tests ----------------------------------------------------------------- */

FIXTURE(walk) {
	struct target t;
	int fd;
};

FIXTURE_SETUP(walk)
{
	memset(&self->t, 0, sizeof(self->t));
	self->fd = -1;
	if (access(PTSCOPE_DEV, F_OK))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
}

FIXTURE_TEARDOWN(walk)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->t.pid)
		target_stop(&self->t);
}

static int start_case(struct __test_metadata *_metadata, FIXTURE_DATA(walk) *self,
		      target_action act)
{
	int ret = target_start(&self->t, act);

	if (ret) {
		TH_LOG("the target could not set up: %d", ret);
		return ret;
	}
	self->fd = ptscope_open_target(self->t.pid, NULL);
	if (self->fd < 0)
		TH_LOG("select target: %s", strerror(-self->fd));
	return self->fd < 0 ? -1 : 0;
}

/* VMAs equal /proc/PID/maps line by line: range, perms, offset, inode, name. */
TEST_F(walk, vmas_match_maps)
{
	struct ptscope_vma *v = NULL;
	char path[64], line[4096];
	long n, i = 0;
	FILE *f;

	ASSERT_EQ(0, start_case(_metadata, self, act_layout));
	n = ptscope_vmas_all(self->fd, 0, &v);
	ASSERT_LT(0, n);
	snprintf(path, sizeof(path), "/proc/%d/maps", self->t.pid);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e, off, ino;
		char perms[8], name[4096] = "", want[8];
		int consumed = 0;

		ASSERT_EQ(5, sscanf(line, "%lx-%lx %7s %lx %*x:%*x %lu %n", &s, &e, perms,
				    &off, &ino, &consumed));
		sscanf(line + consumed, "%4095[^\n]", name);
		if (!strcmp(name, "[vsyscall]"))	/* the gate area: not a VMA of the mm */
			continue;
		ASSERT_LT(i, n) TH_LOG("maps has more VMAs than the module: %s", line);
		snprintf(want, sizeof(want), "%c%c%c%c",
			 v[i].prot & PTSCOPE_PROT_READ ? 'r' : '-',
			 v[i].prot & PTSCOPE_PROT_WRITE ? 'w' : '-',
			 v[i].prot & PTSCOPE_PROT_EXEC ? 'x' : '-',
			 v[i].prot & PTSCOPE_PROT_SHARED ? 's' : 'p');
		EXPECT_EQ(s, v[i].start);
		EXPECT_EQ(e, v[i].end);
		EXPECT_STREQ(perms, want);
		EXPECT_EQ(off, v[i].pgoff);
		EXPECT_EQ(ino, v[i].inode);
		EXPECT_STREQ(name, v[i].name);
		i++;
	}
	fclose(f);
	EXPECT_EQ(n, i);
	free(v);
}

/* Named kinds: heap, stack, vdso, vvar; the heap grew, the guard has no access. */
TEST_F(walk, vma_kinds)
{
	struct ptscope_vma *v = NULL;
	int heap = 0, grown = 0, stack = 0, vdso = 0, vvar = 0;
	long n, i;

	ASSERT_EQ(0, start_case(_metadata, self, act_layout));
	n = ptscope_vmas_all(self->fd, 0, &v);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		heap += v[i].kind == PTSCOPE_VMA_HEAP && !strcmp(v[i].name, "[heap]");
		grown += v[i].kind == PTSCOPE_VMA_HEAP && v[i].start <= self->t.sh->addr[3] &&
			 v[i].end >= self->t.sh->addr[3] + 64 * PAGE;
		stack += v[i].kind == PTSCOPE_VMA_STACK && !strcmp(v[i].name, "[stack]");
		vdso += v[i].kind == PTSCOPE_VMA_VDSO;
		vvar += v[i].kind == PTSCOPE_VMA_VVAR;
		if (v[i].start == self->t.sh->addr[1])
			EXPECT_EQ(0, v[i].prot & 7);
	}
	EXPECT_LE(1, heap);
	EXPECT_EQ(1, grown);
	EXPECT_EQ(1, stack);
	EXPECT_EQ(1, vdso);
	EXPECT_EQ(1, vvar);
	free(v);
}

/* The article: 1 GiB mapped, 64 bytes written 4 KiB apart: exactly 64 PTEs. */
TEST_F(walk, article_64_pages)
{
	uint64_t a;
	struct ptscope_vma v;

	ASSERT_EQ(0, start_case(_metadata, self, act_article));
	a = self->t.sh->addr[0];
	EXPECT_EQ(64, count_leaves(self->fd, a, a + GB, PTSCOPE_LEVEL_PTE));
	ASSERT_EQ(0, ptscope_vma_at(self->fd, a, &v));
	EXPECT_EQ(64, v.counts[PTSCOPE_CNT_RSS_PTE]);
	/*
	 * One PTE table per PMD (2 MiB with 4 KiB pages) the 64 pages written
	 * span, and perhaps one at each end that a neighbouring VMA populated
	 * (tables are shared).
	 */
	EXPECT_LE((a + 63 * PAGE) / pmd_size() - a / pmd_size() + 1,
		  v.counts[PTSCOPE_CNT_PTE_TABLES]);
	EXPECT_GE((a + 63 * PAGE) / pmd_size() - a / pmd_size() + 3,
		  v.counts[PTSCOPE_CNT_PTE_TABLES]);
	expect_vma_matches(_metadata, self->fd, self->t.pid, a);
}

/*
 * Pages scattered over two PTE tables (act_scattered()): every page as
 * pagemap shows it, over the whole span and from and to addresses inside
 * a group of empty entries; and as many present pages in a walk without
 * pages as pagemap counts.
 */
TEST_F(walk, scattered_pages)
{
	struct ptscope_run *runs = NULL;
	uint64_t a, len, *pm, present = 0, walked = 0;
	char path[64];
	long n, i;
	int pmfd;

	ASSERT_EQ(0, start_case(_metadata, self, act_scattered));
	a = self->t.sh->addr[0];
	len = self->t.sh->len[0];
	expect_matches_pagemap(_metadata, self->fd, self->t.pid, a, a, a + len);
	expect_matches_pagemap(_metadata, self->fd, self->t.pid, a, a + 3 * PAGE,
			       a + len - 5 * PAGE);
	expect_matches_pagemap(_metadata, self->fd, self->t.pid, a, a + len / 2 - 4 * PAGE,
			       a + len / 2 + 12 * PAGE);

	pm = calloc(len / PAGE, sizeof(*pm));
	ASSERT_NE(NULL, pm);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", self->t.pid);
	pmfd = open(path, O_RDONLY);
	ASSERT_LE(0, pmfd);
	ASSERT_EQ((ssize_t)(len / PAGE * sizeof(*pm)),
		  pread(pmfd, pm, len / PAGE * sizeof(*pm), a / PAGE * sizeof(*pm)));
	close(pmfd);
	for (i = 0; i < (long)(len / PAGE); i++)
		present += !!(pm[i] & PM_PRESENT);
	n = ptscope_walk_all(self->fd, a, a + len, PTSCOPE_WALK_NO_PAGE, &runs);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++)
		if (runs[i].kind == PTSCOPE_KIND_PAGE)
			walked += runs[i].count;
	EXPECT_EQ(present, walked);
	EXPECT_LE(3 * 12, present);
	free(runs);
	free(pm);
}

TEST_F(walk, anon_untouched_partly_fully)
{
	ASSERT_EQ(0, start_case(_metadata, self, act_anon));
	EXPECT_EQ(0, count_leaves(self->fd, self->t.sh->addr[0],
				  self->t.sh->addr[0] + 16 * PAGE, PTSCOPE_LEVEL_PTE));
	EXPECT_EQ(3, count_leaves(self->fd, self->t.sh->addr[1],
				  self->t.sh->addr[1] + 16 * PAGE, PTSCOPE_LEVEL_PTE));
	EXPECT_EQ(16, count_leaves(self->fd, self->t.sh->addr[2],
				   self->t.sh->addr[2] + 16 * PAGE, PTSCOPE_LEVEL_PTE));
	for (int i = 0; i < 3; i++)
		expect_vma_matches(_metadata, self->fd, self->t.pid, self->t.sh->addr[i]);
}

TEST_F(walk, file_private_shared_cow)
{
	struct ptscope_vtop vt;

	ASSERT_EQ(0, start_case(_metadata, self, act_file));
	expect_vma_matches(_metadata, self->fd, self->t.pid, self->t.sh->addr[0]);
	expect_vma_matches(_metadata, self->fd, self->t.pid, self->t.sh->addr[1]);
	/* The COW copy is anonymous and writable; the read pages are the file's. */
	ASSERT_EQ(0, ptscope_vtop(self->fd, self->t.sh->addr[0] + 2 * PAGE, &vt));
	EXPECT_EQ(PTSCOPE_VTOP_MAPPED, vt.result);
	EXPECT_TRUE(vt.page & PTSCOPE_PAGE_ANON);
	EXPECT_TRUE(vt.levels[vt.nlevels - 1].bits & PTSCOPE_B_WRITE);
	ASSERT_EQ(0, ptscope_vtop(self->fd, self->t.sh->addr[0], &vt));
	/* Page cache: FILE, or SHMEM where /tmp is tmpfs (as in the test VM). */
	EXPECT_TRUE(vt.page & (PTSCOPE_PAGE_FILE | PTSCOPE_PAGE_SHMEM));
	EXPECT_FALSE(vt.page & PTSCOPE_PAGE_ANON);
	EXPECT_FALSE(vt.levels[vt.nlevels - 1].bits & PTSCOPE_B_WRITE);
	ASSERT_EQ(0, ptscope_vtop(self->fd, self->t.sh->addr[1] + 3 * PAGE, &vt));
	EXPECT_TRUE(vt.levels[vt.nlevels - 1].bits & PTSCOPE_B_DIRTY);
}

TEST_F(walk, memfd_and_shmem)
{
	struct ptscope_vma v;

	ASSERT_EQ(0, start_case(_metadata, self, act_shmem));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, ptscope_vma_at(self->fd, self->t.sh->addr[i], &v));
		EXPECT_EQ(PTSCOPE_VMA_SHMEM, v.kind);
		EXPECT_EQ(i ? 1 : 2, v.counts[PTSCOPE_CNT_SHMEM]);
		expect_vma_matches(_metadata, self->fd, self->t.pid, self->t.sh->addr[i]);
	}
}

TEST_F(walk, layout_changes)
{
	struct ptscope_vtop vt;
	struct ptscope_vma v;
	uint64_t p = self->t.sh->addr[0];

	ASSERT_EQ(0, start_case(_metadata, self, act_layout));
	p = self->t.sh->addr[0];
	/* mprotect split [p, p+2) rw, [p+2, p+4) r, [p+4, p+5) rw; hole at p+5. */
	ASSERT_EQ(0, ptscope_vma_at(self->fd, p + 2 * PAGE, &v));
	EXPECT_EQ(p + 2 * PAGE, v.start);
	EXPECT_EQ(p + 4 * PAGE, v.end);
	EXPECT_EQ(PTSCOPE_PROT_READ, v.prot);
	ASSERT_EQ(0, ptscope_vtop(self->fd, p + 5 * PAGE, &vt));
	EXPECT_EQ(PTSCOPE_VTOP_NO_VMA, vt.result);
	ASSERT_EQ(0, ptscope_vma_at(self->fd, p + 6 * PAGE, &v));
	EXPECT_TRUE(smaps_vmflag(self->t.pid, v.start, "lo"));
	EXPECT_EQ(2, v.counts[PTSCOPE_CNT_RSS_PTE]);
	/* The PROT_NONE guard: a VMA, nothing mapped, no access. */
	ASSERT_EQ(0, ptscope_vtop(self->fd, self->t.sh->addr[1], &vt));
	EXPECT_EQ(PTSCOPE_VTOP_NO_ACCESS, vt.result);
	/* A read fault on fresh anonymous memory maps the zero page. */
	ASSERT_EQ(0, ptscope_vtop(self->fd, self->t.sh->addr[2], &vt));
	EXPECT_EQ(PTSCOPE_VTOP_MAPPED, vt.result);
	EXPECT_EQ(PTSCOPE_PAGE_ZERO, vt.page);
	EXPECT_TRUE(kpageflags(vt.phys / PAGE) & (1ULL << KPF_ZERO_PAGE));
	ASSERT_EQ(0, ptscope_vma_at(self->fd, self->t.sh->addr[2], &v));
	EXPECT_EQ(1, v.counts[PTSCOPE_CNT_ZERO]);
	/* Heap and stack grew, and everything matches pagemap and smaps. */
	for (int i = 0; i < 5; i++)
		expect_vma_matches(_metadata, self->fd, self->t.pid, self->t.sh->addr[i]);
	for (int i = 0; i < 8; i++)
		if (i != 5)
			expect_vma_matches(_metadata, self->fd, self->t.pid, p + i * PAGE);
}

TEST_F(walk, thp_pmd_leaf)
{
	uint64_t a;
	struct ptscope_vtop vt;

	ASSERT_EQ(0, start_case(_metadata, self, act_thp));
	a = self->t.sh->addr[0];
	if (smaps_field(self->t.pid, a, "AnonHugePages") <= 0)
		SKIP(return, "no THP was allocated (THP disabled or memory fragmented)");
	EXPECT_EQ(smaps_field(self->t.pid, a, "AnonHugePages") / (long)(PMD / 1024),
		  count_leaves(self->fd, a, a + 2 * PMD, PTSCOPE_LEVEL_PMD));
	ASSERT_EQ(0, ptscope_vtop(self->fd, a + 12345, &vt));
	if (vt.levels[vt.nlevels - 1].level == PTSCOPE_LEVEL_PMD) {
		EXPECT_TRUE(vt.page & PTSCOPE_PAGE_THP);
		EXPECT_EQ(__builtin_ctzl(PMD_PAGES), vt.folio_order);	/* 9 with 4 KiB pages */
		EXPECT_TRUE(kpageflags(vt.phys / PAGE) & (1ULL << KPF_THP));
		EXPECT_EQ(pagemap_entry(self->t.pid, a + 12345) & PM_PFN_MASK, vt.phys / PAGE);
	}
	expect_vma_matches(_metadata, self->fd, self->t.pid, a);
}

/*
 * PTSCOPE_WALK_NO_PAGE over PMD leaves: alike leaves come as one run (the
 * walker batches them, whatever their frames); a range that ends inside a
 * leaf gets that leaf whole, as a full walk does.
 */
TEST_F(walk, thp_no_page)
{
	struct ptscope_run *runs = NULL;
	uint64_t a;
	long n, i;

	ASSERT_EQ(0, start_case(_metadata, self, act_thp));
	a = self->t.sh->addr[0];
	if (count_leaves(self->fd, a, a + 2 * PMD, PTSCOPE_LEVEL_PMD) != 2)
		SKIP(return, "no two THPs were allocated (THP disabled or memory fragmented)");
	/*
	 * Reclaim's aging may clear one leaf's young bit at any moment (MGLRU
	 * walks page tables): then two runs, one leaf each (seen on 7.3-arm64
	 * and 7.3-arm64-16k). Either way the leaves cover the range whole.
	 */
	n = ptscope_walk_all(self->fd, a, a + 2 * PMD, PTSCOPE_WALK_NO_PAGE, &runs);
	ASSERT_LE(1, n);
	ASSERT_GE(2, n);
	EXPECT_EQ(a, runs[0].start);
	EXPECT_EQ(2, runs[0].count + (n == 2 ? runs[1].count : 0));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(PTSCOPE_LEVEL_PMD, runs[i].level);
		EXPECT_EQ(0, runs[i].pfn);
	}
	for (n = 0; n < (long)(2 * PMD_PAGES); n++)
		EXPECT_TRUE(pagemap_entry(self->t.pid, a + n * PAGE) & PM_PRESENT);
	free(runs);
	n = ptscope_walk_all(self->fd, a, a + 3 * PMD / 2, PTSCOPE_WALK_NO_PAGE, &runs);
	ASSERT_LE(1, n);
	ASSERT_GE(2, n);
	EXPECT_EQ(a, runs[0].start);
	EXPECT_EQ(2, runs[0].count + (n == 2 ? runs[1].count : 0));
	for (i = 0; i < n; i++)
		EXPECT_EQ(PTSCOPE_LEVEL_PMD, runs[i].level);
	free(runs);
	n = ptscope_walk_all(self->fd, a + PMD / 2, a + PMD, PTSCOPE_WALK_NO_PAGE, &runs);
	ASSERT_EQ(1, n);
	EXPECT_EQ(a, runs[0].start);
	EXPECT_EQ(1, runs[0].count);
	free(runs);
}

TEST_F(walk, hugetlb_pmd_leaf)
{
	struct ptscope_vtop vt;
	int ret;

	ret = target_start(&self->t, act_hugetlb);
	if (ret == -2)
		SKIP(return, "no 2 MiB hugetlb page in the pool (run-guest reserves some)");
	ASSERT_EQ(0, ret);
	self->fd = ptscope_open_target(self->t.pid, NULL);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ptscope_vtop(self->fd, self->t.sh->addr[0], &vt));
	EXPECT_EQ(PTSCOPE_VTOP_MAPPED, vt.result);
	EXPECT_EQ(PTSCOPE_LEVEL_PMD, vt.levels[vt.nlevels - 1].level);
	EXPECT_TRUE(vt.page & PTSCOPE_PAGE_HUGETLB);
	EXPECT_TRUE(kpageflags(vt.phys / PAGE) & (1ULL << KPF_HUGE));
	expect_vma_matches(_metadata, self->fd, self->t.pid, self->t.sh->addr[0]);
}

TEST_F(walk, swap_entries)
{
	uint64_t a;
	struct ptscope_vtop vt;
	struct ptscope_vma v;

	ASSERT_EQ(0, start_case(_metadata, self, act_swap));
	a = self->t.sh->addr[0];
	if (target_do(&self->t, 1))
		SKIP(return, "MADV_PAGEOUT failed");
	ASSERT_EQ(0, ptscope_vma_at(self->fd, a, &v));
	if (!v.counts[PTSCOPE_CNT_SWAP])
		SKIP(return, "nothing was swapped out: no swap device (run-guest sets up zram)");
	ASSERT_EQ(0, ptscope_vtop(self->fd, a, &vt));
	if (vt.result == PTSCOPE_VTOP_SWAPPED)
		EXPECT_EQ(pagemap_entry(self->t.pid, a) & PM_PFN_MASK,
			  vt.swap_type | vt.swap_offset << 5);
	expect_vma_matches(_metadata, self->fd, self->t.pid, a);
}

TEST_F(walk, soft_dirty_after_clear_refs)
{
	char path[64];
	uint64_t a;
	int fd;

	ASSERT_EQ(0, start_case(_metadata, self, act_softdirty));
	a = self->t.sh->addr[0];
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", self->t.pid);
	fd = open(path, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "4", 1));
	close(fd);
	ASSERT_EQ(0, target_do(&self->t, 1));
	expect_vma_matches(_metadata, self->fd, self->t.pid, a);
	{
		struct ptscope_vma v;

		ASSERT_EQ(0, ptscope_vma_at(self->fd, a, &v));
		/* The kernel's own word: pagemap's soft-dirty bit of the page written. */
		if (!(pagemap_entry(self->t.pid, a + 3 * PAGE) & PM_SOFT_DIRTY)) {
			EXPECT_EQ(0, v.counts[PTSCOPE_CNT_SOFT_DIRTY]);
			SKIP(return, "no soft-dirty tracking in this kernel (pagemap never sets it: CONFIG_MEM_SOFT_DIRTY, x86-64 only)");
		}
		EXPECT_EQ(1, v.counts[PTSCOPE_CNT_SOFT_DIRTY]);
	}
}

/* Fork: the page is shared read-only; after the child's write, two frames. */
TEST_F(walk, fork_cow)
{
	struct ptscope_vtop before, parent, child;
	int cfd;
	pid_t gc;
	uint64_t a;

	ASSERT_EQ(0, start_case(_metadata, self, act_fork));
	a = self->t.sh->addr[0];
	ASSERT_EQ(0, ptscope_vtop(self->fd, a, &before));
	EXPECT_TRUE(before.levels[before.nlevels - 1].bits & PTSCOPE_B_WRITE);
	ASSERT_EQ(0, target_do(&self->t, 1));
	gc = self->t.sh->arg;
	cfd = ptscope_open_target(gc, NULL);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, ptscope_vtop(self->fd, a, &parent));
	ASSERT_EQ(0, ptscope_vtop(cfd, a, &child));
	EXPECT_EQ(parent.phys, child.phys);
	EXPECT_EQ(2, child.mapcount);
	EXPECT_FALSE(child.levels[child.nlevels - 1].bits & PTSCOPE_B_WRITE);
	EXPECT_FALSE(parent.levels[parent.nlevels - 1].bits & PTSCOPE_B_WRITE);
	ASSERT_EQ(0, target_do(&self->t, 2));
	ASSERT_EQ(0, ptscope_vtop(cfd, a, &child));
	EXPECT_NE(parent.phys, child.phys);
	EXPECT_EQ(pagemap_entry(gc, a) & PM_PFN_MASK, child.phys / PAGE);
	EXPECT_TRUE(child.levels[child.nlevels - 1].bits & PTSCOPE_B_WRITE);
	expect_vma_matches(_metadata, cfd, gc, a);
	close(cfd);
	kill(gc, SIGKILL);
}

/*
 * Runs (and the walker's batches of PTEs, merged before any callback) break
 * where the mapcount does, though the PTE bits and the frames run on:
 * pagemap's MMAP_EXCLUSIVE page by page, and the exclusive count against
 * smaps' private pages.
 */
TEST_F(walk, runs_break_where_mapcount_does)
{
	struct ptscope_vma v;
	uint64_t a;
	long private_kb;

	ASSERT_EQ(0, start_case(_metadata, self, act_fork_unmap_middle));
	a = self->t.sh->addr[0];
	expect_vma_matches(_metadata, self->fd, self->t.pid, a);
	ASSERT_EQ(0, ptscope_vma_at(self->fd, a, &v));
	EXPECT_EQ(32, v.counts[PTSCOPE_CNT_EXCLUSIVE]);
	private_kb = smaps_field(self->t.pid, v.start, "Private_Clean") +
		     smaps_field(self->t.pid, v.start, "Private_Dirty");
	EXPECT_EQ(private_kb, (long)(v.counts[PTSCOPE_CNT_EXCLUSIVE] * PAGE_KB));
	kill(self->t.sh->arg, SIGKILL);
}

/*
 * kpf_folio_order - the order of the folio holding @pfn by /proc/kpageflags
 * (@kfd): its compound head and tails, in the naturally aligned window of
 * 2^@max pages around @pfn; 0 for a page of no compound, -1 for a folio
 * larger than the window or an unreadable one.
 */
static int kpf_folio_order(int kfd, uint64_t pfn, unsigned int max)
{
	const uint64_t head = 1ULL << KPF_COMPOUND_HEAD, tail = 1ULL << KPF_COMPOUND_TAIL;
	size_t n = 1UL << max, i = pfn & (n - 1), j;
	uint64_t f[n];

	if (pread(kfd, f, sizeof(f), (pfn & ~(uint64_t)(n - 1)) * 8) != (ssize_t)sizeof(f))
		return -1;
	if (!(f[i] & (head | tail)))
		return 0;
	while (i && !(f[i] & head))
		i--;
	if (!(f[i] & head))
		return -1;
	for (j = i + 1; j < n && (f[j] & tail); j++)
		;
	/* a folio from the window's first page to its end may go on past it */
	return j < n || i ? __builtin_ctzl(j - i) : -1;
}

/* Pages of the runs in [start, end) with all of @bits. */
static long pages_with(const struct ptscope_run *runs, long n, uint64_t start, uint64_t end,
		       uint64_t bits)
{
	long i, pages = 0;

	for (i = 0; i < n; i++)
		if (runs[i].kind == PTSCOPE_KIND_PAGE && runs[i].start >= start &&
		    runs[i].start < end && (runs[i].bits & bits) == bits)
			pages += runs[i].count;
	return pages;
}

/*
 * expect_cont_folded - arm64: each contiguous block's view, the same in
 * all of its entries, is its descriptors' young and dirty bits folded as
 * ptep_get() folds them (young: one access flag; dirty: one software dirty
 * bit, or one writable entry made writable by DBM). Counts into @partial the
 * blocks whose descriptors differ in either, which the fold is about.
 */
static void expect_cont_folded(struct __test_metadata *_metadata, const struct ptscope_run *runs,
			       long n, uint64_t start, uint64_t end, long *partial)
{
	uint64_t block = mthp_size(), a;

	for (a = start; a < end; a += block) {
		uint64_t view = 0, young = 0, dirty = 0, ndesc = 0, nyoung = 0, ndirty = 0;
		uint64_t p;
		int seen = 0;

		for (p = a; p < a + block; p += PAGE) {
			struct page_view pv = page_view_of(runs, n, p);
			uint64_t b = pv.bits;
			int d = (b & PTSCOPE_B_ARM64_SW_DIRTY) ||
				((b & PTSCOPE_B_ARM64_DBM) && !(b & PTSCOPE_B_ARM64_AP_RO));

			if (pv.kind != PTSCOPE_KIND_PAGE || !(b & PTSCOPE_B_ARM64_CONT))
				break;
			if (seen++)
				EXPECT_EQ(view, b & (PTSCOPE_B_ACCESSED | PTSCOPE_B_DIRTY))
					TH_LOG("%#llx: the block's view differs", (unsigned long long)p);
			view = b & (PTSCOPE_B_ACCESSED | PTSCOPE_B_DIRTY);
			young |= !!(b & PTSCOPE_B_ARM64_AF);
			dirty |= d;
			ndesc++;
			nyoung += !!(b & PTSCOPE_B_ARM64_AF);
			ndirty += d;
		}
		if (!seen)
			continue;
		EXPECT_EQ(block / PAGE, ndesc) TH_LOG("%#llx: a part of a block", (unsigned long long)a);
		EXPECT_EQ(young, !!(view & PTSCOPE_B_ACCESSED)) TH_LOG("%#llx", (unsigned long long)a);
		EXPECT_EQ(dirty, !!(view & PTSCOPE_B_DIRTY)) TH_LOG("%#llx", (unsigned long long)a);
		*partial += (nyoung && nyoung < ndesc) || (ndirty && ndirty < ndesc);
	}
}

/*
 * expect_mthp_pages - MTHP_FOLIOS folios of mthp_size() from sh->addr[0] of
 * the target, in whatever shapes its action left them: page by page,
 * pagemap (frame, exclusive, present, VMA by VMA) and kpageflags (the
 * folio's order from its compound head and tails, THP); with @young_dirty,
 * VMA by VMA, the dirty pages of the walk and of VMAS with counts against
 * smaps' dirty (its view, ptep_get()'s: on arm64 a contiguous block's bits
 * folded), and their young pages at most smaps' Referenced; on arm64 every block's view against its
 * descriptors. The walker decodes a folio once and folds a block once:
 * these are the answers it must still give for every page. Skips when the
 * kernel gave fewer than half the folios.
 */
static void expect_mthp_pages(struct __test_metadata *_metadata, FIXTURE_DATA(walk) *self,
			      bool young_dirty)
{
	unsigned long sz = mthp_size(), per = sz / PAGE;
	unsigned int order = __builtin_ctzl(per);
	uint64_t a = self->t.sh->addr[0], end = a + MTHP_FOLIOS * sz, *pm;
	struct ptscope_run *runs = NULL;
	long n, i, bad = 0, large = 0, partial = 0;
	int kfd = open("/proc/kpageflags", O_RDONLY);

	ASSERT_LE(0, kfd);
	pm = pagemap_range(self->t.pid, a, end);
	ASSERT_NE(NULL, pm);
	n = ptscope_walk_all(self->fd, a, end, 0, &runs);
	ASSERT_LT(0, n);

	for (i = 0; i < (long)((end - a) / PAGE) && bad < 5; i++) {
		uint64_t va = a + i * PAGE, pfn = pm[i] & PM_PFN_MASK;
		struct page_view pv = page_view_of(runs, n, va);
		const struct ptscope_run *r;
		int kpf_order, thp;
		long k;

		if (!(pm[i] & PM_PRESENT))
			continue;
		for (k = 0, r = NULL; k < n && !r; k++)
			if (runs[k].kind == PTSCOPE_KIND_PAGE && va >= runs[k].start &&
			    va < runs[k].start + (runs[k].count << runs[k].shift))
				r = &runs[k];
		ASSERT_NE(NULL, r);
		kpf_order = kpf_folio_order(kfd, pfn, order + 1);
		thp = !!(kpageflags(pfn) & (1ULL << KPF_THP));
		large += kpf_order == (int)order;
		if (kpf_order != (int)r->folio_order || thp != !!(pv.page & PTSCOPE_PAGE_THP)) {
			bad++;
			TH_LOG("%#llx pfn %#llx: kpageflags order %d thp %d, module order %u page %#x",
			       (unsigned long long)va, (unsigned long long)pfn, kpf_order, thp,
			       r->folio_order, pv.page);
		}
	}
	EXPECT_EQ(0, bad);
	ksft_print_msg("%ld pages in folios of %lu KiB\n", large, sz / 1024);
	if (!bad && large < (long)(MTHP_FOLIOS / 2 * per))
		SKIP(goto out, "the kernel gave only %ld pages in %lu KiB folios", large,
		     sz / 1024);

	for (a = self->t.sh->addr[0]; a < end;) {
		struct ptscope_run *vr = NULL;
		struct ptscope_vma v, c;
		long young_kb, dirty_kb, nv;

		if (ptscope_vma_at(self->fd, a, &v)) {
			a += PAGE;
			continue;
		}
		a = v.end;
		expect_matches_pagemap(_metadata, self->fd, self->t.pid, v.start, v.start, v.end);
		if (!young_dirty)
			continue;
		/*
		 * smaps first, then the walk and VMAS with counts (whose batches
		 * take any frame). Young: smaps counts the folio's referenced
		 * flags too, and reclaim's aging (MGLRU) may clear a young bit
		 * meanwhile, never set one: ptscope's count is at most smaps'.
		 */
		young_kb = smaps_field(self->t.pid, v.start, "Referenced");
		dirty_kb = smaps_field(self->t.pid, v.start, "Private_Dirty") +
			   smaps_field(self->t.pid, v.start, "Shared_Dirty");
		ASSERT_EQ(0, ptscope_vma_at(self->fd, v.start, &c));
		nv = ptscope_walk_all(self->fd, v.start, v.end, 0, &vr);
		ASSERT_LT(0, nv);
		EXPECT_GE(young_kb, pages_with(vr, nv, v.start, v.end, PTSCOPE_B_ACCESSED) *
				    (long)PAGE_KB) TH_LOG("VMA %#llx", (unsigned long long)v.start);
		EXPECT_EQ(dirty_kb, pages_with(vr, nv, v.start, v.end, PTSCOPE_B_DIRTY) *
				    (long)PAGE_KB) TH_LOG("VMA %#llx", (unsigned long long)v.start);
		EXPECT_GE(young_kb, (long)(c.counts[PTSCOPE_CNT_YOUNG] * PAGE_KB));
		EXPECT_EQ(dirty_kb, (long)(c.counts[PTSCOPE_CNT_DIRTY] * PAGE_KB));
		free(vr);
	}
	if (ptscope_arch_is(PTSCOPE_ARCH_ARM64)) {
		expect_cont_folded(_metadata, runs, n, self->t.sh->addr[0], end, &partial);
		ksft_print_msg("%ld blocks with some entries young or dirty, not all\n", partial);
	}
out:
	close(kfd);
	free(pm);
	free(runs);
}

/*
 * Anonymous mTHPs in the shapes of act_mthp_shapes(), after a clear_refs
 * and a few accesses, as expect_mthp_pages() says, young and dirty too.
 */
TEST_F(walk, mthp_folios_page_by_page)
{
	struct mthp_saved saved;
	char path[64];
	int ret, fd;

	if (mthp_only(mthp_size(), pmd_size(), "enabled", &saved))
		SKIP(return, "no per-size THP setting for %lu KiB (6.8+)", mthp_size() / 1024);
	ret = start_case(_metadata, self, act_mthp_shapes);
	EXPECT_EQ(0, mthp_restore(&saved));
	if (!ret) {
		snprintf(path, sizeof(path), "/proc/%d/clear_refs", self->t.pid);
		fd = open(path, O_WRONLY);
		ret = fd < 0 || write(fd, "1", 1) != 1 || target_do(&self->t, 1);
		if (fd >= 0)
			close(fd);
	}
	ASSERT_EQ(0, ret);
	expect_mthp_pages(_metadata, self, true);
	kill(self->t.sh->addr[1], SIGKILL);
}

/*
 * Large folios of the page cache mapped by PTEs: shared anonymous memory
 * (shmem) in mTHPs (hugepages-<size>kB/shmem_enabled, 6.11+), in the shapes
 * of act_mthp_shmem(), as expect_mthp_pages() says (smaps' young and dirty
 * count the folio's own flags for shmem: not compared).
 */
TEST_F(walk, mthp_shmem_folios_page_by_page)
{
	struct mthp_saved saved;
	int ret;

	if (mthp_only(mthp_size(), pmd_size(), "shmem_enabled", &saved))
		SKIP(return, "no per-size shmem THP setting for %lu KiB (6.11+)",
		     mthp_size() / 1024);
	ret = start_case(_metadata, self, act_mthp_shmem);
	EXPECT_EQ(0, mthp_restore(&saved));
	ASSERT_EQ(0, ret);
	expect_mthp_pages(_metadata, self, false);
	kill(self->t.sh->addr[1], SIGKILL);
}

/*
 * PTSCOPE_WALK_NO_PAGE: the entries of a full walk, page by page against
 * pagemap's present bit, without page, mapcount, folio order or frame, and
 * one run over pages whose mapcount goes 2, 1, 2 (three runs at least in a
 * full walk).
 */
TEST_F(walk, walk_no_page)
{
	struct ptscope_run *full = NULL, *bare = NULL;
	uint64_t a;
	long nfull, nbare, i;

	ASSERT_EQ(0, start_case(_metadata, self, act_fork_unmap_middle));
	a = self->t.sh->addr[0];
	nfull = ptscope_walk_all(self->fd, a, a + 64 * PAGE, 0, &full);
	nbare = ptscope_walk_all(self->fd, a, a + 64 * PAGE, PTSCOPE_WALK_NO_PAGE, &bare);
	ASSERT_LT(0, nfull);
	ASSERT_EQ(1, nbare);
	EXPECT_LE(3, nfull);
	for (i = 0; i < 64; i++)
		EXPECT_TRUE(pagemap_entry(self->t.pid, a + i * PAGE) & PM_PRESENT);
	EXPECT_EQ(a, bare[0].start);
	EXPECT_EQ(64, bare[0].count);
	EXPECT_EQ(PTSCOPE_KIND_PAGE, bare[0].kind);
	EXPECT_EQ(full[0].bits, bare[0].bits);
	EXPECT_EQ(0, bare[0].pfn);
	EXPECT_EQ(0, bare[0].entry & entry_addr_mask());
	EXPECT_EQ(0, bare[0].page);
	EXPECT_EQ(0, bare[0].mapcount);
	EXPECT_EQ(0, bare[0].folio_order);
	free(full);
	free(bare);
	kill(self->t.sh->arg, SIGKILL);
}

/*
 * PROT_NONE pages whose frames count down: every page's frame as pagemap
 * shows it (a run of frames counts up, whatever the descriptors do).
 */
TEST_F(walk, protnone_frames_down)
{
	uint64_t a, prev = 0, pfn;
	int i, down = 0;

	ASSERT_EQ(0, start_case(_metadata, self, act_protnone_down));
	a = self->t.sh->addr[0];
	for (i = 0; i < 64; i++, prev = pfn) {
		pfn = pagemap_entry(self->t.pid, a + i * PAGE) & PM_PFN_MASK;
		down += i && pfn + 1 == prev;
	}
	TH_LOG("%d of 63 neighbours in frames counting down", down);
	expect_matches_pagemap(_metadata, self->fd, self->t.pid, a, a, a + 64 * PAGE);
}

/* One MAP_SHARED page in two processes: the same frame. */
TEST_F(walk, shared_page_same_pfn)
{
	struct target other = { 0 };
	struct ptscope_vtop a, b;
	int ofd;

	shared_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shared_page);
	ASSERT_EQ(0, start_case(_metadata, self, act_share));
	ASSERT_EQ(0, target_start(&other, act_share));
	ofd = ptscope_open_target(other.pid, NULL);
	ASSERT_LE(0, ofd);
	ASSERT_EQ(0, ptscope_vtop(self->fd, (uintptr_t)shared_page, &a));
	ASSERT_EQ(0, ptscope_vtop(ofd, (uintptr_t)shared_page, &b));
	EXPECT_EQ(PTSCOPE_VTOP_MAPPED, a.result);
	EXPECT_EQ(a.phys, b.phys);
	EXPECT_TRUE(a.page & PTSCOPE_PAGE_SHMEM);
	EXPECT_EQ(pagemap_entry(other.pid, (uintptr_t)shared_page) & PM_PFN_MASK, b.phys / PAGE);
	close(ofd);
	target_stop(&other);
	munmap(shared_page, PAGE);
}

/* vtop: every level, each table where the level above points, ending in pagemap's frame. */
TEST_F(walk, vtop_path)
{
	struct ptscope_version ver = { .size = sizeof(ver) };
	struct ptscope_vtop vt;
	uint64_t a;
	unsigned int i;

	ASSERT_EQ(0, start_case(_metadata, self, act_anon));
	ASSERT_EQ(0, ioctl(self->fd, PTSCOPE_IOC_VERSION, &ver));
	a = self->t.sh->addr[2] + 5 * PAGE + 123;
	ASSERT_EQ(0, ptscope_vtop(self->fd, a, &vt));
	EXPECT_EQ(PTSCOPE_VTOP_MAPPED, vt.result);
	EXPECT_EQ(ver.pgtable_levels, vt.nlevels);
	EXPECT_EQ((pagemap_entry(self->t.pid, a) & PM_PFN_MASK) * PAGE + 123, vt.phys);
	for (i = 0; i < vt.nlevels; i++) {
		/* a table has PAGE / 8 entries (the top one maybe fewer) */
		EXPECT_EQ((a >> vt.levels[i].shift) & (PAGE / 8 - 1), vt.levels[i].index);
		if (i)
			EXPECT_EQ(vt.levels[i - 1].pfn * PAGE, vt.levels[i].table_pa);
	}
	EXPECT_EQ(PTSCOPE_LEVEL_PTE, vt.levels[vt.nlevels - 1].level);
	/* Untouched: the path ends at an empty entry. */
	ASSERT_EQ(0, ptscope_vtop(self->fd, self->t.sh->addr[0], &vt));
	EXPECT_EQ(PTSCOPE_VTOP_NOT_POPULATED, vt.result);
	EXPECT_EQ(PTSCOPE_KIND_NONE, vt.levels[vt.nlevels - 1].kind);
	/* No VMA: a segfault. */
	ASSERT_EQ(0, ptscope_vtop(self->fd, 4096, &vt));
	EXPECT_EQ(PTSCOPE_VTOP_NO_VMA, vt.result);
}

/*
 * A read fault of an aligned THP region maps the huge zero page with a PMD
 * leaf: the mapping does not own it. It is the zero page (kpageflags:
 * ZERO_PAGE, THP), mapped by no one (pagemap: not MMAP_EXCLUSIVE), neither
 * anonymous nor a THP of this process, and smaps counts no Rss for it.
 */
TEST_F(walk, huge_zero_page)
{
	struct ptscope_run *runs = NULL;
	struct ptscope_vtop vt;
	struct ptscope_vma v;
	uint64_t a, pm, kf;
	long n;

	ASSERT_EQ(0, start_case(_metadata, self, act_huge_zero));
	a = self->t.sh->addr[0];
	pm = pagemap_entry(self->t.pid, a);
	kf = kpageflags(pm & PM_PFN_MASK);
	if (!(pm & PM_PRESENT) || !(kf & (1ULL << KPF_ZERO_PAGE)) || !(kf & (1ULL << KPF_THP)))
		SKIP(return, "no huge zero page mapped (THP or use_zero_page off): pagemap %#llx",
		     (unsigned long long)pm);
	EXPECT_FALSE(pm & PM_MMAP_EXCLUSIVE);

	n = ptscope_walk_all(self->fd, a, a + PMD, 0, &runs);
	ASSERT_EQ(1, n);
	EXPECT_EQ(PTSCOPE_KIND_PAGE, runs[0].kind);
	EXPECT_EQ(PTSCOPE_LEVEL_PMD, runs[0].level);
	EXPECT_EQ(pm & PM_PFN_MASK, runs[0].pfn);
	EXPECT_EQ(PTSCOPE_PAGE_ZERO, runs[0].page) TH_LOG("page flags %#x", runs[0].page);
	EXPECT_EQ(0, runs[0].mapcount);
	EXPECT_EQ(__builtin_ctzl(PMD_PAGES), runs[0].folio_order);	/* 9 with 4 KiB pages */
	free(runs);

	ASSERT_EQ(0, ptscope_vtop(self->fd, a + 4321, &vt));
	EXPECT_EQ(PTSCOPE_VTOP_MAPPED, vt.result);
	EXPECT_EQ(PTSCOPE_PAGE_ZERO, vt.page);
	EXPECT_EQ((pm & PM_PFN_MASK) * PAGE + 4321, vt.phys);

	ASSERT_EQ(0, ptscope_vma_at(self->fd, a, &v));
	EXPECT_EQ(PMD_PAGES, v.counts[PTSCOPE_CNT_ZERO]);
	EXPECT_EQ(0, v.counts[PTSCOPE_CNT_EXCLUSIVE]);
	expect_counts_match_smaps(_metadata, self->fd, self->t.pid, a);
}

/* The maps line of @pid naming @name: its range; 0 when there is none. */
static int maps_find(pid_t pid, const char *name, uint64_t *start, uint64_t *end)
{
	char path[64], line[512];
	unsigned long s, e;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (strstr(line, name) && sscanf(line, "%lx-%lx", &s, &e) == 2) {
			*start = s;
			*end = e;
			found = 1;
		}
	fclose(f);
	return found;
}

/*
 * The vDSO's raw PFN mapping (VM_PFNMAP): [vvar] up to 6.12; 7.x maps the
 * vDSO data as normal pages in [vvar] (VM_MIXEDMAP) and keeps the raw PFNs
 * (pvclock, Hyper-V clock) in [vvar_vclock]. Its pages belong to the
 * kernel, not to the mapping. The walk shows its entries, special, with no
 * page behind them (neither anonymous nor file, no mapcount), counted as
 * special and not resident; the core does not look into such a VMA at all
 * (walk_page_test()): pagemap shows no page there and smaps no Rss.
 */
TEST_F(walk, vvar_not_normal_pages)
{
	struct ptscope_run *runs = NULL;
	uint64_t start, end, a, present = 0;
	const char *name = "[vvar_vclock]";
	struct ptscope_vma v;
	long n, i;

	ASSERT_EQ(0, start_case(_metadata, self, act_vvar));
	if (!maps_find(self->t.pid, name, &start, &end)) {
		name = "[vvar]";
		if (!maps_find(self->t.pid, name, &start, &end))
			SKIP(return, "no [vvar] mapping");
	}
	/* The kernel's word: without [vvar_vclock], 7.x's [vvar] has normal pages. */
	if (!strcmp(name, "[vvar]") && (pagemap_entry(self->t.pid, start) & PM_PRESENT))
		SKIP(return, "[vvar] holds normal pages (pagemap shows them) and there is no "
		     "[vvar_vclock] on this kernel: no raw PFN mapping to look at");
	n = ptscope_walk_all(self->fd, start, end, 0, &runs);
	ASSERT_LE(0, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(PTSCOPE_KIND_PAGE, runs[i].kind);
		EXPECT_TRUE(runs[i].bits & PTSCOPE_B_SPECIAL);
		EXPECT_EQ(0, runs[i].page) TH_LOG("run at %#llx: page flags %#x",
						  (unsigned long long)runs[i].start, runs[i].page);
		EXPECT_EQ(0, runs[i].mapcount);
		present += runs[i].count;
	}
	free(runs);
	if (!present)
		SKIP(return, "the vDSO mapped no page in %s (no paravirtual clock)", name);
	for (a = start; a < end; a += PAGE)
		EXPECT_FALSE(pagemap_entry(self->t.pid, a) & PM_PRESENT);
	EXPECT_EQ(0, smaps_field(self->t.pid, start, "Rss"));
	ASSERT_EQ(0, ptscope_vma_at(self->fd, start, &v));
	EXPECT_EQ(present, v.counts[PTSCOPE_CNT_SPECIAL]);
	EXPECT_EQ(0, v.counts[PTSCOPE_CNT_RSS_PTE] + v.counts[PTSCOPE_CNT_ANON] +
		     v.counts[PTSCOPE_CNT_FILE] + v.counts[PTSCOPE_CNT_EXCLUSIVE]);
}

/* ---- how long one call holds the target's mmap_lock (tracefs) ---------------- */

#define TRACEFS		"/sys/kernel/tracing"
#define TRACE_INSTANCE	TRACEFS "/instances/ptscope_walk_test"

static int trace_write(const char *file, const char *text)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", TRACE_INSTANCE, file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ret = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return ret;
}

/*
 * A kprobe event on lock_vma_under_rcu() (@on), or none (!@on): where the
 * module locks a VMA without mmap_lock (7.x), each hold of the VMA's lock
 * starts there. False where kprobe events are missing.
 */
#define VMA_LOCK_EVENT	"ptscope_walk_test/lock_vma"

static bool vma_lock_probe(bool on)
{
	const char *def = on ? "p:" VMA_LOCK_EVENT " lock_vma_under_rcu\n" :
			       "-:" VMA_LOCK_EVENT "\n";
	int fd = open(TRACEFS "/kprobe_events", O_WRONLY | O_APPEND);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, def, strlen(def)) == (ssize_t)strlen(def);
	close(fd);
	return ok;
}

static bool vma_lock_probed;

/*
 * An instance of its own, recording this process's mmap_lock acquisitions
 * and releases, and its VMA locks taken without mmap_lock where a kprobe
 * can count them (vma_lock_probed), while tracing_on is 1; 0, or -1 where
 * tracefs or the mmap_lock events are missing.
 */
static int trace_setup(void)
{
	char filter[64];

	if (access(TRACEFS "/events", F_OK))
		mount("nodev", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/events/mmap_lock/mmap_lock_acquire_returned", F_OK))
		return -1;
	rmdir(TRACE_INSTANCE);
	if (mkdir(TRACE_INSTANCE, 0700))
		return -1;
	snprintf(filter, sizeof(filter), "common_pid == %d", getpid());
	if (trace_write("tracing_on", "0") ||
	    trace_write("events/mmap_lock/mmap_lock_acquire_returned/filter", filter) ||
	    trace_write("events/mmap_lock/mmap_lock_released/filter", filter) ||
	    trace_write("events/mmap_lock/mmap_lock_acquire_returned/enable", "1") ||
	    trace_write("events/mmap_lock/mmap_lock_released/enable", "1"))
		return -1;
	vma_lock_probe(false);
	vma_lock_probed = vma_lock_probe(true) &&
			  !trace_write("events/" VMA_LOCK_EVENT "/filter", filter) &&
			  !trace_write("events/" VMA_LOCK_EVENT "/enable", "1");
	return 0;
}

static void trace_teardown(void)
{
	trace_write("events/mmap_lock/enable", "0");
	if (vma_lock_probed)
		trace_write("events/" VMA_LOCK_EVENT "/enable", "0");
	rmdir(TRACE_INSTANCE);
	vma_lock_probe(false);
}

struct lock_holds {
	long acquired;		/* successful read acquisitions of the mm */
	long released;
	double max_hold;	/* seconds, from acquisition to release */
	long vma_locks;		/* lock_vma_under_rcu() calls */
};

/*
 * trace_holds - what the trace recorded of the mm whose "mm=" text is @mm,
 * or, when @mm is empty, of the first mm read-locked (written back to @mm).
 * A line: "  task-PID  [CPU] flags  SECONDS: mmap_lock_EVENT: mm=... write=... ..."
 */
static struct lock_holds trace_holds(char *mm, size_t len)
{
	struct lock_holds h = { 0 };
	char line[512], *ev, *m, *rest, *sp;
	double t, since = -1;
	FILE *f = fopen(TRACE_INSTANCE "/trace", "r");

	if (!f)
		return h;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, ": lock_vma: (")) {
			h.vma_locks++;
			continue;
		}
		ev = strstr(line, ": mmap_lock_");
		m = strstr(line, " mm=");
		if (line[0] == '#' || !ev || !m)
			continue;
		m += 4;
		rest = m + strcspn(m, " \n");
		*rest++ = '\0';
		if (!*mm && strstr(rest, "write=false"))
			snprintf(mm, len, "%s", m);
		if (strcmp(m, mm))
			continue;
		*ev = '\0';
		sp = strrchr(line, ' ');
		t = strtod(sp ? sp + 1 : line, NULL);
		ev += 2;
		if (!strncmp(ev, "mmap_lock_acquire_returned", 26)) {
			if (!strstr(rest, "success=true"))
				continue;
			h.acquired++;
			since = t;
		} else if (!strncmp(ev, "mmap_lock_released", 18)) {
			h.released++;
			if (since >= 0 && t - since > h.max_hold)
				h.max_hold = t - since;
			since = -1;
		}
	}
	fclose(f);
	return h;
}

/*
 * One call over 1 GiB of written 4 KiB pages (512 PTE tables) lets the
 * target's locks go many times, as pagemap_read() does per chunk, and
 * not hold one across the whole VMA: the module's bound is 8 PTE tables'
 * worth of entries per hold (PTSCOPE_WALK_BUDGET: PAGE entries), so 64
 * holds or more for the VMA; at least half of them, 32, are expected (with
 * 16 KiB pages 4 holds, 2 expected). A WALK over the same GiB, batch after
 * batch, takes the lock at least that many times more than it makes calls.
 * A hold is of mmap_lock, or of the VMA's own lock: with per-VMA locks the
 * VMA is locked under mmap_lock (6.12) or, on 7.x, without it, through
 * lock_vma_under_rcu(), whose calls a kprobe event counts.
 * Structural, never timed: the longest hold is logged, not checked. The
 * results still equal pagemap and smaps.
 */
TEST_F_TIMEOUT(walk, mmap_lock_let_go_per_part, 300)
{
	struct ptscope_vmas q = { .size = sizeof(q), .flags = PTSCOPE_VMAS_COUNTS };
	struct ptscope_run *runs = NULL;
	struct lock_holds vmas, walk;
	char mm[64] = "";
	struct ptscope_vma v;
	uint64_t a, start;
	long calls = 0, n;
	int on;

	if (meminfo_value("MemAvailable") < 1280 * 1024)
		SKIP(return, "needs 1.25 GiB available for 1 GiB of anonymous memory");
	if (trace_setup())
		SKIP(return, "no tracefs or no mmap_lock trace events");
	ASSERT_EQ(0, start_case(_metadata, self, act_gib_written));
	a = self->t.sh->addr[0];
	runs = calloc(WALK_BATCH, sizeof(*runs));
	ASSERT_NE(NULL, runs);
	/* no fault of ours during the calls: each would lock a VMA of ours */
	memset(runs, 0, WALK_BATCH * sizeof(*runs));
	memset(&v, 0, sizeof(v));
	on = open(TRACE_INSTANCE "/tracing_on", O_WRONLY);
	ASSERT_LE(0, on);

	/* VMAS with counts: one call, one record, the whole GiB. */
	q.start = a;
	q.end = a + PAGE;
	q.vmas = (uintptr_t)&v;
	q.vma_size = sizeof(v);
	q.count = 1;
	ASSERT_EQ(0, trace_write("trace", ""));
	ASSERT_EQ(1, write(on, "1", 1));
	ASSERT_EQ(0, ioctl(self->fd, PTSCOPE_IOC_VMAS, &q));
	ASSERT_EQ(1, write(on, "0", 1));
	ASSERT_EQ(1, q.count);
	vmas = trace_holds(mm, sizeof(mm));
	TH_LOG("VMAS with counts over 1 GiB: mmap_lock taken %ld times, released %ld, longest hold %.3f ms; VMA locked without it %ld times",
	       vmas.acquired, vmas.released, vmas.max_hold * 1e3, vmas.vma_locks);
	if (!vmas.acquired && !vma_lock_probed) {
		trace_teardown();
		free(runs);
		SKIP(return, "no mmap_lock taken, and no kprobe events to count the VMA's locks");
	}
	EXPECT_LE((long)(GB / PAGE / PAGE / 2), vmas.acquired + vmas.vma_locks);
	EXPECT_EQ(vmas.acquired, vmas.released);
	EXPECT_EQ(GB / PAGE, v.counts[PTSCOPE_CNT_RSS_PTE]);

	/* WALK, batch after batch. */
	ASSERT_EQ(0, trace_write("trace", ""));
	ASSERT_EQ(1, write(on, "1", 1));
	for (start = a; start < a + GB; calls++) {
		struct ptscope_walk w = {
			.size = sizeof(w), .start = start, .end = a + GB,
			.run_size = sizeof(*runs), .count = WALK_BATCH, .runs = (uintptr_t)runs,
		};

		ASSERT_EQ(0, ioctl(self->fd, PTSCOPE_IOC_WALK, &w));
		ASSERT_LT(start, w.next);
		start = w.next;
	}
	ASSERT_EQ(1, write(on, "0", 1));
	walk = trace_holds(mm, sizeof(mm));
	TH_LOG("WALK over 1 GiB: %ld calls, mmap_lock taken %ld times, released %ld, longest hold %.3f ms; VMA locked without it %ld times",
	       calls, walk.acquired, walk.released, walk.max_hold * 1e3, walk.vma_locks);
	/* With 16 KiB pages a batch of runs fills before a hold's budget runs out. */
	if ((long)(GB / PAGE / PAGE / 2) >= calls)
		EXPECT_LE(calls + (long)(GB / PAGE / PAGE / 2), walk.acquired + walk.vma_locks);
	EXPECT_LE(calls, walk.acquired + walk.vma_locks);
	EXPECT_EQ(walk.acquired, walk.released);
	close(on);
	trace_teardown();
	free(runs);

	/* And the results are the kernel's. */
	n = count_leaves(self->fd, a, a + GB, PTSCOPE_LEVEL_PTE);
	EXPECT_EQ((long)(GB / PAGE), n);
	expect_vma_matches(_metadata, self->fd, self->t.pid, a);
}

/* A walk of the whole address space visits only what exists. */
TEST_F(walk, whole_address_space)
{
	struct ptscope_target t = { 0 };
	struct ptscope_run *runs = NULL;
	long n;

	ASSERT_EQ(0, start_case(_metadata, self, act_article));
	close(self->fd);
	self->fd = ptscope_open_target(self->t.pid, &t);
	ASSERT_LE(0, self->fd);
	n = ptscope_walk_all(self->fd, 0, t.task_size, PTSCOPE_WALK_TABLES, &runs);
	ASSERT_LT(0, n);
	/* Every leaf of the article's VMA is there: 64 pages. */
	EXPECT_EQ(64, count_leaves(self->fd, self->t.sh->addr[0],
				   self->t.sh->addr[0] + GB, PTSCOPE_LEVEL_PTE));
	/*
	 * The page tables found, each counted once, cost what the kernel
	 * accounts in VmPTE: PTE, PMD and PUD tables (not the PGD, nor P4D
	 * tables).
	 */
	EXPECT_EQ(status_kb(self->t.pid, "VmPTE"),
		  (long)(distinct_tables(runs, n, t.pgtable_levels) * PAGE_KB));
	free(runs);
}

static FILE *debugfs_open(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", PTSCOPE_DEBUGFS, name);
	return fopen(path, "r");
}

/* The debugfs text views say what the kernel says: maps, pagemap. */
TEST_F(walk, debugfs_views)
{
	unsigned long long s, e, phys, a, n, sum = 0;
	char line[4096], pid[16], perms[8], want[4096];
	FILE *views, *maps;
	uint64_t c;

	ASSERT_EQ(0, start_case(_metadata, self, act_anon));
	c = self->t.sh->addr[2];
	snprintf(pid, sizeof(pid), "%d", self->t.pid);
	ASSERT_EQ(0, debugfs_write("target", pid));

	/* vmas: one line per line of maps, same range and permissions. */
	snprintf(line, sizeof(line), "/proc/%d/maps", self->t.pid);
	maps = fopen(line, "r");
	views = debugfs_open("vmas");
	ASSERT_NE(NULL, maps);
	ASSERT_NE(NULL, views);
	ASSERT_NE(NULL, fgets(line, sizeof(line), views));	/* the heading */
	while (fgets(want, sizeof(want), maps)) {
		unsigned long ms, me;
		char mperms[8];

		if (strstr(want, "[vsyscall]"))
			continue;
		ASSERT_EQ(3, sscanf(want, "%lx-%lx %7s", &ms, &me, mperms));
		ASSERT_NE(NULL, fgets(line, sizeof(line), views));
		ASSERT_EQ(3, sscanf(line, "%llx-%llx %7s", &s, &e, perms));
		EXPECT_EQ(ms, s);
		EXPECT_EQ(me, e);
		EXPECT_STREQ(mperms, perms);
	}
	EXPECT_EQ(NULL, fgets(line, sizeof(line), views));
	fclose(maps);
	fclose(views);

	/* pagetable: the 16 written pages of the third mapping, at PTE level. */
	views = debugfs_open("pagetable");
	ASSERT_NE(NULL, views);
	while (fgets(line, sizeof(line), views))
		/* A run may go on past the range (the next pages are adjacent). */
		if (sscanf(line, " PTE %llx x%llu page", &a, &n) == 2 && a >= c && a < c + 16 * PAGE)
			sum += n < (c + 16 * PAGE - a) / PAGE ? n : (c + 16 * PAGE - a) / PAGE;
	fclose(views);
	EXPECT_EQ(16, sum);

	/* vtop: the physical address pagemap gives. */
	snprintf(line, sizeof(line), "%#llx", (unsigned long long)c + 5 * PAGE + 7);
	ASSERT_EQ(0, debugfs_write("vtop", line));
	views = debugfs_open("vtop");
	ASSERT_NE(NULL, views);
	ASSERT_NE(NULL, fgets(line, sizeof(line), views));
	fclose(views);
	ASSERT_EQ(2, sscanf(line, "%llx: mapped at physical %llx", &a, &phys)) TH_LOG("%s", line);
	EXPECT_EQ((pagemap_entry(self->t.pid, c + 5 * PAGE) & PM_PFN_MASK) * PAGE + 7, phys);

	/* Bad pids change nothing. */
	EXPECT_EQ(ESRCH, debugfs_write("target", "0"));
	EXPECT_EQ(EINVAL, debugfs_write("target", "2"));
	EXPECT_EQ(EINVAL, debugfs_write("target", "pid"));
	views = debugfs_open("target");
	ASSERT_NE(NULL, views);
	ASSERT_NE(NULL, fgets(line, sizeof(line), views));
	fclose(views);
	EXPECT_EQ(self->t.pid, atoi(line));
}

/* A target killed while it is being walked: whole results, then -ESRCH. */
TEST_F(walk, target_exits_during_walks)
{
	struct ptscope_target t = { 0 };
	struct ptscope_run *runs = NULL;
	pid_t killer, victim;
	long n = 0;
	int walks = 0;

	ASSERT_EQ(0, start_case(_metadata, self, act_article));
	close(self->fd);
	self->fd = ptscope_open_target(self->t.pid, &t);
	ASSERT_LE(0, self->fd);
	victim = self->t.pid;
	killer = fork();
	if (killer == 0) {
		usleep(100 * 1000);
		kill(victim, SIGKILL);
		_exit(0);
	}
	ASSERT_LT(0, killer);
	while (walks < 100000) {
		n = ptscope_walk_all(self->fd, 0, t.task_size, PTSCOPE_WALK_TABLES, &runs);
		if (n < 0)
			break;
		free(runs);
		runs = NULL;
		walks++;
	}
	waitpid(killer, NULL, 0);
	EXPECT_EQ(-ESRCH, n) TH_LOG("after %d whole walks: %s", walks, strerror(-n));
	EXPECT_LT(0, walks);
}

/*
 * A target that execs while another process still runs its old mm (a
 * CLONE_VM sibling keeps that mm's users above zero): the queries after the
 * exec read the new program's address space, never the old one that an
 * answer remembered for the same file, caller and pid was taken from.
 */
#define EXEC_OLD_ADDR	(1ULL << 44)	/* 16 TiB: below every task size, far from mmap's base */

/* Dies with the child (its parent), whatever becomes of the test. */
static int exec_sibling(void *arg)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;)
		pause();
	return 0;
}

static void exec_child(int to_child, int from_child)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	char *p = mmap((void *)EXEC_OLD_ADDR, 16 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	pid_t sibling;
	char c;

	/* Dies with the test, which kills it at the end. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (p != (char *)EXEC_OLD_ADDR)
		_exit(1);
	memset(p, 1, 16 * PAGE);
	sibling = clone(exec_sibling, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
	if (sibling < 0 || write(from_child, &sibling, sizeof(sibling)) != sizeof(sibling))
		_exit(2);
	if (read(to_child, &c, 1) != 1)
		_exit(3);
	execl("/bin/sleep", "sleep", "60", (char *)NULL);
	_exit(4);
}

TEST(target_exec_reads_new_mm)
{
	int to_child[2], from_child[2], fd, i, tries;
	uint64_t (*ranges)[2] = calloc(512, sizeof(*ranges));
	pid_t child, sibling = 0;
	struct ptscope_vtop v;
	char path[64], comm[32] = "";
	long n;

	fd = open(PTSCOPE_DEV, O_RDWR);
	if (fd < 0 && errno == ENOENT)
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_NE(NULL, ranges);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(from_child));
	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		exec_child(to_child[0], from_child[1]);
	ASSERT_EQ(sizeof(sibling), read(from_child[0], &sibling, sizeof(sibling)));
	fd = ptscope_open_target(child, NULL);
	ASSERT_LE(0, fd);
	/* Twice: the second query takes the mm remembered by the first. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ptscope_vtop(fd, EXEC_OLD_ADDR, &v));
		EXPECT_EQ(PTSCOPE_VTOP_MAPPED, v.result);
		EXPECT_EQ(pagemap_entry(child, EXEC_OLD_ADDR) & PM_PFN_MASK, v.phys / PAGE);
	}

	/* The exec is over once the new program sleeps under its own name. */
	ASSERT_EQ(1, write(to_child[1], "x", 1));
	snprintf(path, sizeof(path), "/proc/%d/comm", child);
	for (tries = 0; tries < 500 && strncmp(comm, "sleep", 5); tries++) {
		FILE *f = fopen(path, "r");

		if (!f || !fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		if (f)
			fclose(f);
		usleep(10 * 1000);
	}
	ASSERT_EQ(0, strncmp(comm, "sleep", 5)) TH_LOG("the child did not exec sleep in 5 s");

	/* The old program's mapping is gone: the new mm, as pagemap says. */
	ASSERT_EQ(0, ptscope_vtop(fd, EXEC_OLD_ADDR, &v));
	EXPECT_EQ(PTSCOPE_VTOP_NO_VMA, v.result);
	EXPECT_EQ(0, pagemap_entry(child, EXEC_OLD_ADDR) & PM_PRESENT);
	/*
	 * Every VMA of the new program is found where maps says it is, in a
	 * reading that maps gave the same before and after it: the dynamic
	 * loader may still be changing the layout (mprotect of RELRO).
	 */
	for (tries = 0; tries < 100; tries++) {
		long bad = 0, again;

		n = maps_ranges(child, ranges, 256);
		ASSERT_LT(0, n);
		for (i = 0; i < n; i++) {
			ASSERT_EQ(0, ptscope_vtop(fd, ranges[i][0], &v));
			bad += v.result == PTSCOPE_VTOP_NO_VMA || v.vma_start != ranges[i][0] ||
			       v.vma_end != ranges[i][1];
		}
		again = maps_ranges(child, ranges + 256, 256);
		if (again == n && !memcmp(ranges, ranges + 256, n * sizeof(*ranges))) {
			EXPECT_EQ(0, bad) TH_LOG("%ld of %ld VMAs differ from maps", bad, n);
			break;
		}
		usleep(10 * 1000);
	}
	EXPECT_GT(100, tries) TH_LOG("the new program's maps never stood still");

	close(fd);
	kill(sibling, SIGKILL);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	free(ranges);
}

/* ---- bad input ----------------------------------------------------------- */

TEST(bad_targets)
{
	int fd = open(PTSCOPE_DEV, O_RDWR);
	struct ptscope_target t = { .size = sizeof(t) };
	struct ptscope_walk w = { .size = sizeof(w) };
	pid_t gone;

	if (fd < 0 && errno == ENOENT)
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	ASSERT_LE(0, fd);
	/* No target selected yet. */
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_WALK, &w));
	EXPECT_EQ(EINVAL, errno);
	t.pid = 0;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_TARGET, &t));
	EXPECT_EQ(ESRCH, errno);
	t.pid = -1;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_TARGET, &t));
	EXPECT_EQ(ESRCH, errno);
	gone = fork();
	if (!gone)
		_exit(0);
	waitpid(gone, NULL, 0);
	t.pid = gone;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_TARGET, &t));
	EXPECT_EQ(ESRCH, errno);
	t.pid = 2;			/* kthreadd: no user address space */
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_TARGET, &t));
	EXPECT_EQ(EINVAL, errno);
	t.pid = getpid();
	t.flags = 1;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_TARGET, &t));
	EXPECT_EQ(EINVAL, errno);
	t.flags = 0;
	t.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_TARGET, &t));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(bad_ranges_and_buffers)
{
	struct ptscope_target t = { 0 };
	struct ptscope_run runs[16];
	struct ptscope_vtop vt;
	struct ptscope_walk w;
	struct ptscope_vma v;
	struct ptscope_vmas q;
	char *buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *many = mmap(NULL, 256 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd, i;

	if (access(PTSCOPE_DEV, F_OK))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	fd = ptscope_open_target(getpid(), &t);
	ASSERT_LE(0, fd);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_NE(MAP_FAILED, many);
#define WALK(s, e, ptr, cnt) (memset(&w, 0, sizeof(w)), w.size = sizeof(w), w.start = (s), \
	w.end = (e), w.runs = (uintptr_t)(ptr), w.run_size = sizeof(runs[0]), w.count = (cnt), \
	ioctl(fd, PTSCOPE_IOC_WALK, &w))
	EXPECT_EQ(0, WALK(0, PAGE, runs, 16));
	EXPECT_EQ(-1, WALK(2 * PAGE, PAGE, runs, 16));		/* start > end */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, WALK(PAGE, PAGE, runs, 16));		/* empty */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, WALK(1, PAGE, runs, 16));			/* unaligned */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, WALK(0, t.task_size + PAGE, runs, 16));	/* past the top */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, WALK(0, -PAGE, runs, 16));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, WALK(0, PAGE, runs, 16));
	w.count = 16;
	w.flags = PTSCOPE_WALK_NO_PAGE;
	EXPECT_EQ(0, ioctl(fd, PTSCOPE_IOC_WALK, &w));
	w.count = 16;
	w.flags = 1U << 2;					/* unknown flag */
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_WALK, &w));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, WALK(0, PAGE, runs, 4));			/* below the minimum batch */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, WALK(0, PAGE, NULL, 16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, WALK(0, PAGE, (void *)-PAGE, 16));	/* kernel address */
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, WALK(0, PAGE, t.task_size - PAGE, UINT32_MAX));	/* past the top */
	EXPECT_EQ(EFAULT, errno);
	/* A buffer that ends in an unmapped page, with more runs than fit. */
	for (i = 0; i < 256; i += 2)
		many[i * PAGE] = 1;
	ASSERT_EQ(0, munmap(buf + PAGE, PAGE));
	EXPECT_EQ(-1, WALK((uintptr_t)many, (uintptr_t)many + 256 * PAGE,
			   buf + PAGE - 8 * sizeof(runs[0]), 64));
	EXPECT_EQ(EFAULT, errno);
	w.run_size = 8;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_WALK, &w));
	EXPECT_EQ(EINVAL, errno);
#undef WALK
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.vma_size = sizeof(v);
	q.count = 1;
	q.vmas = (uintptr_t)&v;
	q.flags = 0x80;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VMAS, &q));
	EXPECT_EQ(EINVAL, errno);
	q.flags = 0;
	q.start = 3;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VMAS, &q));
	EXPECT_EQ(EINVAL, errno);
	q.start = 0;
	q.count = 0;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VMAS, &q));
	EXPECT_EQ(EINVAL, errno);
	q.count = 1;
	q.vmas = 0;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VMAS, &q));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-EINVAL, ptscope_vtop(fd, t.task_size, &vt));
	EXPECT_EQ(-EINVAL, ptscope_vtop(fd, -1ULL, &vt));
	vt.addr = 0;
	vt.flags = 1;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VTOP, &vt));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VTOP, NULL));
	EXPECT_EQ(EFAULT, errno);
	close(fd);
	munmap(buf, PAGE);
	munmap(many, 256 * PAGE);
}

/* @v with the in fields of a translation of @addr, every other byte @byte */
static void vtop_in(struct ptscope_vtop *v, int byte, uint64_t addr)
{
	memset(v, byte, sizeof(*v));
	v->size = sizeof(*v);
	v->flags = 0;
	v->addr = addr;
	memset(v->reserved, 0, sizeof(v->reserved));
}

/*
 * VTOP reads its in fields (size, flags, addr, reserved) alone, not the
 * whole struct: the same rules as every size-first argument, field by
 * field, and out fields that come back zero whatever was passed in.
 */
TEST(vtop_arguments)
{
	struct {
		struct ptscope_vtop v;
		__u64 tail[2];
	} big;
	struct ptscope_vtop want, *edge;
	char *p = map_anon(PAGE, PROT_READ | PROT_WRITE);
	char *two = map_anon(2 * PAGE, PROT_READ | PROT_WRITE);
	char *gone = map_anon(PAGE, PROT_NONE);
	unsigned int i;
	int fd;

	if (access(PTSCOPE_DEV, F_OK))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	fd = ptscope_open_target(getpid(), NULL);
	ASSERT_LE(0, fd);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(MAP_FAILED, two);
	ASSERT_NE(MAP_FAILED, gone);
	ASSERT_EQ(0, munmap(gone, PAGE));
	p[0] = 1;

	/* Garbage in every out field: a translation without a VMA fills none. */
	memset(&big, 0xa5, sizeof(big));
	vtop_in(&big.v, 0xa5, (uintptr_t)gone);
	ASSERT_EQ(0, ioctl(fd, PTSCOPE_IOC_VTOP, &big.v));
	vtop_in(&want, 0, (uintptr_t)gone);
	want.result = PTSCOPE_VTOP_NO_VMA;
	EXPECT_EQ(0, memcmp(&want, &big.v, sizeof(want))) TH_LOG("out fields kept the caller's bytes");
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, big.tail[0]) TH_LOG("the module wrote past its struct");

	/*
	 * A mapped page: the same answer whatever the out fields held, so
	 * the module wrote every one of them, and the levels past the path
	 * (with 4 levels, or fewer) came back zero.
	 */
	vtop_in(&want, 0, (uintptr_t)p);
	ASSERT_EQ(0, ioctl(fd, PTSCOPE_IOC_VTOP, &want));
	ASSERT_EQ(PTSCOPE_VTOP_MAPPED, want.result);
	vtop_in(&big.v, 0xa5, (uintptr_t)p);
	ASSERT_EQ(0, ioctl(fd, PTSCOPE_IOC_VTOP, &big.v));
	EXPECT_EQ(0, memcmp(&want, &big.v, sizeof(want))) TH_LOG("out fields kept the caller's bytes");
	for (i = want.nlevels; i < sizeof(want.levels) / sizeof(want.levels[0]); i++)
		EXPECT_EQ(0, big.v.levels[i].entry | big.v.levels[i].table_pa |
			     big.v.levels[i].level | big.v.levels[i].shift) TH_LOG("level %u", i);
	/* Right after it, no VMA: nothing left of the mapped page's answer. */
	big.v.addr = (uintptr_t)gone;
	ASSERT_EQ(0, ioctl(fd, PTSCOPE_IOC_VTOP, &big.v));
	vtop_in(&want, 0, (uintptr_t)gone);
	want.result = PTSCOPE_VTOP_NO_VMA;
	EXPECT_EQ(0, memcmp(&want, &big.v, sizeof(want))) TH_LOG("out fields of the last answer");
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, big.tail[0]) TH_LOG("the module wrote past its struct");

	/* A longer struct: a zero tail is accepted and left alone, another is -E2BIG. */
	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	big.v.addr = (uintptr_t)p;
	ASSERT_EQ(0, ioctl(fd, PTSCOPE_IOC_VTOP, &big.v));
	EXPECT_EQ(PTSCOPE_VTOP_MAPPED, big.v.result);
	EXPECT_EQ(sizeof(big.v), big.v.size);
	EXPECT_EQ(0, big.tail[0]);
	EXPECT_EQ(0, big.tail[1]);
	big.v.size = sizeof(big);
	big.tail[1] = 1;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VTOP, &big.v));
	EXPECT_EQ(E2BIG, errno);
	big.tail[1] = 0;
	big.v.size = PAGE + 8;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VTOP, &big.v));
	EXPECT_EQ(E2BIG, errno);
	big.v.size = sizeof(big.v) - 8;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VTOP, &big.v));
	EXPECT_EQ(EINVAL, errno);

	/* Every reserved word, and the flags, must be zero. */
	big.v.size = sizeof(big.v);
	for (i = 0; i < sizeof(big.v.reserved) / sizeof(big.v.reserved[0]); i++) {
		big.v.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VTOP, &big.v)) TH_LOG("reserved[%u]", i);
		EXPECT_EQ(EINVAL, errno);
		big.v.reserved[i] = 0;
	}
	big.v.flags = 1U << 31;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VTOP, &big.v));
	EXPECT_EQ(EINVAL, errno);
	big.v.flags = 0;

	/*
	 * Only the first words readable (the struct runs into an unmapped
	 * page): a short size is -EINVAL, a whole one -EFAULT.
	 */
	ASSERT_EQ(0, munmap(two + PAGE, PAGE));
	edge = (struct ptscope_vtop *)(two + PAGE - 16);
	memset(edge, 0, 16);
	edge->size = 8;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VTOP, edge));
	EXPECT_EQ(EINVAL, errno);
	edge->size = sizeof(*edge);
	edge->addr = (uintptr_t)p;
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VTOP, edge));
	EXPECT_EQ(EFAULT, errno);

	/* A read-only struct: -EFAULT. */
	memset(two, 0, PAGE);
	edge = (struct ptscope_vtop *)two;
	edge->size = sizeof(*edge);
	edge->addr = (uintptr_t)p;
	ASSERT_EQ(0, mprotect(two, PAGE, PROT_READ));
	EXPECT_EQ(-1, ioctl(fd, PTSCOPE_IOC_VTOP, edge));
	EXPECT_EQ(EFAULT, errno);
	close(fd);
	munmap(p, PAGE);
	munmap(two, PAGE);
}

/* Another process needs privilege; without CAP_SYS_ADMIN PFNs read as 0. */
TEST(unprivileged_reader)
{
	int fd = open(PTSCOPE_DEV, O_RDWR), status;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to drop to an unprivileged uid");
	if (fd < 0 && errno == ENOENT)
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	ASSERT_LE(0, fd);
	pid = fork();
	if (pid == 0) {
		struct ptscope_target t = { .size = sizeof(t), .pid = getppid() };
		struct ptscope_vtop vt = { .size = sizeof(vt) };
		char *p = map_anon(PAGE, PROT_READ | PROT_WRITE);

		p[0] = 1;
		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (ioctl(fd, PTSCOPE_IOC_TARGET, &t) != -1 || errno != EPERM)
			_exit(11);
		t.pid = getpid();
		if (ioctl(fd, PTSCOPE_IOC_TARGET, &t))
			_exit(12);
		vt.addr = (uintptr_t)p;
		if (ioctl(fd, PTSCOPE_IOC_VTOP, &vt) || vt.result != PTSCOPE_VTOP_MAPPED)
			_exit(13);
		if (vt.phys || vt.levels[0].table_pa || vt.levels[vt.nlevels - 1].pfn)
			_exit(14);		/* a PFN leaked */
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(fd);
}

/* A target that exits: -ESRCH at the next query, nothing else. */
TEST_F(walk, target_exits)
{
	struct ptscope_vtop vt;

	ASSERT_EQ(0, start_case(_metadata, self, act_article));
	kill(self->t.pid, SIGKILL);
	waitpid(self->t.pid, NULL, 0);
	self->t.pid = 0;
	EXPECT_EQ(-ESRCH, ptscope_vtop(self->fd, self->t.sh->addr[0], &vt));
	close(self->t.to_child);
	close(self->t.from_child);
	munmap(self->t.sh, PAGE);
}

TEST_HARNESS_MAIN
