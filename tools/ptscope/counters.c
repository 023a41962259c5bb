// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope faults, tlb, top: live counters of a watch (PTSCOPE_IOC_WATCH),
 * sampled every -i seconds, with the rate over each interval. On a terminal
 * the screen is redrawn like top; otherwise (and with -J, -r) one table per
 * sample follows the other. Ctrl-C stops cleanly: the watch is released.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* --- faults --------------------------------------------------------------- */

enum { FCOL_COUNTER, FCOL_TOTAL, FCOL_DELTA, FCOL_RATE, FCOL_HELP };

#define N SCOLS_JSON_NUMBER
#define S SCOLS_JSON_STRING
#define R SCOLS_FL_RIGHT
static const struct colinfo fault_cols[] = {
	[FCOL_COUNTER]	= { "COUNTER", 10, 0, S, "what is counted" },
	[FCOL_TOTAL]	= { "TOTAL", 6, R, N, "since the watch started" },
	[FCOL_DELTA]	= { "DELTA", 6, R, N, "in the last interval" },
	[FCOL_RATE]	= { "RATE", 6, R, N, "per second over the last interval" },
	[FCOL_HELP]	= { "HELP", 0.3, 0, S, "the counter in words" },
};

struct view faults_view = {
	.name = "faults", .cols = fault_cols, .ncols = ARRAY_SIZE(fault_cols),
	.defaults = "COUNTER,TOTAL,DELTA,RATE,HELP",
};

/* --- tlb -------------------------------------------------------------------- */

enum { TCOL_REASON, TCOL_EVENTS, TCOL_FULL, TCOL_PAGES, TCOL_RATE, TCOL_HELP };

static const struct colinfo tlb_cols[] = {
	[TCOL_REASON]	= { "REASON", 12, 0, S, "why the TLB was flushed" },
	[TCOL_EVENTS]	= { "EVENTS", 6, R, N, "flushes since the watch started" },
	[TCOL_FULL]	= { "FULL", 6, R, N, "of which flushed everything" },
	[TCOL_PAGES]	= { "PAGES", 6, R, N, "pages flushed by the ranged ones" },
	[TCOL_RATE]	= { "RATE", 6, R, N, "flushes per second over the last interval" },
	[TCOL_HELP]	= { "HELP", 0.3, 0, S, "the reason in words" },
};

struct view tlb_view = {
	.name = "tlb", .cols = tlb_cols, .ncols = ARRAY_SIZE(tlb_cols),
	.defaults = "REASON,EVENTS,FULL,PAGES,RATE,HELP",
};

/* --- top -------------------------------------------------------------------- */

enum { PCOL_START, PCOL_END, PCOL_FAULTS, PCOL_MAJOR, PCOL_RATE, PCOL_NAME };

static const struct colinfo top_cols[] = {
	[PCOL_START]	= { "START", 0.1, 0, S, "first address of the VMA" },
	[PCOL_END]	= { "END", 0.1, 0, S, "end address (exclusive)" },
	[PCOL_FAULTS]	= { "FAULTS", 6, R, N, "completed faults since the watch started" },
	[PCOL_MAJOR]	= { "MAJOR", 6, R, N, "of which major" },
	[PCOL_RATE]	= { "RATE", 6, R, N, "faults per second over the last interval" },
	[PCOL_NAME]	= { "NAME", 0.3, 0, S, "the VMA's name, as maps shows it" },
};
#undef N
#undef S
#undef R

struct view top_view = {
	.name = "top", .cols = top_cols, .ncols = ARRAY_SIZE(top_cols),
	.defaults = "START,END,FAULTS,MAJOR,RATE,NAME",
};

static const struct {
	const char *name, *help;
	unsigned int valid;	/* PTSCOPE_CNT_F_* it needs */
} fault_rows[] = {
	[PTSCOPE_FLT_TOTAL]	= { "total", "user-mode page-fault exceptions",
				    PTSCOPE_CNT_F_FAULTS | PTSCOPE_CNT_F_FAULT_TOTAL },
	[PTSCOPE_FLT_READ]	= { "read", "... on a read", PTSCOPE_CNT_F_FAULTS },
	[PTSCOPE_FLT_WRITE]	= { "write", "... on a write", PTSCOPE_CNT_F_FAULTS },
	[PTSCOPE_FLT_EXEC]	= { "exec", "... on an instruction fetch", PTSCOPE_CNT_F_FAULTS },
	[PTSCOPE_FLT_MINOR]	= { "minor", "completed without I/O", PTSCOPE_CNT_F_OUTCOME },
	[PTSCOPE_FLT_MAJOR]	= { "major", "completed with I/O (or a retry)", PTSCOPE_CNT_F_OUTCOME },
	[PTSCOPE_FLT_HANDLED]	= { "handled", "handle_mm_fault() done", PTSCOPE_CNT_F_OUTCOME },
	[PTSCOPE_FLT_RETRY]	= { "retry", "handle_mm_fault() must retry", PTSCOPE_CNT_F_OUTCOME },
	[PTSCOPE_FLT_ERROR]	= { "error", "handle_mm_fault() failed", PTSCOPE_CNT_F_OUTCOME },
	[PTSCOPE_FLT_SIGSEGV]	= { "sigsegv", "SIGSEGV raised for a fault", PTSCOPE_CNT_F_SIGNALS },
	[PTSCOPE_FLT_SIGBUS]	= { "sigbus", "SIGBUS raised for a fault", PTSCOPE_CNT_F_SIGNALS },
	[PTSCOPE_FLT_KERNEL_MODE] = { "kernel_mode", "faults on user memory in a system call",
				      PTSCOPE_CNT_F_OUTCOME },
	[PTSCOPE_FLT_PAGE_4K]	= { "page_4k", "completed, mapped by a PTE (a 4K page on x86-64)",
				    PTSCOPE_CNT_F_OUTCOME },
	[PTSCOPE_FLT_PAGE_2M]	= { "page_2m", "completed, mapped by a PMD leaf (2M on x86-64)",
				    PTSCOPE_CNT_F_OUTCOME },
	[PTSCOPE_FLT_PAGE_1G]	= { "page_1g", "completed, mapped by a PUD leaf (1G on x86-64)",
				    PTSCOPE_CNT_F_OUTCOME },
	[PTSCOPE_FLT_KERNEL_MIN] = { "kernel_min", "the kernel's min_flt of the process",
				     PTSCOPE_CNT_F_KERNEL },
	[PTSCOPE_FLT_KERNEL_MAJ] = { "kernel_maj", "the kernel's maj_flt of the process",
				     PTSCOPE_CNT_F_KERNEL },
};

static const struct {
	const char *name, *help;
} tlb_rows[] = {
	[PTSCOPE_TLB_TASK_SWITCH] = { "task_switch", "address space loaded on a task switch" },
	[PTSCOPE_TLB_REMOTE_SHOOTDOWN] = { "remote_shootdown", "flushed by an IPI from another CPU" },
	[PTSCOPE_TLB_LOCAL_SHOOTDOWN] = { "local_shootdown", "local flush of no particular mm" },
	[PTSCOPE_TLB_LOCAL_MM_SHOOTDOWN] = { "local_mm_shootdown", "local flush of this mm" },
	[PTSCOPE_TLB_REMOTE_SEND_IPI] = { "remote_send_ipi", "asked other CPUs to flush" },
};

volatile sig_atomic_t stop;

void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int counters_read(int fd, unsigned int id, struct ptscope_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->id = id;
	if (!ioctl(fd, PTSCOPE_IOC_COUNTERS, c))
		return 0;
	if (errno == ENOTTY)
		fputs("ptscope: the loaded module has no counters: load the ptscope.ko "
		      "built from the same tree as this tool\n", stderr);
	else
		fprintf(stderr, "ptscope: reading the counters: %s\n", strerror(errno));
	return errno == ENOTTY ? EXIT_NODEV : EXIT_FAIL;
}

int watch_start(int fd, int pid, unsigned int flags, unsigned int *id)
{
	struct ptscope_watch w = { .size = sizeof(w), .flags = flags, .pid = pid };

	if (!ioctl(fd, PTSCOPE_IOC_WATCH, &w)) {
		*id = w.id;
		return 0;
	}
	/* Detail needs CAP_PERFMON or CAP_SYS_ADMIN: without, count what a plain watch does. */
	if (errno == EPERM && (flags & PTSCOPE_WATCH_FAULT_DETAIL))
		return watch_start(fd, pid, flags & ~PTSCOPE_WATCH_FAULT_DETAIL, id);
	switch (errno) {
	case ESRCH:
		fprintf(stderr, "ptscope: no such process: %d\n", pid);
		return EXIT_NOPROC;
	case EPERM:
		fprintf(stderr, "ptscope: not allowed to watch process %d: watching another "
			"process needs CAP_SYS_PTRACE over it (run as root)\n", pid);
		return EXIT_NOPROC;
	case EINVAL:
		fprintf(stderr, "ptscope: process %d is a kernel thread: it has no user "
			"address space\n", pid);
		return EXIT_NOPROC;
	case ENOSPC:
		fprintf(stderr, "ptscope: the module has %d watches already (%d per open "
			"file): stop another ptscope faults/tlb/top first\n", PTSCOPE_WATCH_MAX,
			PTSCOPE_WATCH_FILE_MAX);
		return EXIT_FAIL;
	case ENOTTY:
		fputs("ptscope: the loaded module has no counters: load the ptscope.ko "
		      "built from the same tree as this tool\n", stderr);
		return EXIT_NODEV;
	default:
		fprintf(stderr, "ptscope: watching process %d: %s\n", pid, strerror(errno));
		return EXIT_FAIL;
	}
}

void watch_stop(int fd, unsigned int id)
{
	struct ptscope_watch w = { .size = sizeof(w), .id = id };

	ioctl(fd, PTSCOPE_IOC_UNWATCH, &w);
}

static double rate(uint64_t now, uint64_t before, double secs)
{
	return secs > 0 ? (now - before) / secs : 0;
}

static void cell_rate(struct libscols_line *ln, size_t i, double r)
{
	cell(ln, i, "%.1f", r);
}

/*
 * A counter the loaded module cannot count on this kernel (not in valid):
 * shown as such, never as a 0 that looks measured. Its numbers are n/a
 * (null in JSON), its help says why, in the words of the module's arch.
 */
static void cell_unsupported(struct libscols_line *ln, size_t i)
{
	if (!opt.json)
		cell(ln, i, "n/a");
}

static const char *unsupported_why(unsigned int flag)
{
	int arm64 = dev_version.arch == PTSCOPE_ARCH_ARM64;

	if (flag == PTSCOPE_CNT_F_TLB)
		return arm64 ? "unsupported: arm64 flushes TLBs with inline broadcast TLBI "
			       "instructions, with no hook to count them" :
			       "unsupported: this kernel has no tlb:tlb_flush tracepoint";
	return arm64 ? "unsupported: arm64's fault hook (the perf page-faults event) does "
		       "not tell the access kind" :
		       "unsupported: this kernel has no exceptions:page_fault_user tracepoint";
}

/* The exception counters are shown when unsupported; the others when asked for. */
static int fault_row_shown(size_t r, const struct ptscope_counters *b)
{
	return fault_rows[r].name && ((b->valid & fault_rows[r].valid) ||
				      (fault_rows[r].valid & PTSCOPE_CNT_F_FAULTS));
}

static void faults_table(const struct ptscope_counters *a, const struct ptscope_counters *b,
			 double secs)
{
	struct libscols_table *tb = view_table(&faults_view);
	size_t r, i;

	for (r = 0; r < ARRAY_SIZE(fault_rows); r++) {
		int ok = b->valid & fault_rows[r].valid;
		struct libscols_line *ln;

		if (!fault_row_shown(r, b))
			continue;
		ln = scols_table_new_line(tb, NULL);
		for (i = 0; i < faults_view.nsel; i++) {
			int col = faults_view.sel[i];

			if (!ok && col != FCOL_COUNTER && col != FCOL_HELP) {
				cell_unsupported(ln, i);
				continue;
			}
			switch (col) {
			case FCOL_COUNTER: cell(ln, i, "%s", fault_rows[r].name); break;
			case FCOL_TOTAL: cell_u64(ln, i, b->faults[r]); break;
			case FCOL_DELTA: cell_u64(ln, i, b->faults[r] - a->faults[r]); break;
			case FCOL_RATE: cell_rate(ln, i, rate(b->faults[r], a->faults[r], secs)); break;
			case FCOL_HELP:
				cell(ln, i, "%s", ok ? fault_rows[r].help :
					 unsupported_why(PTSCOPE_CNT_F_FAULTS));
				break;
			}
		}
	}
	if (b->valid & PTSCOPE_CNT_F_DTLB) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		for (i = 0; i < faults_view.nsel; i++) {
			switch (faults_view.sel[i]) {
			case FCOL_COUNTER: cell(ln, i, "dtlb_misses"); break;
			case FCOL_TOTAL: cell_u64(ln, i, b->dtlb_misses); break;
			case FCOL_DELTA: cell_u64(ln, i, b->dtlb_misses - a->dtlb_misses); break;
			case FCOL_RATE:
				cell_rate(ln, i, rate(b->dtlb_misses, a->dtlb_misses, secs));
				break;
			case FCOL_HELP: cell(ln, i, "dTLB load misses (the CPU's PMU)"); break;
			}
		}
	}
	table_print(tb);
}

static void tlb_table(const struct ptscope_counters *a, const struct ptscope_counters *b,
		      double secs)
{
	struct libscols_table *tb = view_table(&tlb_view);
	size_t r, i;

	for (r = 0; r < ARRAY_SIZE(tlb_rows); r++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		const struct ptscope_tlb_count *t = &b->tlb[r];

		for (i = 0; i < tlb_view.nsel; i++) {
			int col = tlb_view.sel[i];

			if (!(b->valid & PTSCOPE_CNT_F_TLB) && col != TCOL_REASON) {
				if (col == TCOL_HELP)
					cell(ln, i, "%s", unsupported_why(PTSCOPE_CNT_F_TLB));
				else
					cell_unsupported(ln, i);
				continue;
			}
			switch (col) {
			case TCOL_REASON: cell(ln, i, "%s", tlb_rows[r].name); break;
			case TCOL_EVENTS: cell_u64(ln, i, t->events); break;
			case TCOL_FULL: cell_u64(ln, i, t->full); break;
			case TCOL_PAGES: cell_u64(ln, i, t->pages); break;
			case TCOL_RATE: cell_rate(ln, i, rate(t->events, a->tlb[r].events, secs)); break;
			case TCOL_HELP: cell(ln, i, "%s", tlb_rows[r].help); break;
			}
		}
	}
	table_print(tb);
}

/* The same VMA in the previous sample, for its rate. */
static uint64_t vma_before(const struct ptscope_counters *a, const struct ptscope_fault_vma *v)
{
	unsigned int i;

	for (i = 0; i < a->nr_vmas && i < PTSCOPE_FAULT_VMAS; i++)
		if (a->vmas[i].start == v->start && a->vmas[i].end == v->end)
			return a->vmas[i].faults;
	return 0;
}

static void top_table(const struct ptscope_counters *a, const struct ptscope_counters *b,
		      double secs, const struct snap *names)
{
	struct libscols_table *tb = view_table(&top_view);
	unsigned int r;
	size_t i;

	for (r = 0; r < b->nr_vmas && r < PTSCOPE_FAULT_VMAS; r++) {
		const struct ptscope_fault_vma *v = &b->vmas[r];
		const struct ptscope_vma *nv = snap_find_vma(names, v->start);
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		for (i = 0; i < top_view.nsel; i++) {
			switch (top_view.sel[i]) {
			case PCOL_START: cell_hex(ln, i, v->start); break;
			case PCOL_END: cell_hex(ln, i, v->end); break;
			case PCOL_FAULTS: cell_u64(ln, i, v->faults); break;
			case PCOL_MAJOR: cell_u64(ln, i, v->major); break;
			case PCOL_RATE: cell_rate(ln, i, rate(v->faults, vma_before(a, v), secs)); break;
			case PCOL_NAME: cell(ln, i, "%s", nv ? nv->name : ""); break;
			}
		}
	}
	table_print(tb);
}

enum live_view { LIVE_FAULTS, LIVE_TLB, LIVE_TOP };

static void live_header(enum live_view view, const struct snap *s,
			const struct ptscope_counters *a, const struct ptscope_counters *b,
			double secs)
{
	static const char *const names[] = { "faults", "tlb", "top" };

	printf("ptscope %s: process %d (%s), every %.1f s, watched for %.1f s; Ctrl-C quits%s\n",
	       names[view], s->pid, s->comm, opt.interval, b->elapsed_ns / 1e9,
	       b->state == PTSCOPE_WATCH_GONE ? " [the address space is gone]" : "");
	if (view == LIVE_TOP)
		printf("faults %.1f/s (minor %.1f/s, major %.1f/s), other VMAs %llu\n",
		       rate(b->faults[PTSCOPE_FLT_TOTAL], a->faults[PTSCOPE_FLT_TOTAL], secs),
		       rate(b->faults[PTSCOPE_FLT_MINOR], a->faults[PTSCOPE_FLT_MINOR], secs),
		       rate(b->faults[PTSCOPE_FLT_MAJOR], a->faults[PTSCOPE_FLT_MAJOR], secs),
		       (unsigned long long)b->vma_other);
	putchar('\n');
}

void sleep_interval(void)
{
	struct timespec ts = {
		.tv_sec = (time_t)opt.interval,
		.tv_nsec = (long)((opt.interval - (time_t)opt.interval) * 1e9),
	};

	while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int live(enum live_view view)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct ptscope_counters a, b;
	int tty = isatty(STDOUT_FILENO) && !opt.json && !opt.raw;
	unsigned int id;
	long n;
	struct snap s;
	int fd, err;

	err = snap_get(&s, 0, view == LIVE_TOP ? SNAP_NAMES : 0, 0, 0);
	if (err)
		return err;
	fd = dev_open();
	if (fd < 0) {
		snap_free(&s);
		return -fd;
	}
	err = watch_start(fd, s.pid, view == LIVE_TLB ? 0 : PTSCOPE_WATCH_FAULT_DETAIL, &id);
	if (err)
		goto out;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = counters_read(fd, id, &a);
	for (n = 0; !err && !stop && (!opt.count || n < opt.count); n++) {
		double secs;

		sleep_interval();
		if (stop)
			break;
		err = counters_read(fd, id, &b);
		if (err)
			break;
		secs = (b.elapsed_ns - a.elapsed_ns) / 1e9;
		if (tty)
			fputs("\033[H\033[2J", stdout);
		if (!opt.json && !opt.raw)
			live_header(view, &s, &a, &b, secs);
		if (view == LIVE_FAULTS)
			faults_table(&a, &b, secs);
		else if (view == LIVE_TLB)
			tlb_table(&a, &b, secs);
		else
			top_table(&a, &b, secs, &s);
		if (!tty && !opt.json)
			putchar('\n');
		fflush(stdout);
		a = b;
		if (b.state == PTSCOPE_WATCH_GONE)
			break;
	}
	watch_stop(fd, id);
out:
	close(fd);
	snap_free(&s);
	return err;
}

int cmd_faults(void)
{
	return live(LIVE_FAULTS);
}

int cmd_tlb(void)
{
	return live(LIVE_TLB);
}

int cmd_top(void)
{
	return live(LIVE_TOP);
}
