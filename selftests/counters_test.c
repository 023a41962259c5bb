// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope selftests: the TLB flush and page-fault counters (PTSCOPE_IOC_WATCH,
 * PTSCOPE_IOC_UNWATCH, PTSCOPE_IOC_COUNTERS, debugfs ptscope/counters).
 * Every count is checked against what the kernel says elsewhere: getrusage,
 * /proc/PID/stat, wait4, /proc/self/pagemap, tracefs, the exit signal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <poll.h>

#include "kselftest_harness.h"
#include <uapi/ptscope.h>
#include "ptscope_util.h"

#define TRACEFS		"/sys/kernel/tracing"

static int watch(int fd, pid_t pid, __u32 flags)
{
	struct ptscope_watch w = { .size = sizeof(w), .flags = flags, .pid = pid };

	if (ioctl(fd, PTSCOPE_IOC_WATCH, &w))
		return -errno;
	return w.id;
}

static int unwatch(int fd, __u32 id)
{
	struct ptscope_watch w = { .size = sizeof(w), .id = id };

	return ioctl(fd, PTSCOPE_IOC_UNWATCH, &w) ? -errno : 0;
}

static int counters(int fd, __u32 id, struct ptscope_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->id = id;
	return ioctl(fd, PTSCOPE_IOC_COUNTERS, c) ? -errno : 0;
}

/* watches_now - the "watches N" line of debugfs ptscope/counters, or -1 */
static long watches_now(void)
{
	char buf[32];

	return debugfs_value("counters", "watches", buf, sizeof(buf)) ? atol(buf) : -1;
}

/* vma_faults - faults counted for the VMA that contains @addr */
static __u64 vma_faults(const struct ptscope_counters *c, const void *addr, __u64 *major)
{
	__u32 i;

	for (i = 0; i < c->nr_vmas; i++) {
		if (c->vmas[i].start <= (uintptr_t)addr && (uintptr_t)addr < c->vmas[i].end) {
			if (major)
				*major = c->vmas[i].major;
			return c->vmas[i].faults;
		}
	}
	if (major)
		*major = 0;
	return 0;
}

static long self_minflt(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_minflt;
}

/* stat_majflt - field 12 of /proc/PID/stat */
static long stat_majflt(pid_t pid)
{
	char path[64], buf[1024], *p;
	long majflt = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %ld", &majflt) != 1)
			majflt = -1;
	}
	fclose(f);
	return majflt;
}

/* pages_swapped - pages of [p, p + n pages) that pagemap shows swapped out */
static int pages_swapped(const void *p, int n)
{
	int fd = open("/proc/self/pagemap", O_RDONLY), i, swapped = 0;
	uint64_t e;

	if (fd < 0)
		return -1;
	for (i = 0; i < n; i++) {
		off_t off = ((uintptr_t)p / PAGE + i) * sizeof(e);

		if (pread(fd, &e, sizeof(e), off) != sizeof(e)) {
			swapped = -1;
			break;
		}
		swapped += !!(e & (1ULL << 62));
	}
	close(fd);
	return swapped;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/* swap_on_zram - a swap device, on zram0 if none is active; 0 or -1 */
static int swap_on_zram(void)
{
	char line[256];
	int lines = 0;
	FILE *f = fopen("/proc/swaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		lines++;
	fclose(f);
	if (lines > 1)
		return 0;
	if (access("/sys/block/zram0/disksize", W_OK))
		return -1;
	write_file("/sys/block/zram0/disksize", "64M");
	return system("mkswap /dev/zram0 >/dev/null 2>&1 && swapon /dev/zram0") ? -1 : 0;
}

/* proc_state - the state letter of /proc/PID/stat */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p, state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		if (p)
			state = p[2];
	}
	fclose(f);
	return state;
}

/*
 * A child that waits for a byte on a pipe, runs @fn, then exits. It is
 * asleep on the pipe when start_child() returns, so it faults nothing until
 * run_child().
 */
struct child {
	pid_t pid;
	int go;		/* write end: start */
};

static int start_child(struct child *ch, void (*fn)(void))
{
	int p[2], ready[2];
	char b;

	if (pipe(p) || pipe(ready))
		return -1;
	ch->pid = fork();
	if (ch->pid < 0)
		return -1;
	if (ch->pid == 0) {
		close(p[1]);
		close(ready[0]);
		if (write(ready[1], &b, 1) == 1 && read(p[0], &b, 1) == 1)
			fn();
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	if (read(ready[0], &b, 1) != 1)
		return -1;
	close(ready[0]);
	while (proc_state(ch->pid) != 'S')
		usleep(1000);
	ch->go = p[1];
	return 0;
}

static int run_child(struct child *ch, int *status, struct rusage *ru)
{
	char b = 1;

	if (write(ch->go, &b, 1) != 1)
		return -1;
	close(ch->go);
	return wait4(ch->pid, status, 0, ru) == ch->pid ? 0 : -1;
}

#define CHILD_PAGES 32

static void touch_pages(void)
{
	char *p = mmap(NULL, CHILD_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i;

	if (p == MAP_FAILED)
		_exit(1);
	madvise(p, CHILD_PAGES * PAGE, MADV_NOHUGEPAGE);
	for (i = 0; i < CHILD_PAGES; i++)
		p[i * PAGE] = 1;
}

static void write_read_only(void)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	*(volatile char *)p = 1;
}

static void read_past_eof(void)
{
	int fd = memfd_create("ptscope", 0);
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);

	if (fd < 0 || p == MAP_FAILED)
		_exit(1);
	(void)*(volatile char *)p;
}

static void stay_idle(void)
{
	pause();
}

FIXTURE(counters) {
	int fd;
	struct ptscope_counters a, b;
};

FIXTURE_SETUP(counters)
{
	if (access(PTSCOPE_DEV, F_OK))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	self->fd = open(PTSCOPE_DEV, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", PTSCOPE_DEV, strerror(errno));
	/* fault the snapshots in now, not between two of them */
	memset(&self->a, 0, sizeof(self->a));
	memset(&self->b, 0, sizeof(self->b));
}

FIXTURE_TEARDOWN(counters)
{
	if (self->fd >= 0)
		close(self->fd);
}

#define DELTA(f)	(self->b.faults[f] - self->a.faults[f])

/*
 * The article's example: 1 GiB mapped, one byte written every 4096 bytes
 * for 64 pages: exactly 64 new minor faults, all in that VMA, as getrusage
 * and the kernel's own min_flt say.
 */
TEST_F(counters, article_64_minor_faults)
{
	const size_t len = 1UL << 30;
	long ru0, ru1;
	char *p;
	int id, i;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* 4 KiB pages: a THP would take the 64 writes in one fault */
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	id = watch(self->fd, getpid(), PTSCOPE_WATCH_FAULT_DETAIL);
	ASSERT_LT(0, id) TH_LOG("watch: %s", strerror(-id));

	ASSERT_EQ(0, counters(self->fd, id, &self->a));
	if (!(self->a.valid & PTSCOPE_CNT_F_OUTCOME))
		SKIP(goto out, "no probe on handle_mm_fault in this kernel");
	ru0 = self_minflt();
	for (i = 0; i < 64; i++)
		p[i * PAGE] = 1;
	ru1 = self_minflt();
	ASSERT_EQ(0, counters(self->fd, id, &self->b));

	EXPECT_EQ(64, vma_faults(&self->b, p, NULL) - vma_faults(&self->a, p, NULL));
	EXPECT_EQ(ru1 - ru0, DELTA(PTSCOPE_FLT_MINOR));
	EXPECT_EQ(ru1 - ru0, DELTA(PTSCOPE_FLT_KERNEL_MIN));
	EXPECT_EQ(0, DELTA(PTSCOPE_FLT_MAJOR));
	/* arm64 counts the exceptions, not their access kind (valid says which) */
	if (self->b.valid & PTSCOPE_CNT_F_FAULTS)
		EXPECT_EQ(64, DELTA(PTSCOPE_FLT_WRITE));
	if (!(self->b.valid & PTSCOPE_CNT_F_FAULTS))
		EXPECT_EQ(0, DELTA(PTSCOPE_FLT_WRITE));
	EXPECT_NE(0, self->b.valid & (PTSCOPE_CNT_F_FAULTS | PTSCOPE_CNT_F_FAULT_TOTAL));
	EXPECT_LE(64, DELTA(PTSCOPE_FLT_TOTAL));
	EXPECT_LE(64, DELTA(PTSCOPE_FLT_PAGE_4K));
	EXPECT_EQ(0, DELTA(PTSCOPE_FLT_PAGE_2M));
	EXPECT_EQ(PTSCOPE_WATCH_ACTIVE, self->b.state);
	EXPECT_EQ(getpid(), self->b.pid);
	EXPECT_LT(self->a.elapsed_ns, self->b.elapsed_ns);
out:
	EXPECT_EQ(0, unwatch(self->fd, id));
	munmap(p, len);
}

/* A page swapped out to zram and touched again: major faults, as /proc/PID/stat counts them. */
TEST_F(counters, swapped_page_major_faults)
{
	const int n = 16;
	__u64 vma_maj0, vma_maj1;
	long maj0, maj1;
	int id, i, swapped;
	char *p;

	if (swap_on_zram())
		SKIP(return, "no swap, and zram0 cannot be set up (zram module, mkswap, swapon)");
	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, n * PAGE, MADV_NOHUGEPAGE));
	for (i = 0; i < n; i++)
		memset(p + i * PAGE, i + 1, PAGE);
	if (madvise(p, n * PAGE, MADV_PAGEOUT))
		SKIP(goto out_unmap, "MADV_PAGEOUT: %s", strerror(errno));
	swapped = pages_swapped(p, n);
	if (swapped <= 0)
		SKIP(goto out_unmap, "MADV_PAGEOUT swapped nothing out");

	id = watch(self->fd, getpid(), PTSCOPE_WATCH_FAULT_DETAIL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, counters(self->fd, id, &self->a));
	if (!(self->a.valid & PTSCOPE_CNT_F_OUTCOME))
		SKIP(goto out_unmap, "no probe on handle_mm_fault in this kernel");
	maj0 = stat_majflt(getpid());
	for (i = 0; i < n; i++)
		EXPECT_EQ(i + 1, ((volatile char *)p)[i * PAGE]);
	maj1 = stat_majflt(getpid());
	ASSERT_EQ(0, counters(self->fd, id, &self->b));

	ksft_print_msg("%d of %d pages swapped out; %ld major faults (/proc/PID/stat), %llu counted\n",
		       swapped, n, maj1 - maj0, DELTA(PTSCOPE_FLT_MAJOR));
	EXPECT_LE(0, maj0);
	EXPECT_LE(1, maj1 - maj0);
	EXPECT_EQ(maj1 - maj0, DELTA(PTSCOPE_FLT_MAJOR));
	EXPECT_EQ(maj1 - maj0, DELTA(PTSCOPE_FLT_KERNEL_MAJ));
	vma_faults(&self->a, p, &vma_maj0);
	vma_faults(&self->b, p, &vma_maj1);
	EXPECT_EQ(maj1 - maj0, vma_maj1 - vma_maj0);
	EXPECT_EQ(0, pages_swapped(p, n));
	EXPECT_EQ(0, unwatch(self->fd, id));
out_unmap:
	munmap(p, n * PAGE);
}

/* kb_field - the "KEY: N kB" line of the smaps entry containing @addr, or of meminfo when @addr is NULL */
static long kb_field(const char *path, const void *addr, const char *key)
{
	char line[512];
	int inside = !addr;
	long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (addr && sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			inside = start <= (uintptr_t)addr && (uintptr_t)addr < end;
			continue;
		}
		if (inside && !strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			val = strtol(line + strlen(key) + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/*
 * A fault that installs a transparent huge page counts as a PMD-leaf ("2m")
 * fault, as smaps shows (2 MiB with 4 KiB pages, 32 MiB with 16 KiB).
 */
TEST_F(counters, thp_fault_counts_2m)
{
	const size_t huge = pmd_size();
	char mode[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char *raw, *p;
	long kb;
	int id;

	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = '\0';
		fclose(f);
	}
	if (strstr(mode, "[never]") || !mode[0])
		SKIP(return, "transparent huge pages are off");
	raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	p = (char *)(((uintptr_t)raw + huge - 1) & ~(huge - 1));
	ASSERT_EQ(0, madvise(p, huge, MADV_HUGEPAGE));
	id = watch(self->fd, getpid(), PTSCOPE_WATCH_FAULT_DETAIL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, counters(self->fd, id, &self->a));
	if (!(self->a.valid & PTSCOPE_CNT_F_OUTCOME))
		SKIP(goto out, "no probe on handle_mm_fault in this kernel");
	p[0] = 1;
	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	kb = kb_field("/proc/self/smaps", p, "AnonHugePages");
	if (kb <= 0)
		SKIP(goto out, "the kernel gave no huge page (AnonHugePages %ld kB)", kb);
	EXPECT_EQ(kb / (long)(huge / 1024), DELTA(PTSCOPE_FLT_PAGE_2M));
	EXPECT_EQ(1, vma_faults(&self->b, p, NULL) - vma_faults(&self->a, p, NULL));
out:
	munmap(raw, 2 * huge);
}

/* A hugetlb page of the PMD's size: one PMD-leaf fault, one page less in the pool. */
TEST_F(counters, hugetlb_fault_counts_2m)
{
	const size_t huge = pmd_size();
	long free0, free1;
	char *p;
	int id;

	if (kb_field("/proc/meminfo", NULL, "Hugepagesize") != (long)(huge / 1024))
		SKIP(return, "the default huge page size is not the PMD's");
	p = mmap(NULL, huge, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		SKIP(return, "no hugetlb page: %s (vm.nr_hugepages)", strerror(errno));
	id = watch(self->fd, getpid(), PTSCOPE_WATCH_FAULT_DETAIL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, counters(self->fd, id, &self->a));
	free0 = kb_field("/proc/meminfo", NULL, "HugePages_Free");
	if (free0 < 1)
		SKIP(goto out, "the hugetlb pool is empty");
	p[0] = 1;
	free1 = kb_field("/proc/meminfo", NULL, "HugePages_Free");
	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	EXPECT_EQ(1, free0 - free1);
	EXPECT_EQ(free0 - free1, DELTA(PTSCOPE_FLT_PAGE_2M));
	EXPECT_EQ(0, DELTA(PTSCOPE_FLT_PAGE_4K));
out:
	munmap(p, huge);
}

/* A write to read-only memory: one SIGSEGV, the signal the child died of. */
TEST_F(counters, write_read_only_one_sigsegv)
{
	struct child ch;
	int id, status;

	ASSERT_EQ(0, start_child(&ch, write_read_only));
	id = watch(self->fd, ch.pid, 0);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, run_child(&ch, &status, NULL));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGSEGV, WTERMSIG(status));
	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	if (!(self->b.valid & PTSCOPE_CNT_F_SIGNALS))
		SKIP(return, "no signal:signal_generate tracepoint");
	EXPECT_EQ(1, self->b.faults[PTSCOPE_FLT_SIGSEGV]);
	EXPECT_EQ(0, self->b.faults[PTSCOPE_FLT_SIGBUS]);
	EXPECT_LE(1, self->b.faults[PTSCOPE_FLT_TOTAL]);
	if (self->b.valid & PTSCOPE_CNT_F_FAULTS)
		EXPECT_LE(1, self->b.faults[PTSCOPE_FLT_WRITE]);
	EXPECT_EQ(PTSCOPE_WATCH_GONE, self->b.state);
}

/* A read past the end of a file: one SIGBUS, from a failed handle_mm_fault(). */
TEST_F(counters, read_past_eof_one_sigbus)
{
	struct child ch;
	int id, status;

	ASSERT_EQ(0, start_child(&ch, read_past_eof));
	id = watch(self->fd, ch.pid, PTSCOPE_WATCH_FAULT_DETAIL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, run_child(&ch, &status, NULL));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGBUS, WTERMSIG(status));
	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	if (!(self->b.valid & PTSCOPE_CNT_F_SIGNALS))
		SKIP(return, "no signal:signal_generate tracepoint");
	EXPECT_EQ(1, self->b.faults[PTSCOPE_FLT_SIGBUS]);
	EXPECT_EQ(0, self->b.faults[PTSCOPE_FLT_SIGSEGV]);
	if (self->b.valid & PTSCOPE_CNT_F_OUTCOME)
		EXPECT_EQ(1, self->b.faults[PTSCOPE_FLT_ERROR]);
}

/* Counters of an exited target stay readable, and match wait4() and debugfs, until released. */
TEST_F(counters, exited_target_readable_until_released)
{
	char key[64], val[128];
	struct rusage ru;
	struct child ch;
	int id, status;

	ASSERT_EQ(0, start_child(&ch, touch_pages));
	id = watch(self->fd, ch.pid, PTSCOPE_WATCH_FAULT_DETAIL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, run_child(&ch, &status, &ru));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	if (!(self->b.valid & PTSCOPE_CNT_F_OUTCOME))
		SKIP(return, "no probe on handle_mm_fault in this kernel");

	EXPECT_EQ(PTSCOPE_WATCH_GONE, self->b.state);
	EXPECT_EQ(ch.pid, self->b.pid);
	/* wait4 counts from fork on, the watch from the go byte on */
	EXPECT_LE(self->b.faults[PTSCOPE_FLT_KERNEL_MIN], (__u64)ru.ru_minflt);
	EXPECT_EQ(self->b.faults[PTSCOPE_FLT_KERNEL_MIN], self->b.faults[PTSCOPE_FLT_MINOR]);
	EXPECT_EQ(CHILD_PAGES, self->b.vmas[0].faults) TH_LOG("the child's mapping has the most faults");

	/* debugfs shows the same numbers */
	snprintf(key, sizeof(key), "watch %d fault.minor", id);
	ASSERT_NE(NULL, debugfs_value("counters", key, val, sizeof(val)));
	EXPECT_EQ(self->b.faults[PTSCOPE_FLT_MINOR], strtoull(val, NULL, 10));
	snprintf(key, sizeof(key), "watch %d pid", id);
	ASSERT_NE(NULL, debugfs_value("counters", key, val, sizeof(val)));
	EXPECT_EQ(ch.pid, atoi(val));
	EXPECT_NE(NULL, strstr(val, "state gone"));

	EXPECT_EQ(0, unwatch(self->fd, id));
	EXPECT_EQ(-ENOENT, counters(self->fd, id, &self->b));
	EXPECT_EQ(NULL, debugfs_value("counters", key, val, sizeof(val)));
}

/* The kernel's own count of this thread's user-mode page faults (perf), or -1. */
static int perf_user_faults_open(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(attr),
		.config = PERF_COUNT_SW_PAGE_FAULTS, .exclude_kernel = 1, .exclude_hv = 1,
	};

	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static long long perf_count(int fd)
{
	long long n;

	return read(fd, &n, sizeof(n)) == sizeof(n) ? n : -1;
}

/*
 * What a kernel cannot count is said so (valid), and reads 0: x86-64 counts
 * TLB flushes and faults by access (tracepoints); arm64 has neither
 * tracepoint and counts the fault exceptions alone (PTSCOPE_CNT_F_FAULT_TOTAL),
 * as many as the kernel's own perf count of this thread's user-mode faults,
 * read around the same window, and at least one per page written.
 */
TEST_F(counters, unsupported_counters_say_so)
{
	const int n = 32;
	long long p0, p1;
	unsigned int i;
	int id, pfd;
	char *p;

	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, n * PAGE, MADV_NOHUGEPAGE));
	id = watch(self->fd, getpid(), 0);
	ASSERT_LT(0, id);
	pfd = perf_user_faults_open();
	p0 = pfd >= 0 ? perf_count(pfd) : -1;
	ASSERT_EQ(0, counters(self->fd, id, &self->a));
	for (i = 0; i < n; i++)
		p[i * PAGE] = 1;
	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	p1 = pfd >= 0 ? perf_count(pfd) : -1;

	if (ptscope_arch_is(PTSCOPE_ARCH_X86_64)) {
		EXPECT_EQ(PTSCOPE_CNT_F_TLB | PTSCOPE_CNT_F_FAULTS,
			  self->b.valid & (PTSCOPE_CNT_F_TLB | PTSCOPE_CNT_F_FAULTS |
					   PTSCOPE_CNT_F_FAULT_TOTAL));
		EXPECT_LE(n, DELTA(PTSCOPE_FLT_WRITE));
	} else {
		EXPECT_EQ(PTSCOPE_CNT_F_FAULT_TOTAL,
			  self->b.valid & (PTSCOPE_CNT_F_TLB | PTSCOPE_CNT_F_FAULTS |
					   PTSCOPE_CNT_F_FAULT_TOTAL));
		for (i = 0; i < PTSCOPE_TLB_MAX; i++)
			EXPECT_EQ(0, self->b.tlb[i].events | self->b.tlb[i].full |
				     self->b.tlb[i].pages);
		EXPECT_EQ(0, self->b.faults[PTSCOPE_FLT_READ] | self->b.faults[PTSCOPE_FLT_WRITE] |
			     self->b.faults[PTSCOPE_FLT_EXEC]);
	}
	EXPECT_LE(n, DELTA(PTSCOPE_FLT_TOTAL));
	if (p0 >= 0 && p1 >= 0) {
		ksft_print_msg("%d pages written: %llu faults counted, %lld by perf around them\n",
			       n, DELTA(PTSCOPE_FLT_TOTAL), p1 - p0);
		/* the same event on arm64; x86's perf count skips some exceptions */
		if (!ptscope_arch_is(PTSCOPE_ARCH_X86_64))
			EXPECT_LE(DELTA(PTSCOPE_FLT_TOTAL), p1 - p0);
	}
	if (pfd >= 0)
		close(pfd);
	EXPECT_EQ(0, unwatch(self->fd, id));
	munmap(p, n * PAGE);
}

/* Faults of other processes add nothing to a watched, idle target. */
TEST_F(counters, unwatched_process_adds_nothing)
{
	struct child idle, busy;
	struct rusage ru;
	int id, status;

	ASSERT_EQ(0, start_child(&idle, stay_idle));
	id = watch(self->fd, idle.pid, PTSCOPE_WATCH_FAULT_DETAIL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, counters(self->fd, id, &self->a));

	ASSERT_EQ(0, start_child(&busy, touch_pages));
	ASSERT_EQ(0, run_child(&busy, &status, &ru));
	EXPECT_LE(CHILD_PAGES, ru.ru_minflt) TH_LOG("the busy child did fault");

	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	EXPECT_EQ(0, memcmp(self->a.faults, self->b.faults, sizeof(self->a.faults)));
	EXPECT_EQ(0, self->b.tlb[PTSCOPE_TLB_REMOTE_SHOOTDOWN].events);
	EXPECT_EQ(0, self->b.tlb[PTSCOPE_TLB_LOCAL_MM_SHOOTDOWN].events);
	EXPECT_EQ(PTSCOPE_WATCH_ACTIVE, self->b.state);
	kill(idle.pid, SIGKILL);
	waitpid(idle.pid, NULL, 0);
	close(idle.go);
}

/* A global watch sees another process's faults; its own VMA table stays empty. */
TEST_F(counters, global_watch_counts_everyone)
{
	struct child busy;
	struct rusage ru;
	int id, status;

	id = watch(self->fd, 0, PTSCOPE_WATCH_GLOBAL | PTSCOPE_WATCH_FAULT_DETAIL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, counters(self->fd, id, &self->a));
	ASSERT_EQ(0, start_child(&busy, touch_pages));
	ASSERT_EQ(0, run_child(&busy, &status, &ru));
	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	EXPECT_LE((__u64)ru.ru_minflt, DELTA(PTSCOPE_FLT_MINOR));
	EXPECT_EQ(0, self->b.nr_vmas);
	EXPECT_EQ(0, self->b.valid & PTSCOPE_CNT_F_KERNEL);
	EXPECT_EQ(PTSCOPE_WATCH_GLOBAL | PTSCOPE_WATCH_FAULT_DETAIL, self->b.watch_flags);
}

/*
 * listed - does a line of @path have @word (@at_start: start with it)? 1,
 * 0, or -1 (no such file)
 */
static int listed(const char *path, const char *word, bool at_start)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, word);

		found |= p && (!at_start || p == line);
	}
	fclose(f);
	return found;
}

/*
 * fault_probe_listed - the kernel's word on a probe on handle_mm_fault: a
 * kretprobe in debugfs kprobes/list, or ftrace's call (fprobe, or a kprobe
 * on ftrace) in tracefs enabled_functions. 1, 0, or -1 (neither file).
 */
static int fault_probe_listed(void)
{
	/* "ADDRESS  r  handle_mm_fault+0x0", +0x4 with IBT */
	int kp = listed("/sys/kernel/debug/kprobes/list", "  r  handle_mm_fault+", false);
	/* "handle_mm_fault (1) ..." */
	int ft = listed("/sys/kernel/tracing/enabled_functions", "handle_mm_fault (", true);

	if (kp < 0 && ft < 0)
		return -1;
	return kp > 0 || ft > 0;
}

/* hooks_fault_probe - ptscope's own word: debugfs counters' hooks line names it (1), or not (0) */
static int hooks_fault_probe(void)
{
	char buf[256];

	if (!debugfs_value("counters", "hooks", buf, sizeof(buf)))
		return -1;
	return strstr(buf, "probe:handle_mm_fault") != NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* wait_detached - wait up to @max seconds for the fault probe to go; seconds waited, or -1 */
static double wait_detached(double max)
{
	double t0 = now_s();

	while (fault_probe_listed() > 0 || hooks_fault_probe() > 0) {
		if (now_s() - t0 > max)
			return -1;
		usleep(20000);
	}
	return now_s() - t0;
}

/*
 * Without PTSCOPE_WATCH_FAULT_DETAIL there is no fault probe: no outcome
 * counters, while the tracepoints and the kernel's own counts go on.
 */
TEST_F(counters, plain_watch_has_no_fault_probe)
{
	char buf[256];
	long ru0, ru1;
	int id, i;
	char *p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, 16 * PAGE, MADV_NOHUGEPAGE));
	/* a detail watch of an earlier test may still have its detach pending */
	ASSERT_LE(0, wait_detached(10));
	id = watch(self->fd, getpid(), 0);
	ASSERT_LT(0, id);
	EXPECT_EQ(0, fault_probe_listed());
	ASSERT_NE(NULL, debugfs_value("counters", "hooks", buf, sizeof(buf)));
	EXPECT_EQ(NULL, strstr(buf, ":handle_mm_fault")) TH_LOG("hooks: %s", buf);
	ASSERT_EQ(0, counters(self->fd, id, &self->a));
	ru0 = self_minflt();
	for (i = 0; i < 16; i++)
		p[i * PAGE] = 1;
	ru1 = self_minflt();
	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	EXPECT_EQ(0, self->b.valid & PTSCOPE_CNT_F_OUTCOME);
	EXPECT_EQ(0, self->b.faults[PTSCOPE_FLT_MINOR]);
	EXPECT_EQ(0, self->b.nr_vmas);
	EXPECT_EQ(ru1 - ru0, DELTA(PTSCOPE_FLT_KERNEL_MIN));
	if (self->b.valid & PTSCOPE_CNT_F_FAULTS)
		EXPECT_EQ(16, DELTA(PTSCOPE_FLT_WRITE));
	munmap(p, 16 * PAGE);
}

/* Remote shootdowns: two threads on two CPUs, one changing the mappings. */
struct spinner {
	char *mem;
	atomic_int running, stop;
	pid_t tid;
};

static int pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void *spin(void *arg)
{
	struct spinner *s = arg;

	s->tid = gettid();
	if (pin_to_cpu(1))
		return NULL;
	atomic_store(&s->running, 1);
	while (!atomic_load(&s->stop))
		((volatile char *)s->mem)[0]++;
	return NULL;
}

/* trace_count - lines of the tracefs buffer, comments left out */
static int trace_count(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(TRACEFS "/trace", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += line[0] != '#';
	fclose(f);
	return n;
}

TEST_F(counters, remote_shootdowns_match_tracefs)
{
	struct spinner s = { 0 };
	char filter[128];
	pthread_t th;
	int id, i, traced;
	char *page;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs 2 CPUs");
	if (access(TRACEFS "/events/tlb/tlb_flush/enable", W_OK))
		SKIP(return, "no tracefs event tlb/tlb_flush");
	if (!ptscope_arch_is(PTSCOPE_ARCH_X86_64))
		SKIP(return, "tlb:tlb_flush is x86's: other architectures never fire it (unsupported_counters_say_so)");
	s.mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, s.mem);
	memset(s.mem, 1, 16 * PAGE);
	ASSERT_EQ(0, pin_to_cpu(0));
	id = watch(self->fd, getpid(), 0);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, pthread_create(&th, NULL, spin, &s));
	while (!atomic_load(&s.running))
		sched_yield();

	/* reason 1 is TLB_REMOTE_SHOOTDOWN; the trace's pid is the interrupted task */
	snprintf(filter, sizeof(filter), "reason == 1 && (common_pid == %d || common_pid == %d)",
		 getpid(), s.tid);
	ASSERT_EQ(0, write_file(TRACEFS "/tracing_on", "0"));
	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_file(TRACEFS "/events/tlb/tlb_flush/filter", filter));
	ASSERT_EQ(0, write_file(TRACEFS "/events/tlb/tlb_flush/enable", "1"));
	ASSERT_EQ(0, write_file(TRACEFS "/tracing_on", "1"));
	ASSERT_EQ(0, counters(self->fd, id, &self->a));
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, mprotect(s.mem + PAGE, PAGE, PROT_READ));
		ASSERT_EQ(0, mprotect(s.mem + PAGE, PAGE, PROT_READ | PROT_WRITE));
		page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, page);
		page[0] = 1;
		ASSERT_EQ(0, munmap(page, PAGE));
	}
	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	write_file(TRACEFS "/tracing_on", "0");
	atomic_store(&s.stop, 1);
	pthread_join(th, NULL);
	traced = trace_count();
	write_file(TRACEFS "/events/tlb/tlb_flush/enable", "0");
	write_file(TRACEFS "/events/tlb/tlb_flush/filter", "0");

	ASSERT_LE(0, traced);
	ksft_print_msg("remote shootdowns: %d traced, %llu counted\n", traced,
		       self->b.tlb[PTSCOPE_TLB_REMOTE_SHOOTDOWN].events -
		       self->a.tlb[PTSCOPE_TLB_REMOTE_SHOOTDOWN].events);
	EXPECT_LT(0, traced) TH_LOG("no remote shootdown happened");
	EXPECT_EQ(traced, self->b.tlb[PTSCOPE_TLB_REMOTE_SHOOTDOWN].events -
			  self->a.tlb[PTSCOPE_TLB_REMOTE_SHOOTDOWN].events);
	EXPECT_LT(0, self->b.tlb[PTSCOPE_TLB_REMOTE_SEND_IPI].events -
		     self->a.tlb[PTSCOPE_TLB_REMOTE_SEND_IPI].events);
	EXPECT_EQ(0, unwatch(self->fd, id));
	munmap(s.mem, 16 * PAGE);
}

/*
 * Watches created and released over and over while another CPU faults and
 * flushes through the probes: every call succeeds, and scripts/vm fails the
 * run on any kernel report (a probe reading a watch after it was freed).
 * One detail watch stays for the whole test, so the fault probe is attached
 * once: patching kernel text while another CPU runs it crashes multi-threaded
 * QEMU TCG guests (toggling a tracefs kprobe event does it too, without
 * ptscope), and the test should hold wherever it runs.
 */
static void *fault_and_flush(void *arg)
{
	struct spinner *s = arg;
	char *p;

	if (pin_to_cpu(1))
		return NULL;
	atomic_store(&s->running, 1);
	while (!atomic_load(&s->stop)) {
		p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			break;
		memset(p, 1, 8 * PAGE);
		mprotect(p, 8 * PAGE, PROT_READ);
		munmap(p, 8 * PAGE);
	}
	return NULL;
}

TEST_F(counters, attach_detach_under_load)
{
	struct spinner s = { 0 };
	pthread_t th;
	int i, id, global, keep;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs 2 CPUs");
	ASSERT_EQ(0, pin_to_cpu(0));
	keep = watch(self->fd, getpid(), PTSCOPE_WATCH_FAULT_DETAIL);
	ASSERT_LT(0, keep);
	ASSERT_EQ(0, pthread_create(&th, NULL, fault_and_flush, &s));
	while (!atomic_load(&s.running))
		sched_yield();
	for (i = 0; i < 20; i++) {
		id = watch(self->fd, getpid(), i % 2 ? PTSCOPE_WATCH_FAULT_DETAIL : 0);
		global = watch(self->fd, 0, PTSCOPE_WATCH_GLOBAL | PTSCOPE_WATCH_FAULT_DETAIL);
		EXPECT_LT(0, id);
		EXPECT_LT(0, global);
		EXPECT_EQ(0, counters(self->fd, id, &self->b));
		EXPECT_EQ(0, unwatch(self->fd, global));
		EXPECT_EQ(0, unwatch(self->fd, id));
	}
	atomic_store(&s.stop, 1);
	pthread_join(th, NULL);
	EXPECT_EQ(0, counters(self->fd, keep, &self->b));
	EXPECT_LT(0, self->b.faults[PTSCOPE_FLT_MINOR]) TH_LOG("the other thread faulted");
	EXPECT_EQ(0, unwatch(self->fd, keep));
}

#define CPU1_ONLINE	"/sys/devices/system/cpu/cpu1/online"

/* cpu1_set - take CPU 1 offline (0) or bring it back (1); 0 or -1 */
static int cpu1_set(int online)
{
	return write_file(CPU1_ONLINE, online ? "1" : "0");
}

/*
 * settled - a snapshot of watch @id that counts what @valid says (a CPU
 * that just came up may have no fault counter yet, and the snapshot says
 * so); 0, or -1 after 10 s
 */
static int settled(int fd, int id, __u32 valid, struct ptscope_counters *c)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (counters(fd, id, c))
			return -1;
		if (c->valid == valid)
			return 0;
		usleep(10000);
	}
	return -1;
}

/*
 * count_on_cpu1 - write @n new pages from CPU 1 between two snapshots of
 * watch @id that count what @valid says: the faults counted there, and in
 * *@perf what the kernel's own perf count of this thread's user-mode
 * faults says of the same window (-1: no perf); -1 on failure
 */
static long long count_on_cpu1(int fd, int id, __u32 valid, int n, long long *perf)
{
	struct ptscope_counters a = { 0 }, b = { 0 };
	long long p0, p1, got = -1;
	char *p;
	int i, pfd;

	*perf = -1;
	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	if (madvise(p, n * PAGE, MADV_NOHUGEPAGE) || pin_to_cpu(1))
		goto out;
	pfd = perf_user_faults_open();
	p0 = pfd >= 0 ? perf_count(pfd) : -1;
	if (settled(fd, id, valid, &a) == 0) {
		for (i = 0; i < n; i++)
			p[i * PAGE] = 1;
		if (counters(fd, id, &b) == 0 && b.valid == valid)
			got = b.faults[PTSCOPE_FLT_TOTAL] - a.faults[PTSCOPE_FLT_TOTAL];
	}
	p1 = pfd >= 0 ? perf_count(pfd) : -1;
	if (p0 >= 0 && p1 >= 0)
		*perf = p1 - p0;
	if (pfd >= 0)
		close(pfd);
out:
	munmap(p, n * PAGE);
	pin_to_cpu(0);
	return got;
}

/*
 * CPU hotplug under the counters' hooks, which are attached while the
 * module is loaded: arm64 counts faults with one perf counter per online
 * CPU, which follow CPUs going down and up (a counter made or released in
 * the hotplug callback itself deadlocked the hotplug: both take the
 * hotplug lock the CPU's change holds). CPU 1 taken down and up five times
 * while a thread faults (on CPU 1 until it goes), then a watch released
 * while CPU 1 is down and a new one made: every change completes, the
 * counters come back to counting what they did (valid), and faults written
 * from CPU 1 are counted, at least one per page and, on arm64 (the same
 * perf event), no more than the kernel's own perf count of them.
 * scripts/vm fails the run on any kernel report (a counter used after it
 * was released, a lock taken out of order).
 */
TEST_F_TIMEOUT(counters, cpu_hotplug_keeps_fault_counts, 120)
{
	const int n = 16;
	struct spinner s = { 0 };
	long long got, perf;
	pthread_t th;
	__u32 valid;
	int i, id;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs 2 CPUs");
	if (access(CPU1_ONLINE, W_OK))
		SKIP(return, "CPU 1 cannot go offline here (" CPU1_ONLINE ")");
	ASSERT_EQ(0, pin_to_cpu(0));
	id = watch(self->fd, getpid(), 0);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, counters(self->fd, id, &self->a));
	valid = self->a.valid;

	ASSERT_EQ(0, pthread_create(&th, NULL, fault_and_flush, &s));
	for (i = 0; i < 5; i++) {
		usleep(20000);
		EXPECT_EQ(0, cpu1_set(0)) TH_LOG("CPU 1 down: %s", strerror(errno));
		usleep(20000);
		EXPECT_EQ(0, cpu1_set(1)) TH_LOG("CPU 1 up: %s", strerror(errno));
	}
	atomic_store(&s.stop, 1);
	pthread_join(th, NULL);
	EXPECT_EQ(0, settled(self->fd, id, valid, &self->b))
		TH_LOG("valid %#x, was %#x", self->b.valid, valid);

	got = count_on_cpu1(self->fd, id, valid, n, &perf);
	ksft_print_msg("after 5 offline/online cycles of CPU 1: %d pages written there, %lld faults counted, %lld by perf\n",
		       n, got, perf);
	EXPECT_LE(n, got);
	if (!ptscope_arch_is(PTSCOPE_ARCH_X86_64) && perf >= 0)
		EXPECT_LE(got, perf);

	EXPECT_EQ(0, cpu1_set(0));
	EXPECT_EQ(0, unwatch(self->fd, id));
	EXPECT_EQ(0, cpu1_set(1));
	id = watch(self->fd, getpid(), 0);
	ASSERT_LT(0, id);
	got = count_on_cpu1(self->fd, id, valid, n, &perf);
	EXPECT_LE(n, got) TH_LOG("watched again: %lld faults counted", got);
	EXPECT_EQ(0, unwatch(self->fd, id));
}

/* dTLB misses are counted exactly where the CPU has a PMU that perf knows. */
TEST_F(counters, dtlb_only_with_a_pmu)
{
	char val[64], key[64];
	int id, has_pmu = !access("/sys/bus/event_source/devices/cpu", F_OK) ||
			  !access("/sys/bus/event_source/devices/cpu_core", F_OK);

	id = watch(self->fd, getpid(), 0);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, counters(self->fd, id, &self->b));
	EXPECT_EQ(has_pmu, !!(self->b.valid & PTSCOPE_CNT_F_DTLB));
	snprintf(key, sizeof(key), "watch %d dtlb_misses", id);
	ASSERT_NE(NULL, debugfs_value("counters", key, val, sizeof(val)));
	if (!has_pmu)
		EXPECT_STREQ("unsupported", val);
}

/* ------------------------------------------------------------------------
 * Bad input: the exact errno, and nothing changes.
 */

TEST_F(counters, watch_bad_pid_esrch)
{
	EXPECT_EQ(-ESRCH, watch(self->fd, 0, 0));
	EXPECT_EQ(-ESRCH, watch(self->fd, -1, 0));
	EXPECT_EQ(-ESRCH, watch(self->fd, 0x7fffffff, 0));
}

TEST_F(counters, watch_kernel_thread_einval)
{
	/* pid 2 is kthreadd */
	EXPECT_EQ(-EINVAL, watch(self->fd, 2, 0));
}

TEST_F(counters, watch_unknown_flags_einval)
{
	struct ptscope_watch w = { .size = sizeof(w), .pid = getpid() };

	w.flags = 1U << 31;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_WATCH, &w));
	EXPECT_EQ(EINVAL, errno);
	w.flags = 0;
	w.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_WATCH, &w));
	EXPECT_EQ(EINVAL, errno);
	w.reserved[1] = 0;
	w.id = 3;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_WATCH, &w));
	EXPECT_EQ(EINVAL, errno);
	/* global takes no pid */
	EXPECT_EQ(-EINVAL, watch(self->fd, getpid(), PTSCOPE_WATCH_GLOBAL));
	EXPECT_EQ(-ENOENT, counters(self->fd, 1, &self->b)) TH_LOG("a refused watch exists");
}

TEST_F(counters, watch_size_and_pointer)
{
	struct ptscope_watch w = { .size = sizeof(w) - 8, .pid = getpid() };
	struct {
		struct ptscope_watch w;
		__u64 tail;
	} big = { .w = { .size = sizeof(big), .pid = getpid() }, .tail = 1 };

	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_WATCH, &w));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_WATCH, &big));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_WATCH, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_COUNTERS, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_UNWATCH, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(counters, counters_flags_reserved_einval)
{
	int id = watch(self->fd, getpid(), 0);

	ASSERT_LT(0, id);
	memset(&self->b, 0, sizeof(self->b));
	self->b.size = sizeof(self->b);
	self->b.id = id;
	self->b.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_COUNTERS, &self->b));
	EXPECT_EQ(EINVAL, errno);
	self->b.flags = 0;
	self->b.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_COUNTERS, &self->b));
	EXPECT_EQ(EINVAL, errno);
	self->b.reserved[0] = 0;
	/* out fields are overwritten, whatever the caller left in them */
	self->b.faults[PTSCOPE_FLT_SIGBUS] = 77;
	EXPECT_EQ(0, ioctl(self->fd, PTSCOPE_IOC_COUNTERS, &self->b));
	EXPECT_EQ(0, self->b.faults[PTSCOPE_FLT_SIGBUS]);
}

TEST_F(counters, unwatch_unknown_enoent)
{
	struct ptscope_watch w = { .size = sizeof(w), .id = 1, .pid = 1 };
	int other = open(PTSCOPE_DEV, O_RDWR), id;

	ASSERT_LE(0, other);
	id = watch(other, getpid(), 0);
	ASSERT_LT(0, id);
	/* a watch of another open file is not ours to read or release */
	EXPECT_EQ(-ENOENT, counters(self->fd, id, &self->b));
	EXPECT_EQ(-ENOENT, unwatch(self->fd, id));
	EXPECT_EQ(-ENOENT, unwatch(self->fd, 0));
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_UNWATCH, &w));
	EXPECT_EQ(EINVAL, errno) TH_LOG("UNWATCH takes no pid");
	EXPECT_EQ(0, counters(other, id, &self->b));
	/* closing the file releases its watches */
	close(other);
	other = open(PTSCOPE_DEV, O_RDWR);
	ASSERT_LE(0, other);
	EXPECT_EQ(-ENOENT, counters(other, id, &self->b));
	close(other);
}

/*
 * One file holds PTSCOPE_WATCH_FILE_MAX watches at most, the module
 * PTSCOPE_WATCH_MAX: -ENOSPC beyond either, and nothing changes (debugfs's
 * count). Before the per-file cap, one file took all 64.
 */
TEST_F(counters, watch_limit_per_file_and_global_enospc)
{
	enum { FILES = PTSCOPE_WATCH_MAX / PTSCOPE_WATCH_FILE_MAX };
	int fds[FILES], id, i, j, n = 0, extra;
	long before = watches_now();

	ASSERT_EQ(0, before) TH_LOG("another process holds watches");
	fds[0] = self->fd;
	for (i = 1; i < FILES; i++) {
		fds[i] = open(PTSCOPE_DEV, O_RDWR);
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < FILES; i++) {
		for (j = 0; j < PTSCOPE_WATCH_FILE_MAX; j++)
			n += watch(fds[i], getpid(), 0) > 0;
		EXPECT_EQ(-ENOSPC, watch(fds[i], getpid(), 0)) TH_LOG("file %d", i);
		EXPECT_EQ(-ENOSPC, watch(fds[i], 0, PTSCOPE_WATCH_GLOBAL));
		EXPECT_EQ((i + 1) * PTSCOPE_WATCH_FILE_MAX, watches_now());
	}
	EXPECT_EQ(PTSCOPE_WATCH_MAX, n);
	/* every file is under its cap, the module at its own */
	extra = open(PTSCOPE_DEV, O_RDWR);
	ASSERT_LE(0, extra);
	EXPECT_EQ(-ENOSPC, watch(extra, getpid(), 0));
	EXPECT_EQ(PTSCOPE_WATCH_MAX, watches_now());
	/* closing files makes room in the module, not on a full file */
	for (i = 1; i < FILES; i++)
		close(fds[i]);
	EXPECT_EQ(PTSCOPE_WATCH_FILE_MAX, watches_now());
	id = watch(extra, getpid(), 0);
	EXPECT_LT(0, id);
	EXPECT_EQ(-ENOSPC, watch(self->fd, getpid(), 0));
	close(extra);
	EXPECT_EQ(PTSCOPE_WATCH_FILE_MAX, watches_now());
}

static int drop_cap(int cap)
{
	return set_effective(cap, 0);
}

/* Another process needs CAP_SYS_PTRACE, a global watch CAP_SYS_ADMIN; one's own needs neither. */
TEST_F(counters, watch_other_without_cap_eperm)
{
	pid_t parent = getpid(), pid;
	int status;

	if (geteuid())
		SKIP(return, "needs root to drop a capability");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (drop_cap(CAP_SYS_PTRACE))
			_exit(10);
		if (watch(self->fd, parent, 0) != -EPERM)
			_exit(11);
		if (watch(self->fd, getpid(), 0) <= 0)
			_exit(12);
		if (drop_cap(CAP_SYS_ADMIN))
			_exit(13);
		if (watch(self->fd, 0, PTSCOPE_WATCH_GLOBAL) != -EPERM)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d failed", WEXITSTATUS(status));
}

/*
 * PTSCOPE_WATCH_FAULT_DETAIL attaches a probe to every fault of the
 * system: it needs what a kprobe through perf needs, CAP_PERFMON or
 * CAP_SYS_ADMIN (-EPERM otherwise, and no watch). A plain watch needs
 * neither, and then never gets the dTLB counter, a perf hardware event
 * that perf_event_open() gives such a caller only where perf_event_paranoid
 * allows (the module cannot read it): PTSCOPE_CNT_F_DTLB stays clear, and
 * debugfs says unsupported, whether or not the CPU has a PMU.
 */
TEST_F(counters, fault_detail_and_dtlb_need_perfmon)
{
	struct ptscope_counters c;
	char key[64], val[64];
	int status, id, before = watches_now();
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to drop capabilities");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (drop_cap(CAP_SYS_ADMIN) || drop_cap(CAP_PERFMON))
			_exit(10);
		if (watch(self->fd, getpid(), PTSCOPE_WATCH_FAULT_DETAIL) != -EPERM)
			_exit(11);
		if (watches_now() != before)
			_exit(12);
		id = watch(self->fd, getpid(), 0);
		if (id <= 0 || counters(self->fd, id, &c))
			_exit(13);
		if (c.valid & (PTSCOPE_CNT_F_DTLB | PTSCOPE_CNT_F_OUTCOME))
			_exit(14);
		snprintf(key, sizeof(key), "watch %d dtlb_misses", id);
		if (!debugfs_value("counters", key, val, sizeof(val)) || strcmp(val, "unsupported"))
			_exit(15);
		/* CAP_PERFMON alone is enough */
		if (set_effective(CAP_PERFMON, 1))
			_exit(16);
		id = watch(self->fd, getpid(), PTSCOPE_WATCH_FAULT_DETAIL);
		if (id <= 0 || counters(self->fd, id, &c))
			_exit(17);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d failed", WEXITSTATUS(status));
}

/* ------------------------------------------------------------------------
 * Races held open with userfaultfd: the copy back of WATCH's id blocks in a
 * write-protect fault while another thread acts, then fails.
 */

struct wp_race {
	int uffd, fd;
	char *page;
	int found;		/* ids COUNTERS could read during the fault */
	int unwatched;		/* ids UNWATCH released during the fault */
	long watches;		/* debugfs "watches" during the fault */
	int faulted;		/* the fault came, on our page, for a write */
};

/*
 * uffd_wp_page - @u->page, holding @data, write-protected through @u->uffd
 *
 * Return: NULL, or why it cannot be done (a SKIP reason).
 */
static const char *uffd_wp_page(struct wp_race *u, const void *data, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };

	u->uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (u->uffd < 0)
		return "no userfaultfd";
	if (ioctl(u->uffd, UFFDIO_API, &api) ||
	    !(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP))
		return "userfaultfd without write-protect faults";
	u->page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->page == MAP_FAILED)
		return "mmap";
	/* present: WP works on anonymous pages in every kernel */
	memcpy(u->page, data, len);
	reg.range.start = (uintptr_t)u->page;
	reg.range.len = PAGE;
	if (ioctl(u->uffd, UFFDIO_REGISTER, &reg) ||
	    !(reg.ioctls & (1ULL << _UFFDIO_WRITEPROTECT)))
		return "UFFDIO_REGISTER_MODE_WP refused on anonymous memory";
	wp.range = reg.range;
	if (ioctl(u->uffd, UFFDIO_WRITEPROTECT, &wp))
		return "UFFDIO_WRITEPROTECT";
	return NULL;
}

/*
 * On the write-protect fault of WATCH's copy back: try to read and release
 * every id the watch can have (ids are the lowest free, and there are at
 * most PTSCOPE_WATCH_MAX), then make the page read-only and wake the fault,
 * so that the copy fails.
 */
static void *wp_race_handler(void *arg)
{
	struct wp_race *u = arg;
	struct pollfd pfd = { .fd = u->uffd, .events = POLLIN };
	struct uffdio_range range = { .start = (uintptr_t)u->page, .len = PAGE };
	struct ptscope_counters c;
	struct uffd_msg msg;
	int id;

	if (poll(&pfd, 1, 10000) != 1 || read(u->uffd, &msg, sizeof(msg)) != sizeof(msg))
		return NULL;
	u->faulted = msg.event == UFFD_EVENT_PAGEFAULT &&
		     (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) &&
		     (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE) &&
		     (msg.arg.pagefault.address & ~(PAGE - 1)) == (uintptr_t)u->page;
	u->watches = watches_now();
	for (id = 1; id <= PTSCOPE_WATCH_MAX; id++) {
		u->found += counters(u->fd, id, &c) == 0;
		u->unwatched += unwatch(u->fd, id) == 0;
	}
	mprotect(u->page, PAGE, PROT_READ);
	ioctl(u->uffd, UFFDIO_WAKE, &range);
	return NULL;
}

/*
 * WATCH whose id cannot be copied back, while another thread releases the
 * id it was given: the watch must never have been visible (no id to read or
 * release), WATCH fails with EFAULT, and nothing is left (debugfs's watch
 * count, kmemleak at the end of the VM run). Before the fix, the watch was
 * published before the copy: the other thread released and freed it, and
 * the failed copy freed it again (KASAN: slab-use-after-free).
 */
TEST_F(counters, watch_copyout_fault_while_unwatched)
{
	struct ptscope_watch arg = { .size = sizeof(arg), .pid = getpid() };
	struct wp_race u = { .fd = self->fd };
	long before = watches_now();
	const char *why;
	pthread_t th;
	int ret, err, id;

	ASSERT_LE(0, before);
	why = uffd_wp_page(&u, &arg, sizeof(arg));
	if (why)
		SKIP(return, "%s: %s", why, strerror(errno));
	ASSERT_EQ(0, pthread_create(&th, NULL, wp_race_handler, &u));
	ret = ioctl(self->fd, PTSCOPE_IOC_WATCH, u.page);
	err = errno;
	pthread_join(th, NULL);

	ASSERT_TRUE(u.faulted) TH_LOG("the copy back never hit the write-protected page");
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, err);
	EXPECT_EQ(0, u.found) TH_LOG("the watch was readable before WATCH returned");
	EXPECT_EQ(0, u.unwatched) TH_LOG("the watch was released before WATCH returned");
	EXPECT_EQ(before, u.watches);
	EXPECT_EQ(before, watches_now());
	/* its id was given back: the next watch works and is released */
	id = watch(self->fd, getpid(), 0);
	EXPECT_LT(0, id);
	EXPECT_EQ(before + 1, watches_now());
	EXPECT_EQ(0, unwatch(self->fd, id));
	EXPECT_EQ(before, watches_now());
	close(u.uffd);
	munmap(u.page, PAGE);
}

/* ------------------------------------------------------------------------
 * A watch's file in another process's hands.
 */

/* send_fd - pass @fd and @data over the Unix socket @sock (SCM_RIGHTS) */
static int send_fd(int sock, int fd, const void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == (ssize_t)len ? 0 : -1;
}

/* recv_fd - the file passed by send_fd(), or -1; @data gets its bytes */
static int recv_fd(int sock, void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != (ssize_t)len)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* become_nobody - uid and gid 65534, no groups, and so no capability left */
static int become_nobody(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534) || syscall(SYS_capget, &h, d))
		return -1;
	return d[0].permitted || d[1].permitted || d[0].effective || d[1].effective;
}

/*
 * Root watches itself (a root process), the whole system and a child, and
 * passes the file with SCM_RIGHTS to that child once it runs as nobody with
 * no capability (it also inherited the file: the same open file). The child
 * could not create the first two watches, and must not read them: -EPERM,
 * as the kernel refuses it the parent's /proc/PID/pagemap; its own watch it
 * reads. Before the check on every read, the passed file read everything.
 */
TEST_F(counters, passed_watch_file_rechecked_eperm)
{
	struct { int parent, global, child; } ids;
	struct ptscope_counters c;
	int sv[2], status, fd, pm;
	pid_t parent = getpid(), pid;
	char path[64];

	if (geteuid())
		SKIP(return, "needs root");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		if (become_nobody())
			_exit(10);
		fd = recv_fd(sv[1], &ids, sizeof(ids));
		if (fd < 0)
			_exit(11);
		snprintf(path, sizeof(path), "/proc/%d/pagemap", parent);
		pm = open(path, O_RDONLY);
		if (pm >= 0 || errno != EACCES)
			_exit(12);
		if (counters(fd, ids.parent, &c) != -EPERM ||
		    counters(self->fd, ids.parent, &c) != -EPERM)
			_exit(13);
		if (counters(fd, ids.global, &c) != -EPERM)
			_exit(14);
		if (counters(fd, ids.child, &c) || c.pid != getpid())
			_exit(15);
		if (c.valid & PTSCOPE_CNT_F_DTLB)
			_exit(16);
		/* releasing reads nothing: the holder of the file may */
		if (unwatch(fd, ids.parent))
			_exit(17);
		_exit(0);
	}
	close(sv[1]);
	ids.parent = watch(self->fd, parent, 0);
	ids.global = watch(self->fd, 0, PTSCOPE_WATCH_GLOBAL);
	ids.child = watch(self->fd, pid, 0);
	ASSERT_LT(0, ids.parent);
	ASSERT_LT(0, ids.global);
	ASSERT_LT(0, ids.child);
	ASSERT_EQ(0, send_fd(sv[0], self->fd, &ids, sizeof(ids)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d failed", WEXITSTATUS(status));
	/* root still reads what is left */
	EXPECT_EQ(-ENOENT, counters(self->fd, ids.parent, &c));
	EXPECT_EQ(0, counters(self->fd, ids.global, &c));
	EXPECT_EQ(0, counters(self->fd, ids.child, &c));
	EXPECT_EQ(PTSCOPE_WATCH_GONE, c.state);
	close(sv[0]);
}

/* ------------------------------------------------------------------------
 * The fault-detail probe: attached with the first detail watch, detached
 * a delay after the last, so a WATCH/UNWATCH loop cannot patch the kernel
 * at will.
 */

/* 22 s under TCG with the debug kernel: an UNWATCH waits for a grace period */
TEST_F_TIMEOUT(counters, detail_loop_keeps_fault_probe_until_delay, 180)
{
	double t0, loop, waited;
	int i, id;

	if (fault_probe_listed() < 0)
		SKIP(return, "no debugfs kprobes/list, no tracefs enabled_functions");
	/* a detail watch of an earlier test may still have its detach pending */
	ASSERT_LE(0, wait_detached(10));
	t0 = now_s();
	for (i = 0; i < 1000; i++) {
		id = watch(self->fd, getpid(), PTSCOPE_WATCH_FAULT_DETAIL);
		ASSERT_LT(0, id);
		ASSERT_EQ(0, unwatch(self->fd, id));
		if (i % 100 != 99)
			continue;
		/* no detail watch left, and still attached */
		ASSERT_EQ(1, fault_probe_listed()) TH_LOG("detached after UNWATCH %d", i);
		ASSERT_EQ(1, hooks_fault_probe());
	}
	loop = now_s() - t0;
	waited = wait_detached(10);
	ksft_print_msg("1000 detail WATCH/UNWATCH in %.2f s; fault probe detached %.2f s after the last\n",
		       loop, waited);
	EXPECT_LE(0.5, waited) TH_LOG("detached before the delay");
	EXPECT_GE(5.0, waited);
}

TEST_HARNESS_MAIN
