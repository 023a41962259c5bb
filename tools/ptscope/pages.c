// SPDX-License-Identifier: GPL-2.0
/*
 * A page-by-page view of a snapshot's leaf runs: one struct page per base
 * page that has an entry, in address order. diff, shared and map compare
 * and draw pages, not runs, because two walks merge runs differently.
 */
#include <stdlib.h>

#include "common.h"

static unsigned int run_state(const struct ptscope_run *r)
{
	switch (r->kind) {
	case PTSCOPE_KIND_PAGE:
		return r->level > PTSCOPE_LEVEL_PTE ? PG_HUGE : PG_PRESENT;
	case PTSCOPE_KIND_SWAP:
		return PG_SWAP;
	case PTSCOPE_KIND_NONE:
		return PG_NONE;
	default:
		return PG_OTHER;
	}
}

int pages_from_snap(struct pages *pg, const struct snap *s)
{
	size_t i, n = 0;
	uint64_t j;

	for (i = 0; i < s->nruns; i++)
		if (s->runs[i].kind != PTSCOPE_KIND_TABLE)
			n += run_pages(s, &s->runs[i]);
	pg->p = xcalloc(n, sizeof(*pg->p));
	pg->n = 0;
	for (i = 0; i < s->nruns; i++) {
		const struct ptscope_run *r = &s->runs[i];
		unsigned int state = run_state(r);
		uint64_t np = run_pages(s, r);

		if (r->kind == PTSCOPE_KIND_TABLE || state == PG_NONE)
			continue;
		for (j = 0; j < np; j++) {
			struct page *p = &pg->p[pg->n++];

			p->addr = r->start + j * s->page_size;
			p->state = state;
			p->page = r->page;
			if (state == PG_SWAP)
				p->pfn = r->swap_offset + j;
			else if (r->pfn)
				p->pfn = r->pfn + j;
		}
	}
	return 0;
}

void pages_free(struct pages *pg)
{
	free(pg->p);
	pg->p = NULL;
	pg->n = 0;
}

const struct page *pages_find(const struct pages *pg, uint64_t addr)
{
	size_t lo = 0, hi = pg->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pg->p[mid].addr == addr)
			return &pg->p[mid];
		if (pg->p[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
