// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope walk: the page-table tree of a range, one node per merged run,
 * tables above the entries they hold.
 */
#include <string.h>
#include <unistd.h>

#include "common.h"

enum {
	COL_RANGE, COL_START, COL_END, COL_LEVEL, COL_KIND, COL_COUNT, COL_SIZE,
	COL_FLAGS, COL_BITS, COL_ENTRY, COL_PFN, COL_TABLE, COL_PAGE, COL_MAPCOUNT,
	COL_ORDER, COL_SWAP, COL_PKEY, COL_NAME,
};

#define N SCOLS_JSON_NUMBER
#define S SCOLS_JSON_STRING
#define R SCOLS_FL_RIGHT
static const struct colinfo cols[] = {
	[COL_RANGE]	= { "RANGE", 0.3, SCOLS_FL_TREE, S, "addresses the run maps, START-END" },
	[COL_START]	= { "START", 0.1, 0, S, "first address" },
	[COL_END]	= { "END", 0.1, 0, S, "end address (exclusive)" },
	[COL_LEVEL]	= { "LEVEL", 3, 0, S, "PGD, P4D, PUD, PMD or PTE" },
	[COL_KIND]	= { "KIND", 5, 0, S, "table, page, swap, migration, marker, ..." },
	[COL_COUNT]	= { "COUNT", 3, R, N, "entries in the run" },
	[COL_SIZE]	= { "SIZE", 5, R, N, "bytes the run maps" },
	[COL_FLAGS]	= { "FLAGS", 7, 0, S, "present write user accessed dirty global exec" },
	[COL_BITS]	= { "BITS", 0.2, 0, S, "every decoded bit, by name" },
	[COL_ENTRY]	= { "ENTRY", 0.1, 0, S, "raw value of the first entry" },
	[COL_PFN]	= { "PFN", 0.1, R, S, "page frame of the first entry (root only)" },
	[COL_TABLE]	= { "TABLE", 0.1, 0, S, "physical address of the table it points to" },
	[COL_PAGE]	= { "PAGE", 0.1, 0, S, "anon, file, shmem, ksm, zero, exclusive, thp, ..." },
	[COL_MAPCOUNT]	= { "MAPCOUNT", 3, R, N, "mappings of the first page" },
	[COL_ORDER]	= { "ORDER", 2, R, N, "order of the folio of the first page" },
	[COL_SWAP]	= { "SWAP", 0.1, 0, S, "swap device:offset of a swapped-out run" },
	[COL_PKEY]	= { "PKEY", 2, R, N, "protection key" },
	[COL_NAME]	= { "NAME", 0.2, 0, S, "name of the VMA the run is in" },
};
#undef N
#undef S
#undef R

struct view walk_view = {
	.name = "walk", .cols = cols, .ncols = ARRAY_SIZE(cols),
	.defaults = "RANGE,LEVEL,KIND,COUNT,SIZE,FLAGS,PFN,PAGE,MAPCOUNT",
};

static void walk_cell(struct libscols_line *ln, size_t i, int col, const struct snap *s,
		      const struct ptscope_run *r)
{
	const struct ptscope_vma *v;
	char buf[512];

	switch (col) {
	case COL_RANGE:
		cell(ln, i, "0x%llx-0x%llx", (unsigned long long)r->start,
		     (unsigned long long)run_end(r));
		break;
	case COL_START: cell_hex(ln, i, r->start); break;
	case COL_END: cell_hex(ln, i, run_end(r)); break;
	case COL_LEVEL: cell(ln, i, "%s", enum_name(level_names, LEVELS, r->level)); break;
	case COL_KIND: cell(ln, i, "%s", enum_name(kind_names, KINDS, r->kind)); break;
	case COL_COUNT: cell_u64(ln, i, r->count); break;
	case COL_SIZE: cell_size(ln, i, r->count << r->shift); break;
	case COL_FLAGS: cell(ln, i, "%s", bits_letters(buf, r->bits)); break;
	case COL_BITS: cell(ln, i, "%s", bits_names(buf, sizeof(buf), r->bits)); break;
	case COL_ENTRY: cell_hex(ln, i, r->entry); break;
	case COL_PFN:
		if (r->kind == PTSCOPE_KIND_PAGE)
			cell_hex(ln, i, r->pfn);
		break;
	case COL_TABLE:
		if (r->kind == PTSCOPE_KIND_TABLE)
			cell_hex(ln, i, r->table_pa);
		break;
	case COL_PAGE:
		if (r->kind == PTSCOPE_KIND_PAGE)
			cell(ln, i, "%s", page_names(buf, sizeof(buf), r->page));
		break;
	case COL_MAPCOUNT:
		if (r->kind == PTSCOPE_KIND_PAGE)
			cell_u64(ln, i, r->mapcount);
		break;
	case COL_ORDER:
		if (r->kind == PTSCOPE_KIND_PAGE)
			cell_u64(ln, i, r->folio_order);
		break;
	case COL_SWAP:
		if (r->kind == PTSCOPE_KIND_SWAP)
			cell(ln, i, "%u:0x%llx", r->swap_type, (unsigned long long)r->swap_offset);
		break;
	case COL_PKEY: cell_u64(ln, i, r->pkey); break;
	case COL_NAME:
		v = snap_find_vma(s, r->start);
		if (v)
			cell(ln, i, "%s", v->name);
		break;
	}
}

/* parse_range - START[-END] into [*start, *end), page-aligned outwards */
static int parse_range(const char *arg, uint64_t page_size, uint64_t *start, uint64_t *end)
{
	char buf[64], *dash;

	snprintf(buf, sizeof(buf), "%s", arg);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_u64(buf, start) || (dash && parse_u64(dash + 1, end)) ||
	    (dash && *end <= *start)) {
		fprintf(stderr, "ptscope: '%s' is not an address range START[-END]\n", arg);
		return EXIT_USAGE;
	}
	if (!dash)
		*end = *start + 1;
	*start &= ~(page_size - 1);
	*end = (*end + page_size - 1) & ~(page_size - 1);
	return 0;
}

#define MAX_DEPTH	PTSCOPE_LEVEL_PGD

int cmd_walk(void)
{
	struct libscols_line *stack[MAX_DEPTH];
	uint64_t stack_end[MAX_DEPTH], start = 0, end = 0;
	unsigned int stack_level[MAX_DEPTH];
	struct libscols_table *tb;
	int depth = 0, err;
	uint64_t ps = getpagesize();
	struct snap s;
	size_t i, j;

	if (opt.nextra && (err = parse_range(opt.extra[0], ps, &start, &end)))
		return err;
	err = snap_get(&s, 0, SNAP_RUNS | SNAP_VMAS, start, end);
	if (err)
		return err;
	if (!opt.nextra) {
		start = s.walk_start;
		end = s.walk_end;
	}
	tb = view_table(&walk_view);
	for (i = 0; i < s.nruns; i++) {
		const struct ptscope_run *r = &s.runs[i];
		struct libscols_line *ln;

		if (run_end(r) <= start || r->start >= end)
			continue;
		while (depth && (stack_level[depth - 1] <= r->level ||
				 r->start >= stack_end[depth - 1]))
			depth--;
		ln = scols_table_new_line(tb, depth ? stack[depth - 1] : NULL);
		for (j = 0; j < walk_view.nsel; j++)
			walk_cell(ln, j, walk_view.sel[j], &s, r);
		if (r->kind == PTSCOPE_KIND_TABLE && depth < MAX_DEPTH) {
			stack[depth] = ln;
			stack_end[depth] = run_end(r);
			stack_level[depth++] = r->level;
		}
	}
	table_print(tb);
	snap_free(&s);
	return EXIT_OK;
}
