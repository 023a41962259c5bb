// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope_stress: readers of every kind against a target that keeps
 * changing its address space, for a given time.
 *
 * The target is a process with four threads: one maps, touches and unmaps
 * regions of random sizes; one mprotects and madvises (DONTNEED, PAGEOUT,
 * HUGEPAGE, COLLAPSE) a standing 16 MiB region; one makes THPs and splits
 * them by unmapping a page in the middle; one forks children that write to
 * the memory they share copy-on-write and exit.
 *
 * The readers, in threads of this process and in a second process: WALK of
 * the whole address space (with and without table entries), VMAS with
 * counts, HUGE_VMAS, VTOP of random addresses of the target, COUNTERS of a
 * watch with fault detail, and the debugfs views.
 *
 * What must hold: no call fails (the target is alive and ours to read, so
 * no errno is documented for these calls); a watch's counters never go
 * down; and when the target is told to stop changing, a last walk of every
 * VMA equals pagemap and VMAS equals /proc/PID/maps. Afterwards no watch is
 * left (debugfs ptscope/counters). Prints the operations of each kind.
 *
 * Usage: ptscope_stress [--seconds S] [--readers N] [--seed N]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <time.h>

#include "ptscope_util.h"

#define HUGE		pmd_size()	/* 2 MiB with 4 KiB pages, 32 MiB with 16 KiB */
#define STANDING	(16UL << 20)

enum op { OP_WALK, OP_WALK_TABLES, OP_VMAS, OP_HUGE_VMAS, OP_VTOP, OP_COUNTERS, OP_DEBUGFS,
	OP_MMAP, OP_MPROTECT, OP_MADVISE, OP_THP_SPLIT, OP_FORK, OP_NOPS };

static const char *const op_names[OP_NOPS] = {
	"walk", "walk+tables", "vmas+counts", "huge_vmas", "vtop", "counters", "debugfs",
	"target mmap/munmap", "target mprotect", "target madvise", "target thp+split",
	"target fork",
};

struct shared {
	uint64_t ops[OP_NOPS];
	uint64_t failures;
	int stop_readers;
	int stop_target;	/* 1: stop changing; the target sets quiet when it has */
	int quiet;
	uint64_t standing;	/* the target's standing region */
};

static struct shared *sh;
static unsigned int opt_seconds = 600, opt_readers = 3;
static uint64_t opt_seed;

static void count(enum op op)
{
	__atomic_fetch_add(&sh->ops[op], 1, __ATOMIC_RELAXED);
}

#define failure(...) torture_fail(&sh->failures, __VA_ARGS__)
#define rnd splitmix64

/* --- the target -------------------------------------------------------------- */

static bool target_running(void)
{
	return !__atomic_load_n(&sh->stop_target, __ATOMIC_RELAXED);
}

static void touch(char *p, size_t len, uint64_t *s)
{
	size_t i;

	for (i = 0; i < len; i += PAGE * (1 + rnd(s) % 2))
		p[i] = (char)i;
}

static void *t_mmap(void *arg)
{
	uint64_t s = opt_seed ^ 1;
	char *regions[8] = { 0 };
	size_t lens[8];

	(void)arg;
	while (target_running()) {
		unsigned int i = rnd(&s) % 8;

		if (regions[i]) {
			munmap(regions[i], lens[i]);
			regions[i] = NULL;
		} else {
			lens[i] = (1 + rnd(&s) % 512) * PAGE;
			regions[i] = mmap(NULL, lens[i], PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (regions[i] == MAP_FAILED)
				regions[i] = NULL;
			else
				touch(regions[i], lens[i], &s);
		}
		count(OP_MMAP);
	}
	return NULL;
}

static void *t_protect(void *arg)
{
	uint64_t s = opt_seed ^ 2;
	char *base = (char *)(uintptr_t)sh->standing;

	(void)arg;
	while (target_running()) {
		size_t off = rnd(&s) % (STANDING / PAGE) * PAGE;
		size_t len = (1 + rnd(&s) % 1024) * PAGE;
		static const int advice[] = { MADV_DONTNEED, MADV_PAGEOUT, MADV_HUGEPAGE,
					      MADV_NOHUGEPAGE, MADV_COLLAPSE };

		if (off + len > STANDING)
			len = STANDING - off;
		if (rnd(&s) % 2) {
			mprotect(base + off, len, rnd(&s) % 3 ? PROT_READ | PROT_WRITE : PROT_READ);
			count(OP_MPROTECT);
		} else {
			madvise(base + off, len, advice[rnd(&s) % 5]);
			count(OP_MADVISE);
		}
		/* write where it is writable: faults, COW of the zero page, THP */
		mprotect(base + off, len, PROT_READ | PROT_WRITE);
		touch(base + off, len, &s);
	}
	return NULL;
}

static void *t_thp(void *arg)
{
	uint64_t s = opt_seed ^ 3;

	(void)arg;
	while (target_running()) {
		char *p = map_aligned(2 * HUGE, HUGE);

		if (p == MAP_FAILED)
			continue;
		madvise(p, 2 * HUGE, MADV_HUGEPAGE);
		touch(p, 2 * HUGE, &s);
		munmap(p + HUGE / 2 + rnd(&s) % 16 * PAGE, PAGE);	/* splits the PMD */
		usleep(1000);
		munmap(p, 2 * HUGE);
		count(OP_THP_SPLIT);
	}
	return NULL;
}

static void *t_fork(void *arg)
{
	uint64_t s = opt_seed ^ 4;
	char *base = (char *)(uintptr_t)sh->standing;

	(void)arg;
	while (target_running()) {
		pid_t pid = fork();

		if (pid == 0) {
			mprotect(base, STANDING, PROT_READ | PROT_WRITE);
			touch(base + rnd(&s) % 64 * PAGE * 16, 64 * PAGE, &s);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		count(OP_FORK);
		usleep(5000);
	}
	return NULL;
}

static void target_main(void)
{
	void *(*fns[])(void *) = { t_mmap, t_protect, t_thp, t_fork };
	pthread_t th[4];
	char *base;
	uint64_t s = opt_seed;
	unsigned int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	base = map_aligned(STANDING, HUGE);
	if (base == MAP_FAILED)
		_exit(1);
	touch(base, STANDING, &s);
	sh->standing = (uintptr_t)base;
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, fns[i], NULL);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	/* Quiet from here: nothing moves that khugepaged would collapse. */
	madvise(base, STANDING, MADV_NOHUGEPAGE);
	__atomic_store_n(&sh->quiet, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

/* --- the readers ------------------------------------------------------------------ */

struct reader {
	pthread_t thread;
	pid_t target;
	uint64_t seed;
	int kind;		/* 0: walks, 1: VMAs, 2: vtop + debugfs, 3: counters */
};

static bool readers_running(void)
{
	return !__atomic_load_n(&sh->stop_readers, __ATOMIC_RELAXED);
}

static void read_walks(int fd, struct reader *r, uint64_t task_size)
{
	struct ptscope_run *runs = NULL;
	bool tables = rnd(&r->seed) % 2;
	long n = ptscope_walk_all(fd, 0, task_size & ~(PAGE - 1),
				  tables ? PTSCOPE_WALK_TABLES : 0, &runs);

	if (n < 0) {
		failure("WALK of pid %d: %s", r->target, strerror(-n));
		return;
	}
	free(runs);
	count(tables ? OP_WALK_TABLES : OP_WALK);
}

static void read_vmas(int fd, struct reader *r)
{
	struct ptscope_vma *vmas = NULL;
	long n = ptscope_vmas_all(fd, PTSCOPE_VMAS_COUNTS, &vmas);
	struct ptscope_huge_vma hv[16];
	uint64_t start = 0;

	if (n < 0) {
		failure("VMAS of pid %d: %s", r->target, strerror(-n));
		return;
	}
	free(vmas);
	count(OP_VMAS);
	for (;;) {
		struct ptscope_vmas q = {
			.size = sizeof(q), .start = start, .vmas = (uintptr_t)hv,
			.vma_size = sizeof(hv[0]), .count = 16,
		};

		if (ioctl(fd, PTSCOPE_IOC_HUGE_VMAS, &q)) {
			failure("HUGE_VMAS of pid %d: %s", r->target, strerror(errno));
			return;
		}
		if (!q.next)
			break;
		start = q.next;
	}
	count(OP_HUGE_VMAS);
}

static void read_vtop_debugfs(int fd, struct reader *r)
{
	static const char *const views[] = { "vmas", "pagetable", "huge_vmas", "counters" };
	uint64_t a = sh->standing + rnd(&r->seed) % (4 * STANDING);
	struct ptscope_vtop v;
	char path[128], buf[4096];
	int dfd;

	if (ptscope_vtop(fd, a & ~(PAGE - 1), &v))
		failure("VTOP %#llx of pid %d: %s", (unsigned long long)a, r->target,
			strerror(errno));
	else
		count(OP_VTOP);
	if (rnd(&r->seed) % 8)
		return;
	snprintf(path, sizeof(path), "%s/%s", PTSCOPE_DEBUGFS, views[rnd(&r->seed) % 4]);
	dfd = open(path, O_RDONLY);
	if (dfd < 0) {
		failure("%s: %s", path, strerror(errno));
		return;
	}
	while (read(dfd, buf, sizeof(buf)) > 0)
		;
	close(dfd);
	count(OP_DEBUGFS);
}

static void read_counters(int fd, struct reader *r, uint32_t id, uint64_t *last)
{
	struct ptscope_counters c = { .size = sizeof(c), .id = id };

	if (ioctl(fd, PTSCOPE_IOC_COUNTERS, &c)) {
		failure("COUNTERS of watch %u: %s", id, strerror(errno));
		return;
	}
	if (c.faults[PTSCOPE_FLT_TOTAL] < last[0] || c.faults[PTSCOPE_FLT_MINOR] < last[1] ||
	    c.tlb[PTSCOPE_TLB_TASK_SWITCH].events < last[2])
		failure("COUNTERS went down: total %llu < %llu, minor %llu < %llu",
			(unsigned long long)c.faults[PTSCOPE_FLT_TOTAL], (unsigned long long)last[0],
			(unsigned long long)c.faults[PTSCOPE_FLT_MINOR], (unsigned long long)last[1]);
	if (c.state != PTSCOPE_WATCH_ACTIVE)
		failure("COUNTERS: the live target's watch is in state %u", c.state);
	last[0] = c.faults[PTSCOPE_FLT_TOTAL];
	last[1] = c.faults[PTSCOPE_FLT_MINOR];
	last[2] = c.tlb[PTSCOPE_TLB_TASK_SWITCH].events;
	count(OP_COUNTERS);
	usleep(20000);	/* the target needs the CPUs more */
}

static void *reader(void *arg)
{
	struct reader *r = arg;
	struct ptscope_target t = { 0 };
	struct ptscope_watch w = { .size = sizeof(w), .flags = PTSCOPE_WATCH_FAULT_DETAIL };
	uint64_t last[3] = { 0 };
	int fd = ptscope_open_target(r->target, &t);

	if (fd < 0) {
		failure("open and target pid %d: %s", r->target, strerror(-fd));
		return NULL;
	}
	if (r->kind == 3) {
		w.pid = r->target;
		if (ioctl(fd, PTSCOPE_IOC_WATCH, &w)) {
			failure("WATCH pid %d: %s", r->target, strerror(errno));
			close(fd);
			return NULL;
		}
	}
	while (readers_running()) {
		switch (r->kind) {
		case 0:
			read_walks(fd, r, t.task_size);
			break;
		case 1:
			read_vmas(fd, r);
			break;
		case 2:
			read_vtop_debugfs(fd, r);
			break;
		default:
			read_counters(fd, r, w.id, last);
		}
	}
	close(fd);
	return NULL;
}

/* Reader threads of every kind, @n of the walking kinds. */
static void run_readers(pid_t target, unsigned int n, uint64_t seed)
{
	struct reader rs[16];
	unsigned int i, total = n + 2;

	for (i = 0; i < total && i < 16; i++) {
		rs[i] = (struct reader) {
			.target = target, .seed = seed + i,
			.kind = i < n ? (int)(i % 3) : i == n ? 3 : 2,
		};
		pthread_create(&rs[i].thread, NULL, reader, &rs[i]);
	}
	for (i = 0; i < total && i < 16; i++)
		pthread_join(rs[i].thread, NULL);
}

/* --- the end: the quiet target against pagemap and maps ---------------------------- */

static void final_checks(pid_t target)
{
	static uint64_t maps[512][2];
	struct ptscope_vma *vmas = NULL;
	long n, nv, i, tries;
	int fd = ptscope_open_target(target, NULL);

	if (fd < 0) {
		failure("final: open and target: %s", strerror(-fd));
		return;
	}
	n = maps_ranges(target, maps, 512);
	nv = ptscope_vmas_all(fd, 0, &vmas);
	if (n < 0 || nv < 0) {
		failure("final: maps %ld, VMAS %ld", n, nv);
	} else {
		if (n != nv)
			failure("final: %ld VMAs in maps, %ld from VMAS", n, nv);
		for (i = 0; i < n && i < nv; i++)
			if (vmas[i].start != maps[i][0] || vmas[i].end != maps[i][1]) {
				failure("final: VMA %ld: maps %#llx-%#llx, VMAS %#llx-%#llx", i,
					(unsigned long long)maps[i][0], (unsigned long long)maps[i][1],
					(unsigned long long)vmas[i].start,
					(unsigned long long)vmas[i].end);
				break;
			}
		free(vmas);
	}
	for (i = 0; i < n; i++) {
		char why[256];
		long bad = -EAGAIN;

		/* pagemap does not walk PFN maps ([vvar]): no independent view there */
		if (smaps_vmflag(target, maps[i][0], "pf"))
			continue;
		for (tries = 0; tries < 5 && bad == -EAGAIN; tries++) {
			bad = pagemap_mismatches(fd, target, maps[i][0], maps[i][1], why, sizeof(why));
			if (bad == -EAGAIN)
				usleep(100000);
		}
		if (bad < 0)
			failure("final: walk/pagemap of %#llx-%#llx: %s",
				(unsigned long long)maps[i][0], (unsigned long long)maps[i][1],
				strerror(-bad));
		else if (bad)
			failure("final: %ld pages of %#llx-%#llx differ from pagemap; first %s", bad,
				(unsigned long long)maps[i][0], (unsigned long long)maps[i][1], why);
	}
	printf("# final: %ld VMAs, walk equals pagemap%s\n", n,
	       __atomic_load_n(&sh->failures, __ATOMIC_RELAXED) ? " (see failures)" : "");
	close(fd);
}

int main(int argc, char **argv)
{
	time_t t0, last_print;
	pid_t target, other, readers;
	char buf[64];
	int i, status;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seconds"))
			opt_seconds = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--readers"))
			opt_readers = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--seed"))
			opt_seed = strtoull(argv[i + 1], NULL, 0);
		else
			break;
	}
	if (i != argc || opt_readers < 1 || opt_readers > 12) {
		printf("usage: ptscope_stress [--seconds S] [--readers N] [--seed N]\n");
		return 2;
	}
	if (!opt_seed)
		opt_seed = (uint64_t)time(NULL) ^ getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# ptscope_stress --seconds %u --readers %u --seed %#llx\n", opt_seconds,
	       opt_readers, (unsigned long long)opt_seed);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;

	target = fork();
	if (target == 0)
		target_main();
	while (!__atomic_load_n(&sh->standing, __ATOMIC_ACQUIRE))
		usleep(1000);

	/* The debugfs views read the target written there. */
	snprintf(buf, sizeof(buf), "%d", target);
	if (debugfs_write("target", buf)) {
		printf("FAIL: cannot select pid %d in debugfs\n", target);
		kill(target, SIGKILL);
		return 1;
	}

	/* A second process of readers, on its own files. */
	other = fork();
	if (other == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		run_readers(target, 2, opt_seed ^ 0x77);
		_exit(0);
	}

	/* This process's readers, in a child so that the clock runs here. */
	t0 = last_print = time(NULL);
	readers = fork();
	if (readers == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		run_readers(target, opt_readers, opt_seed ^ 0x55);
		_exit(0);
	}
	while (time(NULL) - t0 < opt_seconds && !sh->failures) {
		sleep(1);
		if (time(NULL) - last_print < 30)
			continue;
		last_print = time(NULL);
		printf("# %lds: %llu walks, %llu VMAS, %llu vtop, %llu counters, %llu target ops\n",
		       (long)(last_print - t0),
		       (unsigned long long)(sh->ops[OP_WALK] + sh->ops[OP_WALK_TABLES]),
		       (unsigned long long)sh->ops[OP_VMAS], (unsigned long long)sh->ops[OP_VTOP],
		       (unsigned long long)sh->ops[OP_COUNTERS],
		       (unsigned long long)(sh->ops[OP_MMAP] + sh->ops[OP_MPROTECT] +
					    sh->ops[OP_MADVISE]));
	}
	__atomic_store_n(&sh->stop_readers, 1, __ATOMIC_RELAXED);
	waitpid(readers, &status, 0);
	waitpid(other, &status, 0);

	__atomic_store_n(&sh->stop_target, 1, __ATOMIC_RELAXED);
	while (!__atomic_load_n(&sh->quiet, __ATOMIC_ACQUIRE))
		usleep(10000);
	final_checks(target);
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);

	printf("# ran %ld s\n", (long)(time(NULL) - t0));
	for (i = 0; i < OP_NOPS; i++)
		printf("# %-20s %10llu\n", op_names[i], (unsigned long long)sh->ops[i]);
	if (!debugfs_value("counters", "watches", buf, sizeof(buf)))
		failure("cannot read %s/counters", PTSCOPE_DEBUGFS);
	else if (strcmp(buf, "0"))
		failure("%s watches left after every file closed", buf);
	if (sh->failures) {
		printf("FAIL: %llu failures (seed %#llx)\n", (unsigned long long)sh->failures,
		       (unsigned long long)opt_seed);
		return 1;
	}
	printf("# ok: no call failed, counters never went down, the final walk equals pagemap\n");
	return 0;
}
