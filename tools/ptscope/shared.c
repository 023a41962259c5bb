// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope shared PID1 PID2: the physical pages both processes map (COW
 * after fork, shared memory, the same file), found by comparing the PFNs
 * of their walks.
 */
#include <stdlib.h>

#include "common.h"

enum { COL_ADDR1, COL_ADDR2, COL_PFN, COL_PAGES, COL_SIZE, COL_TYPE, COL_NAME1, COL_NAME2 };

#define N SCOLS_JSON_NUMBER
#define S SCOLS_JSON_STRING
#define R SCOLS_FL_RIGHT
static const struct colinfo cols[] = {
	[COL_ADDR1]	= { "ADDR1", 0.1, 0, S, "address in the first process" },
	[COL_ADDR2]	= { "ADDR2", 0.1, 0, S, "address in the second process" },
	[COL_PFN]	= { "PFN", 0.1, R, S, "first page frame" },
	[COL_PAGES]	= { "PAGES", 4, R, N, "base pages in the run" },
	[COL_SIZE]	= { "SIZE", 5, R, N, "bytes" },
	[COL_TYPE]	= { "TYPE", 0.1, 0, S, "anon (COW after fork), shmem, file, ksm, ..." },
	[COL_NAME1]	= { "NAME1", 0.2, 0, S, "VMA name in the first process" },
	[COL_NAME2]	= { "NAME2", 0.2, 0, S, "VMA name in the second process" },
};
#undef N
#undef S
#undef R

struct view shared_view = {
	.name = "shared", .cols = cols, .ncols = ARRAY_SIZE(cols),
	.defaults = "ADDR1,ADDR2,PFN,PAGES,SIZE,TYPE,NAME1",
};

struct match {
	uint64_t addr1, addr2, pfn, pages;
	unsigned int page;
};

static int pfn_cmp(const void *p, const void *q)
{
	const struct page *x = p, *y = q;

	if (x->pfn != y->pfn)
		return x->pfn < y->pfn ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Pages that have a frame (not the zero page, which everything shares). */
static void keep_framed(struct pages *pg)
{
	size_t i, n = 0;

	for (i = 0; i < pg->n; i++)
		if ((pg->p[i].state == PG_PRESENT || pg->p[i].state == PG_HUGE) &&
		    pg->p[i].pfn && !(pg->p[i].page & PTSCOPE_PAGE_ZERO))
			pg->p[n++] = pg->p[i];
	pg->n = n;
}

/* The first page of @pg (sorted by PFN) with frame @pfn, or NULL. */
static const struct page *first_with_pfn(const struct pages *pg, uint64_t pfn)
{
	size_t lo = 0, hi = pg->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pg->p[mid].pfn < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pg->n && pg->p[lo].pfn == pfn ? &pg->p[lo] : NULL;
}

static void shared_row(struct libscols_table *tb, const struct match *m,
		       const struct snap *a, const struct snap *b)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	const struct ptscope_vma *v;
	char buf[128];
	size_t i;

	for (i = 0; i < shared_view.nsel; i++) {
		switch (shared_view.sel[i]) {
		case COL_ADDR1: cell_hex(ln, i, m->addr1); break;
		case COL_ADDR2: cell_hex(ln, i, m->addr2); break;
		case COL_PFN: cell_hex(ln, i, m->pfn); break;
		case COL_PAGES: cell_u64(ln, i, m->pages); break;
		case COL_SIZE: cell_size(ln, i, m->pages * a->page_size); break;
		case COL_TYPE: cell(ln, i, "%s", page_names(buf, sizeof(buf), m->page)); break;
		case COL_NAME1:
			v = snap_find_vma(a, m->addr1);
			cell(ln, i, "%s", v ? v->name : "");
			break;
		case COL_NAME2:
			v = snap_find_vma(b, m->addr2);
			cell(ln, i, "%s", v ? v->name : "");
			break;
		}
	}
}

static int shared_pages(const struct snap *a, const struct snap *b)
{
	struct libscols_table *tb = view_table(&shared_view);
	struct match m = { 0 };
	struct pages pa, pb;
	uint64_t total = 0;
	size_t i;

	pages_from_snap(&pa, a);
	pages_from_snap(&pb, b);
	keep_framed(&pa);
	keep_framed(&pb);
	if ((a->nruns && !pa.n) || (b->nruns && !pb.n))
		fputs("ptscope shared: no page frame numbers: they are hidden without "
		      "CAP_SYS_ADMIN; run as root\n", stderr);
	qsort(pb.p, pb.n, sizeof(*pb.p), pfn_cmp);
	for (i = 0; i < pa.n; i++) {
		const struct page *x = &pa.p[i];
		const struct page *y = first_with_pfn(&pb, x->pfn);

		if (!y)
			continue;
		total++;
		if (m.pages && x->addr == m.addr1 + m.pages * a->page_size &&
		    y->addr == m.addr2 + m.pages * a->page_size && x->pfn == m.pfn + m.pages &&
		    x->page == m.page) {
			m.pages++;
			continue;
		}
		if (m.pages)
			shared_row(tb, &m, a, b);
		m = (struct match){ x->addr, y->addr, x->pfn, 1, x->page };
	}
	if (m.pages)
		shared_row(tb, &m, a, b);
	table_print(tb);
	if (!opt.json && !opt.raw) {
		char size[16];

		printf("%llu pages (%s) of process %d are also mapped by process %d\n",
		       (unsigned long long)total, size_human(size, sizeof(size), total * a->page_size),
		       a->pid, b->pid);
	}
	pages_free(&pa);
	pages_free(&pb);
	return EXIT_OK;
}

int cmd_shared(void)
{
	struct snap a, b;
	int err;

	err = snap_get(&a, 0, SNAP_VMAS | SNAP_RUNS, 0, 0);
	if (err)
		return err;
	err = snap_get(&b, 1, SNAP_VMAS | SNAP_RUNS, 0, 0);
	if (!err) {
		err = shared_pages(&a, &b);
		snap_free(&b);
	}
	snap_free(&a);
	return err;
}
