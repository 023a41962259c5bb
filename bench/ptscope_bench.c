// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope_bench: ptscope against the kernel's own interfaces, in one run,
 * inside the test VM (scripts/bench, `make bench`). Numbers, not a test.
 *
 *   ptscope_bench [-r ROUNDS] [-k KERNEL] [-m MACHINE] [-j FILE] [CASE...]
 *
 * Every case runs a target process shaped for it, checks that ptscope and
 * the reference give the same answer (a row is WRONG otherwise, and its
 * numbers mean nothing), then times both in interleaved rounds (bench.h).
 * Cases run one after another, each freeing its memory before the next.
 * The table goes to stdout, the same as JSON to FILE.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include "bench.h"

/* From include/uapi/linux/fs.h (6.7+ and 6.11+); Debian 12's headers predate them. */
struct bench_page_region {
	__u64 start, end, categories;
};

struct bench_pm_scan_arg {
	__u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
	__u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define BENCH_PAGEMAP_SCAN	_IOWR('f', 16, struct bench_pm_scan_arg)
#define BENCH_PAGE_IS_PRESENT	(1 << 3)

struct bench_procmap_query {
	__u64 size, query_flags, query_addr, vma_start, vma_end, vma_flags;
	__u64 vma_page_size, vma_offset, inode;
	__u32 dev_major, dev_minor, vma_name_size, build_id_size;
	__u64 vma_name_addr, build_id_addr;
};

#define BENCH_PROCMAP_QUERY	_IOWR('f', 17, struct bench_procmap_query)
#define BENCH_PROCMAP_COVERING_OR_NEXT	0x10

static int rounds_opt;		/* -r: rounds for every case; 0: each case's own */

static int rounds(int dflt)
{
	return rounds_opt ? rounds_opt : dflt;
}

/* --- reading a target: ptscope and the kernel's views ------------------------ */

struct reader {
	pid_t pid;
	int fd;			/* /dev/ptscope, targeting @pid */
	int pmfd;		/* /proc/PID/pagemap */
	uint64_t start, end;	/* the range compared */
	__u32 walk_flags;	/* PTSCOPE_WALK_* of its walks */
	/* ptscope's runs over the range */
	struct ptscope_run *runs;
	size_t nruns, cap;
	/* pagemap, read in chunks */
	uint64_t *pm;
	/* PAGEMAP_SCAN's regions */
	struct bench_page_region *vec;
	size_t nvec;
	/* a read buffer for /proc text files */
	char *text;
	size_t text_len;
	long long text_bytes;
};

#define PM_CHUNK	(1UL << 20)	/* pagemap entries per pread: 8 MiB */
#define VEC_CAP		(1UL << 16)
#define TEXT_BUF	(1UL << 16)

static int reader_open(struct reader *rd, pid_t pid, uint64_t start, uint64_t end)
{
	char path[64];

	memset(rd, 0, sizeof(*rd));
	rd->pid = pid;
	rd->start = start;
	rd->end = end;
	rd->fd = ptscope_open_target(pid, NULL);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	rd->pmfd = open(path, O_RDONLY);
	rd->cap = 1 << 16;
	rd->runs = malloc(rd->cap * sizeof(*rd->runs));
	rd->pm = malloc(PM_CHUNK * sizeof(*rd->pm));
	rd->vec = malloc(VEC_CAP * sizeof(*rd->vec));
	rd->text = malloc(TEXT_BUF);
	if (rd->fd < 0 || rd->pmfd < 0 || !rd->runs || !rd->pm || !rd->vec || !rd->text)
		return -1;
	/* fault the buffers in: the stall case traces this process's own locks */
	memset(rd->runs, 0, rd->cap * sizeof(*rd->runs));
	memset(rd->pm, 0, PM_CHUNK * sizeof(*rd->pm));
	memset(rd->vec, 0, VEC_CAP * sizeof(*rd->vec));
	memset(rd->text, 0, TEXT_BUF);
	return 0;
}

static void reader_close(struct reader *rd)
{
	if (rd->fd >= 0)
		close(rd->fd);
	if (rd->pmfd >= 0)
		close(rd->pmfd);
	free(rd->runs);
	free(rd->pm);
	free(rd->vec);
	free(rd->text);
}

/* PTSCOPE_IOC_WALK over [start, end); @keep: every run kept, else only counted. */
static int walk_loop(struct reader *rd, int keep)
{
	uint64_t a = rd->start;
	size_t n = 0;

	rd->nruns = 0;
	while (a < rd->end) {
		struct ptscope_walk w = {
			.size = sizeof(w), .flags = rd->walk_flags, .start = a, .end = rd->end,
			.run_size = sizeof(struct ptscope_run), .count = WALK_BATCH,
		};

		if (keep && n + WALK_BATCH > rd->cap) {
			void *p = realloc(rd->runs, 2 * rd->cap * sizeof(*rd->runs));

			if (!p)
				return -ENOMEM;
			rd->runs = p;
			rd->cap *= 2;
		}
		w.runs = (uintptr_t)(rd->runs + n);
		if (ioctl(rd->fd, PTSCOPE_IOC_WALK, &w))
			return -errno;
		if (w.next <= a)
			return -EDEADLK;
		rd->nruns += w.count;
		n = keep ? rd->nruns : 0;
		a = w.next;
	}
	return 0;
}

static int pt_walk(void *ctx)
{
	return walk_loop(ctx, 1);
}

/* For walks of millions of runs. */
static int pt_walk_discard(void *ctx)
{
	return walk_loop(ctx, 0);
}

/* pagemap_chunk - pagemap entries of [a, a + n pages) into rd->pm */
static int pagemap_chunk(struct reader *rd, uint64_t a, size_t n)
{
	ssize_t got = pread(rd->pmfd, rd->pm, n * 8, a / PAGE * 8);

	if (got < 0)
		return -errno;
	return (size_t)got == n * 8 ? 0 : -EIO;
}

/* /proc/PID/pagemap over the range, in 8 MiB reads. */
static int ref_pagemap(void *ctx)
{
	struct reader *rd = ctx;
	uint64_t a;
	int err = 0;

	for (a = rd->start; a < rd->end && !err; a += PM_CHUNK * PAGE) {
		size_t n = (rd->end - a) / PAGE;

		err = pagemap_chunk(rd, a, n < PM_CHUNK ? n : PM_CHUNK);
	}
	return err;
}

/* PAGEMAP_SCAN for present pages over the range; regions kept in rd->vec. */
static int ref_scan(void *ctx)
{
	struct reader *rd = ctx;
	uint64_t a = rd->start;

	rd->nvec = 0;
	while (a < rd->end) {
		struct bench_pm_scan_arg arg = {
			.size = sizeof(arg), .start = a, .end = rd->end,
			.category_mask = BENCH_PAGE_IS_PRESENT,
			.return_mask = BENCH_PAGE_IS_PRESENT,
		};
		long n;

		if (rd->nvec == VEC_CAP)
			rd->nvec = 0;	/* timing only: the check needs fewer */
		arg.vec = (uintptr_t)(rd->vec + rd->nvec);
		arg.vec_len = VEC_CAP - rd->nvec;
		n = ioctl(rd->pmfd, BENCH_PAGEMAP_SCAN, &arg);
		if (n < 0)
			return -errno;
		rd->nvec += n;
		a = arg.walk_end;
	}
	return 0;
}

static int has_pagemap_scan(struct reader *rd)
{
	struct bench_pm_scan_arg arg = {
		.size = sizeof(arg), .start = rd->start, .end = rd->start + PAGE,
		.vec = (uintptr_t)rd->vec, .vec_len = 1,
		.category_mask = BENCH_PAGE_IS_PRESENT, .return_mask = BENCH_PAGE_IS_PRESENT,
	};

	return ioctl(rd->pmfd, BENCH_PAGEMAP_SCAN, &arg) >= 0;
}

/* Read a whole /proc/PID/NAME file (smaps, maps, ...) into nothing. */
static int read_proc(struct reader *rd, const char *name)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", rd->pid, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	rd->text_bytes = 0;
	while ((n = read(fd, rd->text, TEXT_BUF)) > 0)
		rd->text_bytes += n;
	close(fd);
	return n < 0 ? -errno : 0;
}

static int ref_smaps(void *ctx)
{
	return read_proc(ctx, "smaps");
}

static int ref_smaps_rollup(void *ctx)
{
	return read_proc(ctx, "smaps_rollup");
}

static int ref_maps(void *ctx)
{
	return read_proc(ctx, "maps");
}

/* --- checking the answers ---------------------------------------------------- */

#define PM_FLAGS (PM_PRESENT | PM_SWAP | PM_FILE | PM_MMAP_EXCLUSIVE | PM_SOFT_DIRTY)

/* What ptscope's run @r says pagemap must show for the base page at @a. */
static uint64_t pagemap_of_run(const struct ptscope_run *r, uint64_t a)
{
	uint64_t pm = 0;

	if (r->kind == PTSCOPE_KIND_PAGE) {
		pm = PM_PRESENT | (r->pfn + (a - r->start) / PAGE);
		if (r->page & (PTSCOPE_PAGE_FILE | PTSCOPE_PAGE_SHMEM))
			pm |= PM_FILE;
		if (r->page & PTSCOPE_PAGE_EXCLUSIVE)
			pm |= PM_MMAP_EXCLUSIVE;
	} else if (r->kind != PTSCOPE_KIND_NONE) {
		pm = PM_SWAP;
	}
	if (r->bits & PTSCOPE_B_SOFT_DIRTY)
		pm |= PM_SOFT_DIRTY;
	return pm;
}

/*
 * check_pages - every base page of the range, as pagemap reads it now,
 * against rd->runs: present, swap, PFN, exclusive, soft-dirty, file.
 * Returns the number of pages that differ; the first one into @why.
 */
static long check_pages(struct reader *rd, char *why, size_t len, long *present)
{
	const struct ptscope_run *r = rd->runs, *rend = rd->runs + rd->nruns;
	long bad = 0;
	uint64_t a;

	*present = 0;
	for (a = rd->start; a < rd->end; a += PM_CHUNK * PAGE) {
		size_t n = (rd->end - a) / PAGE, i;

		if (n > PM_CHUNK)
			n = PM_CHUNK;
		if (pagemap_chunk(rd, a, n)) {
			snprintf(why, len, "pagemap read failed at %#llx", (unsigned long long)a);
			return -1;
		}
		for (i = 0; i < n; i++) {
			uint64_t va = a + i * PAGE, want = 0, got = rd->pm[i];

			while (r < rend && (r->kind == PTSCOPE_KIND_TABLE ||
					    r->start + (r->count << r->shift) <= va))
				r++;
			if (r < rend && r->start <= va)
				want = pagemap_of_run(r, va);
			*present += !!(got & PM_PRESENT);
			if ((got & (PM_FLAGS | PM_PFN_MASK)) == want)
				continue;
			/* A page with neither present nor swap has no other bits that matter. */
			if (!(got & (PM_PRESENT | PM_SWAP)) && !(want & (PM_PRESENT | PM_SWAP)))
				continue;
			if (!bad++)
				snprintf(why, len, "at %#llx pagemap %#llx, ptscope says %#llx",
					 (unsigned long long)va, (unsigned long long)got,
					 (unsigned long long)want);
		}
	}
	return bad;
}

/* Intervals of present pages from ptscope's runs, merged where adjacent. */
static size_t runs_intervals(struct reader *rd, struct bench_page_region *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < rd->nruns; i++) {
		const struct ptscope_run *r = &rd->runs[i];
		uint64_t s = r->start, e = r->start + (r->count << r->shift);

		/* PAGEMAP_SCAN skips VM_PFNMAP VMAs ([vvar]): compare the rest */
		if (r->kind != PTSCOPE_KIND_PAGE || (r->bits & PTSCOPE_B_SPECIAL))
			continue;
		s = s < rd->start ? rd->start : s;
		e = e > rd->end ? rd->end : e;
		if (n && out[n - 1].end == s) {
			out[n - 1].end = e;
		} else if (n < cap) {
			out[n].start = s;
			out[n++].end = e;
		}
	}
	return n;
}

static size_t merge_regions(struct bench_page_region *v, size_t n)
{
	size_t i, m = 0;

	for (i = 0; i < n; i++) {
		if (m && v[m - 1].end == v[i].start)
			v[m - 1].end = v[i].end;
		else
			v[m++] = v[i];
	}
	return m;
}

/* ptscope's present intervals against PAGEMAP_SCAN's; 0 when equal. */
static int check_presence(struct reader *rd, char *why, size_t len, long *pages)
{
	struct bench_page_region *mine = calloc(VEC_CAP, sizeof(*mine));
	size_t n, m, i;
	int bad = 0;

	if (!mine || pt_walk(rd) || ref_scan(rd)) {
		snprintf(why, len, "a call failed");
		free(mine);
		return 1;
	}
	n = runs_intervals(rd, mine, VEC_CAP);
	m = merge_regions(rd->vec, rd->nvec);
	*pages = 0;
	for (i = 0; i < m; i++)
		*pages += (rd->vec[i].end - rd->vec[i].start) / PAGE;
	for (i = 0; !bad && i < n && i < m; i++)
		if (mine[i].start != rd->vec[i].start || mine[i].end != rd->vec[i].end)
			bad = snprintf(why, len, "%zu intervals, PAGEMAP_SCAN %zu; "
				       "%zu: [%#llx, %#llx) vs [%#llx, %#llx)", n, m, i,
				       (unsigned long long)mine[i].start,
				       (unsigned long long)mine[i].end,
				       (unsigned long long)rd->vec[i].start,
				       (unsigned long long)rd->vec[i].end);
	if (!bad && n != m)
		bad = snprintf(why, len, "%zu intervals, PAGEMAP_SCAN %zu", n, m);
	free(mine);
	return bad;
}

/*
 * start_reading - start a target with @act (sh->arg = @arg) and open a
 * reader on it: over the range it reports in sh->addr[0], or over the whole address space
 */
static int start_reading(struct target *t, target_action act, uint64_t arg, struct reader *rd,
			 int whole, const char *name)
{
	struct ptscope_target pt = { 0 };
	int fd;

	if (target_start_arg(t, act, arg) == 0 && (fd = ptscope_open_target(t->pid, &pt)) >= 0) {
		close(fd);
		if (!reader_open(rd, t->pid, whole ? 0 : t->sh->addr[0],
				 whole ? pt.task_size : t->sh->addr[0] + t->sh->len[0]))
			return 0;
		reader_close(rd);
	}
	printf("# %s: cannot set up the target\n", name);
	target_stop(t);
	return -1;
}

/* --- the cases over one range: full information, presence ------------------- */

/*
 * pages_vs_pagemap - the row "@name: full information" (ptscope's walk
 * against pagemap for the range), checked page by page first.
 */
static void pages_vs_pagemap(struct reader *rd, const char *name, double target, int n)
{
	struct row *r = row_new(name, "pagemap", "ms", target);
	char why[160] = "";
	long bad, present;

	if (pt_walk(rd)) {
		r->state = ROW_FAILED;
		return;
	}
	bad = check_pages(rd, why, sizeof(why), &present);
	if (row_check(r, bad != 0, why))
		return;
	compare(r, pt_walk, ref_pagemap, rd, n, 0);
	row_note(r, "%ld present pages, %zu runs", present, rd->nruns);
	row_judge(r);
}

static void presence_vs_scan(struct reader *rd, const char *name, double target, int n)
{
	struct row *r = row_new(name, "PAGEMAP_SCAN", "ms", target);
	char why[160] = "";
	long pages;

	if (!has_pagemap_scan(rd)) {
		row_na(r, "no PAGEMAP_SCAN before 6.7");
		return;
	}
	/* the same question: the entries, not the pages behind them */
	rd->walk_flags = PTSCOPE_WALK_NO_PAGE;
	if (!row_check(r, check_presence(rd, why, sizeof(why), &pages), why)) {
		compare(r, pt_walk, ref_scan, rd, n, 0);
		row_note(r, "WALK with PTSCOPE_WALK_NO_PAGE; %ld present pages in %zu regions",
			 pages, rd->nvec);
		row_judge(r);
	}
	rd->walk_flags = 0;
}

/*
 * size_name - "4K", "16K", "2M", "32M": a page's or a PMD leaf's size in a
 * row's name, so that a row says what it measured on this kernel
 */
static const char *size_name(char *buf, size_t len, unsigned long bytes)
{
	if (bytes >= MB)
		snprintf(buf, len, "%luM", bytes / MB);
	else
		snprintf(buf, len, "%luK", bytes / 1024);
	return buf;
}

/* "@what @page: @how", with @page the base page's size */
static const char *page_row(char *buf, size_t len, const char *what, const char *how)
{
	char sz[16];

	snprintf(buf, len, "%s %s: %s", what, size_name(sz, sizeof(sz), PAGE), how);
	return buf;
}

/* --- dense: 1 GiB of written base pages ------------------------------------- */

/* sh->arg bytes of written base pages. */
static int act_written(struct target_shared *sh, int cmd)
{
	size_t len = sh->arg;
	char *p;

	if (cmd)
		return 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, len, MADV_NOHUGEPAGE) ||
	    madvise(p, len, MADV_POPULATE_WRITE))
		return -1;
	sh->addr[0] = (uintptr_t)p;
	sh->len[0] = len;
	return 0;
}

/* --- vtop: one address ------------------------------------------------------- */

static uint64_t vtop_addr;
static struct ptscope_vtop vtop_out;

static int pt_vtop(void *ctx)
{
	struct reader *rd = ctx;

	return ptscope_vtop(rd->fd, vtop_addr, &vtop_out);
}

static int ref_vtop(void *ctx)
{
	struct reader *rd = ctx;

	return pread(rd->pmfd, rd->pm, 8, vtop_addr / PAGE * 8) == 8 ? 0 : -EIO;
}

static void vtop_case(struct reader *rd)
{
	struct row *r = row_new("vtop: one address", "pagemap pread", "us", 1.0);
	int i, bad = 0;

	for (i = 0; i < 16 && !bad; i++) {
		vtop_addr = rd->start + (uint64_t)i * ((rd->end - rd->start) / 16);
		if (pt_vtop(rd) || ref_vtop(rd))
			bad = 1;
		else
			bad = vtop_out.phys / PAGE != (rd->pm[0] & PM_PFN_MASK);
	}
	if (row_check(r, bad, "a physical address"))
		return;
	vtop_addr = rd->start + (rd->end - rd->start) / 2;
	/*
	 * Many short rounds (0.3 ms a side): a round the host takes the CPU
	 * from is one of 63, not one of 7 of 20 ms each.
	 */
	if (!compare(r, pt_vtop, ref_vtop, rd, rounds(63), 100))
		row_note(r, "%d rounds of 100 calls", r->rounds);
	row_judge(r);
}

static int case_dense(void)
{
	struct target t = { 0 };
	struct reader rd;
	char name[64];

	if (start_reading(&t, act_written, GB, &rd, 0, "dense"))
		return 1;
	pages_vs_pagemap(&rd, page_row(name, sizeof(name), "dense 1 GiB", "full information"),
			 0.5, rounds(5));
	presence_vs_scan(&rd, page_row(name, sizeof(name), "dense 1 GiB", "presence only"),
			 1.0, rounds(5));
	reader_close(&rd);
	target_stop(&t);
	return 0;
}

static int case_vtop(void)
{
	struct target t = { 0 };
	struct reader rd;

	if (start_reading(&t, act_written, 16 * MB, &rd, 0, "vtop"))
		return 1;
	vtop_case(&rd);
	reader_close(&rd);
	target_stop(&t);
	return 0;
}

/*
 * --- THP: 1 GiB of PMD-sized THPs ------------------------------------------------
 *
 * 512 of 2 MiB with 4 KiB pages, 32 of 32 MiB with 16 KiB pages.
 */

static int act_thp(struct target_shared *sh, int cmd)
{
	size_t len = GB, i;
	char *p;

	if (cmd)
		return 0;
	p = map_aligned(len, pmd_size());
	if (p == MAP_FAILED || madvise(p, len, MADV_HUGEPAGE))
		return -1;
	for (i = 0; i < len; i += PAGE)
		p[i] = 1;
	sh->addr[0] = (uintptr_t)p;
	sh->len[0] = len;
	return 0;
}

static int case_thp(void)
{
	struct target t = { 0 };
	struct reader rd;
	char sz[16], name[64];
	long pmd;

	if (start_reading(&t, act_thp, 0, &rd, 0, "thp"))
		return 1;
	pmd = count_leaves(rd.fd, rd.start, rd.end, PTSCOPE_LEVEL_PMD);
	size_name(sz, sizeof(sz), pmd_size());
	snprintf(name, sizeof(name), "THP 1 GiB %s: full information", sz);
	pages_vs_pagemap(&rd, name, 0.1, rounds(7));
	row_note(&rows[nrows - 1], "%ld of %lu PMD leaves", pmd, GB / pmd_size());
	snprintf(name, sizeof(name), "THP 1 GiB %s: presence", sz);
	presence_vs_scan(&rd, name, 1.0, rounds(7));
	reader_close(&rd);
	target_stop(&t);
	return 0;
}

/*
 * --- mTHP: 1 GiB of written anonymous memory in PTE-mapped large folios -------
 *
 * Folios of the size of arm64's contiguous block of PTEs (VERSION's
 * cont_shift: 64 KiB with 4 KiB pages, 2 MiB with 16 KiB), which 6.9+ maps
 * with the contiguous bit (contpte); 64 KiB (order 4) on x86-64. Every PTE
 * maps a page of a large folio: what the walk pays per folio and per block.
 */

/* 1 GiB written, under the THP settings of case_mthp(). */
static int act_mthp(struct target_shared *sh, int cmd)
{
	size_t len = GB;
	char *p;

	if (cmd)
		return 0;
	p = map_aligned(len, pmd_size());
	if (p == MAP_FAILED || madvise(p, len, MADV_POPULATE_WRITE))
		return -1;
	sh->addr[0] = (uintptr_t)p;
	sh->len[0] = len;
	return 0;
}

/*
 * mthp_folios - how many of the range's aligned blocks of @size are one
 * folio of that size: by pagemap and kpageflags (the block's frames
 * consecutive, its first a compound head of a THP) into *@kpf, by
 * ptscope's runs (pages of folios of that order) into *@mine, and the
 * blocks mapped with arm64's contiguous bit into *@cont. -1 when a read
 * fails.
 */
static int mthp_folios(struct reader *rd, unsigned long size, long *kpf, long *mine, long *cont)
{
	const uint64_t head = 1ULL << KPF_COMPOUND_HEAD | 1ULL << KPF_THP;
	unsigned long per = size / PAGE;
	int kfd = open("/proc/kpageflags", O_RDONLY), err = 0;
	size_t i, n;
	uint64_t a;

	*kpf = *mine = *cont = 0;
	if (kfd < 0 || pt_walk(rd))
		err = -1;
	for (a = rd->start; !err && a < rd->end; a += PM_CHUNK * PAGE) {
		n = (rd->end - a) / PAGE < PM_CHUNK ? (rd->end - a) / PAGE : PM_CHUNK;
		err = pagemap_chunk(rd, a, n);
		for (i = 0; !err && i + per <= n; i += per) {
			uint64_t pfn = rd->pm[i] & PM_PFN_MASK, f = 0;

			if (!(rd->pm[i] & PM_PRESENT) ||
			    (rd->pm[i + per - 1] & PM_PFN_MASK) != pfn + per - 1)
				continue;
			if (pread(kfd, &f, sizeof(f), pfn * sizeof(f)) != sizeof(f))
				err = -1;
			*kpf += (f & head) == head;
		}
	}
	for (i = 0; i < rd->nruns; i++) {
		const struct ptscope_run *r = &rd->runs[i];

		if (r->kind != PTSCOPE_KIND_PAGE || r->level != PTSCOPE_LEVEL_PTE)
			continue;
		if (r->folio_order == (__u32)__builtin_ctzl(per))
			*mine += r->count;
		if (r->bits & PTSCOPE_B_ARM64_CONT)
			*cont += r->count;
	}
	*mine /= per;
	*cont /= per;
	if (kfd >= 0)
		close(kfd);
	return err;
}

static int case_mthp(void)
{
	unsigned long size = mthp_size();
	long blocks = GB / size, kpf, mine, cont;
	struct target t = { 0 };
	struct mthp_saved saved;
	struct reader rd;
	char sz[16], name[64], why[160];
	struct row *r;
	int err;

	size_name(sz, sizeof(sz), size);
	snprintf(name, sizeof(name), "mTHP 1 GiB %s: full information", sz);
	if (mthp_only(size, pmd_size(), "enabled", &saved)) {
		row_na(row_new(name, "pagemap", "ms", 0.5),
		       "no per-size THP setting (hugepages-<size>kB) before 6.8");
		return 0;
	}
	/*
	 * The settings stay until the case is done: with PMD-sized THP on
	 * again, khugepaged would collapse the folios into PMD THPs meanwhile.
	 */
	err = start_reading(&t, act_mthp, 0, &rd, 0, "mthp");
	if (err)
		goto out;
	/* the case measures folios of @size only if the kernel gave them */
	err = mthp_folios(&rd, size, &kpf, &mine, &cont);
	snprintf(why, sizeof(why), "%s folios: kpageflags %ld of %ld blocks, ptscope %ld",
		 sz, kpf, blocks, mine);
	if (err || kpf != mine) {
		r = row_new(name, "pagemap", "ms", 0.5);
		row_check(r, 1, err ? "a read failed" : why);
	} else if (kpf != blocks) {
		row_na(row_new(name, "pagemap", "ms", 0.5), why);
	} else {
		pages_vs_pagemap(&rd, name, 0.5, rounds(5));
		row_note(&rows[nrows - 1], "%ld folios of %s (kpageflags)", kpf, sz);
		if (ptscope_arch_is(PTSCOPE_ARCH_ARM64))
			row_note(&rows[nrows - 1], "%ld contiguous blocks", cont);
		snprintf(name, sizeof(name), "mTHP 1 GiB %s: presence", sz);
		presence_vs_scan(&rd, name, 1.0, rounds(5));
	}
	reader_close(&rd);
	target_stop(&t);
out:
	if (mthp_restore(&saved))
		printf("# mthp: cannot put the THP settings back\n");
	return !!err;
}

/* --- sparse: 100 MiB scattered over the address space -------------------------- */

#define SPARSE_CHUNKS	400		/* of 256 KiB: 100 MiB */
#define SPARSE_CHUNK	(256 * 1024UL)
#define SPARSE_LOW	(4 * GB)
#define SPARSE_HIGH	(120ULL << 40)	/* below the 128 TiB of a default mmap */

static int act_sparse(struct target_shared *sh, int cmd)
{
	uint64_t step = (SPARSE_HIGH - SPARSE_LOW) / SPARSE_CHUNKS, a;
	size_t i, j;
	char *p;

	if (cmd)
		return 0;
	for (i = 0; i < SPARSE_CHUNKS; i++) {
		a = (SPARSE_LOW + i * step) & ~(2 * MB - 1);
		p = mmap((void *)a, SPARSE_CHUNK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		for (j = 0; j < SPARSE_CHUNK; j += PAGE)
			p[j] = 1;
	}
	/* and a 64 GiB window with one page written per GiB, for pagemap's scale */
	p = mmap(NULL, 64 * GB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED || madvise(p, 64 * GB, MADV_NOHUGEPAGE))
		return -1;
	for (i = 0; i < 64; i++)
		p[i * GB] = 1;
	sh->addr[0] = (uintptr_t)p;
	sh->len[0] = 64 * GB;
	return 0;
}

static int case_sparse(void)
{
	struct target t = { 0 };
	struct reader rd;

	if (start_reading(&t, act_sparse, 0, &rd, 1, "sparse"))
		return 1;
	presence_vs_scan(&rd, "sparse 100 MiB, whole address space", 0.5, rounds(7));
	rd.start = t.sh->addr[0];
	rd.end = rd.start + t.sh->len[0];
	pages_vs_pagemap(&rd, "sparse: a 64 GiB window, 64 pages", 0, rounds(3));
	reader_close(&rd);
	target_stop(&t);
	return 0;
}

/* --- the faulting thread of the stall case ------------------------------------- */

/*
 * In the target: a thread that maps a page, writes it (a fault) and unmaps
 * it, then changes the protection of the first page of the VMA being read
 * and changes it back, over and over while the bench measures, keeping
 * the worst of each. mmap, munmap and mprotect take mmap_lock for write:
 * they wait for a reader's hold, and every fault queued behind them waits
 * too. mprotect also splits and merges the VMA, which takes that VMA's lock
 * for write: it waits for a reader that holds the VMA's read lock (6.17+
 * smaps, and ptscope where VMAs are locked under RCU), with mmap_lock held.
 */
struct faulter {
	volatile int measure, stop;
	volatile double worst_ns;		/* mmap, write fault, munmap */
	volatile double worst_writer_ns;	/* the two mprotect() calls */
	volatile long iterations;
};

static struct faulter *faulter;	/* shared with the targets */
static char *faulter_vma;	/* in the target: the VMA whose first page it mprotects */
static int faulter_prot;	/* and that VMA's protection */

static void faulter_worst(volatile double *worst, double dt)
{
	if (faulter->measure && dt > *worst)
		*worst = dt;
}

static void *faulter_thread(void *arg)
{
	(void)arg;
	while (!faulter->stop) {
		double t0, t1;
		char *p;

		if (!faulter->measure) {
			usleep(1000);
			continue;
		}
		t0 = now_ns();
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			p[0] = 1;
			munmap(p, PAGE);
		}
		t1 = now_ns();
		faulter_worst(&faulter->worst_ns, t1 - t0);
		if (!mprotect(faulter_vma, PAGE, faulter_prot ^ PROT_WRITE))
			mprotect(faulter_vma, PAGE, faulter_prot);
		faulter_worst(&faulter->worst_writer_ns, now_ns() - t1);
		if (faulter->measure)
			faulter->iterations++;
	}
	return NULL;
}

/* In the target: the faulter, changing the protection of @vma's first page. */
static int start_faulter(char *vma, int prot)
{
	pthread_t th;

	faulter_vma = vma;
	faulter_prot = prot;
	return pthread_create(&th, NULL, faulter_thread, NULL) ? -1 : 0;
}

/* What one round of the stall case measured, in ns. */
enum {
	STALL_HOLD,	/* the reader's longest mmap_lock read hold */
	STALL_FAULT,	/* the faulter's worst mmap + write fault + munmap */
	STALL_ANY,	/* its worst of those and of its pair of mprotect() calls */
	STALL_N
};

struct stall {
	double ns[STALL_N];
};

/* stall_round - run @fn once while the faulter runs, into @s */
static int stall_round(bench_fn fn, void *ctx, struct stall *s, long *holds)
{
	int err;

	faulter->worst_ns = 0;
	faulter->worst_writer_ns = 0;
	faulter->iterations = 0;
	faulter->measure = 1;
	usleep(20000);
	err = holds_start();
	if (!err)
		err = fn(ctx);
	err = err ?: holds_stop(&s->ns[STALL_HOLD], holds);
	faulter->measure = 0;
	s->ns[STALL_FAULT] = faulter->worst_ns;
	s->ns[STALL_ANY] = s->ns[STALL_FAULT] > faulter->worst_writer_ns ?
			   s->ns[STALL_FAULT] : faulter->worst_writer_ns;
	return err;
}

/* One of stall_rows()' rows: the medians of @what of @p and @s, and of their ratio. */
static void stall_row(struct row *r, const struct stall *p, const struct stall *s,
		      int what, int n)
{
	double vp[MAX_ROUNDS], vs[MAX_ROUNDS], q[MAX_ROUNDS];
	int i;

	for (i = 0; i < n; i++) {
		vp[i] = p[i].ns[what];
		vs[i] = s[i].ns[what];
		q[i] = vp[i] / vs[i];
	}
	r->rounds = n;
	r->pt = median(vp, n) / 1e6;
	r->ref_val = median(vs, n) / 1e6;
	r->ratio = median(q, n);
}

/*
 * Rows "@what: longest lock hold", "worst fault" and "worst stall", @fn
 * against smaps: the reader's longest mmap_lock hold, the faulter's worst
 * mmap + fault + munmap, and its worst wait of any kind (see struct
 * faulter): which of its calls waits for a reader's hold depends on when
 * the hold begins, so only the worst of all says what the reader cost it.
 */
static void stall_rows(struct reader *rd, const char *what, const char *how, bench_fn fn,
		       double target, int n)
{
	struct stall sp[MAX_ROUNDS] = { 0 }, ss[MAX_ROUNDS] = { 0 };
	struct row *h, *w, *m;
	char name[64];
	long np = 0, ns = 0;
	int i, err = 0;

	snprintf(name, sizeof(name), "%s: longest lock hold, %s", what, how);
	h = row_new(name, "smaps", "ms", target);
	snprintf(name, sizeof(name), "%s: worst fault, %s", what, how);
	w = row_new(name, "smaps", "ms", 0);
	snprintf(name, sizeof(name), "%s: worst stall, %s", what, how);
	m = row_new(name, "smaps", "ms", target);
	for (i = 0; i < n && !err; i++) {
		if (i % 2)
			err = stall_round(ref_smaps, rd, &ss[i], &ns) ?:
			      stall_round(fn, rd, &sp[i], &np);
		else
			err = stall_round(fn, rd, &sp[i], &np) ?:
			      stall_round(ref_smaps, rd, &ss[i], &ns);
	}
	if (err) {
		h->state = w->state = m->state = ROW_FAILED;
		row_note(h, "%s", strerror(-err));
		return;
	}
	stall_row(h, sp, ss, STALL_HOLD, n);
	stall_row(w, sp, ss, STALL_FAULT, n);
	stall_row(m, sp, ss, STALL_ANY, n);
	if (!(h->ref_val > 0)) {
		/*
		 * 6.17+: smaps reads under per-VMA locks, and takes mmap_lock
		 * only when a VMA is being changed: in half the rounds or
		 * fewer, or the median would not be 0.
		 */
		row_na(h, "smaps took no mmap_lock read hold in most rounds on this kernel");
		h->ratio = NAN;
	}
	row_note(h, "tracefs mmap_lock acquire_returned/released of the reader; "
		 "last round: ptscope %ld holds, smaps %ld", np, ns);
	row_note(w, "the target's slowest mmap + write fault + munmap while read");
	row_note(m, "the target's slowest call: mmap + fault + munmap, or the pair of "
		 "mprotect() of the read VMA's first page, which write-locks that VMA");
	row_judge(h);
	row_judge(w);
	row_judge(m);
}

/* PTSCOPE_IOC_VMAS over the whole process with @flags, the records discarded. */
static int vmas_loop(struct reader *rd, __u32 flags)
{
	struct ptscope_vma *v = (struct ptscope_vma *)rd->runs;
	uint64_t start = 0;

	do {
		struct ptscope_vmas q = {
			.size = sizeof(q), .flags = flags, .start = start,
			.vma_size = sizeof(*v), .count = 8, .vmas = (uintptr_t)v,
		};

		if (ioctl(rd->fd, PTSCOPE_IOC_VMAS, &q))
			return -errno;
		start = q.next;
	} while (start);
	return 0;
}

static int pt_vmas_counts(void *ctx)
{
	return vmas_loop(ctx, PTSCOPE_VMAS_COUNTS);
}

static int pt_vmas_list(void *ctx)
{
	return vmas_loop(ctx, 0);
}

/* --- the 16 GiB VMA of the stall case ------------------------------------------- */

static int act_big_vma(struct target_shared *sh, int cmd)
{
	size_t len = 16 * GB;
	char *p;

	if (cmd)
		return 0;
	/*
	 * read-faulted: PTEs of the zero page (4 Mi, in 32 MiB of page tables,
	 * with 4 KiB pages; 1 Mi in 8 MiB with 16 KiB pages), no memory
	 */
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED || madvise(p, len, MADV_NOHUGEPAGE) ||
	    madvise(p, len, MADV_POPULATE_READ))
		return -1;
	sh->addr[0] = (uintptr_t)p;
	sh->len[0] = len;
	return start_faulter(p, PROT_READ);
}

static int case_stall16(void)
{
	struct target t = { 0 };
	struct reader rd;

	if (start_reading(&t, act_big_vma, 0, &rd, 1, "stall"))
		return 1;
	stall_rows(&rd, "stall 16 GiB VMA", "VMAS counts", pt_vmas_counts, 0.1, rounds(3));
	stall_rows(&rd, "stall 16 GiB VMA", "WALK", pt_walk_discard, 0.1, rounds(3));
	faulter->stop = 1;
	reader_close(&rd);
	target_stop(&t);
	faulter->stop = 0;
	return 0;
}

/* --- summary: 2,000 VMAs, 4 GiB resident ------------------------------------------- */

#define SUMMARY_VMAS	2000
#define SUMMARY_VMA	(2 * MB)

static int act_summary(struct target_shared *sh, int cmd)
{
	size_t len = SUMMARY_VMAS * SUMMARY_VMA, i;
	char *p;

	if (cmd)
		return 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, len, MADV_NOHUGEPAGE) ||
	    madvise(p, len, MADV_POPULATE_WRITE))
		return -1;
	/* every other VMA read-only: 2,000 VMAs that do not merge */
	for (i = 1; i < SUMMARY_VMAS; i += 2)
		if (mprotect(p + i * SUMMARY_VMA, SUMMARY_VMA, PROT_READ))
			return -1;
	sh->addr[0] = (uintptr_t)p;
	sh->len[0] = len;
	return start_faulter(p, PROT_READ | PROT_WRITE);
}

struct smaps_vma {
	uint64_t start;
	long rss_kb;
};

/* The VMAs of /proc/PID/smaps with their Rss, into @out; how many, or -1. */
static long parse_smaps(pid_t pid, struct smaps_vma *out, long cap, long *rollup_kb)
{
	char path[64], line[512];
	unsigned long s, e;
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			if (n == cap)
				break;
			out[n].start = s;
			out[n++].rss_kb = -1;
		} else if (n && !strncmp(line, "Rss:", 4)) {
			out[n - 1].rss_kb = strtol(line + 4, NULL, 10);
		}
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	*rollup_kb = keyed_value(path, "Rss", ':');
	return n;
}

/* VMAS with counts against smaps: VMA by VMA, Rss; and smaps_rollup's total. */
static int check_summary(struct reader *rd, char *why, size_t len, long *nvmas)
{
	struct smaps_vma *sm = calloc(4 * SUMMARY_VMAS, sizeof(*sm));
	struct ptscope_vma *v = NULL;
	long n, m, i, rollup, total = 0;
	int bad = 0;

	n = ptscope_vmas_all(rd->fd, PTSCOPE_VMAS_COUNTS, &v);
	m = sm ? parse_smaps(rd->pid, sm, 4 * SUMMARY_VMAS, &rollup) : -1;
	*nvmas = n;
	if (n < 0 || m < 0)
		bad = snprintf(why, len, "a read failed");
	else if (n != m)
		bad = snprintf(why, len, "%ld VMAs, smaps %ld", n, m);
	for (i = 0; !bad && i < n; i++) {
		long kb = (v[i].counts[PTSCOPE_CNT_RSS_PTE] + v[i].counts[PTSCOPE_CNT_RSS_PMD] +
			   v[i].counts[PTSCOPE_CNT_RSS_PUD]) * PAGE_KB;

		total += kb;
		if (v[i].start != sm[i].start || kb != sm[i].rss_kb)
			bad = snprintf(why, len, "VMA %#llx: Rss %ld kB, smaps %#llx %ld kB",
				       (unsigned long long)v[i].start, kb,
				       (unsigned long long)sm[i].start, sm[i].rss_kb);
	}
	if (!bad && total != rollup)
		bad = snprintf(why, len, "Rss %ld kB, smaps_rollup %ld kB", total, rollup);
	free(v);
	free(sm);
	return bad;
}

/* PROCMAP_QUERY over every VMA, names included, as VMAS gives them. */
static int ref_procmap(void *ctx)
{
	struct reader *rd = ctx;
	char path[64], name[PTSCOPE_NAME_LEN];
	uint64_t a = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", rd->pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	rd->nvec = 0;
	for (;;) {
		struct bench_procmap_query q = {
			.size = sizeof(q), .query_flags = BENCH_PROCMAP_COVERING_OR_NEXT,
			.query_addr = a, .vma_name_size = sizeof(name),
			.vma_name_addr = (uintptr_t)name,
		};

		if (ioctl(fd, BENCH_PROCMAP_QUERY, &q)) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
		if (rd->nvec < VEC_CAP)
			rd->vec[rd->nvec].start = q.vma_start;
		rd->nvec++;
		a = q.vma_end;
	}
	close(fd);
	return err;
}

static void summary_list_rows(struct reader *rd, long nvmas)
{
	struct row *r = row_new("summary: the VMA list", "maps", "ms", 0);
	struct row *q;

	compare(r, pt_vmas_list, ref_maps, rd, rounds(7), 0);
	row_note(r, "%ld VMAs", nvmas);
	row_judge(r);

	q = row_new("summary: the VMA list, with names", "PROCMAP_QUERY", "ms", 0);
	if (ref_procmap(rd)) {
		row_na(q, "no PROCMAP_QUERY before 6.11");
		return;
	}
	if (row_check(q, (long)rd->nvec != nvmas, "the number of VMAs"))
		return;
	compare(q, pt_vmas_list, ref_procmap, rd, rounds(7), 0);
	row_judge(q);
}

/* --- tool: the ptscope command end to end --------------------------------------- */

/*
 * spawn_main - `ptscope_bench -x CMD...`: run CMD with stdout to /dev/null
 * and print its wall time (ns) and peak RSS (KiB). A fresh small process
 * forks it, so that the RSS the bench itself had when it forked is not
 * what the child's peak reports.
 */
static int spawn_main(char **argv)
{
	struct rusage ru;
	double t0 = now_ns();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return 1;
	printf("%.0f %ld\n", now_ns() - t0, ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* run_cmd - run @argv through `ptscope_bench -x`; wall ns and peak RSS (KiB) */
static int run_cmd(char *const argv[], double *ns, long *maxrss_kb)
{
	char cmd[512], self[256];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int i, ok;
	FILE *p;

	if (n < 0)
		return -errno;
	self[n] = '\0';
	snprintf(cmd, sizeof(cmd), "%s -x", self);
	for (i = 0; argv[i]; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " %s", argv[i]);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	ok = fscanf(p, "%lf %ld", ns, maxrss_kb) == 2;
	return pclose(p) == 0 && ok ? 0 : -EIO;
}

static void tool_rows(pid_t pid, int n)
{
	static const char *const what[] = { "maps", "walk", "snapshot" };
	char pidstr[16];
	size_t k;

	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	for (k = 0; k < sizeof(what) / sizeof(what[0]); k++) {
		char *pt_argv[] = { "ptscope", (char *)what[k], pidstr, "-o", "/tmp/bench.snap",
				    NULL };
		char path[64], *ref_argv[] = { "cat", path, NULL };
		double tp[MAX_ROUNDS], tr[MAX_ROUNDS], q[MAX_ROUNDS], rss[MAX_ROUNDS];
		struct row *t, *m;
		char name[64];
		long kb, ref_kb = 0;
		int i, err = 0;

		if (k != 2)
			pt_argv[3] = NULL;
		/* maps against the kernel's text that carries the most of it */
		snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
		snprintf(name, sizeof(name), "tool: ptscope %s, time", what[k]);
		t = row_new(name, k ? "-" : "cat smaps", "ms", 0);
		snprintf(name, sizeof(name), "tool: ptscope %s, peak RSS", what[k]);
		m = row_new(name, k ? "-" : "cat smaps", "KiB", 0);
		for (i = 0; i < n && !err; i++) {
			double ns;

			err = run_cmd(pt_argv, &tp[i], &kb);
			rss[i] = kb;
			if (!err && !k) {
				err = run_cmd(ref_argv, &ns, &ref_kb);
				tr[i] = ns;
				q[i] = tp[i] / ns;
			}
		}
		if (err) {
			t->state = m->state = ROW_FAILED;
			row_note(t, "%s", strerror(-err));
			continue;
		}
		t->rounds = m->rounds = n;
		t->pt = median(tp, n) / 1e6;
		m->pt = median(rss, n);
		if (!k) {
			t->ref_val = median(tr, n) / 1e6;
			t->ratio = median(q, n);
			m->ref_val = ref_kb;
		}
	}
	unlink("/tmp/bench.snap");
}

static int case_summary(void)
{
	struct target t = { 0 };
	struct reader rd;
	struct row *r;
	char why[160] = "";
	long nvmas = 0;

	if (start_reading(&t, act_summary, 0, &rd, 1, "summary"))
		return 1;
	r = row_new("summary 2000 VMAs 4 GiB: VMAS with counts", "smaps", "ms", 0.5);
	if (!row_check(r, check_summary(&rd, why, sizeof(why), &nvmas), why)) {
		compare(r, pt_vmas_counts, ref_smaps, &rd, rounds(5), 1);
		row_note(r, "%ld VMAs; smaps is %lld bytes", nvmas, rd.text_bytes);
		row_judge(r);
		r = row_new("summary: VMAS with counts", "smaps_rollup", "ms", 0);
		compare(r, pt_vmas_counts, ref_smaps_rollup, &rd, rounds(5), 1);
		row_judge(r);
	}
	summary_list_rows(&rd, nvmas);
	stall_rows(&rd, "stall 4 GiB", "VMAS counts", pt_vmas_counts, 0, rounds(3));
	stall_rows(&rd, "stall 4 GiB", "WALK", pt_walk_discard, 0, rounds(3));
	faulter->measure = 0;
	tool_rows(t.pid, rounds(3));
	faulter->stop = 1;
	reader_close(&rd);
	target_stop(&t);
	faulter->stop = 0;
	return 0;
}

/* --- counters: what watching costs a faulting process ------------------------------ */

#define FAULTS		65536UL
#define FAULTS_BYTES	(FAULTS * PAGE)	/* 256 MiB of 4 KiB pages, 1 GiB of 16 KiB */

/* touch_fresh - ns to write one byte in every base page of a new mapping */
static int touch_fresh(void *ctx)
{
	size_t off;
	char *p;

	(void)ctx;
	p = mmap(NULL, FAULTS_BYTES, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* one fault per base page, not one per THP */
	madvise(p, FAULTS_BYTES, MADV_NOHUGEPAGE);
	for (off = 0; off < FAULTS_BYTES; off += PAGE)
		p[off] = 1;
	munmap(p, FAULTS_BYTES);
	return 0;
}

struct watched {
	int fd;
	__u32 flags;
	struct ptscope_counters last;	/* of the last counted round */
};

/* The same, with the process watched: every fault goes through the hooks. */
static int touch_watched(void *ctx)
{
	struct watched *wd = ctx;
	struct ptscope_watch w = { .size = sizeof(w), .flags = wd->flags, .pid = getpid() };
	int err;

	if (ioctl(wd->fd, PTSCOPE_IOC_WATCH, &w))
		return -errno;
	err = touch_fresh(NULL);
	memset(&wd->last, 0, sizeof(wd->last));
	wd->last.size = sizeof(wd->last);
	wd->last.id = w.id;
	w.pid = 0;
	w.flags = 0;
	if (ioctl(wd->fd, PTSCOPE_IOC_COUNTERS, &wd->last) ||
	    ioctl(wd->fd, PTSCOPE_IOC_UNWATCH, &w))
		return -errno;
	return err;
}

/*
 * The reference of the detail row: wait, untimed, until the fault probe
 * that the last watched round left for a second (counters.c) is gone, or
 * the reference would pay for it too.
 */
static int fault_probe_detached(void *ctx)
{
	(void)ctx;
	return fault_probe_gone(5000) ? -ETIMEDOUT : 0;
}

static int case_counters(void)
{
	static const struct {
		const char *name;
		__u32 flags;
	} kinds[] = {
		{ "counters: 65536 faults, watched", 0 },
		{ "counters: 65536 faults, watched with detail", PTSCOPE_WATCH_FAULT_DETAIL },
	};
	struct watched wd = { .fd = open(PTSCOPE_DEV, O_RDWR) };
	size_t k;

	if (wd.fd < 0)
		return 1;
	touch_fresh(NULL);	/* warm up: allocator, page cache */
	for (k = 0; k < 2; k++) {
		struct row *r = row_new(kinds[k].name, "not watched", "ms", 1.05);

		wd.flags = kinds[k].flags;
		if (compare_prep(r, touch_watched, touch_fresh,
				 k ? fault_probe_detached : NULL, &wd, rounds(5), 1))
			continue;
		/*
		 * Fault exceptions are counted everywhere (arm64: the total only,
		 * from the software perf event); TLB flushes not on arm64.
		 */
		row_note(r, "valid %#x", wd.last.valid);
		if (!(wd.last.valid & (PTSCOPE_CNT_F_FAULTS | PTSCOPE_CNT_F_FAULT_TOTAL))) {
			row_na(r, "no fault count on this kernel");
			continue;
		}
		/* the counters must have seen the faults, or nothing was measured */
		if (row_check(r, wd.last.faults[PTSCOPE_FLT_TOTAL] < FAULTS,
			      "the watch counted fewer faults than were taken"))
			continue;
		if (row_check(r, (wd.last.valid & PTSCOPE_CNT_F_OUTCOME) &&
			      wd.last.faults[PTSCOPE_FLT_MINOR] + wd.last.faults[PTSCOPE_FLT_MAJOR] <
			      FAULTS, "the watch completed fewer faults than were taken"))
			continue;
		row_note(r, "last round counted %llu faults",
			 (unsigned long long)wd.last.faults[PTSCOPE_FLT_TOTAL]);
		row_judge(r);
	}
	close(wd.fd);
	return 0;
}

/* --- main ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	const char *help;
	int (*run)(void);
} cases[] = {
	{ "dense", "1 GiB of written base pages: pagemap, PAGEMAP_SCAN", case_dense },
	{ "vtop", "one address of 16 MiB of written base pages: a pagemap pread", case_vtop },
	{ "thp", "1 GiB of PMD-sized THPs: pagemap, PAGEMAP_SCAN", case_thp },
	{ "mthp", "1 GiB of written mTHPs (arm64: contiguous blocks): pagemap, PAGEMAP_SCAN",
	  case_mthp },
	{ "sparse", "100 MiB over the address space: PAGEMAP_SCAN; a 64 GiB window: pagemap",
	  case_sparse },
	{ "summary", "2000 VMAs, 4 GiB: smaps, smaps_rollup, maps, PROCMAP_QUERY; stall; tool",
	  case_summary },
	{ "stall", "a 16 GiB VMA read while its process faults: mmap_lock holds", case_stall16 },
	{ "counters", "what watching costs 65536 faults", case_counters },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: ptscope_bench [-r ROUNDS] [-k KERNEL] [-m MACHINE] [-j FILE] "
		"[CASE...]\ncases:\n");
	for (i = 0; i < NCASES; i++)
		fprintf(stderr, "  %-9s %s\n", cases[i].name, cases[i].help);
	exit(2);
}

static void machine_line(char *buf, size_t len, const char *host)
{
	long mem = meminfo_value("MemTotal");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	snprintf(buf, len, "%s%sguest: %ld vCPU%s, %ld MiB", host ? host : "", host ? "; " : "",
		 cpus, cpus == 1 ? "" : "s", mem / 1024);
}

int main(int argc, char **argv)
{
	const char *json = NULL, *host = NULL;
	char kernel[128], machine[256], title[512];
	struct utsname u;
	int opt, rc = 0, i;
	size_t j;

	uname(&u);
	snprintf(kernel, sizeof(kernel), "%s", u.release);
	if (argc > 2 && !strcmp(argv[1], "-x"))
		return spawn_main(argv + 2);
	while ((opt = getopt(argc, argv, "r:k:m:j:h")) != -1) {
		switch (opt) {
		case 'r':
			rounds_opt = atoi(optarg);
			if (rounds_opt < 1 || rounds_opt > MAX_ROUNDS)
				usage();
			break;
		case 'k':
			snprintf(kernel, sizeof(kernel), "%s (%s)", optarg, u.release);
			break;
		case 'm':
			host = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		default:
			usage();
		}
	}
	faulter = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (faulter == MAP_FAILED)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (j = 0; j < NCASES; j++) {
		int want = optind == argc;

		for (i = optind; i < argc; i++)
			want |= !strcmp(argv[i], cases[j].name);
		if (!want)
			continue;
		printf("# %s: %s\n", cases[j].name, cases[j].help);
		rc |= cases[j].run();
	}
	for (i = optind; i < argc; i++) {
		for (j = 0; j < NCASES && strcmp(argv[i], cases[j].name); j++)
			;
		if (j == NCASES)
			usage();
	}
	machine_line(machine, sizeof(machine), host);
	snprintf(title, sizeof(title), "ptscope bench, kernel %s; %s", kernel, machine);
	print_table(stdout, title);
	for (i = 0; i < nrows; i++)
		rc |= rows[i].state == ROW_WRONG || rows[i].state == ROW_FAILED;
	if (json && write_json(json, kernel, machine)) {
		fprintf(stderr, "ptscope_bench: cannot write %s: %s\n", json, strerror(errno));
		rc = 1;
	}
	return rc;
}
