// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope selftests: races. Commands running at the same time as what
 * changes under them: watches created, released, read and their file closed
 * from several threads; walks, VMA listings, translations and the debugfs
 * views while the target unmaps, mprotects, mremaps, drops, pages out and
 * collapses its memory, splits THPs and khugepaged collapses them; and a
 * target that execs a setuid-root program while it is targeted and watched.
 *
 * During a race every call must succeed or fail with an errno the situation
 * explains (a closed file: EBADF; a watch released by another thread:
 * ENOENT; a target that may not be read: EPERM). When the racing stops,
 * what the module says is compared with pagemap, maps and smaps.
 * RACE_SECONDS (default 3) sets how long each race runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#include "kselftest_harness.h"
#include <uapi/ptscope.h>
#include "ptscope_util.h"

#define HUGE		pmd_size()	/* 2 MiB with 4 KiB pages, 32 MiB with 16 KiB */
#define REGION		(4 * HUGE)	/* 8 MiB with 4 KiB pages */
#define KHUGEPAGED	"/sys/kernel/mm/transparent_hugepage/khugepaged/"

static unsigned int race_seconds(void)
{
	const char *s = getenv("RACE_SECONDS");

	return s && atoi(s) > 0 ? atoi(s) : 3;
}

static bool module_loaded(void)
{
	return access(PTSCOPE_DEV, R_OK | W_OK) == 0;
}

/* debugfs counters shows no watch (after the files' releases ran), 0 or -1 */
static int wait_no_watches(void)
{
	char buf[64];
	int i;

	for (i = 0; i < 100; i++) {
		if (debugfs_value("counters", "watches", buf, sizeof(buf)) && !strcmp(buf, "0"))
			return 0;
		usleep(20000);
	}
	return -1;
}

/* ------------------------------------------------------------------------
 * WATCH, UNWATCH, COUNTERS and close on one file from several threads.
 */

static atomic_int shared_fd = -1;
static atomic_uint recent_ids[8];
static atomic_int stop_threads;
static atomic_ulong bad_calls, calls_done;

static void note_bad(const char *what, int err)
{
	if (atomic_fetch_add(&bad_calls, 1) < 5)
		fprintf(stderr, "# %s: %s\n", what, strerror(err));
}

static void *watcher(void *arg)
{
	uint64_t s = (uintptr_t)arg;

	while (!atomic_load(&stop_threads)) {
		int fd = atomic_load(&shared_fd);
		struct ptscope_watch w = { .size = sizeof(w), .pid = getpid() };
		struct ptscope_counters c = { .size = sizeof(c) };

		switch (splitmix64(&s) % 3) {
		case 0:
			w.flags = splitmix64(&s) % 2 ? PTSCOPE_WATCH_FAULT_DETAIL : 0;
			if (!ioctl(fd, PTSCOPE_IOC_WATCH, &w))
				atomic_store(&recent_ids[w.id % 8], w.id);
			else if (errno != EBADF && errno != ENOSPC)
				note_bad("WATCH", errno);
			break;
		case 1:
			w.pid = 0;
			w.id = splitmix64(&s) % 2 ? atomic_load(&recent_ids[splitmix64(&s) % 8]) :
						   1 + splitmix64(&s) % 16;
			if (ioctl(fd, PTSCOPE_IOC_UNWATCH, &w) && errno != EBADF && errno != ENOENT)
				note_bad("UNWATCH", errno);
			break;
		default:
			c.id = atomic_load(&recent_ids[splitmix64(&s) % 8]);
			if (!ioctl(fd, PTSCOPE_IOC_COUNTERS, &c)) {
				if (c.state != PTSCOPE_WATCH_ACTIVE || c.pid != getpid())
					note_bad("COUNTERS: a watch of this live process not active",
						 EINVAL);
			} else if (errno != EBADF && errno != ENOENT) {
				note_bad("COUNTERS", errno);
			}
		}
		atomic_fetch_add(&calls_done, 1);
	}
	return NULL;
}

TEST(watch_unwatch_counters_close_one_file)
{
	pthread_t th[4];
	time_t t0;
	unsigned long closes = 0;
	char buf[256];
	int i;

	if (!module_loaded())
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	atomic_store(&shared_fd, open(PTSCOPE_DEV, O_RDWR));
	ASSERT_LE(0, atomic_load(&shared_fd));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, watcher, (void *)(uintptr_t)(i + 1)));
	/* This thread closes the file under them and opens another. */
	for (t0 = time(NULL); time(NULL) - t0 < race_seconds(); closes++) {
		usleep(20000);
		close(atomic_exchange(&shared_fd, open(PTSCOPE_DEV, O_RDWR)));
	}
	atomic_store(&stop_threads, 1);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	close(atomic_load(&shared_fd));
	TH_LOG("%lu calls, %lu files closed under them", atomic_load(&calls_done), closes);
	EXPECT_EQ(0, atomic_load(&bad_calls));
	EXPECT_EQ(0, wait_no_watches());
	/* The fault probe goes a second after the last detail watch. */
	EXPECT_EQ(0, fault_probe_gone(5000))
		TH_LOG("hooks %s", debugfs_value("counters", "hooks", buf, sizeof(buf)) ?: "?");
}

/* ------------------------------------------------------------------------
 * Walks racing a target that changes its address space.
 */

enum mutation { M_MUNMAP, M_MPROTECT, M_MREMAP, M_DONTNEED, M_PAGEOUT, M_COLLAPSE,
	M_THP_SPLIT, M_KHUGEPAGED };

struct race_shared {
	uint64_t region;	/* REGION bytes, HUGE aligned */
	int stop;		/* parent: stop changing */
	int quiet;		/* child: stopped */
	int setup_err;		/* child: the mutation is not supported (errno) */
	uint64_t mutations;
};

static void touch_range(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += PAGE)
		p[i] = (char)(i >> 12);
}

/* One change of the region; -errno when the kernel does not support it. */
static int mutate(enum mutation m, char *r, uint64_t *s)
{
	size_t off = splitmix64(s) % (REGION / PAGE) * PAGE, len = (1 + splitmix64(s) % 64) * PAGE;
	char *h = r + splitmix64(s) % (REGION / HUGE) * HUGE;
	void *p;

	if (off + len > REGION)
		len = REGION - off;
	switch (m) {
	case M_MUNMAP:
		munmap(r + off, len);
		p = mmap(r + off, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		touch_range(r + off, len);
		return 0;
	case M_MPROTECT:
		mprotect(r + off, len, splitmix64(s) % 2 ? PROT_READ : PROT_NONE);
		usleep(500);
		mprotect(r + off, len, PROT_READ | PROT_WRITE);
		return 0;
	case M_MREMAP:
		/* move a piece away and back: the PTEs move with it */
		p = mremap(r + off, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, r + REGION + off);
		if (p == MAP_FAILED)
			return -errno;
		p = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, r + off);
		return p == MAP_FAILED ? -errno : 0;
	case M_DONTNEED:
		if (madvise(r + off, len, MADV_DONTNEED))
			return -errno;
		touch_range(r + off, len / 2);
		return 0;
	case M_PAGEOUT:
		if (madvise(r + off, len, MADV_PAGEOUT))
			return -errno;
		touch_range(r + off, len / 4);
		return 0;
	case M_COLLAPSE:
		madvise(h, HUGE, MADV_DONTNEED);
		touch_range(h, HUGE / 2);
		return madvise(h, HUGE, MADV_COLLAPSE) && errno == EINVAL ? -EINVAL : 0;
	case M_THP_SPLIT:
		/* a THP (where the fault gets one), then a page out of its middle */
		munmap(h, HUGE);
		p = mmap(h, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		madvise(h, HUGE, MADV_HUGEPAGE);
		touch_range(h, HUGE);
		munmap(h + HUGE / 2 + splitmix64(s) % 64 * PAGE, PAGE);
		return 0;
	case M_KHUGEPAGED:
		/* holes for khugepaged to fill (max_ptes_none allows it) */
		madvise(h, 64 * PAGE, MADV_DONTNEED);
		usleep(2000);
		return 0;
	}
	return 0;
}

static void race_target(struct race_shared *sh, enum mutation m)
{
	uint64_t s = 42;
	char *r;
	int err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the region, and room after it for mremap to move pieces to */
	r = map_aligned(2 * REGION, HUGE);
	if (r == MAP_FAILED)
		_exit(1);
	munmap(r + REGION, REGION);
	madvise(r, REGION, MADV_HUGEPAGE);
	touch_range(r, REGION);
	err = mutate(m, r, &s);
	sh->setup_err = err < 0 ? -err : 0;
	__atomic_store_n(&sh->region, (uintptr_t)r, __ATOMIC_RELEASE);
	while (!err && !__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		mutate(m, r, &s);
		__atomic_fetch_add(&sh->mutations, 1, __ATOMIC_RELAXED);
	}
	/* Hold still: khugepaged leaves VM_NOHUGEPAGE alone. */
	madvise(r, REGION, MADV_NOHUGEPAGE);
	__atomic_store_n(&sh->quiet, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

struct walk_reader {
	pthread_t th;
	pid_t pid;
	uint64_t region;
	int kind;
	unsigned long done, bad;
	char why[160];
};

static atomic_int stop_readers;

static void reader_bad(struct walk_reader *r, const char *what, int err)
{
	if (!r->bad++)
		snprintf(r->why, sizeof(r->why), "%s: %s", what, strerror(err));
}

static void read_debugfs_view(struct walk_reader *r, const char *name)
{
	char path[128], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", PTSCOPE_DEBUGFS, name);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		reader_bad(r, path, errno);
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		reader_bad(r, path, errno);
	close(fd);
}

static void *walk_reader(void *arg)
{
	struct walk_reader *r = arg;
	uint64_t s = r->kind + 7;
	int fd = ptscope_open_target(r->pid, NULL);

	if (fd < 0) {
		reader_bad(r, "open and target", -fd);
		return NULL;
	}
	while (!atomic_load(&stop_readers)) {
		struct ptscope_run *runs = NULL;
		struct ptscope_vma *vmas = NULL;
		struct ptscope_huge_vma hv[16];
		struct ptscope_vmas q = {
			.size = sizeof(q), .vmas = (uintptr_t)hv, .vma_size = sizeof(hv[0]),
			.count = 16, .start = r->region, .end = r->region + 2 * REGION,
		};
		struct ptscope_vtop v;
		long n;

		switch (r->kind) {
		case 0:
			n = ptscope_walk_all(fd, r->region, r->region + 2 * REGION,
					     splitmix64(&s) % 2 ? PTSCOPE_WALK_TABLES : 0, &runs);
			if (n < 0)
				reader_bad(r, "WALK", -n);
			free(runs);
			break;
		case 1:
			n = ptscope_vmas_all(fd, PTSCOPE_VMAS_COUNTS, &vmas);
			if (n < 0)
				reader_bad(r, "VMAS", -n);
			free(vmas);
			if (ioctl(fd, PTSCOPE_IOC_HUGE_VMAS, &q))
				reader_bad(r, "HUGE_VMAS", errno);
			break;
		default:
			if (ptscope_vtop(fd, r->region + splitmix64(&s) % (2 * REGION), &v))
				reader_bad(r, "VTOP", errno);
			if (splitmix64(&s) % 16 == 0)
				read_debugfs_view(r, splitmix64(&s) % 2 ? "pagetable" : "vmas");
		}
		r->done++;
	}
	close(fd);
	return NULL;
}

/* sysfs knob save/set/restore for khugepaged */
struct knob {
	const char *name;
	char old[32];
};

static void knob_set(struct knob *k, const char *val)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), KHUGEPAGED "%s", k->name);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(k->old, sizeof(k->old), f))
		k->old[0] = '\0';
	fclose(f);
	f = fopen(path, "w");
	if (f) {
		fputs(val, f);
		fclose(f);
	}
}

static void knob_restore(struct knob *k)
{
	char path[160];
	FILE *f;

	if (!k->old[0])
		return;
	snprintf(path, sizeof(path), KHUGEPAGED "%s", k->name);
	f = fopen(path, "w");
	if (f) {
		fputs(k->old, f);
		fclose(f);
	}
}

FIXTURE(walks) {
	struct race_shared *sh;
	pid_t pid;
	struct knob knobs[3];
};

FIXTURE_VARIANT(walks) {
	enum mutation m;
	const char *what;
};

FIXTURE_VARIANT_ADD(walks, munmap) { .m = M_MUNMAP, .what = "munmap and map again" };
FIXTURE_VARIANT_ADD(walks, mprotect) { .m = M_MPROTECT, .what = "mprotect" };
FIXTURE_VARIANT_ADD(walks, mremap) { .m = M_MREMAP, .what = "mremap away and back" };
FIXTURE_VARIANT_ADD(walks, dontneed) { .m = M_DONTNEED, .what = "MADV_DONTNEED" };
FIXTURE_VARIANT_ADD(walks, pageout) { .m = M_PAGEOUT, .what = "MADV_PAGEOUT" };
FIXTURE_VARIANT_ADD(walks, collapse) { .m = M_COLLAPSE, .what = "MADV_COLLAPSE" };
FIXTURE_VARIANT_ADD(walks, thp_split) { .m = M_THP_SPLIT, .what = "THP split by munmap" };
FIXTURE_VARIANT_ADD(walks, khugepaged) { .m = M_KHUGEPAGED, .what = "khugepaged" };

FIXTURE_SETUP(walks)
{
	self->pid = 0;
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	memset(self->knobs, 0, sizeof(self->knobs));
	if (variant->m == M_KHUGEPAGED) {
		self->knobs[0].name = "scan_sleep_millisecs";
		self->knobs[1].name = "alloc_sleep_millisecs";
		self->knobs[2].name = "pages_to_scan";
		knob_set(&self->knobs[0], "10");
		knob_set(&self->knobs[1], "10");
		knob_set(&self->knobs[2], "4096");
	}
}

FIXTURE_TEARDOWN(walks)
{
	int i;

	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	for (i = 0; i < 3; i++)
		knob_restore(&self->knobs[i]);
	munmap(self->sh, sizeof(*self->sh));
}

/* The quiet target against pagemap (every VMA), maps and smaps. */
static void expect_final_state(struct __test_metadata *_metadata, pid_t pid)
{
	static uint64_t maps[512][2];
	struct ptscope_vma *vmas = NULL;
	long n, nv, i, bad;
	int fd = ptscope_open_target(pid, NULL);

	ASSERT_LE(0, fd);
	n = maps_ranges(pid, maps, 512);
	nv = ptscope_vmas_all(fd, PTSCOPE_VMAS_COUNTS, &vmas);
	ASSERT_LT(0, n);
	ASSERT_EQ(n, nv);
	for (i = 0; i < n; i++) {
		char why[256] = "";
		int tries;
		const __u64 *c = vmas[i].counts;
		long rss = smaps_field(pid, maps[i][0], "Rss");

		EXPECT_EQ(maps[i][0], vmas[i].start);
		EXPECT_EQ(maps[i][1], vmas[i].end);
		/* pagemap does not walk PFN maps ([vvar]): no independent view there */
		if (smaps_vmflag(pid, maps[i][0], "pf"))
			continue;
		bad = -EAGAIN;
		for (tries = 0; tries < 5 && bad == -EAGAIN; tries++) {
			bad = pagemap_mismatches(fd, pid, maps[i][0], maps[i][1], why, sizeof(why));
			if (bad == -EAGAIN)
				usleep(100000);
		}
		EXPECT_EQ(0, bad) TH_LOG("VMA %#llx-%#llx: %s", (unsigned long long)maps[i][0],
					 (unsigned long long)maps[i][1],
					 bad < 0 ? strerror(-bad) : why);
		EXPECT_EQ(rss, (long)((c[PTSCOPE_CNT_RSS_PTE] + c[PTSCOPE_CNT_RSS_PMD] +
				       c[PTSCOPE_CNT_RSS_PUD]) * PAGE_KB))
			TH_LOG("VMA %#llx: smaps Rss", (unsigned long long)maps[i][0]);
	}
	free(vmas);
	close(fd);
}

TEST_F_TIMEOUT(walks, race_then_match_pagemap, 120)
{
	struct walk_reader rd[3];
	char pidbuf[32];
	time_t t0;
	int i;

	if (!module_loaded())
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	if ((variant->m == M_COLLAPSE || variant->m == M_THP_SPLIT ||
	     variant->m == M_KHUGEPAGED) &&
	    access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK))
		SKIP(return, "no transparent huge pages in this kernel");
	if (variant->m == M_KHUGEPAGED && access(KHUGEPAGED "scan_sleep_millisecs", W_OK))
		SKIP(return, "khugepaged's settings cannot be changed here");

	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0)
		race_target(self->sh, variant->m);
	while (!__atomic_load_n(&self->sh->region, __ATOMIC_ACQUIRE))
		usleep(1000);
	if (self->sh->setup_err)
		SKIP(return, "%s: %s", variant->what, strerror(self->sh->setup_err));
	snprintf(pidbuf, sizeof(pidbuf), "%d", self->pid);
	ASSERT_EQ(0, debugfs_write("target", pidbuf));

	atomic_store(&stop_readers, 0);
	for (i = 0; i < 3; i++) {
		rd[i] = (struct walk_reader) {
			.pid = self->pid, .region = self->sh->region, .kind = i,
		};
		ASSERT_EQ(0, pthread_create(&rd[i].th, NULL, walk_reader, &rd[i]));
	}
	/*
	 * The time asked for, and at least one change raced: under TCG on a
	 * loaded host one MADV_PAGEOUT round can outlast 2 s (0 changes once).
	 */
	for (t0 = time(NULL); time(NULL) - t0 < race_seconds() ||
	     (!__atomic_load_n(&self->sh->mutations, __ATOMIC_RELAXED) && time(NULL) - t0 < 60);)
		usleep(100000);
	atomic_store(&stop_readers, 1);
	for (i = 0; i < 3; i++) {
		pthread_join(rd[i].th, NULL);
		EXPECT_EQ(0, rd[i].bad) TH_LOG("reader %d: %s", i, rd[i].why);
	}
	TH_LOG("%s: %llu changes against %lu walks, %lu VMA listings, %lu translations",
	       variant->what, (unsigned long long)self->sh->mutations, rd[0].done, rd[1].done,
	       rd[2].done);
	EXPECT_LT(0, self->sh->mutations);
	EXPECT_LT(0, rd[0].done);

	__atomic_store_n(&self->sh->stop, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&self->sh->quiet, __ATOMIC_ACQUIRE))
		usleep(1000);
	expect_final_state(_metadata, self->pid);
}

/* ------------------------------------------------------------------------
 * A targeted and watched process execs a setuid-root program.
 *
 * Who: the opener O runs as nobody with a file opened by root (open needs
 * CAP_SYS_ADMIN); its child C, also nobody, selects itself as the file's
 * target and watches itself (allowed: its own process), then execs a
 * setuid-root copy of this program. Root reads C through another file the
 * whole time. The rules: O may read through ptscope only what the kernel
 * lets it read through /proc/C/pagemap, so once C runs as root O must get
 * EPERM (its own check of C, whichever file set the target); C's watch
 * must not count the new image (GONE, or refused); root keeps reading
 * and, at the end, its walk of C equals pagemap.
 */

#define SUID_COPY	"/tmp/ptscope-race-suid"

/* What the setuid copy runs: say it runs, fault some memory, wait. */
static int suid_child(int fd)
{
	char *p = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char c = geteuid() == 0 ? 'r' : 'u';

	if (p != MAP_FAILED)
		touch_range(p, 64 * PAGE);
	if (write(fd, &c, 1) != 1)
		return 1;
	for (;;)
		pause();
}

static int copy_self_setuid(void)
{
	char buf[65536];
	ssize_t n;
	int in = open("/proc/self/exe", O_RDONLY), out;

	unlink(SUID_COPY);
	out = open(SUID_COPY, O_WRONLY | O_CREAT | O_EXCL, 0755);
	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return -1;
	close(in);
	if (fchown(out, 0, 0) || fchmod(out, 04755))
		return -1;
	return close(out);
}

/* Does VMAS through @fd show a mapping of the setuid copy? 1, 0, or -errno */
static int vmas_show_suid(int fd)
{
	struct ptscope_vma *vmas = NULL;
	long n = ptscope_vmas_all(fd, 0, &vmas), i;
	int found = 0;

	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		found |= !strcmp(vmas[i].name, SUID_COPY);
	free(vmas);
	return found;
}

static void say(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(120);
}

/*
 * The opener, as nobody: @fd is the file C targets and watches itself on;
 * reports through @out one letter per violation class, then '.'.
 */
static void opener_main(int fd, int go_w, int ran_r, int out, int *exec_done)
{
	struct ptscope_counters c = { .size = sizeof(c) };
	struct ptscope_watch w = { .size = sizeof(w) };
	pid_t child;
	char ch;
	int after, i;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		_exit(125);
	child = fork();
	if (child == 0) {
		struct ptscope_target t = { .size = sizeof(t), .pid = getpid() };
		char fdarg[16];

		w.pid = getpid();
		if (ioctl(fd, PTSCOPE_IOC_TARGET, &t) || ioctl(fd, PTSCOPE_IOC_WATCH, &w))
			_exit(124);
		if (write(go_w, &w.id, sizeof(w.id)) != sizeof(w.id))
			_exit(123);
		snprintf(fdarg, sizeof(fdarg), "%d", go_w);
		execl(SUID_COPY, SUID_COPY, "--suid-child", fdarg, (char *)NULL);
		_exit(122);
	}
	if (read(ran_r, &c.id, sizeof(c.id)) != sizeof(c.id))
		_exit(121);
	/* Keep reading while C execs, and after. */
	for (after = 0, i = 0; i < 400 && after < 50; i++) {
		int shows, counters;

		if (!after) {
			struct pollfd p = { .fd = ran_r, .events = POLLIN };

			if (poll(&p, 1, 0) == 1 && read(ran_r, &ch, 1) == 1) {
				after = 1;
				__atomic_store_n(exec_done, 1, __ATOMIC_RELEASE);
				if (ch != 'r')	/* the new image does not run as root */
					say(out, 'U');
			}
		} else {
			after++;
		}
		shows = vmas_show_suid(fd);
		counters = ioctl(fd, PTSCOPE_IOC_COUNTERS, &c) ? -errno : 0;
		/* Read what pagemap refuses: a violation. */
		if (shows > 0 && pagemap_open_errno(child))
			say(out, 'V');
		if (shows < 0 && shows != -EPERM)
			say(out, 'E');
		if (after > 1 && !counters && c.state == PTSCOPE_WATCH_ACTIVE)
			say(out, 'C');
		if (counters && counters != -EPERM && counters != -ENOENT)
			say(out, 'E');
		usleep(10000);
	}
	say(out, after ? '.' : 'T');
	_exit(0);	/* C lives on, for root to look at */
}

struct root_reader {
	pthread_t th;
	int fd;
	pid_t pid;
	uint64_t task_size;
	unsigned long exec_window;	/* EINVALs while the exec was under way */
	int *exec_done;			/* set by the opener: the new image runs */
	unsigned long done, bad;
	char why[400];
};

/* Root reads C all along: every call succeeds, before, during and after the exec. */
static void *root_reader(void *arg)
{
	struct root_reader *r = arg;

	while (!atomic_load(&stop_readers)) {
		struct ptscope_run *runs = NULL;
		int done = __atomic_load_n(r->exec_done, __ATOMIC_ACQUIRE);
		int shows = vmas_show_suid(r->fd);
		long n = ptscope_walk_all(r->fd, 0, r->task_size, 0, &runs);
		struct ptscope_target t = { .size = sizeof(t), .pid = r->pid };

		free(runs);
		/*
		 * While the exec is under way the kernel holds the target's
		 * exec_update_lock, as /proc/PID/pagemap's mm_access() waits
		 * for: ptscope reads the old program or the new one, never a
		 * new mm without its task size (that was EINVAL here).
		 */
		if (!done && (shows == -EINVAL || n == -EINVAL))
			r->exec_window++;
		if (done && !ioctl(r->fd, PTSCOPE_IOC_TARGET, &t) && t.task_size != r->task_size)
			r->task_size = t.task_size;	/* exec may set another */
		if ((shows < 0 || n < 0) && !r->bad++) {
			char path[64], stat[200] = "", exe[128] = "";
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%d/stat", r->pid);
			f = fopen(path, "r");
			if (f) {
				if (!fgets(stat, 60, f))
					stat[0] = 0;
				fclose(f);
			}
			snprintf(path, sizeof(path), "/proc/%d/exe", r->pid);
			if (readlink(path, exe, sizeof(exe) - 1) < 0)
				exe[0] = 0;
			snprintf(r->why, sizeof(r->why), "%s (%s), task size %#llx; pid %d: %s exe %s",
				 strerror(shows < 0 ? -shows : -n), shows < 0 ? "VMAS" : "WALK",
				 (unsigned long long)r->task_size, r->pid, stat, exe);
		}
		r->done++;
	}
	return NULL;
}

FIXTURE(suid) {
	pid_t child;
};

FIXTURE_SETUP(suid)
{
	self->child = 0;
}

FIXTURE_TEARDOWN(suid)
{
	if (self->child > 0)
		kill(self->child, SIGKILL);
	unlink(SUID_COPY);
}

TEST_F_TIMEOUT(suid, setuid_exec_after_target_and_watch, 120)
{
	int go[2], out[2], fd, n;
	struct root_reader rr = { .fd = -1 };
	char res[512] = "";
	pid_t opener;
	ssize_t got;

	if (!module_loaded())
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	if (geteuid())
		SKIP(return, "needs root to make a setuid-root copy");
	ASSERT_EQ(0, copy_self_setuid()) TH_LOG("%s: %s", SUID_COPY, strerror(errno));
	fd = open(PTSCOPE_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	rr.exec_done = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rr.exec_done);
	ASSERT_EQ(0, pipe(go));		/* C -> O: the watch id, then 'r' from the new image */
	ASSERT_EQ(0, pipe(out));	/* O -> us: violations */

	opener = fork();
	ASSERT_LE(0, opener);
	if (opener == 0) {
		close(out[0]);
		opener_main(fd, go[1], go[0], out[1], rr.exec_done);
	}
	close(out[1]);
	close(go[1]);
	/* Root follows C too: the opener's child. */
	for (n = 0; n < 2000 && rr.fd < 0; n++) {
		struct ptscope_target t = { 0 };
		char path[64], line[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", opener, opener);
		f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f) && atoi(line) > 0) {
			self->child = atoi(line);
			rr.fd = ptscope_open_target(self->child, &t);
			rr.task_size = t.task_size;
			rr.pid = self->child;
		}
		if (f)
			fclose(f);
		if (rr.fd < 0)
			usleep(1000);
	}
	ASSERT_LE(0, rr.fd);
	atomic_store(&stop_readers, 0);
	ASSERT_EQ(0, pthread_create(&rr.th, NULL, root_reader, &rr));
	while ((got = read(out[0], res + strlen(res), sizeof(res) - strlen(res) - 1)) > 0)
		if (strchr(res, '.') || strchr(res, 'T'))
			break;
	waitpid(opener, NULL, 0);
	atomic_store(&stop_readers, 1);
	pthread_join(rr.th, NULL);
	EXPECT_EQ(0, rr.bad) TH_LOG("root reading the process across its exec: %s", rr.why);
	TH_LOG("root read the process %lu times across the exec (%lu EINVAL while it was under way)",
	       rr.done, rr.exec_window);
	EXPECT_EQ(0, rr.exec_window);
	/* Root may read the setuid process: it sees the new image, as pagemap does. */
	EXPECT_EQ(1, vmas_show_suid(rr.fd));
	expect_final_state(_metadata, self->child);
	EXPECT_EQ(NULL, strchr(res, 'V')) TH_LOG("nobody read the setuid-root process through ptscope, which pagemap refuses");
	EXPECT_EQ(NULL, strchr(res, 'C')) TH_LOG("the watch counted the setuid image as active");
	EXPECT_EQ(NULL, strchr(res, 'E')) TH_LOG("an errno no rule explains: %s", res);
	EXPECT_NE(NULL, strchr(res, '.')) TH_LOG("the setuid program did not run: %s", res);
	EXPECT_EQ(NULL, strchr(res, 'U')) TH_LOG("the setuid copy did not run as root (nosuid /tmp?)");
	kill(self->child, SIGKILL);
	close(rr.fd);
	close(fd);
	close(out[0]);
	close(go[0]);
	EXPECT_EQ(0, wait_no_watches());
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--suid-child"))
		return suid_child(atoi(argv[2]));
	return test_harness_run(argc, argv);
}
