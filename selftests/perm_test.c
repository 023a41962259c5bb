// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope selftests: who may read what, what a reader without
 * CAP_SYS_ADMIN gets, and what the debugfs views hold and print of a
 * target. The kernel's answers are the reference: whether the same
 * credentials may open /proc/PID/pagemap, what pagemap shows them, what
 * /proc/PID/maps prints, and /proc/meminfo.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sched.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <uapi/ptscope.h>
#include "ptscope_util.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/* --- credentials ---------------------------------------------------------- */

/*
 * landlock_self - restrict this process with a Landlock domain that handles
 * one filesystem access and allows none: it changes nothing for the files
 * used here, but puts the process in a domain of its own, which the kernel
 * checks on every ptrace access to a process outside it. 0, or the errno.
 */
static int landlock_self(void)
{
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_REG,
	};
	int fd, err = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return errno;
	fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return errno;
	if (syscall(SYS_landlock_restrict_self, fd, 0))
		err = errno;
	close(fd);
	return err;
}

/* target_errno - PTSCOPE_IOC_TARGET of @pid on @fd: 0 or the errno */
static int target_errno(int fd, pid_t pid)
{
	struct ptscope_target t = { .size = sizeof(t), .pid = pid };

	return ioctl(fd, PTSCOPE_IOC_TARGET, &t) ? errno : 0;
}

/* child_status - wait for @pid; its exit status, or -1 */
static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * not_perfmon - CAP_SYS_ADMIN and CAP_PERFMON out of the effective set: 7.x's
 * mm_access() lets a perfmon_capable() caller read any process's pagemap
 * whatever ptrace_may_access() and the LSMs say (may_access_mm() in
 * kernel/fork.c). Without them, a Landlock domain is what decides, on every
 * kernel. 0 or -1.
 */
static int not_perfmon(void)
{
	return set_effective(CAP_SYS_ADMIN, 0) || set_effective(CAP_PERFMON, 0) ? -1 : 0;
}

/*
 * A process that has restricted itself with Landlock cannot open its
 * parent's pagemap (the kernel's answer, checked first), and gets the same
 * refusal from ptscope, at TARGET and at the next query of a target it
 * selected before restricting itself; its own process stays readable.
 */
TEST(landlocked_caller)
{
	pid_t parent = getpid(), pid;
	int status;

	if (access(PTSCOPE_DEV, F_OK))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int before = open(PTSCOPE_DEV, O_RDWR), fd, err;
		struct ptscope_vtop v;

		if (before < 0 || target_errno(before, parent))
			_exit(10);
		if (pagemap_open_errno(parent))
			_exit(11);
		err = landlock_self();
		if (err == ENOSYS || err == EOPNOTSUPP)
			_exit(4);	/* SKIP: no Landlock */
		if (err)
			_exit(12);
		fd = open(PTSCOPE_DEV, O_RDWR);	/* the device asks for CAP_SYS_ADMIN */
		if (fd < 0)
			_exit(14);
		if (not_perfmon())
			_exit(19);
		if (pagemap_open_errno(parent) != EACCES)
			_exit(13);	/* the kernel's answer is the reference */
		if (target_errno(fd, parent) != EPERM)
			_exit(15);
		if (ptscope_vtop(before, (uintptr_t)&v, &v) != -EPERM)
			_exit(16);	/* selected before: refused at the query */
		if (target_errno(fd, getpid()) || ptscope_vtop(fd, (uintptr_t)&v, &v))
			_exit(17);
		if (v.result != PTSCOPE_VTOP_MAPPED)
			_exit(18);
		_exit(0);
	}
	status = child_status(pid);
	if (status == 4)
		SKIP(return, "Landlock is not enabled in this kernel");
	EXPECT_EQ(0, status) TH_LOG("step %d failed", status);
}

/*
 * The module remembers a caller's positive answers (may read the target,
 * may see PFNs) for its cred: a capability dropped from the effective set
 * (a new cred) is seen at the very next query on the same open file, and
 * so is its return. pagemap gives the frame the translation must show.
 */
TEST(capabilities_dropped_between_queries)
{
	char *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t parent = getpid(), pid;
	int status;

	if (access(PTSCOPE_DEV, F_OK))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	if (geteuid())
		SKIP(return, "needs root's capabilities to drop them");
	ASSERT_NE(MAP_FAILED, page);
	page[0] = 1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t pfn = pagemap_entry(parent, (uintptr_t)page) & PM_PFN_MASK;
		int fd = open(PTSCOPE_DEV, O_RDWR);
		struct ptscope_vtop v;

		if (!pfn || fd < 0 || target_errno(fd, parent))
			_exit(10);
		if (ptscope_vtop(fd, (uintptr_t)page, &v) || v.phys / PAGE != pfn)
			_exit(11);
		if (set_effective(CAP_SYS_PTRACE, 0))
			_exit(12);
		if (ptscope_vtop(fd, (uintptr_t)page, &v) != -EPERM)
			_exit(13);	/* the remembered answer was another cred's */
		if (set_effective(CAP_SYS_PTRACE, 1))
			_exit(14);
		if (ptscope_vtop(fd, (uintptr_t)page, &v) || v.phys / PAGE != pfn)
			_exit(15);
		if (set_effective(CAP_SYS_ADMIN, 0))
			_exit(16);
		if (ptscope_vtop(fd, (uintptr_t)page, &v) || v.result != PTSCOPE_VTOP_MAPPED ||
		    v.phys || v.levels[0].table_pa)
			_exit(17);	/* hidden now: no frame, no table address */
		if (set_effective(CAP_SYS_ADMIN, 1))
			_exit(18);
		if (ptscope_vtop(fd, (uintptr_t)page, &v) || v.phys / PAGE != pfn)
			_exit(19);
		_exit(0);
	}
	status = child_status(pid);
	EXPECT_EQ(0, status) TH_LOG("step %d failed", status);
	munmap(page, PAGE);
}

/* --- hidden mode: nothing may depend on physical placement --------------- */

#define NPAGES	64

/* A fixed shuffle of 0..NPAGES-1 (a multiplier coprime with NPAGES). */
static unsigned int shuffled(unsigned int i)
{
	return (i * 37 + 11) % NPAGES;
}

static void touch(char *p, unsigned int i)
{
	p[i * PAGE] = i + 1;
}

/*
 * read_pages - read every page of @p: its entries young again, whatever
 * reclaim's aging cleared while the layout was made (once on 7.3-arm64 one
 * page's AF was clear in one layout only, and the hidden readings differed by
 * that bit, not by anything physical). A read, so no copy-on-write.
 */
static void read_pages(const char *p)
{
	unsigned int i;

	for (i = 0; i < NPAGES; i++)
		(void)*(const volatile char *)(p + i * PAGE);
}

/* frame_breaks - where the next frame is not the next one up, in @frames */
static unsigned int frame_breaks(const uint64_t *frames)
{
	unsigned int i, breaks = 0;

	for (i = 1; i < NPAGES; i++)
		breaks += frames[i] != frames[i - 1] + 1;
	return breaks;
}

/* Are A's frames (pagemap of this process) rising, with two breaks at most? */
static int contiguous(char *a)
{
	uint64_t frames[NPAGES];
	unsigned int i;

	for (i = 0; i < NPAGES; i++)
		frames[i] = pagemap_entry(getpid(), (uintptr_t)a + i * PAGE) & PM_PFN_MASK;
	return frames[0] && frame_breaks(frames) <= 2;
}

/*
 * fault_in - A's pages dropped, then faulted in forward or @backward. The
 * per-CPU free lists hand back the pages just freed, last first: one of the
 * two directions gives rising frames when the pages freed were. With
 * @drain, 8 MiB are written in between (and kept), which empties those
 * lists: A's pages then come from the buddy allocator's refills, in order.
 */
static int fault_in(char *a, int backward, int drain)
{
	size_t scratch = 8UL << 20, i;
	char *p;

	if (madvise(a, NPAGES * PAGE, MADV_DONTNEED))
		return -1;
	if (drain) {
		p = mmap(NULL, scratch, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (p == MAP_FAILED || madvise(p, scratch, MADV_NOHUGEPAGE))
			return -1;
		for (i = 0; i < scratch; i += PAGE)
			p[i] = 1;
	}
	for (i = 0; i < NPAGES; i++)
		touch(a, backward ? NPAGES - 1 - i : i);
	return 0;
}

/*
 * The layouts of mapping A (addr[0], NPAGES pages, no THP), action by action;
 * mapping B (addr[1]) only takes pages in between.
 *  1: A's pages faulted in until their frames are consecutive, but for two
 *     breaks at most (a few tries), B's after them
 *  2: A's faulted in shuffled, each followed by one of B's
 *  3: as 1, then A paged out page by page, forward
 *  4: as 1, then A paged out page by page, shuffled
 *  5: as 1, then one child shares A's pages (mapcount 2)
 *  6: then a second child does (mapcount 3)
 */
static int act_layouts(struct target_shared *sh, int cmd)
{
	char *a = (char *)(uintptr_t)sh->addr[0], *b = (char *)(uintptr_t)sh->addr[1];
	cpu_set_t cpus;
	unsigned int i;

	switch (cmd) {
	case 0:
		/* One CPU: MADV_PAGEOUT drains only this CPU's LRU batch. */
		CPU_ZERO(&cpus);
		CPU_SET(0, &cpus);
		if (sched_setaffinity(0, sizeof(cpus), &cpus))
			return -1;
		/*
		 * A and B between PROT_NONE guards: no mapping made later
		 * (a thread's stack, say) merges into A's VMA and moves its
		 * bounds between two readings.
		 */
		a = mmap(NULL, (2 * NPAGES + 3) * PAGE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a == MAP_FAILED)
			return -1;
		b = mmap(a + (NPAGES + 2) * PAGE, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		a = mmap(a + PAGE, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (a == MAP_FAILED || b == MAP_FAILED ||
		    madvise(a, NPAGES * PAGE, MADV_NOHUGEPAGE) ||
		    madvise(b, NPAGES * PAGE, MADV_NOHUGEPAGE))
			return -1;
		sh->addr[0] = (uintptr_t)a;
		sh->addr[1] = (uintptr_t)b;
		return 0;
	case 1:
	case 3:
	case 4:
	case 5:
		if (madvise(b, NPAGES * PAGE, MADV_DONTNEED))
			return -1;
		for (i = 0; i < 8 && !contiguous(a); i++)
			if (fault_in(a, i & 1, !(i & 1)))
				return -1;
		for (i = 0; i < NPAGES; i++)
			touch(b, i);
		break;
	case 2:
		if (madvise(a, NPAGES * PAGE, MADV_DONTNEED) ||
		    madvise(b, NPAGES * PAGE, MADV_DONTNEED))
			return -1;
		for (i = 0; i < NPAGES; i++) {
			touch(a, shuffled(i));
			touch(b, i);
		}
		read_pages(a);
		return 0;
	}
	if (cmd == 3 || cmd == 4) {
		for (i = 0; i < NPAGES; i++)
			if (madvise(a + (cmd == 3 ? i : shuffled(i)) * PAGE, PAGE, MADV_PAGEOUT))
				return -1;
		return 0;
	}
	if (cmd == 5 || cmd == 6) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}
	read_pages(a);
	return 0;
}

/* What one reader gets of mapping A: WALK runs, VTOP of each page, its VMA, HUGE_VMAS. */
struct reading {
	long nruns;
	struct ptscope_run runs[2 * NPAGES + 8];
	struct ptscope_vtop vtop[NPAGES];
	struct ptscope_vma vma;
	struct ptscope_huge_vma huge;
};

static int huge_vma_at(int fd, uint64_t a, struct ptscope_huge_vma *h)
{
	struct ptscope_vmas q = {
		.size = sizeof(q), .start = a, .end = a + PAGE, .vma_size = sizeof(*h),
		.count = 1, .vmas = (uintptr_t)h,
	};

	if (ioctl(fd, PTSCOPE_IOC_HUGE_VMAS, &q))
		return -1;
	return q.count == 1 ? 0 : -1;
}

static int read_a(int fd, uint64_t a, struct reading *r)
{
	struct ptscope_run *runs = NULL;
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->nruns = ptscope_walk_all(fd, a, a + NPAGES * PAGE, PTSCOPE_WALK_TABLES, &runs);
	if (r->nruns < 0 || r->nruns > (long)(sizeof(r->runs) / sizeof(r->runs[0])))
		return -1;
	memcpy(r->runs, runs, r->nruns * sizeof(*runs));
	free(runs);
	for (i = 0; i < NPAGES; i++)
		if (ptscope_vtop(fd, a + i * PAGE, &r->vtop[i]))
			return -1;
	if (ptscope_vma_at(fd, a, &r->vma))
		return -1;
	return huge_vma_at(fd, a, &r->huge);
}

/* read_hidden - read_a() with CAP_SYS_ADMIN out of the effective set */
static int read_hidden(int fd, uint64_t a, struct reading *r)
{
	int err;

	if (set_effective(CAP_SYS_ADMIN, 0))
		return -1;
	err = read_a(fd, a, r);
	if (set_effective(CAP_SYS_ADMIN, 1))
		return -1;
	return err;
}

/* pagemap_frames - what pagemap says of A's pages (PFN, or swap type and offset) */
static void pagemap_frames(pid_t pid, uint64_t a, uint64_t *frames)
{
	unsigned int i;

	for (i = 0; i < NPAGES; i++)
		frames[i] = pagemap_entry(pid, a + i * PAGE) & PM_PFN_MASK;
}

FIXTURE(hidden) {
	struct target t;
	int fd;
	uint64_t a;
	struct reading *shown[2], *hidden[2];
	uint64_t frames[2][NPAGES];
};

FIXTURE_SETUP(hidden)
{
	unsigned int i;

	self->fd = -1;
	self->t.pid = 0;
	if (access(PTSCOPE_DEV, F_OK))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	if (geteuid())
		SKIP(return, "needs root to read with and without CAP_SYS_ADMIN");
	for (i = 0; i < 2; i++) {
		self->shown[i] = malloc(sizeof(struct reading));
		self->hidden[i] = malloc(sizeof(struct reading));
		ASSERT_TRUE(self->shown[i] && self->hidden[i]);
	}
	ASSERT_EQ(0, target_start(&self->t, act_layouts));
	self->a = self->t.sh->addr[0];
	self->fd = ptscope_open_target(self->t.pid, NULL);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(hidden)
{
	unsigned int i;

	if (self->t.pid)
		target_stop(&self->t);
	if (self->fd >= 0)
		close(self->fd);
	for (i = 0; i < 2; i++) {
		free(self->shown[i]);
		free(self->hidden[i]);
	}
}

/* read_layout - lay A out by action @cmd, then read it both ways into slot @i */
static int read_layout(struct __test_metadata *_metadata,
		       FIXTURE_DATA(hidden) *self, int cmd, int i)
{
	if (target_do(&self->t, cmd))
		return -1;
	pagemap_frames(self->t.pid, self->a, self->frames[i]);
	if (read_a(self->fd, self->a, self->shown[i]))
		return -1;
	return read_hidden(self->fd, self->a, self->hidden[i]);
}

/* Name the 8-byte words where two readings differ, to tell which field moved. */
static void log_bytes_differing(struct __test_metadata *_metadata, const char *what,
				const void *a, const void *b, size_t size)
{
	const uint64_t *x = a, *y = b;
	size_t i;

	for (i = 0; i < size / 8; i++)
		if (x[i] != y[i])
			TH_LOG("%s: byte %zu: %#llx vs %#llx", what, i * 8,
			       (unsigned long long)x[i], (unsigned long long)y[i]);
}

/* Every byte a hidden reader gets is the same for both layouts. */
static void expect_same_hidden(struct __test_metadata *_metadata,
			       FIXTURE_DATA(hidden) *self)
{
	const struct reading *h0 = self->hidden[0], *h1 = self->hidden[1];
	long i;

	EXPECT_EQ(h0->nruns, h1->nruns);
	for (i = 0; i < h0->nruns && i < h1->nruns; i++)
		if (memcmp(&h0->runs[i], &h1->runs[i], sizeof(h0->runs[i])))
			TH_LOG("run %ld: start %#llx x%llu entry %#llx vs start %#llx x%llu entry %#llx",
			       i, (unsigned long long)h0->runs[i].start,
			       (unsigned long long)h0->runs[i].count,
			       (unsigned long long)h0->runs[i].entry,
			       (unsigned long long)h1->runs[i].start,
			       (unsigned long long)h1->runs[i].count,
			       (unsigned long long)h1->runs[i].entry);
	EXPECT_EQ(0, memcmp(h0->runs, h1->runs, sizeof(h0->runs)));
	for (i = 0; i < NPAGES; i++)
		if (memcmp(&h0->vtop[i], &h1->vtop[i], sizeof(h0->vtop[i])))
			break;
	EXPECT_EQ(NPAGES, i) TH_LOG("VTOP of page %ld differs", i);
	log_bytes_differing(_metadata, "VTOP", &h0->vtop[i % NPAGES], &h1->vtop[i % NPAGES],
			    sizeof(h0->vtop[0]));
	EXPECT_EQ(0, memcmp(&h0->vma, &h1->vma, sizeof(h0->vma)));
	log_bytes_differing(_metadata, "VMAS", &h0->vma, &h1->vma, sizeof(h0->vma));
	EXPECT_EQ(0, memcmp(&h0->huge, &h1->huge, sizeof(h0->huge)));
	log_bytes_differing(_metadata, "HUGE_VMAS", &h0->huge, &h1->huge, sizeof(h0->huge));
}

/* The privileged reading matches pagemap, frame for frame. */
static void expect_shown_is_pagemap(struct __test_metadata *_metadata,
				    FIXTURE_DATA(hidden) *self, int i)
{
	unsigned int p, bad = 0;

	for (p = 0; p < NPAGES; p++) {
		const struct ptscope_vtop *v = &self->shown[i]->vtop[p];
		uint64_t frame = v->result == PTSCOPE_VTOP_SWAPPED ?
				 v->swap_type | v->swap_offset << 5 : v->phys / PAGE;

		bad += frame != self->frames[i][p];
	}
	EXPECT_EQ(0, bad);
}

/* Resident pages: consecutive frames, or shuffled among another mapping's. */
TEST_F(hidden, resident_layouts)
{
	ASSERT_EQ(0, read_layout(_metadata, self, 1, 0));
	ASSERT_EQ(0, read_layout(_metadata, self, 2, 1));
	EXPECT_NE(0, memcmp(self->frames[0], self->frames[1], sizeof(self->frames[0])))
		TH_LOG("pagemap shows the same frames: the layouts did not differ");
	expect_shown_is_pagemap(_metadata, self, 0);
	expect_shown_is_pagemap(_metadata, self, 1);
	/* Where the frames came out consecutive, privileged runs merge them. */
	if (frame_breaks(self->frames[0]) <= 2) {
		EXPECT_LT(self->shown[0]->nruns, self->shown[1]->nruns);
	} else {
		TH_LOG("A's frames did not come out consecutive: merging not compared");
	}
	expect_same_hidden(_metadata, self);
}

/* Swapped out: the same pages paged out in another order get other slots. */
TEST_F(hidden, swap_layouts)
{
	ASSERT_EQ(0, read_layout(_metadata, self, 3, 0));
	if (self->shown[0]->vtop[0].result != PTSCOPE_VTOP_SWAPPED)
		SKIP(return, "nothing was swapped out: no swap device (run-guest sets up zram)");
	ASSERT_EQ(0, read_layout(_metadata, self, 4, 1));
	EXPECT_NE(0, memcmp(self->frames[0], self->frames[1], sizeof(self->frames[0])))
		TH_LOG("pagemap shows the same swap slots: the layouts did not differ");
	expect_shown_is_pagemap(_metadata, self, 0);
	expect_shown_is_pagemap(_metadata, self, 1);
	expect_same_hidden(_metadata, self);
}

/* Shared with one child, then with two: only the mapcount (kpagecount) moves. */
TEST_F(hidden, sharers)
{
	ASSERT_EQ(0, read_layout(_metadata, self, 5, 0));
	ASSERT_EQ(0, read_layout(_metadata, self, 6, 1));
	EXPECT_EQ(3, kpagecount(pagemap_entry(self->t.pid, self->a) & PM_PFN_MASK));
	EXPECT_EQ(2, self->shown[0]->vtop[0].mapcount);
	EXPECT_EQ(3, self->shown[1]->vtop[0].mapcount);
	expect_same_hidden(_metadata, self);
}

/* What a hidden reader gets carries no frame, slot, table address or count. */
TEST_F(hidden, no_physical_fields)
{
	const struct reading *h;
	unsigned int i, l;
	long r;

	ASSERT_EQ(0, read_layout(_metadata, self, 3, 0));
	ASSERT_EQ(0, read_layout(_metadata, self, 1, 1));
	for (i = 0; i < 2; i++) {
		h = self->hidden[i];
		for (r = 0; r < h->nruns; r++) {
			const struct ptscope_run *run = &h->runs[r];
			uint64_t keep = run->kind == PTSCOPE_KIND_PAGE ||
					run->kind == PTSCOPE_KIND_TABLE ?
					~entry_addr_mask() : swap_flag_mask();

			EXPECT_EQ(0, run->pfn | run->table_pa | run->swap_offset |
				     run->swap_type | run->mapcount);
			EXPECT_EQ(0, run->entry & ~keep);
			EXPECT_EQ(0, run->page & PTSCOPE_PAGE_KSM);
		}
		for (l = 0; l < NPAGES; l++) {
			const struct ptscope_vtop *v = &h->vtop[l];

			EXPECT_EQ(0, v->phys | v->swap_offset | v->swap_type | v->mapcount);
			for (r = 0; r < v->nlevels; r++)
				EXPECT_EQ(0, v->levels[r].table_pa | v->levels[r].pfn);
		}
	}
}

/* --- debugfs views ---------------------------------------------------------- */

/* read_all - the whole of debugfs file @name into a malloc'ed string, or NULL */
static char *read_all(const char *name)
{
	char path[128];
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", PTSCOPE_DEBUGFS, name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf) {
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* line_with - the line of @text containing @needle, copied into @out */
static int line_with(const char *text, const char *needle, char *out, size_t len)
{
	const char *hit = strstr(text, needle), *start, *end;

	if (!hit)
		return -1;
	for (start = hit; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(hit, '\n');
	if (!end || (size_t)(end - start) >= len)
		return -1;
	memcpy(out, start, end - start);
	out[end - start] = '\0';
	return 0;
}

/* read_maps - /proc/self/maps into a malloc'ed string, or NULL */
static char *read_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char *text = malloc(1 << 16);
	size_t n;

	if (!f || !text) {
		if (f)
			fclose(f);
		free(text);
		return NULL;
	}
	n = fread(text, 1, (1 << 16) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

#define FORGED	"ffff000000000000-ffff000000001000 rw-p 00000000 00:00 0 forged"

/*
 * A file name with a newline must not forge a line in debugfs vmas: it is
 * escaped as /proc/PID/maps escapes it (\012), and ends the VMA's line there.
 */
TEST(debugfs_vmas_escapes_names)
{
	const char *name = "/tmp/a\n" FORGED;
	char key[64], ours[1024], maps[1024], pid[16], *text, *mapsname, *ourname;
	void *p;
	int fd;

	if (access(PTSCOPE_DEBUGFS "/vmas", R_OK))
		SKIP(return, "no ptscope debugfs");
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, PAGE));
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, debugfs_write("target", pid));
	text = read_all("vmas");
	ASSERT_NE(NULL, text);
	EXPECT_EQ(NULL, strstr(text, "\nffff000000000000-")) TH_LOG("a forged line:\n%s", text);
	snprintf(key, sizeof(key), "%016lx-", (unsigned long)(uintptr_t)p);
	ASSERT_EQ(0, line_with(text, key, ours, sizeof(ours)));
	free(text);

	snprintf(key, sizeof(key), "%lx-", (unsigned long)(uintptr_t)p);
	text = read_maps();
	ASSERT_NE(NULL, text);
	ASSERT_EQ(0, line_with(text, key, maps, sizeof(maps)));
	free(text);
	mapsname = strstr(maps, "/tmp/a");
	ourname = strstr(ours, "/tmp/a");
	ASSERT_NE(NULL, mapsname);
	ASSERT_NE(NULL, ourname) TH_LOG("debugfs: %s", ours);
	EXPECT_STREQ(mapsname, ourname);
	EXPECT_NE(NULL, strstr(mapsname, "\\012"));
	munmap(p, PAGE);
	close(fd);
	unlink(name);
}

/* 64 MiB of written anonymous memory; then still. */
static int act_big(struct target_shared *sh, int cmd)
{
	size_t len = 64UL << 20;
	char *p;

	if (cmd)
		return 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	memset(p, 1, len);
	sh->addr[0] = (uintptr_t)p;
	return 0;
}

/*
 * A view held open does not pin its target's memory: when the target
 * exits, its pages are freed (AnonPages of /proc/meminfo falls by them),
 * and the view's next reads end cleanly (EOF or ESRCH).
 */
TEST(debugfs_view_does_not_pin)
{
	static const char *const views[] = { "vmas", "pagetable", "huge_vmas" };
	long long before, after;
	int fds[3], i, err;
	struct target t;
	char pid[16], buf[4096];
	ssize_t n;

	if (access(PTSCOPE_DEBUGFS "/vmas", R_OK))
		SKIP(return, "no ptscope debugfs");
	ASSERT_EQ(0, target_start(&t, act_big));
	snprintf(pid, sizeof(pid), "%d", t.pid);
	ASSERT_EQ(0, debugfs_write("target", pid));
	for (i = 0; i < 3; i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", PTSCOPE_DEBUGFS, views[i]);
		fds[i] = open(path, O_RDONLY);
		ASSERT_LE(0, fds[i]);
		ASSERT_LT(0, read(fds[i], buf, 100));
	}
	before = meminfo_value("AnonPages");
	kill(t.pid, SIGKILL);
	waitpid(t.pid, NULL, 0);
	t.pid = 0;
	after = meminfo_value("AnonPages");
	EXPECT_LT(after, before - 48 * 1024)
		TH_LOG("AnonPages %lld kB before the target's exit, %lld kB after", before, after);
	for (i = 0; i < 3; i++) {
		int reads = 0;

		while ((n = read(fds[i], buf, sizeof(buf))) > 0 && reads < 10000)
			reads++;
		err = n < 0 ? errno : 0;
		EXPECT_TRUE(n == 0 || err == ESRCH)
			TH_LOG("%s: read returned %zd (%s)", views[i], n, strerror(err));
		close(fds[i]);
	}
	target_stop(&t);
}

/* --- the permissions matrix ------------------------------------------------ */

/*
 * Callers (the variants) x targets x operations. Every cell asserts the
 * exact errno; where reading is allowed, what comes back is compared with
 * what pagemap gives the same credentials: PFNs with CAP_SYS_ADMIN, none
 * without. ptscope is never more permissive than pagemap's open.
 */
enum { T_SELF, T_SAME_USER, T_OTHER_USER, T_LANDLOCKED, NTARGETS };
enum { OP_TARGET, OP_WATCH, OP_DEBUGFS, NOPS };

static const char *const target_names[] = { "self", "same user", "other user", "landlocked" };
static const char *const op_names[] = { "TARGET", "WATCH", "debugfs" };

#define USER		1000
#define NOBODY_UID	65534

struct cell {
	int err;		/* errno of the operation, 0 when allowed */
	int pagemap_err;	/* opening /proc/PID/pagemap with the same credentials */
	int info;		/* allowed: 1 what pagemap shows, < 0 a step that differed */
};

/* become - switch to @uid as a login would: dumpable, so its own /proc files are its own */
static int become(uid_t uid)
{
	return setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid) ||
	       prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/* A target: a process of @sh->arg's uid, dumpable, with one page written. */
static int act_sleeper(struct target_shared *sh, int cmd)
{
	uid_t uid = sh->arg;
	char *p;

	if (cmd)
		return 0;
	if (uid && become(uid))
		return -1;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	p[0] = 1;
	sh->addr[0] = (uintptr_t)p;
	return 0;
}

/* keep_only - this process's capabilities become @cap alone (or none: -1) */
static int keep_only(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { };

	if (cap >= 0) {
		d[cap / 32].effective = 1U << (cap % 32);
		d[cap / 32].permitted = 1U << (cap % 32);
	}
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

static int watch_errno(int fd, pid_t pid)
{
	struct ptscope_watch w = { .size = sizeof(w), .pid = pid };

	if (ioctl(fd, PTSCOPE_IOC_WATCH, &w))
		return errno;
	w.pid = 0;
	return ioctl(fd, PTSCOPE_IOC_UNWATCH, &w) ? -1 : 0;
}

/*
 * device_info - what TARGET of @pid lets @fd read of the page at @addr:
 * with @shown, the frame pagemap gives these credentials, in WALK and VTOP;
 * without, no frame in pagemap, WALK or VTOP. 1, or the step that differed.
 */
static int device_info(int fd, pid_t pid, uint64_t addr, int shown)
{
	uint64_t pfn = pagemap_entry(pid, addr) & PM_PFN_MASK;
	struct ptscope_run *runs = NULL;
	struct ptscope_vtop v;
	long n, i;
	int ret = 1;

	if (!!pfn != !!shown)
		return -1;
	if (ptscope_vtop(fd, addr, &v) || v.result != PTSCOPE_VTOP_MAPPED)
		return -2;
	if (v.phys / PAGE != pfn || v.mapcount != (shown ? 1 : 0))
		return -3;
	for (i = 0; i < v.nlevels && !shown; i++)
		if (v.levels[i].table_pa || v.levels[i].pfn ||
		    (v.levels[i].entry & entry_addr_mask()))
			return -4;
	n = ptscope_walk_all(fd, addr, addr + PAGE, PTSCOPE_WALK_TABLES, &runs);
	if (n <= 0)
		return -5;
	for (i = 0; i < n; i++) {
		const struct ptscope_run *r = &runs[i];

		if (r->kind == PTSCOPE_KIND_PAGE && r->pfn != pfn)
			ret = -6;
		if (!shown && (r->table_pa || r->mapcount || r->swap_offset ||
			       (r->entry & entry_addr_mask())))
			ret = -7;
	}
	free(runs);
	return ret;
}

/* frames_in - how many "KEY0x..." values in @text are zero and non-zero */
static void frames_in(const char *text, const char *key, int *zero, int *nonzero)
{
	const char *p = text;

	while ((p = strstr(p, key))) {
		p += strlen(key);
		if (strtoull(p, NULL, 16))
			(*nonzero)++;
		else
			(*zero)++;
	}
}

/*
 * debugfs_info - the pagetable view shows frames and table addresses
 * exactly when @shown; 1 or < 0
 */
static int debugfs_info(int shown)
{
	char *text = read_all("pagetable");
	int zero = 0, nonzero = 0, ret;

	if (!text)
		return -1;
	frames_in(text, " pfn ", &zero, &nonzero);
	frames_in(text, " table at ", &zero, &nonzero);
	if (shown)
		ret = nonzero ? 1 : -2;
	else
		ret = zero && !nonzero ? 1 : -3;
	free(text);
	return ret;
}

/* run_cells - every operation of the caller on @pid, whose page is at @addr */
static void run_cells(int fd, pid_t pid, uint64_t addr, int shown, struct cell *c)
{
	char nr[16];

	c[OP_TARGET].err = target_errno(fd, pid);
	c[OP_TARGET].pagemap_err = pagemap_open_errno(pid);
	if (!c[OP_TARGET].err)
		c[OP_TARGET].info = device_info(fd, pid, addr, shown);
	c[OP_WATCH].err = watch_errno(fd, pid);
	snprintf(nr, sizeof(nr), "%d", pid);
	c[OP_DEBUGFS].err = debugfs_write("target", nr);
	if (!c[OP_DEBUGFS].err)
		c[OP_DEBUGFS].info = debugfs_info(shown);
}

enum caller { ROOT, PTRACE_ROOT, PTRACE_USER, NOBODY };

FIXTURE(matrix) {
	struct target root_t, user_t, nobody_t;
	struct cell (*cells)[NOPS];
	int reloaded;
	mode_t mode;
};

FIXTURE_VARIANT(matrix) {
	enum caller caller;
	int expect[NTARGETS][NOPS];
};

/* Full root: everything but a process outside its Landlock domain. */
FIXTURE_VARIANT_ADD(matrix, root) {
	.caller = ROOT,
	.expect = {
		[T_SELF] = { 0, 0, 0 },
		[T_SAME_USER] = { 0, 0, 0 },
		[T_OTHER_USER] = { 0, 0, 0 },
		[T_LANDLOCKED] = { EPERM, EPERM, EPERM },
	},
};

/*
 * uid 0 holding CAP_SYS_PTRACE alone (the device opened before): another
 * user's pagemap is 0400 of its owner, which needs CAP_DAC_*.
 */
FIXTURE_VARIANT_ADD(matrix, ptrace_root) {
	.caller = PTRACE_ROOT,
	.expect = {
		[T_SELF] = { 0, 0, 0 },
		[T_SAME_USER] = { 0, 0, 0 },
		[T_OTHER_USER] = { EPERM, EPERM, EPERM },
		[T_LANDLOCKED] = { EPERM, EPERM, EPERM },
	},
};

/* uid 1000 holding CAP_SYS_PTRACE alone: debugfs is root's (0700). */
FIXTURE_VARIANT_ADD(matrix, ptrace_user) {
	.caller = PTRACE_USER,
	.expect = {
		[T_SELF] = { 0, 0, EACCES },
		[T_SAME_USER] = { 0, 0, EACCES },
		[T_OTHER_USER] = { EPERM, EPERM, EACCES },
		[T_LANDLOCKED] = { EPERM, EPERM, EACCES },
	},
};

/*
 * uid 65534 with allow_unprivileged=1: only itself; pagemap would also let
 * it read another process of its own uid, ptscope needs CAP_SYS_PTRACE.
 */
FIXTURE_VARIANT_ADD(matrix, nobody) {
	.caller = NOBODY,
	.expect = {
		[T_SELF] = { 0, 0, EACCES },
		[T_SAME_USER] = { EPERM, EPERM, EACCES },
		[T_OTHER_USER] = { EPERM, EPERM, EACCES },
		[T_LANDLOCKED] = { EPERM, EPERM, EACCES },
	},
};

#define KO "/lib/ptscope/ptscope.ko"

/* reload - the module again, with @params; 0 or -1 */
static int reload(const char *params)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rmmod ptscope && insmod " KO " %s", params);
	return system(cmd) ? -1 : 0;
}

FIXTURE_SETUP(matrix)
{
	struct stat st;

	self->reloaded = 0;
	self->root_t.pid = self->user_t.pid = self->nobody_t.pid = 0;
	if (access(PTSCOPE_DEV, F_OK))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	if (geteuid())
		SKIP(return, "needs root to become each caller");
	/* the entry layout, read while root: the callers may not open the device */
	ASSERT_NE(0, ptscope_version_info()->abi_major);
	if (variant->caller == NOBODY) {
		if (access(KO, R_OK))
			SKIP(return, KO " missing: cannot reload with allow_unprivileged=1");
		ASSERT_EQ(0, reload("allow_unprivileged=1"));
		self->reloaded = 1;
		ASSERT_EQ(0, stat(PTSCOPE_DEV, &st));
		self->mode = st.st_mode & 07777;
		ASSERT_EQ(0, chmod(PTSCOPE_DEV, 0666));
	}
	self->cells = mmap(NULL, sizeof(struct cell) * NTARGETS * NOPS, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->cells);
	ASSERT_EQ(0, target_start_arg(&self->root_t, act_sleeper, 0));
	ASSERT_EQ(0, target_start_arg(&self->user_t, act_sleeper, USER));
	ASSERT_EQ(0, target_start_arg(&self->nobody_t, act_sleeper, NOBODY_UID));
}

FIXTURE_TEARDOWN(matrix)
{
	if (self->root_t.pid)
		target_stop(&self->root_t);
	if (self->user_t.pid)
		target_stop(&self->user_t);
	if (self->nobody_t.pid)
		target_stop(&self->nobody_t);
	if (self->reloaded) {
		EXPECT_EQ(0, reload(""));
		EXPECT_EQ(0, chmod(PTSCOPE_DEV, self->mode));
	}
}

/*
 * caller_main - in a child: become the variant's caller, then run every
 * cell; the landlocked column is a child of the caller that restricted
 * itself, reading the caller.
 */
static int caller_main(FIXTURE_DATA(matrix) *self, enum caller caller)
{
	struct target *same = caller == ROOT || caller == PTRACE_ROOT ? &self->root_t :
			      caller == PTRACE_USER ? &self->user_t : &self->nobody_t;
	struct target *other = caller == ROOT || caller == PTRACE_ROOT ? &self->user_t :
			       &self->root_t;
	int shown = caller == ROOT, fd = -1;
	char *page;
	pid_t pid;

	if (caller != NOBODY && (fd = open(PTSCOPE_DEV, O_RDWR)) < 0)
		return 10;
	if (caller == PTRACE_ROOT && keep_only(CAP_SYS_PTRACE))
		return 11;
	if (caller == PTRACE_USER &&
	    (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || become(USER) || keep_only(CAP_SYS_PTRACE)))
		return 12;
	if (caller == NOBODY && (become(NOBODY_UID) || (fd = open(PTSCOPE_DEV, O_RDWR)) < 0))
		return 13;
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return 14;
	page[0] = 1;

	run_cells(fd, getpid(), (uintptr_t)page, shown, self->cells[T_SELF]);
	run_cells(fd, same->pid, same->sh->addr[0], shown, self->cells[T_SAME_USER]);
	run_cells(fd, other->pid, other->sh->addr[0], shown, self->cells[T_OTHER_USER]);
	pid = fork();
	if (pid < 0)
		return 15;
	if (pid == 0) {
		if (not_perfmon())
			_exit(17);
		if (landlock_self())
			_exit(16);
		run_cells(fd, getppid(), (uintptr_t)page, shown, self->cells[T_LANDLOCKED]);
		_exit(0);
	}
	return child_status(pid);
}

TEST_F(matrix, cells)
{
	int t, op, status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(caller_main(self, variant->caller));
	status = child_status(pid);
	if (status == 16)
		SKIP(return, "Landlock is not enabled in this kernel");
	ASSERT_EQ(0, status) TH_LOG("caller setup step %d failed", status);

	for (t = 0; t < NTARGETS; t++) {
		const struct cell *c = self->cells[t];

		for (op = 0; op < NOPS; op++) {
			EXPECT_EQ(variant->expect[t][op], c[op].err)
				TH_LOG("%s of %s: %s, expected %s", op_names[op], target_names[t],
				       strerror(c[op].err), strerror(variant->expect[t][op]));
			if (!c[op].err && op != OP_WATCH)
				EXPECT_EQ(1, c[op].info)
					TH_LOG("%s of %s: what it read differs from pagemap (step %d)",
					       op_names[op], target_names[t], -c[op].info);
		}
		/* Never more permissive than pagemap's open, refused as EPERM. */
		if (!c[OP_TARGET].err)
			EXPECT_EQ(0, c[OP_TARGET].pagemap_err)
				TH_LOG("%s: ptscope reads what pagemap refuses", target_names[t]);
		if (c[OP_TARGET].pagemap_err)
			EXPECT_EQ(EPERM, c[OP_TARGET].err);
	}
}

TEST_HARNESS_MAIN
