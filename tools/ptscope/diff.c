// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope diff A B: what changed between two snapshots, VMA by VMA and
 * page by page, with runs of pages that changed the same way merged.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum change {
	CH_NONE, CH_VMA_NEW, CH_VMA_GONE, CH_VMA_RESIZED, CH_VMA_PROT,
	CH_FAULTED_IN, CH_UNMAPPED, CH_SWAPPED_OUT, CH_SWAPPED_IN, CH_COW, CH_MOVED,
	CH_COLLAPSED, CH_SPLIT, CH_OTHER,
};

static const char *const change_names[] = {
	[CH_VMA_NEW] = "vma-new", [CH_VMA_GONE] = "vma-gone",
	[CH_VMA_RESIZED] = "vma-resized", [CH_VMA_PROT] = "vma-prot",
	[CH_FAULTED_IN] = "faulted-in", [CH_UNMAPPED] = "unmapped",
	[CH_SWAPPED_OUT] = "swapped-out", [CH_SWAPPED_IN] = "swapped-in",
	[CH_COW] = "cow", [CH_MOVED] = "moved", [CH_COLLAPSED] = "collapsed",
	[CH_SPLIT] = "split", [CH_OTHER] = "changed",
};

enum { COL_CHANGE, COL_START, COL_END, COL_PAGES, COL_SIZE, COL_NAME, COL_DETAIL };

#define N SCOLS_JSON_NUMBER
#define S SCOLS_JSON_STRING
#define R SCOLS_FL_RIGHT
static const struct colinfo cols[] = {
	[COL_CHANGE]	= { "CHANGE", 8, 0, S, "vma-new, vma-gone, vma-resized, vma-prot, faulted-in, "
			    "unmapped, swapped-out, swapped-in, cow, moved, collapsed, split" },
	[COL_START]	= { "START", 0.1, 0, S, "first address" },
	[COL_END]	= { "END", 0.1, 0, S, "end address (exclusive)" },
	[COL_PAGES]	= { "PAGES", 4, R, N, "base pages" },
	[COL_SIZE]	= { "SIZE", 5, R, N, "bytes" },
	[COL_NAME]	= { "NAME", 0.2, 0, S, "name of the VMA" },
	[COL_DETAIL]	= { "DETAIL", 0.2, 0, S, "before -> after: permissions, bounds, first PFN" },
};
#undef N
#undef S
#undef R

struct view diff_view = {
	.name = "diff", .cols = cols, .ncols = ARRAY_SIZE(cols),
	.defaults = "CHANGE,START,END,PAGES,SIZE,NAME",
};

struct row {
	uint64_t start, end;
	enum change ch;
	int is_vma;
	const char *name;
	char detail[96];
};

struct rows {
	struct row *r;
	size_t n, cap;
};

static struct row *row_add(struct rows *rs, enum change ch, uint64_t start, uint64_t end,
			   const char *name, int is_vma)
{
	struct row *r;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 64;
		rs->r = xrealloc(rs->r, rs->cap, sizeof(*rs->r));
	}
	r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	r->ch = ch;
	r->start = start;
	r->end = end;
	r->name = name;
	r->is_vma = is_vma;
	return r;
}

static const struct ptscope_vma *vma_overlapping(const struct snap *s,
						 const struct ptscope_vma *v)
{
	size_t i;

	for (i = 0; i < s->nvmas; i++)
		if (s->vmas[i].start < v->end && v->start < s->vmas[i].end)
			return &s->vmas[i];
	return NULL;
}

static void diff_vmas(struct rows *rs, const struct snap *a, const struct snap *b)
{
	char pa[8], pb[8];
	size_t i;

	for (i = 0; i < b->nvmas; i++) {
		const struct ptscope_vma *vb = &b->vmas[i], *va = vma_overlapping(a, vb);
		struct row *r;

		if (!va) {
			row_add(rs, CH_VMA_NEW, vb->start, vb->end, vb->name, 1);
		} else if (va->start != vb->start || va->end != vb->end) {
			r = row_add(rs, CH_VMA_RESIZED, vb->start, vb->end, vb->name, 1);
			snprintf(r->detail, sizeof(r->detail), "0x%llx-0x%llx -> 0x%llx-0x%llx",
				 (unsigned long long)va->start, (unsigned long long)va->end,
				 (unsigned long long)vb->start, (unsigned long long)vb->end);
		} else if (va->prot != vb->prot) {
			r = row_add(rs, CH_VMA_PROT, vb->start, vb->end, vb->name, 1);
			snprintf(r->detail, sizeof(r->detail), "%s -> %s", vma_perms(pa, va),
				 vma_perms(pb, vb));
		}
	}
	for (i = 0; i < a->nvmas; i++)
		if (!vma_overlapping(b, &a->vmas[i]))
			row_add(rs, CH_VMA_GONE, a->vmas[i].start, a->vmas[i].end,
				a->vmas[i].name, 1);
}

static int mapped(const struct page *p)
{
	return p && (p->state == PG_PRESENT || p->state == PG_HUGE);
}

/* How one page changed from @x (in A) to @y (in B); either may be NULL. */
static enum change page_change(const struct page *x, const struct page *y)
{
	if (!x && !y)
		return CH_NONE;
	if (!x)
		return mapped(y) ? CH_FAULTED_IN : y->state == PG_SWAP ? CH_SWAPPED_OUT : CH_OTHER;
	if (!y)
		return CH_UNMAPPED;
	if (mapped(x) && y->state == PG_SWAP)
		return CH_SWAPPED_OUT;
	if (x->state == PG_SWAP && mapped(y))
		return CH_SWAPPED_IN;
	if (mapped(x) && mapped(y)) {
		if (x->pfn && y->pfn && x->pfn != y->pfn)
			return !(x->page & PTSCOPE_PAGE_EXCLUSIVE) &&
			       (y->page & PTSCOPE_PAGE_EXCLUSIVE) &&
			       (y->page & PTSCOPE_PAGE_ANON) ? CH_COW : CH_MOVED;
		if (x->state != y->state)
			return y->state == PG_HUGE ? CH_COLLAPSED : CH_SPLIT;
		return CH_NONE;
	}
	if (x->state == y->state)
		return x->state == PG_SWAP && x->pfn != y->pfn ? CH_OTHER : CH_NONE;
	return CH_OTHER;
}

static void page_row(struct rows *rs, enum change ch, const struct page *x,
		     const struct page *y, uint64_t addr, const struct snap *a,
		     const struct snap *b)
{
	struct row *last = rs->n ? &rs->r[rs->n - 1] : NULL;
	const struct ptscope_vma *v;
	struct row *r;

	if (last && !last->is_vma && last->ch == ch && last->end == addr) {
		last->end += b->page_size;
		return;
	}
	v = snap_find_vma(b, addr);
	if (!v)
		v = snap_find_vma(a, addr);
	r = row_add(rs, ch, addr, addr + b->page_size, v ? v->name : "", 0);
	if (x && y && x->pfn && y->pfn && x->pfn != y->pfn)
		snprintf(r->detail, sizeof(r->detail), "%s 0x%llx -> %s 0x%llx",
			 x->state == PG_SWAP ? "swap" : "pfn", (unsigned long long)x->pfn,
			 y->state == PG_SWAP ? "swap" : "pfn", (unsigned long long)y->pfn);
}

/* Both page lists are sorted: merge them, one address at a time. */
static void diff_pages(struct rows *rs, const struct snap *a, const struct snap *b)
{
	struct pages pa, pb;
	size_t i = 0, j = 0;

	pages_from_snap(&pa, a);
	pages_from_snap(&pb, b);
	while (i < pa.n || j < pb.n) {
		const struct page *x = i < pa.n ? &pa.p[i] : NULL;
		const struct page *y = j < pb.n ? &pb.p[j] : NULL;
		uint64_t addr;
		enum change ch;

		if (x && y && x->addr != y->addr) {
			if (x->addr < y->addr)
				y = NULL;
			else
				x = NULL;
		}
		addr = x ? x->addr : y->addr;
		i += !!x;
		j += !!y;
		ch = page_change(x, y);
		if (ch != CH_NONE)
			page_row(rs, ch, x, y, addr, a, b);
	}
	pages_free(&pa);
	pages_free(&pb);
}

static int row_cmp(const void *p, const void *q)
{
	const struct row *x = p, *y = q;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return y->is_vma - x->is_vma;
}

int cmd_diff(void)
{
	struct rows rs = { 0 };
	struct libscols_table *tb;
	struct snap a, b;
	size_t i, k;
	int err;

	err = snap_arg(&a, opt.extra[0], SNAP_VMAS | SNAP_RUNS);
	if (err)
		return err;
	err = snap_arg(&b, opt.extra[1], SNAP_VMAS | SNAP_RUNS);
	if (err) {
		snap_free(&a);
		return err;
	}
	if (a.page_size != b.page_size) {
		fputs("ptscope diff: the snapshots have different page sizes\n", stderr);
		snap_free(&a);
		snap_free(&b);
		return EXIT_FAIL;
	}
	diff_vmas(&rs, &a, &b);
	diff_pages(&rs, &a, &b);
	qsort(rs.r, rs.n, sizeof(*rs.r), row_cmp);
	tb = view_table(&diff_view);
	for (i = 0; i < rs.n; i++) {
		const struct row *r = &rs.r[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		for (k = 0; k < diff_view.nsel; k++) {
			switch (diff_view.sel[k]) {
			case COL_CHANGE: cell(ln, k, "%s", change_names[r->ch]); break;
			case COL_START: cell_hex(ln, k, r->start); break;
			case COL_END: cell_hex(ln, k, r->end); break;
			case COL_PAGES: cell_u64(ln, k, (r->end - r->start) / b.page_size); break;
			case COL_SIZE: cell_size(ln, k, r->end - r->start); break;
			case COL_NAME: cell(ln, k, "%s", r->name); break;
			case COL_DETAIL: cell(ln, k, "%s", r->detail); break;
			}
		}
	}
	table_print(tb);
	free(rs.r);
	snap_free(&a);
	snap_free(&b);
	return EXIT_OK;
}
