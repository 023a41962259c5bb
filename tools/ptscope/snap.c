// SPDX-License-Identifier: GPL-2.0
/*
 * struct snap: a target's VMAs and page-table runs, read live or from a
 * snapshot file, and the helpers every view uses on it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

uint64_t run_end(const struct ptscope_run *r)
{
	return r->start + (r->count << r->shift);
}

/* Base pages one run maps (or would map: swap entries count the same). */
uint64_t run_pages(const struct snap *s, const struct ptscope_run *r)
{
	return (r->count << r->shift) / s->page_size;
}

static int run_cmp(const void *a, const void *b)
{
	const struct ptscope_run *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (int)y->level - (int)x->level;
}

/*
 * Address order, and a table before the entries below it (pre-order). The
 * module walks one VMA at a time, so a table shared by two VMAs is reported
 * once per VMA: keep one.
 */
void snap_sort_runs(struct snap *s)
{
	size_t i, n = 0;

	qsort(s->runs, s->nruns, sizeof(*s->runs), run_cmp);
	for (i = 0; i < s->nruns; i++) {
		const struct ptscope_run *r = &s->runs[i];

		if (n && r->kind == PTSCOPE_KIND_TABLE && s->runs[n - 1].kind == r->kind &&
		    s->runs[n - 1].start == r->start && s->runs[n - 1].level == r->level)
			continue;
		s->runs[n++] = *r;
	}
	s->nruns = n;
}

const struct ptscope_vma *snap_find_vma(const struct snap *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nvmas;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < s->vmas[mid].start)
			hi = mid;
		else if (addr >= s->vmas[mid].end)
			lo = mid + 1;
		else
			return &s->vmas[mid];
	}
	return NULL;
}

static void read_comm(struct snap *s)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", s->pid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(s->comm, sizeof(s->comm), f))
		s->comm[strcspn(s->comm, "\n")] = '\0';
	fclose(f);
}

/* snap_live - read @what of process @pid; runs only over [start, end) */
int snap_live(struct snap *s, int pid, unsigned int what, uint64_t start, uint64_t end)
{
	struct ptscope_target t;
	time_t now = time(NULL);
	int fd, err;

	memset(s, 0, sizeof(*s));
	fd = dev_open();
	if (fd < 0)
		return -fd;
	err = dev_target(fd, pid, &t);
	if (err)
		goto out;
	s->pid = pid;
	/* The module's word, not the host's this tool was built on. */
	s->page_size = dev_version.page_size;
	s->arch = dev_version.arch;
	s->levels = t.pgtable_levels;
	s->task_size = t.task_size;
	strftime(s->taken, sizeof(s->taken), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	read_comm(s);
	if (what & (SNAP_VMAS | SNAP_NAMES)) {
		err = dev_vmas(fd, 0, 0, what & SNAP_VMAS ? PTSCOPE_VMAS_COUNTS : 0,
			       &s->vmas, &s->nvmas);
		if (err)
			goto out;
	}
	if (what & SNAP_RUNS) {
		s->walk_start = start;
		s->walk_end = end && end < t.task_size ? end : t.task_size;
		err = dev_walk(fd, s->walk_start, s->walk_end, PTSCOPE_WALK_TABLES,
			       &s->runs, &s->nruns);
		if (err)
			goto out;
		snap_sort_runs(s);
	}
	s->have = what;
out:
	close(fd);
	return err;
}

static int snap_file(struct snap *s, const char *path, unsigned int what)
{
	int err = snapfile_read(s, path);

	if (err)
		return err;
	if ((s->have & what) != what) {
		fprintf(stderr, "ptscope: %s: the snapshot has no page-table runs\n", path);
		snap_free(s);
		return EXIT_FAIL;
	}
	return 0;
}

/*
 * snap_get - target @i of a view: the snapshot of the @i-th --from, or the
 * live process whose PID is the @i-th argument; runs over [start, end).
 */
int snap_get(struct snap *s, int i, unsigned int what, uint64_t start, uint64_t end)
{
	int pid;

	if (opt.nfrom)
		return snap_file(s, opt.from[i], what);
	if (parse_pid(opt.args[i], &pid))
		return EXIT_USAGE;
	return snap_live(s, pid, what, start, end);
}

/* snap_arg - a snapshot file, or a PID (all digits) read live */
int snap_arg(struct snap *s, const char *arg, unsigned int what)
{
	int pid;

	if (arg[0] && strspn(arg, "0123456789") == strlen(arg))
		return parse_pid(arg, &pid) ? EXIT_USAGE : snap_live(s, pid, what, 0, 0);
	return snap_file(s, arg, what);
}

void snap_free(struct snap *s)
{
	free(s->vmas);
	free(s->runs);
	memset(s, 0, sizeof(*s));
}
