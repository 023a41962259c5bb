// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope_fuzz: random ioctls on /dev/ptscope and random reads and writes of
 * its debugfs files, from several threads on several files and from an
 * unprivileged process sharing them, while a pool of target processes forks,
 * execs and exits under it.
 *
 * What is random: the command (the ten of include/uapi/ptscope.h, the same
 * numbers with another direction or size encoded, and unknown numbers), the
 * struct's size field (0, below the minimum, exact, larger with a zero or a
 * non-zero tail, above PAGE_SIZE), its flags, reserved fields, pids,
 * ranges, ids and capacities, and every user pointer (NULL, unmapped,
 * read-only, a kernel address, straddling a page end into a PROT_NONE
 * page, a page held in a userfaultfd fault that another thread resolves a
 * little later, by filling it or by making it read-only).
 *
 * What must hold: every call returns success or an errno the command
 * documents (table cmds[] below, from include/uapi/ptscope.h and the
 * module); where the arguments decide the errno (a bad command, an
 * unreadable struct, a size above PAGE_SIZE...) it is exactly that one; a
 * success returns sane values; and once every file is closed the module
 * holds no watch and no kretprobe (debugfs ptscope/counters). The kernel
 * side (KASAN, lockdep, kmemleak, RCU, WARN) is scripts/vm's to judge.
 *
 * Each thread draws from its own generator seeded from --seed and its
 * index: a thread's sequence of calls is a function of the seed; the
 * interleaving of threads is not (--threads 1 --pool 0 --no-unpriv is
 * deterministic). Prints the seed first and the calls per command last.
 *
 * Usage: ptscope_fuzz [--seed N] [--seconds S] [--calls N] [--threads N]
 *                     [--files N] [--pool N] [--no-unpriv] [--exclude CASE,...]
 * CASE: uffd-watch (no userfaultfd-held pointer for PTSCOPE_IOC_WATCH),
 *       uffd (no userfaultfd pointers at all), debugfs (no debugfs calls).
 */
#define _GNU_SOURCE
#include <linux/userfaultfd.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "ptscope_util.h"

#define MAX_THREADS	16
#define MAX_FILES	8
#define MAX_POOL	16
#define KERNEL_PTR	0xffffffff81000000ULL
#define ARENA_PAGES	32

/* --- the generator: splitmix64, one per thread ------------------------------ */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	return splitmix64(&r->s);
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

/* true with probability @pct percent */
static bool chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

/* --- the commands and their documented errnos ------------------------------- */

enum { C_VERSION, C_TARGET, C_WALK, C_VMAS, C_VTOP, C_WATCH, C_UNWATCH, C_COUNTERS,
	C_HUGE_SYSTEM, C_HUGE_VMAS, C_NKNOWN, C_UNKNOWN = C_NKNOWN, C_DEBUGFS, C_NCMDS };

struct cmd_desc {
	const char *name;
	unsigned long cmd;
	size_t size;		/* sizeof() of the struct */
	int errnos[10];		/* documented, 0-terminated */
	size_t min;		/* its first version's size, when it grew since */
};

#define ARGS_ERRNOS	EFAULT, EINVAL, E2BIG
#define TARGET_ERRNOS	ESRCH, EPERM	/* a target that is gone, or not ours to read */

static const struct cmd_desc cmds[C_NCMDS] = {
	[C_VERSION]	= { "VERSION", PTSCOPE_IOC_VERSION, sizeof(struct ptscope_version),
			    { ARGS_ERRNOS }, .min = PTSCOPE_VERSION_SIZE_VER0 },
	[C_TARGET]	= { "TARGET", PTSCOPE_IOC_TARGET, sizeof(struct ptscope_target),
			    { ARGS_ERRNOS, TARGET_ERRNOS } },
	[C_WALK]	= { "WALK", PTSCOPE_IOC_WALK, sizeof(struct ptscope_walk),
			    { ARGS_ERRNOS, TARGET_ERRNOS } },
	[C_VMAS]	= { "VMAS", PTSCOPE_IOC_VMAS, sizeof(struct ptscope_vmas),
			    { ARGS_ERRNOS, TARGET_ERRNOS } },
	[C_VTOP]	= { "VTOP", PTSCOPE_IOC_VTOP, sizeof(struct ptscope_vtop),
			    { ARGS_ERRNOS, TARGET_ERRNOS } },
	[C_WATCH]	= { "WATCH", PTSCOPE_IOC_WATCH, sizeof(struct ptscope_watch),
			    { ARGS_ERRNOS, TARGET_ERRNOS, ENOSPC } },
	[C_UNWATCH]	= { "UNWATCH", PTSCOPE_IOC_UNWATCH, sizeof(struct ptscope_watch),
			    { ARGS_ERRNOS, ENOENT } },
	[C_COUNTERS]	= { "COUNTERS", PTSCOPE_IOC_COUNTERS, sizeof(struct ptscope_counters),
			    { ARGS_ERRNOS, ENOENT, EPERM } },
	[C_HUGE_SYSTEM]	= { "HUGE_SYSTEM", PTSCOPE_IOC_HUGE_SYSTEM,
			    sizeof(struct ptscope_huge_system), { ARGS_ERRNOS } },
	[C_HUGE_VMAS]	= { "HUGE_VMAS", PTSCOPE_IOC_HUGE_VMAS, sizeof(struct ptscope_vmas),
			    { ARGS_ERRNOS, TARGET_ERRNOS } },
	[C_UNKNOWN]	= { "unknown", 0, 0, { ENOTTY } },
	/* debugfs: writes of a pid or an address, reads of every view */
	[C_DEBUGFS]	= { "debugfs", 0, 0, { EINVAL, ERANGE, ESRCH, EPERM, EFAULT } },
};

static bool documented(int c, int err)
{
	const int *e;

	for (e = cmds[c].errnos; *e; e++)
		if (*e == err)
			return true;
	return false;
}

/* --- shared state ------------------------------------------------------------ */

struct stats {
	uint64_t calls[C_NCMDS];
	uint64_t ok[C_NCMDS];
	uint64_t err[C_NCMDS][134];	/* by errno */
	uint64_t total;
	uint64_t failures;
	uint64_t uffd_faults;
	int stop;
	pid_t pool[MAX_POOL];		/* the target pool's current pids */
	uint64_t pool_spawned, pool_execs;
	int held_file;			/* 1 + the file of a WATCH held in a uffd fault */
};

static struct stats *st;		/* MAP_SHARED: the unprivileged process adds to it */
static struct {
	uint64_t seed;
	unsigned int seconds, threads, files, pool;
	uint64_t calls;
	bool unpriv, no_uffd, no_uffd_watch, no_debugfs;
} opt = { .seconds = 30, .calls = 0, .threads = 4, .files = 3, .pool = 4, .unpriv = true };

static time_t t_start;

/* The files: a slot is reopened under its write lock, used under its read lock. */
static struct {
	pthread_rwlock_t lock;
	int fd;
	uint32_t ids[8];	/* recent watch ids of this file, for UNWATCH/COUNTERS */
} files[MAX_FILES];

static int uffd = -1;
static pid_t self_pid;
static unsigned int levels;

static bool stopping(void)
{
	if (__atomic_load_n(&st->stop, __ATOMIC_RELAXED))
		return true;
	if ((opt.calls && __atomic_load_n(&st->total, __ATOMIC_RELAXED) >= opt.calls) ||
	    (opt.seconds && time(NULL) - t_start >= opt.seconds)) {
		__atomic_store_n(&st->stop, 1, __ATOMIC_RELAXED);
		return true;
	}
	return false;
}

#define failure(...) torture_fail(&st->failures, __VA_ARGS__)

/* --- the target pool: processes that fork, exec and exit ----------------------- */

/* What a pool process does, in its first image or after exec. */
static void pool_life(uint64_t seed)
{
	struct rng r = { seed };
	size_t len = (1 + below(&r, 64)) * PAGE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p != MAP_FAILED) {
		if (chance(&r, 30))
			madvise(p, len, MADV_HUGEPAGE);
		for (i = 0; i < len; i += PAGE * (1 + below(&r, 3)))
			p[i] = 1;
		if (chance(&r, 30))
			mprotect(p, len / 2 ? len / 2 : PAGE, PROT_READ);
	}
	usleep(below(&r, 30000));
}

static void pool_child(unsigned int slot, uint64_t seed)
{
	struct rng r = { seed };
	char arg[32];

	switch (below(&r, 3)) {
	case 0:		/* live a little, exit */
		pool_life(rnd(&r));
		_exit(0);
	case 1:		/* exec: the same pid, a new address space */
		pool_life(rnd(&r));
		snprintf(arg, sizeof(arg), "%llu", (unsigned long long)rnd(&r));
		execl("/proc/self/exe", "ptscope_fuzz", "--pool-child", arg, (char *)NULL);
		_exit(127);
	default:	/* fork: the parent goes, the child lives on */
		if (fork() == 0)
			pool_life(rnd(&r));
		_exit(0);
	}
	(void)slot;
}

/* The pool's manager: keeps opt.pool children alive, reaps everything (subreaper). */
static void pool_manager(uint64_t seed)
{
	struct rng r = { seed };
	unsigned int i;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
	/* The targets hold no file of ours: closing them all must free every watch. */
	for (i = 0; i < opt.files; i++)
		close(files[i].fd);
	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		pid_t pid;

		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			for (i = 0; i < opt.pool; i++)
				if (st->pool[i] == pid)
					st->pool[i] = 0;
		for (i = 0; i < opt.pool; i++) {
			if (st->pool[i])
				continue;
			pid = fork();
			if (pid == 0)
				pool_child(i, rnd(&r));
			if (pid > 0) {
				st->pool[i] = pid;
				__atomic_fetch_add(&st->pool_spawned, 1, __ATOMIC_RELAXED);
			}
		}
		usleep(2000);
	}
	kill(0, SIGKILL);	/* the pool's process group, this one included */
	_exit(0);
}

/* --- userfaultfd: pages whose access blocks until the resolver acts ----------- */

struct uffd_page {
	char *page;		/* registered, one page */
	char src[PAGE_MAX];	/* what a missing page is filled with */
	bool wp;		/* write-protect mode, else missing */
};

static struct uffd_page uffd_pages[2 * (MAX_THREADS + 1)];
static unsigned int nr_uffd_pages;

static void *uffd_resolver(void *arg)
{
	struct rng r = { opt.seed ^ 0x5eed };
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };

	(void)arg;
	for (;;) {
		struct uffd_msg msg;
		struct uffd_page *up = NULL;
		uint64_t addr;
		unsigned int i;

		if (poll(&pfd, 1, 100) <= 0) {
			if (__atomic_load_n(&st->stop, __ATOMIC_RELAXED) == 2)
				return NULL;
			continue;
		}
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		__atomic_fetch_add(&st->uffd_faults, 1, __ATOMIC_RELAXED);
		addr = msg.arg.pagefault.address & ~(PAGE - 1);
		for (i = 0; i < nr_uffd_pages; i++)
			if ((uint64_t)(uintptr_t)uffd_pages[i].page == addr)
				up = &uffd_pages[i];
		if (!up)
			continue;
		/* let other threads act meanwhile, now and then for long */
		usleep(chance(&r, 70) ? below(&r, 20000) : below(&r, 200000));
		if (up->wp) {
			struct uffdio_writeprotect wp = {
				.range = { .start = addr, .len = PAGE },
			};
			struct uffdio_range wake = { .start = addr, .len = PAGE };

			if (chance(&r, 50)) {
				/* the write fails: the page is read-only now */
				mprotect(up->page, PAGE, PROT_READ);
				ioctl(uffd, UFFDIO_WAKE, &wake);
			} else {
				ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);	/* mode 0: unprotect, wake */
			}
		} else {
			struct uffdio_copy copy = {
				.dst = addr, .src = (uintptr_t)up->src, .len = PAGE,
			};
			struct uffdio_zeropage zero = {
				.range = { .start = addr, .len = PAGE },
			};

			if (chance(&r, 80))
				ioctl(uffd, UFFDIO_COPY, &copy);
			else
				ioctl(uffd, UFFDIO_ZEROPAGE, &zero);
		}
	}
}

static int uffd_setup(unsigned int nthreads)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	unsigned int i;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		printf("# userfaultfd: %s: no userfaultfd pointers\n", strerror(errno));
		uffd = -1;
		return -1;
	}
	for (i = 0; i < 2 * nthreads; i++) {
		struct uffd_page *up = &uffd_pages[i];
		struct uffdio_register reg;

		up->wp = i & 1;
		up->page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (up->page == MAP_FAILED)
			return -1;
		if (up->wp)
			up->page[0] = 0;	/* populated: only writes fault */
		reg = (struct uffdio_register) {
			.range = { .start = (uintptr_t)up->page, .len = PAGE },
			.mode = up->wp ? UFFDIO_REGISTER_MODE_WP : UFFDIO_REGISTER_MODE_MISSING,
		};
		if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
			printf("# userfaultfd register (%s): %s: no userfaultfd pointers\n",
			       up->wp ? "wp" : "missing", strerror(errno));
			close(uffd);
			uffd = -1;
			return -1;
		}
	}
	nr_uffd_pages = 2 * nthreads;
	return 0;
}

/* Put @len bytes of @buf where a uffd page will fault on the access. */
static char *uffd_arm(struct uffd_page *up, const void *buf, size_t len)
{
	if (up->wp) {
		struct uffdio_writeprotect wp = {
			.range = { .start = (uintptr_t)up->page, .len = PAGE },
			.mode = UFFDIO_WRITEPROTECT_MODE_WP,
		};

		mprotect(up->page, PAGE, PROT_READ | PROT_WRITE);
		wp.mode = 0;
		ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
		memcpy(up->page, buf, len);
		wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
			return NULL;
	} else {
		memcpy(up->src, buf, len);
		if (madvise(up->page, PAGE, MADV_DONTNEED))
			return NULL;
	}
	return up->page;
}

/* --- one thread's memory: where arguments and output arrays are placed -------- */

/*
 * arena: [0, 16) output pages, [16] PROT_NONE, [17, 19) argument pages,
 * [19] PROT_NONE, [20] read-only, [21, 32) unmapped
 */
struct arena {
	char *base;
	char *out;		/* 16 pages, then a PROT_NONE page */
	char *arg;		/* 2 pages, then a PROT_NONE page */
	char *ro;
	char *hole;		/* unmapped */
	struct uffd_page *uffd_missing, *uffd_wp;
};

static int arena_init(struct arena *a)
{
	a->base = mmap(NULL, ARENA_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->base == MAP_FAILED)
		return -1;
	a->out = a->base;
	a->arg = a->base + 17 * PAGE;
	a->ro = a->base + 20 * PAGE;
	a->hole = a->base + 21 * PAGE;
	if (mprotect(a->base + 16 * PAGE, PAGE, PROT_NONE) ||
	    mprotect(a->base + 19 * PAGE, PAGE, PROT_NONE) ||
	    mprotect(a->ro, PAGE, PROT_READ) ||
	    munmap(a->hole, (ARENA_PAGES - 21) * PAGE))
		return -1;
	return 0;
}

/* Pointer kinds, for struct arguments and output arrays alike. */
enum ptr_kind { P_GOOD, P_NULL, P_UNMAPPED, P_KERNEL, P_RO, P_STRADDLE, P_UFFD_MISSING,
	P_UFFD_WP, P_NKINDS };

static const char *const ptr_names[P_NKINDS] = {
	"good", "null", "unmapped", "kernel", "read-only", "straddle", "uffd-missing", "uffd-wp",
};

/* An output array of @bytes: mostly good, sometimes not. */
static uint64_t out_ptr(struct rng *r, struct arena *a, size_t bytes)
{
	switch (below(r, 12)) {
	case 0: return 0;
	case 1: return (uintptr_t)a->hole;
	case 2: return KERNEL_PTR + below(r, 1 << 20) * 8;
	case 3: return (uintptr_t)a->ro;
	case 4: return (uintptr_t)(a->out + 16 * PAGE - below(r, bytes ? bytes : 1));
	case 5: return (uintptr_t)(a->out + 16 * PAGE) - (bytes % (16 * PAGE)) + 1; /* misaligned */
	default:
		if (bytes > 16 * PAGE)
			return (uintptr_t)a->out;	/* the array runs into the guard */
		return (uintptr_t)(a->out + 16 * PAGE - bytes);	/* ends at the guard */
	}
}

/* --- argument generation ------------------------------------------------------ */

static pid_t pick_pid(struct rng *r)
{
	static const pid_t odd[] = { 0, -1, 1, 2, INT32_MAX, INT32_MIN, 4194304, 99999 };

	switch (below(r, 10)) {
	case 0:
	case 1:
	case 2:
		return self_pid;
	case 3:
		return odd[below(r, sizeof(odd) / sizeof(odd[0]))];
	default:
		return opt.pool ? st->pool[below(r, opt.pool)] : self_pid;
	}
}

static uint32_t pick_flags(struct rng *r, uint32_t valid)
{
	switch (below(r, 8)) {
	case 0: return (uint32_t)rnd(r);
	case 1: return 1U << below(r, 32);
	case 2:
	case 3: return valid & (uint32_t)rnd(r);
	default: return 0;
	}
}

static void pick_reserved(struct rng *r, __u64 *res, unsigned int n)
{
	if (chance(r, 8))
		res[below(r, n)] = rnd(r) | 1;
}

/* An address range: page-aligned in our space mostly, sometimes not. */
static void pick_range(struct rng *r, __u64 *start, __u64 *end)
{
	uint64_t top = levels == 5 ? 1ULL << 56 : 1ULL << 47;

	switch (below(r, 8)) {
	case 0:
		*start = 0;
		*end = top - PAGE;
		break;
	case 1:
		*start = rnd(r);
		*end = rnd(r);
		break;
	case 2:
		*start = below(r, top) & ~(PAGE - 1);
		*end = *start;
		break;
	case 3:
		*start = (uintptr_t)pick_range & ~(PAGE - 1);	/* our text */
		*end = *start + (1 + below(r, 512)) * PAGE;
		break;
	case 4:
		*start = top - PAGE * (1 + below(r, 4));
		*end = top + PAGE * below(r, 2);
		break;
	default: {
		uint64_t s = (uintptr_t)&r;	/* around our stack, or anywhere */

		if (chance(r, 50))
			s = below(r, top);
		*start = (s & ~(PAGE - 1)) - below(r, 64) * PAGE;
		*end = *start + (1 + below(r, 1 << 12)) * PAGE;
		if (chance(r, 5))
			*start += 1;
	}
	}
}

static uint32_t pick_count(struct rng *r, uint32_t typical)
{
	switch (below(r, 8)) {
	case 0: return 0;
	case 1: return 1 + below(r, 8);
	case 2: return (uint32_t)rnd(r);
	case 3: return UINT32_MAX;
	default: return 1 + below(r, typical);
	}
}

static uint32_t pick_record_size(struct rng *r, uint32_t size)
{
	if (chance(r, 90))
		return size;
	return chance(r, 50) ? size + 8 * (uint32_t)below(r, 4) - 8 : (uint32_t)rnd(r);
}

/* A watch id: one this file got, a small one (ids are allocated lowest first), or any. */
static uint32_t pick_id(struct rng *r, unsigned int f)
{
	switch (below(r, 4)) {
	case 0:
	case 1: return __atomic_load_n(&files[f].ids[below(r, 8)], __ATOMIC_RELAXED);
	case 2: return below(r, 12);
	default: return (uint32_t)rnd(r);
	}
}

/*
 * fill - a random instance of command @c's struct into @buf (known size),
 * with output arrays in @a
 */
static void fill(struct rng *r, int c, void *buf, struct arena *a, unsigned int f)
{
	switch (c) {
	case C_VERSION: {
		struct ptscope_version *v = buf;

		v->flags = pick_flags(r, 0);
		pick_reserved(r, v->reserved, 4);
		break;
	}
	case C_TARGET: {
		struct ptscope_target *t = buf;

		t->flags = pick_flags(r, 0);
		t->pid = pick_pid(r);
		if (chance(r, 5))
			t->task_size = rnd(r);	/* out fields: ignored */
		pick_reserved(r, t->reserved, 4);
		break;
	}
	case C_WALK: {
		struct ptscope_walk *w = buf;

		w->flags = pick_flags(r, PTSCOPE_WALK_TABLES | PTSCOPE_WALK_NO_PAGE);
		pick_range(r, &w->start, &w->end);
		w->run_size = pick_record_size(r, sizeof(struct ptscope_run));
		w->count = pick_count(r, 300);
		w->runs = out_ptr(r, a, (uint64_t)w->count * sizeof(struct ptscope_run));
		pick_reserved(r, w->reserved, 4);
		break;
	}
	case C_VMAS:
	case C_HUGE_VMAS: {
		struct ptscope_vmas *q = buf;
		size_t rec = c == C_VMAS ? sizeof(struct ptscope_vma) :
				sizeof(struct ptscope_huge_vma);

		q->flags = pick_flags(r, c == C_VMAS ? PTSCOPE_VMAS_COUNTS : 0);
		pick_range(r, &q->start, &q->end);
		if (chance(r, 30))
			q->end = 0;	/* the task size */
		q->vma_size = pick_record_size(r, rec);
		q->count = pick_count(r, 20);
		q->vmas = out_ptr(r, a, (uint64_t)q->count * rec);
		pick_reserved(r, q->reserved, 4);
		break;
	}
	case C_VTOP: {
		struct ptscope_vtop *v = buf;
		__u64 end;

		v->flags = pick_flags(r, 0);
		pick_range(r, &v->addr, &end);
		if (chance(r, 20))
			v->addr = rnd(r);
		pick_reserved(r, v->reserved, 4);
		break;
	}
	case C_WATCH: {
		struct ptscope_watch *w = buf;

		w->flags = pick_flags(r, PTSCOPE_WATCH_GLOBAL | PTSCOPE_WATCH_FAULT_DETAIL);
		w->pid = (w->flags & PTSCOPE_WATCH_GLOBAL) && chance(r, 80) ? 0 : pick_pid(r);
		if (chance(r, 5))
			w->id = rnd(r);
		pick_reserved(r, w->reserved, 2);
		break;
	}
	case C_UNWATCH: {
		struct ptscope_watch *w = buf;

		w->flags = pick_flags(r, 0);
		w->pid = chance(r, 90) ? 0 : pick_pid(r);
		w->id = pick_id(r, f);
		pick_reserved(r, w->reserved, 2);
		break;
	}
	case C_COUNTERS: {
		struct ptscope_counters *k = buf;

		k->flags = pick_flags(r, 0);
		k->id = pick_id(r, f);
		if (chance(r, 10))
			memset(k->faults, 0xff, sizeof(k->faults));	/* out fields: ignored */
		pick_reserved(r, k->reserved, 4);
		break;
	}
	case C_HUGE_SYSTEM: {
		struct ptscope_huge_system *s = buf;

		s->flags = pick_flags(r, 0);
		if (chance(r, 5))
			s->reserved1 = 1;
		pick_reserved(r, s->reserved, 4);
		break;
	}
	}
}

/* --- checking a success --------------------------------------------------------- */

static void check_success(int c, const void *buf, const void *sent, unsigned int f)
{
	switch (c) {
	case C_VERSION: {
		const struct ptscope_version *v = buf;

		if (v->abi_major != PTSCOPE_ABI_MAJOR || v->page_size != PAGE ||
		    v->pgtable_levels != levels)
			failure("VERSION: abi %u page_size %u levels %u", v->abi_major,
				v->page_size, v->pgtable_levels);
		break;
	}
	case C_TARGET: {
		const struct ptscope_target *t = buf;

		if (t->pgtable_levels != 4 && t->pgtable_levels != 5)
			failure("TARGET: pgtable_levels %u", t->pgtable_levels);
		break;
	}
	case C_WALK: {
		const struct ptscope_walk *w = buf, *in = sent;

		if (w->count > in->count || w->next <= in->start || w->next > in->end)
			failure("WALK [%#llx, %#llx) cap %u: count %u next %#llx",
				(unsigned long long)in->start, (unsigned long long)in->end,
				in->count, w->count, (unsigned long long)w->next);
		break;
	}
	case C_VMAS:
	case C_HUGE_VMAS: {
		const struct ptscope_vmas *q = buf, *in = sent;

		if (q->count > in->count || (q->next && q->next <= in->start))
			failure("%s from %#llx cap %u: count %u next %#llx", cmds[c].name,
				(unsigned long long)in->start, in->count, q->count,
				(unsigned long long)q->next);
		break;
	}
	case C_VTOP: {
		const struct ptscope_vtop *v = buf;

		if (v->result > PTSCOPE_VTOP_NO_ACCESS || v->nlevels > 5)
			failure("VTOP %#llx: result %u nlevels %u", (unsigned long long)v->addr,
				v->result, v->nlevels);
		break;
	}
	case C_WATCH: {
		const struct ptscope_watch *w = buf;

		if (!w->id)
			failure("WATCH: id 0");
		__atomic_store_n(&files[f].ids[w->id % 8], w->id, __ATOMIC_RELAXED);
		break;
	}
	case C_COUNTERS: {
		const struct ptscope_counters *k = buf;

		if (k->state > PTSCOPE_WATCH_GONE || k->nr_vmas > PTSCOPE_FAULT_VMAS)
			failure("COUNTERS %u: state %u nr_vmas %u", k->id, k->state, k->nr_vmas);
		break;
	}
	}
}

/* --- one ioctl ------------------------------------------------------------------ */

struct call {
	int c;			/* C_* */
	unsigned long cmd;
	enum ptr_kind ptr;
	uint32_t usize;
	int expect;		/* the one errno the arguments decide, or 0 */
	const char *size_kind;
};

/* The struct's size field: exact mostly; the odd ones decide the errno. */
static void pick_size(struct rng *r, struct call *k, char *buf, size_t ksize, size_t kmin,
		      size_t room)
{
	size_t tail;

	switch (below(r, 16)) {
	case 0:
		k->usize = 0;
		k->size_kind = "zero";
		k->expect = EINVAL;
		break;
	case 1:
		/* A caller built for an older version of a struct that grew. */
		if (kmin < ksize && chance(r, 50)) {
			k->usize = kmin + 8 * below(r, (ksize - kmin) / 8);
			k->size_kind = "older version";
			break;
		}
		k->usize = 1 + below(r, kmin - 1);
		k->size_kind = "short";
		k->expect = EINVAL;
		break;
	case 2:
		tail = 8 * (1 + below(r, 32));
		if (ksize + tail > room)
			tail = room - ksize;
		k->usize = ksize + tail;
		k->size_kind = "longer, zero tail";
		break;
	case 3:
		tail = 8 * (1 + below(r, 32));
		if (ksize + tail > room)
			tail = room - ksize;
		k->usize = ksize + tail;
		buf[ksize + below(r, tail)] = 1 + below(r, 255);
		k->size_kind = "longer, non-zero tail";
		k->expect = E2BIG;
		break;
	case 4:
		k->usize = PAGE + 1 + below(r, chance(r, 50) ? 8 : UINT32_MAX - PAGE - 1);
		k->size_kind = "above PAGE_SIZE";
		k->expect = E2BIG;
		break;
	default:
		k->usize = ksize;
		k->size_kind = "exact";
	}
	memcpy(buf, &k->usize, sizeof(k->usize));
}

/* A random command number that is none of the ten. */
static unsigned long pick_unknown(struct rng *r)
{
	unsigned long cmd;
	int i;

	for (;;) {
		const struct cmd_desc *d = &cmds[below(r, C_NKNOWN)];

		switch (below(r, 4)) {
		case 0:		/* a known number, another direction */
			cmd = (d->cmd & ~(3UL << _IOC_DIRSHIFT)) |
			      ((unsigned long)below(r, 4) << _IOC_DIRSHIFT);
			break;
		case 1:		/* a known number, another size */
			cmd = (d->cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
			      ((below(r, _IOC_SIZEMASK + 1)) << _IOC_SIZESHIFT);
			break;
		case 2:		/* our magic, any number */
			cmd = _IOC(below(r, 4), PTSCOPE_IOC_MAGIC, below(r, 256), below(r, 2048));
			break;
		default:
			cmd = (uint32_t)rnd(r);
		}
		for (i = 0; i < C_NKNOWN; i++)
			if (cmd == cmds[i].cmd)
				break;
		if (i == C_NKNOWN)
			return cmd;
	}
}

static void do_ioctl(struct rng *r, struct arena *a, unsigned int f, int fd)
{
	char buf[2 * PAGE] __attribute__((aligned(8))), sent[2 * PAGE];
	struct call k = { .c = below(r, C_NKNOWN + 1) };
	size_t ksize = cmds[k.c].size, kmin = cmds[k.c].min ?: ksize, room;
	char *arg = NULL;
	int ret, err, i;

	memset(buf, 0, sizeof(buf));
	if (k.c == C_UNKNOWN) {
		k.cmd = pick_unknown(r);
		k.expect = ENOTTY;
		ksize = kmin = 64;
	} else {
		k.cmd = cmds[k.c].cmd;
		fill(r, k.c, buf, a, f);
	}
	room = sizeof(buf);
	k.ptr = chance(r, 70) ? P_GOOD : below(r, P_NKINDS);
	if (k.ptr >= P_UFFD_MISSING && (uffd < 0 || opt.no_uffd ||
					(k.c == C_WATCH && opt.no_uffd_watch)))
		k.ptr = P_GOOD;
	if (k.ptr == P_RO || k.ptr >= P_UFFD_MISSING)
		room = PAGE;
	if (k.c != C_UNKNOWN)
		pick_size(r, &k, buf, ksize, kmin, room);
	memcpy(sent, buf, sizeof(sent));

	switch (k.ptr) {
	case P_GOOD:
		arg = a->arg;
		memcpy(arg, buf, 2 * PAGE);
		break;
	case P_NULL:
		arg = NULL;
		break;
	case P_UNMAPPED:
		arg = a->hole + below(r, 4) * 8;
		break;
	case P_KERNEL:
		arg = (char *)(uintptr_t)(KERNEL_PTR + below(r, 1 << 20) * 8);
		break;
	case P_RO:
		mprotect(a->ro, PAGE, PROT_READ | PROT_WRITE);
		memcpy(a->ro, buf, PAGE);
		mprotect(a->ro, PAGE, PROT_READ);
		arg = a->ro;
		break;
	case P_STRADDLE: {
		/* the size field readable, some of the struct past the page end */
		size_t in = 4 + below(r, ksize > 4 ? ksize - 4 : 1);

		arg = a->arg + 2 * PAGE - in;
		memcpy(arg, buf, in);
		/* a size above PAGE_SIZE or below the minimum is judged before the rest is read */
		if (k.usize >= ksize && k.usize <= PAGE)
			k.expect = EFAULT;
		break;
	}
	case P_UFFD_MISSING:
	case P_UFFD_WP:
		arg = uffd_arm(k.ptr == P_UFFD_WP ? a->uffd_wp : a->uffd_missing, buf, PAGE);
		if (!arg) {
			arg = a->arg;
			memcpy(arg, buf, 2 * PAGE);
			k.ptr = P_GOOD;
		}
		if (k.ptr == P_UFFD_MISSING)
			k.expect = 0;	/* the resolver may fill it with zeros */
		break;
	default:
		break;
	}
	if (k.c == C_UNKNOWN)
		k.expect = ENOTTY;
	else if (k.ptr == P_NULL || k.ptr == P_UNMAPPED || k.ptr == P_KERNEL)
		k.expect = EFAULT;

	/* While a WATCH waits in a fault, its id is published: invite UNWATCHes. */
	if (k.c == C_WATCH && k.ptr == P_UFFD_WP)
		__atomic_store_n(&st->held_file, 1 + f, __ATOMIC_RELAXED);
	ret = ioctl(fd, k.cmd, arg);
	err = ret ? errno : 0;
	if (k.c == C_WATCH && k.ptr == P_UFFD_WP)
		__atomic_store_n(&st->held_file, 0, __ATOMIC_RELAXED);

	if (k.ptr == P_UFFD_WP)
		mprotect(a->uffd_wp->page, PAGE, PROT_READ | PROT_WRITE);

	__atomic_fetch_add(&st->calls[k.c], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&st->total, 1, __ATOMIC_RELAXED);
	if (!err)
		__atomic_fetch_add(&st->ok[k.c], 1, __ATOMIC_RELAXED);
	else if (err > 0 && err < 134)
		__atomic_fetch_add(&st->err[k.c][err], 1, __ATOMIC_RELAXED);

	if (ret && ret != -1) {
		failure("%s (cmd %#lx): returned %d", cmds[k.c].name, k.cmd, ret);
		return;
	}
	if (k.expect && err != k.expect) {
		failure("%s (cmd %#lx, size %u %s, pointer %s): %s, expected %s", cmds[k.c].name,
			k.cmd, k.usize, k.size_kind, ptr_names[k.ptr],
			err ? strerror(err) : "success", strerror(k.expect));
		return;
	}
	if (err && !documented(k.c, err)) {
		char list[128] = "";

		for (i = 0; cmds[k.c].errnos[i]; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), " %s",
				 strerrorname_np(cmds[k.c].errnos[i]) ?: "?");
		failure("%s (cmd %#lx, size %u %s, pointer %s): %s (%s), documented:%s",
			cmds[k.c].name, k.cmd, k.usize, k.size_kind, ptr_names[k.ptr],
			strerror(err), strerrorname_np(err) ?: "?", list);
		return;
	}
	if (!err && k.c != C_UNKNOWN && arg)
		check_success(k.c, k.ptr == P_GOOD ? a->arg : arg, sent, f);
}

/* --- debugfs ------------------------------------------------------------------- */

static void do_debugfs(struct rng *r)
{
	static const char *const views[] = {
		"version", "target", "vmas", "pagetable", "vtop", "huge", "huge_vmas", "counters",
	};
	char path[128], text[64];
	int fd, err = 0;

	__atomic_fetch_add(&st->calls[C_DEBUGFS], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&st->total, 1, __ATOMIC_RELAXED);
	switch (below(r, 4)) {
	case 0:		/* a pid, or garbage, to target */
	case 1: {	/* an address, or garbage, to vtop */
		const char *file = below(r, 2) ? "target" : "vtop";

		switch (below(r, 4)) {
		case 0:
			snprintf(text, sizeof(text), "%d", pick_pid(r));
			break;
		case 1:
			snprintf(text, sizeof(text), "%#llx", (unsigned long long)rnd(r));
			break;
		case 2:
			snprintf(text, sizeof(text), "%llu%c", (unsigned long long)rnd(r),
				 (char)(' ' + below(r, 90)));
			break;
		default:
			snprintf(text, sizeof(text), "0x%llx\n",
				 (unsigned long long)((uintptr_t)&text & ~(PAGE - 1)));
		}
		snprintf(path, sizeof(path), "%s/%s", PTSCOPE_DEBUGFS, file);
		fd = open(path, O_WRONLY);
		if (fd < 0) {
			err = errno;
			break;
		}
		if (write(fd, text, strlen(text)) < 0)
			err = errno;
		close(fd);
		break;
	}
	default: {	/* read a view through, in odd-sized reads */
		char out[3000];
		size_t chunk = 1 + below(r, sizeof(out));
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", PTSCOPE_DEBUGFS,
			 views[below(r, sizeof(views) / sizeof(views[0]))]);
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			err = errno;
			break;
		}
		while ((n = read(fd, out, chunk)) > 0 && !stopping())
			;
		if (n < 0)
			err = errno;
		close(fd);
	}
	}
	if (!err) {
		__atomic_fetch_add(&st->ok[C_DEBUGFS], 1, __ATOMIC_RELAXED);
		return;
	}
	if (err < 134)
		__atomic_fetch_add(&st->err[C_DEBUGFS][err], 1, __ATOMIC_RELAXED);
	if (!documented(C_DEBUGFS, err))
		failure("debugfs %s: %s", path, strerror(err));
}

/* --- the threads ------------------------------------------------------------------ */

struct worker {
	pthread_t thread;
	unsigned int idx;
	struct rng r;
	struct arena a;
};

static void reopen(unsigned int f)
{
	pthread_rwlock_wrlock(&files[f].lock);
	close(files[f].fd);
	files[f].fd = open(PTSCOPE_DEV, O_RDWR | O_CLOEXEC);
	memset(files[f].ids, 0, sizeof(files[f].ids));
	pthread_rwlock_unlock(&files[f].lock);
}

/* UNWATCH the small ids of file @f (ids are allocated lowest first). */
static void unwatch_burst(struct rng *r, unsigned int f)
{
	struct ptscope_watch u = { .size = sizeof(u) };
	unsigned int i, n = 1 + below(r, 8);

	pthread_rwlock_rdlock(&files[f].lock);
	for (i = 0; i < n && files[f].fd >= 0; i++) {
		u.id = 1 + below(r, 16);
		__atomic_fetch_add(&st->calls[C_UNWATCH], 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&st->total, 1, __ATOMIC_RELAXED);
		if (!ioctl(files[f].fd, PTSCOPE_IOC_UNWATCH, &u)) {
			__atomic_fetch_add(&st->ok[C_UNWATCH], 1, __ATOMIC_RELAXED);
		} else if (errno != ENOENT) {
			failure("UNWATCH %u during a held WATCH: %s", u.id, strerror(errno));
		} else {
			__atomic_fetch_add(&st->err[C_UNWATCH][ENOENT], 1, __ATOMIC_RELAXED);
		}
	}
	pthread_rwlock_unlock(&files[f].lock);
}

/* A line every 10 s, from the first thread of the main process. */
static void progress(struct worker *w)
{
	static time_t last;
	time_t now;

	if (w->idx || getuid())
		return;
	now = time(NULL);
	if (!last)
		last = now;
	if (now - last < 10)
		return;
	last = now;
	printf("# %lds: %llu calls, %llu failed\n", (long)(now - t_start),
	       (unsigned long long)__atomic_load_n(&st->total, __ATOMIC_RELAXED),
	       (unsigned long long)__atomic_load_n(&st->failures, __ATOMIC_RELAXED));
}

static void *worker(void *arg)
{
	struct worker *w = arg;

	while (!stopping()) {
		progress(w);
		unsigned int f = below(&w->r, opt.files);
		int held = __atomic_load_n(&st->held_file, __ATOMIC_RELAXED);

		if (held && chance(&w->r, 50)) {
			unwatch_burst(&w->r, held - 1);
			continue;
		}

		if (!opt.no_debugfs && chance(&w->r, 3)) {
			do_debugfs(&w->r);
			continue;
		}
		if (chance(&w->r, 1) && getuid() == 0) {
			reopen(f);	/* the old file's watches go with it */
			continue;
		}
		pthread_rwlock_rdlock(&files[f].lock);
		if (files[f].fd >= 0)
			do_ioctl(&w->r, &w->a, f, files[f].fd);
		pthread_rwlock_unlock(&files[f].lock);
	}
	return NULL;
}

static int run_workers(unsigned int n, uint64_t seed)
{
	static struct worker ws[MAX_THREADS];
	unsigned int i;

	for (i = 0; i < n; i++) {
		ws[i].idx = i;
		ws[i].r.s = seed + 0x1000193ULL * (i + 1);
		if (arena_init(&ws[i].a))
			return -1;
		if (uffd >= 0) {
			ws[i].a.uffd_missing = &uffd_pages[2 * i];
			ws[i].a.uffd_wp = &uffd_pages[2 * i + 1];
		}
		if (pthread_create(&ws[i].thread, NULL, worker, &ws[i]))
			return -1;
	}
	for (i = 0; i < n; i++)
		pthread_join(ws[i].thread, NULL);
	return 0;
}

/* --- the unprivileged process: the same files, fewer rights ------------------------ */

static pid_t start_unpriv(void)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		_exit(125);
	uffd = -1;		/* not ours to use from here */
	opt.no_uffd = true;
	opt.no_debugfs = true;	/* debugfs is root's (0700) */
	self_pid = getpid();
	run_workers(1, opt.seed ^ 0xabcdef);
	_exit(0);
}

/* --- the module's state afterwards ---------------------------------------------------- */

static int check_module_state(void)
{
	char buf[256];
	int bad = 0, i;

	/* The unprivileged process's exit closes its files: give it a moment. */
	for (i = 0; i < 100; i++) {
		if (!debugfs_value("counters", "watches", buf, sizeof(buf))) {
			printf("FAIL: cannot read %s/counters\n", PTSCOPE_DEBUGFS);
			return 1;
		}
		if (!strcmp(buf, "0"))
			break;
		usleep(20000);
	}
	if (strcmp(buf, "0")) {
		printf("FAIL: %s watches left after every file closed\n", buf);
		bad = 1;
	}
	/* The fault probe goes a second after the last detail watch (counters.c). */
	if (fault_probe_gone(5000)) {
		debugfs_value("counters", "hooks", buf, sizeof(buf));
		printf("FAIL: the fault probe is still attached 5 s after the last watch: hooks %s\n",
		       buf);
		bad = 1;
	}
	return bad;
}

static void print_stats(void)
{
	int c, e;

	printf("# %-12s %10s %10s  errors\n", "command", "calls", "ok");
	for (c = 0; c < C_NCMDS; c++) {
		char list[512] = "";

		for (e = 1; e < 134; e++)
			if (st->err[c][e])
				snprintf(list + strlen(list), sizeof(list) - strlen(list), " %s:%llu",
					 strerrorname_np(e) ?: "?",
					 (unsigned long long)st->err[c][e]);
		printf("# %-12s %10llu %10llu %s\n", cmds[c].name,
		       (unsigned long long)st->calls[c], (unsigned long long)st->ok[c], list);
	}
	printf("# userfaultfd faults resolved: %llu; target pool: %llu processes started\n",
	       (unsigned long long)st->uffd_faults, (unsigned long long)st->pool_spawned);
}

static void usage(void)
{
	printf("usage: ptscope_fuzz [--seed N] [--seconds S] [--calls N] [--threads N]\n"
	       "                    [--files N] [--pool N] [--no-unpriv] [--exclude CASE,...]\n"
	       "  CASE: uffd-watch, uffd, debugfs; --seconds 0 or --calls 0: no such bound\n");
}

static int parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--no-unpriv")) {
			opt.unpriv = false;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--seed"))
			opt.seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--seconds"))
			opt.seconds = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--calls"))
			opt.calls = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--threads"))
			opt.threads = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--files"))
			opt.files = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--pool"))
			opt.pool = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--exclude")) {
			char *s = strdup(v), *tok;

			for (tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
				if (!strcmp(tok, "uffd-watch"))
					opt.no_uffd_watch = true;
				else if (!strcmp(tok, "uffd"))
					opt.no_uffd = true;
				else if (!strcmp(tok, "debugfs"))
					opt.no_debugfs = true;
				else if (*tok)
					return -1;
			}
		} else {
			return -1;
		}
	}
	if (opt.threads < 1 || opt.threads > MAX_THREADS || opt.files < 1 ||
	    opt.files > MAX_FILES || opt.pool > MAX_POOL || (!opt.seconds && !opt.calls))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct ptscope_version v = { .size = sizeof(v) };
	pthread_t resolver;
	pid_t pool = 0, unpriv = 0;
	unsigned int i;
	int fd, bad;

	if (argc == 3 && !strcmp(argv[1], "--pool-child")) {
		pool_life(strtoull(argv[2], NULL, 0));
		return 0;
	}
	if (parse_args(argc, argv)) {
		usage();
		return 2;
	}
	if (!opt.seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt.seed = ((uint64_t)ts.tv_sec << 32) ^ ts.tv_nsec ^ getpid();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# ptscope_fuzz --seed %#llx --threads %u --files %u --pool %u%s%s%s%s "
	       "(bounds: %u s, %llu calls)\n", (unsigned long long)opt.seed, opt.threads,
	       opt.files, opt.pool, opt.unpriv ? "" : " --no-unpriv",
	       opt.no_uffd_watch ? " --exclude uffd-watch" : "",
	       opt.no_uffd ? " --exclude uffd" : "", opt.no_debugfs ? " --exclude debugfs" : "",
	       opt.seconds, (unsigned long long)opt.calls);

	fd = open(PTSCOPE_DEV, O_RDWR);
	if (fd < 0 || ioctl(fd, PTSCOPE_IOC_VERSION, &v)) {
		printf("FAIL: %s: %s\n", PTSCOPE_DEV, strerror(errno));
		return 1;
	}
	levels = v.pgtable_levels;
	close(fd);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		return 1;
	self_pid = getpid();
	t_start = time(NULL);
	for (i = 0; i < opt.files; i++) {
		pthread_rwlock_init(&files[i].lock, NULL);
		files[i].fd = open(PTSCOPE_DEV, O_RDWR | O_CLOEXEC);
	}
	if (opt.pool) {
		pool = fork();
		if (pool == 0)
			pool_manager(opt.seed ^ 0x9001);
	}
	if (opt.unpriv)
		unpriv = start_unpriv();
	if (!opt.no_uffd && uffd_setup(opt.threads) == 0)
		pthread_create(&resolver, NULL, uffd_resolver, NULL);

	if (run_workers(opt.threads, opt.seed)) {
		printf("FAIL: cannot start the threads: %s\n", strerror(errno));
		return 1;
	}
	__atomic_store_n(&st->stop, 1, __ATOMIC_RELAXED);
	if (unpriv > 0) {
		int status;

		waitpid(unpriv, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failure("the unprivileged process ended with status %#x", status);
	}
	if (pool > 0) {
		kill(-pool, SIGKILL);
		kill(pool, SIGKILL);
		waitpid(pool, NULL, 0);
	}
	if (uffd >= 0) {
		__atomic_store_n(&st->stop, 2, __ATOMIC_RELAXED);
		pthread_join(resolver, NULL);
	}
	for (i = 0; i < opt.files; i++)
		if (files[i].fd >= 0)
			close(files[i].fd);

	printf("# %llu calls in %ld s (seed %#llx)\n", (unsigned long long)st->total,
	       (long)(time(NULL) - t_start), (unsigned long long)opt.seed);
	print_stats();
	bad = check_module_state();
	if (st->failures || bad) {
		printf("FAIL: %llu calls failed their check; reproduce with --seed %#llx\n",
		       (unsigned long long)st->failures, (unsigned long long)opt.seed);
		return 1;
	}
	printf("# ok: every call returned success or a documented errno\n");
	return 0;
}
