// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope metrics: ptscope's counters for the monitoring a fleet already
 * runs, in Prometheus' text exposition format (names ptscope_*, base units,
 * counters ending in _total, _info gauges for versions). With --textfile
 * DIR it keeps its global watch open and rewrites DIR/ptscope.prom every
 * interval, atomically (a temporary file renamed over it), for
 * node_exporter's textfile collector.
 *
 * What it exports:
 *  - system-wide TLB flushes by reason and user page-fault exceptions by
 *    access, from a global watch (PTSCOPE_WATCH_GLOBAL, no FAULT_DETAIL:
 *    the fault probe would cost every fault of the machine); totals since
 *    the watch started, which ptscope_watch_start_time_seconds gives;
 *  - the hugetlb pools of every page size and the THP counters
 *    (PTSCOPE_IOC_HUGE_SYSTEM);
 *  - per workload: processes, resident bytes by the size of the page that
 *    maps them, huge coverage, and page-table bytes by table level, summed
 *    over the processes of a group: a command name (comm) or, with --by
 *    cgroup, the last component of the cgroup (v2) path. Only the
 *    --max-groups largest groups (resident bytes) are named, the rest are
 *    summed into "other": a PID, an address or a path is never a label.
 *    --from FILE (repeatable) takes the workloads from snapshot files
 *    instead, without the module (the golden tests).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* Resident memory by the size of the page that maps it: PTE, PMD, PUD leaves. */
enum { RSS_PTE, RSS_PMD, RSS_PUD, RSS_KINDS };
/*
 * Page tables by kind: PTE, PMD, PUD and P4D tables, found by a walk; and
 * the PTE tables the kernel deposits with each PMD-mapped anonymous THP
 * (pgtable_trans_huge_deposit(), to split it later), which no walk reaches
 * but which are page-table memory all the same: /proc/PID/status VmPTE
 * counts them with the PTE, PMD and PUD tables.
 */
enum { PT_PTE, PT_PMD, PT_PUD, PT_P4D, PT_DEPOSITED, PT_LEVELS };

struct group {
	char name[64];
	uint64_t procs;
	uint64_t rss[RSS_KINDS];	/* bytes */
	uint64_t pt[PT_LEVELS];		/* bytes */
};

struct sample {
	int live;
	struct ptscope_version ver;
	char modver[64];
	int have_counters;
	struct ptscope_counters cnt;
	double watch_start;	/* Unix time */
	int have_huge;
	struct ptscope_huge_system huge;
	struct group *groups;
	size_t ngroups;
	double duration;
};

static const char *const tlb_reasons[PTSCOPE_TLB_MAX] = {
	[PTSCOPE_TLB_TASK_SWITCH] = "task_switch",
	[PTSCOPE_TLB_REMOTE_SHOOTDOWN] = "remote_shootdown",
	[PTSCOPE_TLB_LOCAL_SHOOTDOWN] = "local_shootdown",
	[PTSCOPE_TLB_LOCAL_MM_SHOOTDOWN] = "local_mm_shootdown",
	[PTSCOPE_TLB_REMOTE_SEND_IPI] = "remote_send_ipi",
};

static const char *const pt_levels[PT_LEVELS] = {
	"pte", "pmd", "pud", "p4d", "pte_deposited",
};

/* --- grouping the processes */

static struct group *group_get(struct sample *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->ngroups; i++)
		if (!strcmp(m->groups[i].name, name))
			return &m->groups[i];
	m->groups = xrealloc(m->groups, m->ngroups + 1, sizeof(*m->groups));
	memset(&m->groups[m->ngroups], 0, sizeof(*m->groups));
	snprintf(m->groups[m->ngroups].name, sizeof(m->groups->name), "%s", name);
	return &m->groups[m->ngroups++];
}

/* Add one address space: its VMAs' counts and its distinct page tables. */
static void group_add(struct group *g, const struct snap *s)
{
	size_t i;

	g->procs++;
	for (i = 0; i < s->nvmas; i++) {
		const struct ptscope_vma *v = &s->vmas[i];
		const __u64 *c = v->counts;

		g->rss[RSS_PTE] += c[PTSCOPE_CNT_RSS_PTE] * s->page_size;
		g->rss[RSS_PMD] += c[PTSCOPE_CNT_RSS_PMD] * s->page_size;
		g->rss[RSS_PUD] += c[PTSCOPE_CNT_RSS_PUD] * s->page_size;
		if (v->kind == PTSCOPE_VMA_ANON || v->kind == PTSCOPE_VMA_HEAP ||
		    v->kind == PTSCOPE_VMA_STACK)
			g->pt[PT_DEPOSITED] += c[PTSCOPE_CNT_THP_PMD] * s->page_size;
	}
	/*
	 * Each TABLE entry (deduplicated by snap_sort_runs) is one table below
	 * it: a PMD entry's is a PTE table, ... With 4 levels the PGD's entries
	 * point to PUD tables (P4D is folded), with 3 to PMD tables.
	 */
	for (i = 0; i < s->nruns; i++) {
		const struct ptscope_run *r = &s->runs[i];
		unsigned int below;

		if (r->kind != PTSCOPE_KIND_TABLE || r->level < PTSCOPE_LEVEL_PMD)
			continue;
		below = r->level - PTSCOPE_LEVEL_PMD;	/* PT_PTE for a PMD entry */
		/* the top table's entries: 5 levels P4D, 4 PUD, 3 PMD tables */
		if (r->level == PTSCOPE_LEVEL_PGD)
			below = s->levels - 2;
		if (below <= PT_P4D)
			g->pt[below] += r->count * s->page_size;
	}
}

static uint64_t group_rss(const struct group *g)
{
	return g->rss[RSS_PTE] + g->rss[RSS_PMD] + g->rss[RSS_PUD];
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (group_rss(x) != group_rss(y))
		return group_rss(x) > group_rss(y) ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Keep the largest @max groups, in that order; sum the rest into "other". */
static void groups_cap(struct sample *m, size_t max)
{
	struct group other = { .name = "other" };
	size_t i, j;

	qsort(m->groups, m->ngroups, sizeof(*m->groups), group_cmp);
	if (m->ngroups <= max)
		return;
	for (i = max; i < m->ngroups; i++) {
		other.procs += m->groups[i].procs;
		for (j = 0; j < RSS_KINDS; j++)
			other.rss[j] += m->groups[i].rss[j];
		for (j = 0; j < PT_LEVELS; j++)
			other.pt[j] += m->groups[i].pt[j];
	}
	m->groups[max] = other;
	m->ngroups = max + 1;
}

/* The group of process @pid: its comm, or the last part of its cgroup. */
static int group_name(int pid, const char *comm, char *buf, size_t len)
{
	char path[64], line[4096], *p;
	FILE *f;

	if (strcmp(opt.by, "cgroup")) {
		snprintf(buf, len, "%s", comm);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	buf[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))	/* the unified (v2) hierarchy */
			continue;
		line[strcspn(line, "\n")] = 0;
		p = strrchr(line, '/');
		snprintf(buf, len, "%s", p && p[1] ? p + 1 : "root");
	}
	fclose(f);
	if (!buf[0])
		snprintf(buf, len, "unknown");
	return 0;
}

/* Every process the caller may read; the ones that vanish are skipped. */
static void scan_processes(struct sample *m)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	char name[64];
	struct snap s;
	int pid;

	if (!d)
		return;
	dev_quiet = 1;
	while ((de = readdir(d))) {
		if (strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		pid = atoi(de->d_name);
		if (snap_live(&s, pid, SNAP_VMAS | SNAP_RUNS, 0, 0))
			continue;	/* gone, a kernel thread, or not allowed */
		if (!group_name(pid, s.comm, name, sizeof(name)))
			group_add(group_get(m, name), &s);
		snap_free(&s);
	}
	dev_quiet = 0;
	closedir(d);
}

/* --- output */

/* A label value, escaped as the exposition format asks. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample of a group: METRIC{BY="NAME"EXTRA} VALUE. */
static void group_line(FILE *f, const char *metric, const struct group *g, const char *extra,
		       const char *value)
{
	fprintf(f, "%s{%s=\"", metric, opt.by);
	put_label(f, g->name);
	fprintf(f, "\"%s} %s\n", extra, value);
}

static void workload_metrics(FILE *f, const struct sample *m)
{
	static const unsigned int x86[RSS_KINDS] = { 12, 21, 30 };
	static const unsigned int level[RSS_KINDS] = {
		PTSCOPE_LEVEL_PTE, PTSCOPE_LEVEL_PMD, PTSCOPE_LEVEL_PUD,
	};
	uint64_t sizes[RSS_KINDS];
	char extra[64], val[32];
	size_t i, j;

	/*
	 * The sizes of a PTE's, PMD's and PUD's page: the module's (x86-64's
	 * before ABI 1.3); none for a folded level (arm64 with 3 levels: PUD).
	 */
	for (j = 0; j < RSS_KINDS; j++)
		sizes[j] = m->ver.abi_minor < 3 ? 1ULL << x86[j] :
			   m->ver.level_shift[level[j]] ? 1ULL << m->ver.level_shift[level[j]] : 0;
	header(f, "ptscope_workload_processes", "gauge",
	       "Processes in the group (comm or cgroup; the smaller groups summed as other).");
	for (i = 0; i < m->ngroups; i++) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)m->groups[i].procs);
		group_line(f, "ptscope_workload_processes", &m->groups[i], "", val);
	}
	header(f, "ptscope_workload_resident_bytes", "gauge",
	       "Resident memory of the group by the size of the page that maps it.");
	for (i = 0; i < m->ngroups; i++)
		for (j = 0; j < RSS_KINDS; j++) {
			if (!sizes[j])
				continue;
			snprintf(extra, sizeof(extra), ",page_size_bytes=\"%llu\"",
				 (unsigned long long)sizes[j]);
			snprintf(val, sizeof(val), "%llu", (unsigned long long)m->groups[i].rss[j]);
			group_line(f, "ptscope_workload_resident_bytes", &m->groups[i], extra, val);
		}
	header(f, "ptscope_workload_huge_coverage_ratio", "gauge",
	       "Share of the group's resident memory mapped by huge (PMD and PUD) pages.");
	for (i = 0; i < m->ngroups; i++) {
		const struct group *g = &m->groups[i];

		snprintf(val, sizeof(val), "%.6g", group_rss(g) ?
			 (double)(g->rss[RSS_PMD] + g->rss[RSS_PUD]) / group_rss(g) : 0.0);
		group_line(f, "ptscope_workload_huge_coverage_ratio", g, "", val);
	}
	header(f, "ptscope_workload_page_table_bytes", "gauge",
	       "Page tables of the group's address spaces by kind: pte, pmd, pud, p4d tables, "
	       "and the PTE tables deposited with anonymous THPs.");
	for (i = 0; i < m->ngroups; i++)
		for (j = 0; j < PT_LEVELS; j++) {
			snprintf(extra, sizeof(extra), ",table=\"%s\"", pt_levels[j]);
			snprintf(val, sizeof(val), "%llu", (unsigned long long)m->groups[i].pt[j]);
			group_line(f, "ptscope_workload_page_table_bytes", &m->groups[i], extra,
				   val);
		}
}

/* One TLB counter (the __u64 at @off of struct ptscope_tlb_count) by reason. */
static void tlb_metric(FILE *f, const struct ptscope_counters *c, const char *name,
		       const char *help, size_t off)
{
	size_t i;

	header(f, name, "counter", help);
	for (i = 0; i < PTSCOPE_TLB_MAX; i++)
		if (tlb_reasons[i])
			fprintf(f, "%s{reason=\"%s\"} %llu\n", name, tlb_reasons[i],
				*(const unsigned long long *)((const char *)&c->tlb[i] + off));
}

static void counter_metrics(FILE *f, const struct sample *m)
{
	static const struct { int idx; const char *access; } access[] = {
		{ PTSCOPE_FLT_READ, "read" }, { PTSCOPE_FLT_WRITE, "write" },
		{ PTSCOPE_FLT_EXEC, "exec" },
	};
	const struct ptscope_counters *c = &m->cnt;
	size_t i;

	header(f, "ptscope_watch_start_time_seconds", "gauge",
	       "When the global watch the counters come from started (Unix time).");
	fprintf(f, "ptscope_watch_start_time_seconds %.3f\n", m->watch_start);
	if (c->valid & PTSCOPE_CNT_F_TLB) {
		tlb_metric(f, c, "ptscope_tlb_flushes_total",
			   "TLB flushes of the whole system by reason (tlb:tlb_flush).",
			   offsetof(struct ptscope_tlb_count, events));
		tlb_metric(f, c, "ptscope_tlb_full_flushes_total",
			   "TLB flushes that flushed everything, by reason.",
			   offsetof(struct ptscope_tlb_count, full));
		tlb_metric(f, c, "ptscope_tlb_flushed_pages_total",
			   "Pages flushed by ranged TLB flushes, by reason.",
			   offsetof(struct ptscope_tlb_count, pages));
	}
	if (c->valid & PTSCOPE_CNT_F_FAULTS) {
		uint64_t known = 0;

		header(f, "ptscope_page_fault_exceptions_total", "counter",
		       "User-mode page-fault exceptions of the whole system by access "
		       "(exceptions:page_fault_user).");
		for (i = 0; i < ARRAY_SIZE(access); i++) {
			known += c->faults[access[i].idx];
			fprintf(f, "ptscope_page_fault_exceptions_total{access=\"%s\"} %llu\n",
				access[i].access, (unsigned long long)c->faults[access[i].idx]);
		}
		if (c->faults[PTSCOPE_FLT_TOTAL] > known)
			fprintf(f, "ptscope_page_fault_exceptions_total{access=\"other\"} %llu\n",
				(unsigned long long)(c->faults[PTSCOPE_FLT_TOTAL] - known));
	} else if (c->valid & PTSCOPE_CNT_F_FAULT_TOTAL) {
		/* arm64: the exceptions, not their access kind (no read/write/exec sample) */
		header(f, "ptscope_page_fault_exceptions_total", "counter",
		       "User-mode page-fault exceptions of the whole system; access unknown "
		       "where the kernel's hook does not tell it (arm64: perf page-faults).");
		fprintf(f, "ptscope_page_fault_exceptions_total{access=\"unknown\"} %llu\n",
			(unsigned long long)c->faults[PTSCOPE_FLT_TOTAL]);
	}
	if (c->valid & PTSCOPE_CNT_F_SIGNALS) {
		header(f, "ptscope_fault_signals_total", "counter",
		       "Signals the kernel raised for a memory fault, system-wide.");
		fprintf(f, "ptscope_fault_signals_total{signal=\"SIGSEGV\"} %llu\n",
			(unsigned long long)c->faults[PTSCOPE_FLT_SIGSEGV]);
		fprintf(f, "ptscope_fault_signals_total{signal=\"SIGBUS\"} %llu\n",
			(unsigned long long)c->faults[PTSCOPE_FLT_SIGBUS]);
	}
}

static void huge_metrics(FILE *f, const struct sample *m)
{
	static const char *const names[PTSCOPE_THP_EVENT_MAX] = PTSCOPE_THP_EVENT_NAMES;
	static const struct { const char *name, *help; size_t off; } pools[] = {
#define POOL(n, field, h) { "ptscope_hugetlb_" n, h, \
	offsetof(struct ptscope_hugetlb_pool, field) }
		POOL("pool_pages", total, "Pages in the hugetlb pool of this page size "
		     "(nr_hugepages: persistent and surplus)."),
		POOL("free_pages", free, "Pages of the pool not in use (free_hugepages)."),
		POOL("reserved_pages", reserved, "Free pages promised to mappings "
		     "(resv_hugepages)."),
		POOL("surplus_pages", surplus, "Pages above the persistent pool size "
		     "(surplus_hugepages)."),
		POOL("persistent_pages", persistent, "The persistent pool size asked for."),
#undef POOL
	};
	const struct ptscope_huge_system *h = &m->huge;
	size_t i, j;

	if (h->features & PTSCOPE_HUGE_HUGETLB)
		for (j = 0; j < ARRAY_SIZE(pools); j++) {
			header(f, pools[j].name, "gauge", pools[j].help);
			for (i = 0; i < h->nr_pools && i < PTSCOPE_HUGETLB_POOLS; i++)
				fprintf(f, "%s{page_size_bytes=\"%llu\"} %llu\n", pools[j].name,
					(unsigned long long)h->pools[i].page_size,
					*(const unsigned long long *)((const char *)&h->pools[i] +
								       pools[j].off));
		}
	if (h->features & PTSCOPE_HUGE_THP) {
		header(f, "ptscope_thp_events_total", "counter",
		       "Transparent huge page events since boot, as /proc/vmstat's thp_* "
		       "counters.");
		for (i = 0; i < PTSCOPE_THP_EVENT_MAX; i++)
			if (names[i] && (h->events_valid & (1ULL << i)))
				fprintf(f, "ptscope_thp_events_total{event=\"%s\"} %llu\n",
					names[i] + 4, (unsigned long long)h->events[i]);
	}
}

static void render(FILE *f, const struct sample *m)
{
	header(f, "ptscope_build_info", "gauge", "The ptscope tool's version and ABI.");
	fprintf(f, "ptscope_build_info{version=\"%s\",abi=\"%u.%u\"} 1\n",
		PTSCOPE_TOOL_VERSION, PTSCOPE_ABI_MAJOR, PTSCOPE_ABI_MINOR);
	if (m->live) {
		header(f, "ptscope_module_info", "gauge",
		       "The loaded ptscope module's version, ABI and paging levels.");
		fprintf(f, "ptscope_module_info{version=\"");
		put_label(f, m->modver);
		fprintf(f, "\",abi=\"%u.%u\",paging_levels=\"%u\"} 1\n", m->ver.abi_major,
			m->ver.abi_minor, m->ver.pgtable_levels);
		counter_metrics(f, m);
		huge_metrics(f, m);
	}
	workload_metrics(f, m);
	if (m->live) {
		header(f, "ptscope_collect_duration_seconds", "gauge",
		       "How long collecting these metrics took.");
		fprintf(f, "ptscope_collect_duration_seconds %.3f\n", m->duration);
	}
}

/* --- collecting */

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sample_free(struct sample *m)
{
	free(m->groups);
	m->groups = NULL;
	m->ngroups = 0;
}

/* One sample of the live system: the watch @id on @fd is open. */
static int collect(int fd, unsigned int id, struct sample *m)
{
	double t0 = now_mono();
	FILE *f;
	int err;

	m->live = 1;
	m->ver = (struct ptscope_version){ .size = sizeof(m->ver) };
	if (ioctl(fd, PTSCOPE_IOC_VERSION, &m->ver))
		return EXIT_NODEV;
	f = fopen("/sys/module/ptscope/version", "r");
	if (!f || !fgets(m->modver, sizeof(m->modver), f))
		snprintf(m->modver, sizeof(m->modver), "unknown");
	if (f)
		fclose(f);
	m->modver[strcspn(m->modver, "\n")] = 0;
	err = counters_read(fd, id, &m->cnt);
	if (err)
		return err;
	err = dev_huge_system(fd, &m->huge);
	if (err)
		return err;
	m->have_huge = 1;
	scan_processes(m);
	groups_cap(m, opt.max_groups);
	m->duration = now_mono() - t0;
	return 0;
}

/* Write @m to DIR/ptscope.prom through a temporary file and a rename. */
static int write_textfile(const struct sample *m)
{
	char tmp[4096], path[4096];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/ptscope.prom", opt.textfile);
	snprintf(tmp, sizeof(tmp), "%s/.ptscope.prom.XXXXXX", opt.textfile);
	fd = mkstemp(tmp);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "ptscope: cannot write in %s: %s (does the directory exist?)\n",
			opt.textfile, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_FAIL;
	}
	fchmod(fd, 0644);
	render(f, m);
	if (fflush(f) || fsync(fd) || fclose(f) || rename(tmp, path)) {
		fprintf(stderr, "ptscope: writing %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return EXIT_FAIL;
	}
	return 0;
}

static int metrics_from_files(void)
{
	struct sample m = { 0 };
	struct snap s;
	int i, err;

	for (i = 0; i < opt.nfrom; i++) {
		err = snapfile_read(&s, opt.from[i]);
		if (err) {
			sample_free(&m);
			return err;
		}
		group_add(group_get(&m, s.comm), &s);
		snap_free(&s);
	}
	groups_cap(&m, opt.max_groups);
	render(stdout, &m);
	sample_free(&m);
	return EXIT_OK;
}

/* The system-wide watch (PTSCOPE_WATCH_GLOBAL) the counters come from. */
static int global_watch(int fd, unsigned int *id)
{
	struct ptscope_watch w = { .size = sizeof(w), .flags = PTSCOPE_WATCH_GLOBAL };

	if (!ioctl(fd, PTSCOPE_IOC_WATCH, &w)) {
		*id = w.id;
		return 0;
	}
	if (errno == EPERM)
		fputs("ptscope metrics: a system-wide watch needs CAP_SYS_ADMIN: run it as "
		      "root\n", stderr);
	else if (errno == ENOSPC)
		fprintf(stderr, "ptscope metrics: the module has %d watches already: stop "
			"another ptscope metrics, faults, tlb or top first\n", PTSCOPE_WATCH_MAX);
	else if (errno == ENOTTY)
		fputs("ptscope metrics: the loaded module has no counters: load the ptscope.ko "
		      "built from the same tree as this tool\n", stderr);
	else
		fprintf(stderr, "ptscope metrics: a system-wide watch: %s\n", strerror(errno));
	return errno == EPERM || errno == ENOTTY ? EXIT_NODEV : EXIT_FAIL;
}

int cmd_metrics(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec rt;
	unsigned int id;
	long n;
	int fd, err;

	if (opt.nfrom) {
		if (opt.textfile) {
			fputs("ptscope metrics: --from and --textfile are mutually exclusive\n",
			      stderr);
			return EXIT_USAGE;
		}
		return metrics_from_files();
	}
	if (!opt.interval_set && opt.textfile)
		opt.interval = 60;
	fd = dev_open();
	if (fd < 0)
		return -fd;
	err = global_watch(fd, &id);
	if (err)
		goto out;
	clock_gettime(CLOCK_REALTIME, &rt);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (n = 0; !err && !stop && (!opt.count || n < opt.count); n++) {
		struct sample m = { .watch_start = rt.tv_sec + rt.tv_nsec / 1e9 };

		/* The counters cover at least one interval, also for one sample. */
		sleep_interval();
		if (stop)
			break;
		err = collect(fd, id, &m);
		if (!err && opt.textfile)
			err = write_textfile(&m);
		else if (!err)
			render(stdout, &m);
		sample_free(&m);
		if (!opt.textfile)
			break;
	}
	watch_stop(fd, id);
out:
	close(fd);
	return err;
}
