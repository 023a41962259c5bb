// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope maps: one row per VMA, as /proc/PID/maps, with what the page
 * tables under it hold.
 */
#include "common.h"

enum {
	COL_START, COL_END, COL_PERMS, COL_OFFSET, COL_DEV, COL_INODE, COL_KIND,
	COL_PAGESIZE, COL_SIZE, COL_RSS, COL_RSS_PTE, COL_RSS_PMD, COL_RSS_PUD, COL_HUGE,
	COL_SWAP, COL_THP, COL_HUGETLB, COL_DIRTY, COL_YOUNG, COL_ANON, COL_FILE,
	COL_SHMEM, COL_ZERO, COL_EXCL, COL_PT, COL_PT_TABLES, COL_VMFLAGS, COL_NAME,
};

#define N SCOLS_JSON_NUMBER
#define S SCOLS_JSON_STRING
#define R SCOLS_FL_RIGHT
static const struct colinfo cols[] = {
	[COL_START]	= { "START", 0.1, 0, S, "first address" },
	[COL_END]	= { "END", 0.1, 0, S, "end address (exclusive)" },
	[COL_PERMS]	= { "PERMS", 4, 0, S, "rwx, then p (private) or s (shared)" },
	[COL_OFFSET]	= { "OFFSET", 0.1, R, S, "offset in the file" },
	[COL_DEV]	= { "DEV", 5, 0, S, "device of the file, major:minor" },
	[COL_INODE]	= { "INODE", 0.1, R, N, "inode of the file" },
	[COL_KIND]	= { "KIND", 5, 0, S, "anon, file, shmem, heap, stack, vdso, hugetlb, ..." },
	[COL_PAGESIZE]	= { "PAGESIZE", 4, R, N, "page size of the VMA (hugetlb: the huge size)" },
	[COL_SIZE]	= { "SIZE", 5, R, N, "size of the VMA" },
	[COL_RSS]	= { "RSS", 5, R, N, "resident, all page sizes" },
	[COL_RSS_PTE]	= { "RSS_PTE", 5, R, N, "resident in base pages (PTE-mapped)" },
	[COL_RSS_PMD]	= { "RSS_PMD", 5, R, N, "resident in PMD-size pages (2M on x86)" },
	[COL_RSS_PUD]	= { "RSS_PUD", 5, R, N, "resident in PUD-size pages (1G on x86)" },
	[COL_HUGE]	= { "HUGE", 5, R, N, "resident in huge pages (PMD and PUD leaves)" },
	[COL_SWAP]	= { "SWAP", 5, R, N, "swapped out" },
	[COL_THP]	= { "THP", 3, R, N, "transparent huge pages mapped by a PMD (count)" },
	[COL_HUGETLB]	= { "HUGETLB", 3, R, N, "hugetlb pages mapped (count)" },
	[COL_DIRTY]	= { "DIRTY", 5, R, N, "resident and dirty" },
	[COL_YOUNG]	= { "YOUNG", 5, R, N, "resident and accessed (young)" },
	[COL_ANON]	= { "ANON", 5, R, N, "resident anonymous memory" },
	[COL_FILE]	= { "FILE", 5, R, N, "resident page cache" },
	[COL_SHMEM]	= { "SHMEM", 5, R, N, "resident shared memory (shmem, tmpfs, memfd)" },
	[COL_ZERO]	= { "ZERO", 5, R, N, "mapped to the shared zero page" },
	[COL_EXCL]	= { "EXCL", 5, R, N, "resident and mapped only here" },
	[COL_PT]	= { "PT", 5, R, N, "page-table cost: memory of the tables under the VMA" },
	[COL_PT_TABLES]	= { "PT_TABLES", 9, 0, S, "tables under the VMA, PTE/PMD/PUD/P4D" },
	[COL_VMFLAGS]	= { "VMFLAGS", 0.1, 0, S, "the kernel's VM_* flags, raw" },
	[COL_NAME]	= { "NAME", 0.3, 0, S, "file, or [heap], [stack], [vdso], [anon:NAME]" },
};
#undef N
#undef S
#undef R

struct view maps_view = {
	.name = "maps", .cols = cols, .ncols = ARRAY_SIZE(cols),
	.defaults = "START,END,PERMS,SIZE,RSS,HUGE,SWAP,PT,NAME",
};

static uint64_t pt_tables(const struct ptscope_vma *v)
{
	return v->counts[PTSCOPE_CNT_PTE_TABLES] + v->counts[PTSCOPE_CNT_PMD_TABLES] +
	       v->counts[PTSCOPE_CNT_PUD_TABLES] + v->counts[PTSCOPE_CNT_P4D_TABLES];
}

static void maps_cell(struct libscols_line *ln, size_t i, int col, const struct snap *s,
		      const struct ptscope_vma *v)
{
	const __u64 *c = v->counts;
	uint64_t ps = s->page_size;
	char buf[512];

	switch (col) {
	case COL_START: cell_hex(ln, i, v->start); break;
	case COL_END: cell_hex(ln, i, v->end); break;
	case COL_PERMS: cell(ln, i, "%s", vma_perms(buf, v)); break;
	case COL_OFFSET: cell_hex(ln, i, v->pgoff); break;
	case COL_DEV: cell(ln, i, "%02x:%02x", v->dev >> 20, v->dev & 0xfffff); break;
	case COL_INODE: cell_u64(ln, i, v->inode); break;
	case COL_KIND: cell(ln, i, "%s", enum_name(vma_kind_names, VMA_KINDS, v->kind)); break;
	case COL_PAGESIZE: cell_size(ln, i, v->page_size); break;
	case COL_SIZE: cell_size(ln, i, v->end - v->start); break;
	case COL_RSS:
		cell_size(ln, i, (c[PTSCOPE_CNT_RSS_PTE] + c[PTSCOPE_CNT_RSS_PMD] +
				  c[PTSCOPE_CNT_RSS_PUD]) * ps);
		break;
	case COL_RSS_PTE: cell_size(ln, i, c[PTSCOPE_CNT_RSS_PTE] * ps); break;
	case COL_RSS_PMD: cell_size(ln, i, c[PTSCOPE_CNT_RSS_PMD] * ps); break;
	case COL_RSS_PUD: cell_size(ln, i, c[PTSCOPE_CNT_RSS_PUD] * ps); break;
	case COL_HUGE:
		cell_size(ln, i, (c[PTSCOPE_CNT_RSS_PMD] + c[PTSCOPE_CNT_RSS_PUD]) * ps);
		break;
	case COL_SWAP: cell_size(ln, i, c[PTSCOPE_CNT_SWAP] * ps); break;
	case COL_THP: cell_u64(ln, i, c[PTSCOPE_CNT_THP_PMD]); break;
	case COL_HUGETLB: cell_u64(ln, i, c[PTSCOPE_CNT_HUGETLB]); break;
	case COL_DIRTY: cell_size(ln, i, c[PTSCOPE_CNT_DIRTY] * ps); break;
	case COL_YOUNG: cell_size(ln, i, c[PTSCOPE_CNT_YOUNG] * ps); break;
	case COL_ANON: cell_size(ln, i, c[PTSCOPE_CNT_ANON] * ps); break;
	case COL_FILE: cell_size(ln, i, c[PTSCOPE_CNT_FILE] * ps); break;
	case COL_SHMEM: cell_size(ln, i, c[PTSCOPE_CNT_SHMEM] * ps); break;
	case COL_ZERO: cell_size(ln, i, c[PTSCOPE_CNT_ZERO] * ps); break;
	case COL_EXCL: cell_size(ln, i, c[PTSCOPE_CNT_EXCLUSIVE] * ps); break;
	case COL_PT: cell_size(ln, i, pt_tables(v) * ps); break;
	case COL_PT_TABLES:
		cell(ln, i, "%llu/%llu/%llu/%llu",
		     (unsigned long long)c[PTSCOPE_CNT_PTE_TABLES],
		     (unsigned long long)c[PTSCOPE_CNT_PMD_TABLES],
		     (unsigned long long)c[PTSCOPE_CNT_PUD_TABLES],
		     (unsigned long long)c[PTSCOPE_CNT_P4D_TABLES]);
		break;
	case COL_VMFLAGS: cell_hex(ln, i, v->vm_flags); break;
	case COL_NAME: cell(ln, i, "%s", v->name); break;
	}
}

int cmd_maps(void)
{
	struct libscols_table *tb;
	struct snap s;
	size_t i, j;
	int err = snap_get(&s, 0, SNAP_VMAS, 0, 0);

	if (err)
		return err;
	tb = view_table(&maps_view);
	for (i = 0; i < s.nvmas; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		for (j = 0; j < maps_view.nsel; j++)
			maps_cell(ln, j, maps_view.sel[j], &s, &s.vmas[i]);
	}
	table_print(tb);
	snap_free(&s);
	return EXIT_OK;
}
