// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope huge [PID]: the huge-page view. Without a PID, the system's THP
 * event counters, hugetlb pools and per-size THP orders; with one, each VMA
 * of the process: whether THP can back it and why not, how much of it huge
 * pages map, and the TLB entries its mapping needs.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

enum { SCOL_NAME, SCOL_VALUE, SCOL_HELP };

#define N SCOLS_JSON_NUMBER
#define S SCOLS_JSON_STRING
#define R SCOLS_FL_RIGHT
static const struct colinfo system_cols[] = {
	[SCOL_NAME]	= { "NAME", 0.2, SCOLS_FL_TREE, S, "counter, pool or setting" },
	[SCOL_VALUE]	= { "VALUE", 8, R, N, "its value (pool sizes in pages)" },
	[SCOL_HELP]	= { "HELP", 0.3, 0, S, "what it is" },
};

struct view huge_system_view = {
	.name = "huge", .title = "huge", .cols = system_cols, .ncols = ARRAY_SIZE(system_cols),
	.defaults = "NAME,VALUE,HELP",
};

enum {
	VCOL_START, VCOL_END, VCOL_PAGESIZE, VCOL_THP, VCOL_WHY, VCOL_MAPPED, VCOL_HUGE,
	VCOL_COVERAGE, VCOL_LEAVES, VCOL_REACH, VCOL_THP_PMD, VCOL_HUGETLB_PMD,
	VCOL_HUGETLB_PUD, VCOL_MTHP, VCOL_NAME,
};

static const struct colinfo vma_cols[] = {
	[VCOL_START]	= { "START", 0.1, 0, S, "first address" },
	[VCOL_END]	= { "END", 0.1, 0, S, "end address (exclusive)" },
	[VCOL_PAGESIZE]	= { "PAGESIZE", 4, R, N, "page size of the VMA (hugetlb: the huge size)" },
	[VCOL_THP]	= { "THP", 10, 0, S, "what PMD-size THP still depends on: never, if-always, "
			    "if-enabled, if-shmem, if-file" },
	[VCOL_WHY]	= { "WHY", 0.2, 0, S, "what rules THP out: hugetlb, special, nohugepage, "
			    "process, too-small, misaligned, no-madvise" },
	[VCOL_MAPPED]	= { "MAPPED", 5, R, N, "mapped by present leaf entries" },
	[VCOL_HUGE]	= { "HUGE", 5, R, N, "of which by PMD or PUD leaves" },
	[VCOL_COVERAGE]	= { "COVERAGE", 5, R, N, "HUGE / MAPPED, in percent" },
	[VCOL_LEAVES]	= { "LEAVES", 5, R, N, "leaf entries: the TLB entries the mapping needs" },
	[VCOL_REACH]	= { "REACH", 5, R, N, "MAPPED / LEAVES: what one TLB entry covers" },
	[VCOL_THP_PMD]	= { "THP_PMD", 3, R, N, "PMD leaves mapping a THP" },
	[VCOL_HUGETLB_PMD] = { "HUGETLB_PMD", 3, R, N, "PMD leaves mapping hugetlb pages" },
	[VCOL_HUGETLB_PUD] = { "HUGETLB_PUD", 3, R, N, "PUD leaves mapping hugetlb pages" },
	[VCOL_MTHP]	= { "MTHP", 0.1, 0, S, "PTEs mapping large folios, ORDER:PTES,..." },
	[VCOL_NAME]	= { "NAME", 0.3, 0, S, "the VMA's name, as maps shows it" },
};
#undef N
#undef S
#undef R

struct view huge_view = {
	.name = "huge", .title = "huge PID", .cols = vma_cols, .ncols = ARRAY_SIZE(vma_cols),
	.defaults = "START,END,THP,WHY,MAPPED,HUGE,COVERAGE,LEAVES,REACH,NAME",
};

/* /proc/vmstat's names, by enum ptscope_thp_event. */
static const char *const thp_event_names[PTSCOPE_THP_EVENT_MAX] = PTSCOPE_THP_EVENT_NAMES;

static const char *const policy_names[] = {
	[PTSCOPE_THP_NEVER] = "never", [PTSCOPE_THP_IF_ALWAYS] = "if-always",
	[PTSCOPE_THP_IF_ENABLED] = "if-enabled", [PTSCOPE_THP_IF_SHMEM] = "if-shmem",
	[PTSCOPE_THP_IF_FILE] = "if-file",
};

static const char *const why_names[] = {
	"hugetlb", "special", "nohugepage", "process", "too-small", "misaligned", "no-madvise",
};

static struct libscols_line *kv(struct libscols_table *tb, struct libscols_line *parent,
				const char *name, int has_value, uint64_t value, const char *help)
{
	struct libscols_line *ln = scols_table_new_line(tb, parent);
	size_t i;

	for (i = 0; i < huge_system_view.nsel; i++) {
		switch (huge_system_view.sel[i]) {
		case SCOL_NAME: cell(ln, i, "%s", name); break;
		case SCOL_VALUE:
			if (has_value)
				cell_u64(ln, i, value);
			break;
		case SCOL_HELP: cell(ln, i, "%s", help); break;
		}
	}
	return ln;
}

static int huge_system(void)
{
	struct ptscope_huge_system h;
	struct libscols_table *tb;
	struct libscols_line *ln, *pool;
	char size[16];
	unsigned int i;
	int fd = dev_open(), err;

	if (fd < 0)
		return -fd;
	err = dev_huge_system(fd, &h);
	close(fd);
	if (err)
		return err;
	if (view_columns(&huge_system_view, opt.columns))
		return EXIT_USAGE;
	tb = view_table(&huge_system_view);
	ln = kv(tb, NULL, "thp", 0, 0, h.features & PTSCOPE_HUGE_THP ?
		"transparent huge pages: the counters of /proc/vmstat" :
		"transparent huge pages: not in this kernel");
	for (i = 0; i < ARRAY_SIZE(thp_event_names); i++)
		if (thp_event_names[i] && (h.events_valid & (1ULL << i)))
			kv(tb, ln, thp_event_names[i], 1, h.events[i], "");
	kv(tb, NULL, "pmd_order", 1, h.pmd_order, "order of a PMD-size page");
	ln = kv(tb, NULL, "mthp_orders", 0, 0, h.mthp_orders ?
		"sizes with their own settings in /sys/kernel/mm/transparent_hugepage/" :
		"no per-size THP in this kernel");
	for (i = 0; i < 64; i++)
		if (h.mthp_orders & (1ULL << i))
			kv(tb, ln, size_human(size, sizeof(size), 4096ULL << i), 1, i, "order");
	ln = kv(tb, NULL, "hugetlb", 0, 0, h.features & PTSCOPE_HUGE_HUGETLB ?
		"hugetlb pools, as /sys/kernel/mm/hugepages/ shows them" :
		"hugetlb: not in this kernel");
	for (i = 0; i < h.nr_pools && i < PTSCOPE_HUGETLB_POOLS; i++) {
		const struct ptscope_hugetlb_pool *p = &h.pools[i];

		pool = kv(tb, ln, size_human(size, sizeof(size), p->page_size), 0, 0, "a pool");
		kv(tb, pool, "total", 1, p->total, "pages in the pool (nr_hugepages)");
		kv(tb, pool, "free", 1, p->free, "not in use (free_hugepages)");
		kv(tb, pool, "reserved", 1, p->reserved, "promised to mappings (resv_hugepages)");
		kv(tb, pool, "surplus", 1, p->surplus, "above the persistent size");
		kv(tb, pool, "persistent", 1, p->persistent, "the size asked for");
	}
	table_print(tb);
	return EXIT_OK;
}

static void huge_cell(struct libscols_line *ln, size_t i, int col,
		      const struct ptscope_huge_vma *v, const struct snap *s)
{
	const struct ptscope_vma *nv = snap_find_vma(s, v->start);
	uint64_t ps = s->page_size;
	char buf[256];
	size_t off = 0;
	unsigned int k;

	switch (col) {
	case VCOL_START: cell_hex(ln, i, v->start); break;
	case VCOL_END: cell_hex(ln, i, v->end); break;
	case VCOL_PAGESIZE: cell_size(ln, i, v->page_size); break;
	case VCOL_THP: cell(ln, i, "%s", enum_name(policy_names, ARRAY_SIZE(policy_names),
						      v->thp)); break;
	case VCOL_WHY:
		buf[0] = '\0';
		for (k = 0; k < ARRAY_SIZE(why_names); k++)
			if (v->thp_why & (1U << k))
				off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
						off ? "," : "", why_names[k]);
		cell(ln, i, "%s", buf);
		break;
	case VCOL_MAPPED: cell_size(ln, i, v->mapped * ps); break;
	case VCOL_HUGE: cell_size(ln, i, v->huge_mapped * ps); break;
	case VCOL_COVERAGE:
		cell(ln, i, "%.1f", v->mapped ? 100.0 * v->huge_mapped / v->mapped : 0);
		break;
	case VCOL_LEAVES: cell_u64(ln, i, v->leaves); break;
	case VCOL_REACH: cell_size(ln, i, v->leaves ? v->mapped * ps / v->leaves : 0); break;
	case VCOL_THP_PMD: cell_u64(ln, i, v->thp_pmd); break;
	case VCOL_HUGETLB_PMD: cell_u64(ln, i, v->hugetlb_pmd); break;
	case VCOL_HUGETLB_PUD: cell_u64(ln, i, v->hugetlb_pud); break;
	case VCOL_MTHP:
		buf[0] = '\0';
		for (k = 1; k < PTSCOPE_HUGE_ORDERS && off < sizeof(buf); k++)
			if (v->pte_large[k])
				off += snprintf(buf + off, sizeof(buf) - off, "%s%u:%llu",
						off ? "," : "", k,
						(unsigned long long)v->pte_large[k]);
		cell(ln, i, "%s", buf);
		break;
	case VCOL_NAME: cell(ln, i, "%s", nv ? nv->name : ""); break;
	}
}

static int huge_process(void)
{
	struct ptscope_huge_vma *vmas;
	struct ptscope_target t;
	struct libscols_table *tb;
	size_t n, i, j;
	struct snap s;
	int fd, err;

	if (view_columns(&huge_view, opt.columns))
		return EXIT_USAGE;
	err = snap_get(&s, 0, SNAP_NAMES, 0, 0);
	if (err)
		return err;
	fd = dev_open();
	if (fd < 0) {
		snap_free(&s);
		return -fd;
	}
	err = dev_target(fd, s.pid, &t) ?: dev_huge_vmas(fd, &vmas, &n);
	close(fd);
	if (err) {
		snap_free(&s);
		return err;
	}
	tb = view_table(&huge_view);
	for (i = 0; i < n; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		for (j = 0; j < huge_view.nsel; j++)
			huge_cell(ln, j, huge_view.sel[j], &vmas[i], &s);
	}
	table_print(tb);
	free(vmas);
	snap_free(&s);
	return EXIT_OK;
}

int cmd_huge(void)
{
	return opt.nargs ? huge_process() : huge_system();
}
