// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope vtop: one translation, every level decoded for a learner. The
 * live path asks the module (PTSCOPE_IOC_VTOP); with --from the same
 * struct ptscope_vtop is rebuilt from the snapshot's runs.
 */
#include <string.h>
#include <unistd.h>

#include "common.h"

enum {
	COL_STEP, COL_INDEX, COL_ADDR_BITS, COL_TABLE, COL_ENTRY, COL_NEXT, COL_KIND,
	COL_FLAGS, COL_BITS, COL_COVERS, COL_MEANING,
};

#define N SCOLS_JSON_NUMBER
#define S SCOLS_JSON_STRING
#define R SCOLS_FL_RIGHT
static const struct colinfo cols[] = {
	[COL_STEP]	= { "STEP", 4, 0, S, "PGD, P4D, PUD, PMD, PTE, then page" },
	[COL_INDEX]	= { "INDEX", 3, R, N, "index of the entry in its table; for page: the offset" },
	[COL_ADDR_BITS]	= { "ADDR_BITS", 5, 0, S, "the bits of the address that give INDEX" },
	[COL_TABLE]	= { "TABLE", 0.1, 0, S, "physical address of the table read" },
	[COL_ENTRY]	= { "ENTRY", 0.1, 0, S, "raw value of the entry" },
	[COL_NEXT]	= { "NEXT", 0.1, 0, S, "physical address it leads to: a table, or the byte" },
	[COL_KIND]	= { "KIND", 5, 0, S, "table, page, swap, ...; for page: the result" },
	[COL_FLAGS]	= { "FLAGS", 7, 0, S, "present write user accessed dirty global exec" },
	[COL_BITS]	= { "BITS", 0.2, 0, S, "every decoded bit, by name" },
	[COL_COVERS]	= { "COVERS", 4, R, N, "bytes one entry of this level maps" },
	[COL_MEANING]	= { "MEANING", 0.4, 0, S, "what the entry says, in words" },
};
#undef N
#undef S
#undef R

struct view vtop_view = {
	.name = "vtop", .cols = cols, .ncols = ARRAY_SIZE(cols),
	.defaults = "STEP,INDEX,ADDR_BITS,TABLE,ENTRY,NEXT,FLAGS,MEANING",
};

static const char *const result_names[] = {
	[PTSCOPE_VTOP_MAPPED] = "mapped",
	[PTSCOPE_VTOP_NOT_POPULATED] = "not-populated",
	[PTSCOPE_VTOP_SWAPPED] = "swapped",
	[PTSCOPE_VTOP_NOT_PRESENT] = "not-present",
	[PTSCOPE_VTOP_NO_VMA] = "no-vma",
	[PTSCOPE_VTOP_NO_ACCESS] = "no-access",
};

/*
 * The frame bits of an entry: x86-64 bits 12-51; arm64 bits PAGE_SHIFT-49
 * (with LPA2 also 8-9, holding bits 50-51: only in PTEs of 52-bit kernels'
 * large physical addresses, not rebuilt here).
 */
static uint64_t entry_pfn_mask(unsigned int page_shift)
{
	if (entry_arch() == PTSCOPE_ARCH_ARM64)
		return ((1ULL << 50) - 1) & ~((1ULL << page_shift) - 1);
	return ((1ULL << 52) - 1) & ~0xfffULL;
}

/* Each table holds PAGE_SIZE / 8 entries: an index of page_shift - 3 bits. */
static unsigned int index_bits(unsigned int page_shift)
{
	return page_shift - 3;
}

/* The level of the tables a @level entry points to, with @levels in use. */
static unsigned int level_below(unsigned int level, unsigned int levels)
{
	/* the top table's entries: 5 levels P4D, 4 PUD, 3 PMD */
	if (level == PTSCOPE_LEVEL_PGD)
		return PTSCOPE_LEVEL_PTE + levels - 2;
	return level - 1;
}

/* The entry of a run that covers @addr: the first one with its PFN moved. */
static void vtop_level_from_run(struct ptscope_vtop_level *l, const struct ptscope_run *r,
				uint64_t addr, unsigned int page_shift)
{
	uint64_t i = (addr - r->start) >> r->shift;

	l->level = r->level;
	l->kind = r->kind;
	l->shift = r->shift;
	l->bits = r->bits;
	l->index = (addr >> r->shift) & ((1U << index_bits(page_shift)) - 1);
	l->entry = r->entry;
	if (r->kind == PTSCOPE_KIND_TABLE) {
		l->pfn = r->table_pa >> page_shift;
	} else if (r->kind == PTSCOPE_KIND_PAGE && r->pfn) {
		l->pfn = r->pfn + (i << (r->shift - page_shift));
		l->entry = (r->entry & ~entry_pfn_mask(page_shift)) | (l->pfn << page_shift);
	}
}

/* vtop_from_snap - what PTSCOPE_IOC_VTOP would have said, from the runs */
static void vtop_from_snap(struct ptscope_vtop *v, const struct snap *s, uint64_t addr)
{
	const struct ptscope_vma *vma = snap_find_vma(s, addr);
	unsigned int page_shift = __builtin_ctz(s->page_size);
	const struct ptscope_run *leaf = NULL;
	uint64_t table_pa = 0;
	size_t i;

	memset(v, 0, sizeof(*v));
	v->addr = addr;
	for (i = 0; i < s->nruns && v->nlevels < ARRAY_SIZE(v->levels); i++) {
		const struct ptscope_run *r = &s->runs[i];
		struct ptscope_vtop_level *l = &v->levels[v->nlevels];

		if (addr < r->start || addr >= run_end(r))
			continue;
		vtop_level_from_run(l, r, addr, page_shift);
		l->table_pa = table_pa;
		table_pa = r->table_pa;
		v->nlevels++;
		if (r->kind != PTSCOPE_KIND_TABLE) {
			leaf = r;
			break;
		}
	}
	/* The walk ended at a table whose entry for @addr is empty: show it. */
	if (!leaf && v->nlevels && v->nlevels < ARRAY_SIZE(v->levels) &&
	    v->levels[v->nlevels - 1].level > PTSCOPE_LEVEL_PTE) {
		struct ptscope_vtop_level *l = &v->levels[v->nlevels];

		l->level = level_below(v->levels[v->nlevels - 1].level, s->levels);
		l->shift = v->levels[v->nlevels - 1].shift - index_bits(page_shift);
		l->kind = PTSCOPE_KIND_NONE;
		l->index = (addr >> l->shift) & ((1U << index_bits(page_shift)) - 1);
		l->table_pa = table_pa;
		v->nlevels++;
	}
	if (vma) {
		v->vma_start = vma->start;
		v->vma_end = vma->end;
		v->vm_flags = vma->vm_flags;
	}
	if (leaf && leaf->kind == PTSCOPE_KIND_PAGE) {
		const struct ptscope_vtop_level *l = &v->levels[v->nlevels - 1];

		v->result = PTSCOPE_VTOP_MAPPED;
		v->page = leaf->page;
		v->mapcount = leaf->mapcount;
		v->folio_order = leaf->folio_order;
		if (l->pfn)
			v->phys = (l->pfn << page_shift) + (addr & ((1ULL << l->shift) - 1));
	} else if (leaf && leaf->kind == PTSCOPE_KIND_SWAP) {
		v->result = PTSCOPE_VTOP_SWAPPED;
		v->swap_type = leaf->swap_type;
		v->swap_offset = leaf->swap_offset +
				 ((addr - leaf->start) >> page_shift);
	} else if (leaf) {
		v->result = PTSCOPE_VTOP_NOT_PRESENT;
	} else if (!vma) {
		v->result = PTSCOPE_VTOP_NO_VMA;
	} else {
		v->result = PTSCOPE_VTOP_NOT_POPULATED;
	}
	/* As the module says it: a VMA without access wins over the entries. */
	if (vma && !(vma->prot & (PTSCOPE_PROT_READ | PTSCOPE_PROT_WRITE | PTSCOPE_PROT_EXEC)))
		v->result = PTSCOPE_VTOP_NO_ACCESS;
}

/*
 * The bytes a contiguous block of @level entries maps (arm64's contiguous
 * bit): the module's word, or for a snapshot file Debian's arm64 kernels'
 * (CONT_PTE_SHIFT, CONT_PMD_SHIFT: 64K and 32M with 4 KiB pages, 2M and 1G
 * with 16 KiB).
 */
static uint64_t cont_bytes(unsigned int level, unsigned int page_size)
{
	int page_shift = __builtin_ctz(page_size), bits = page_shift - 3;

	if (level > PTSCOPE_LEVEL_PMD)
		return 0;
	if (dev_version.arch == PTSCOPE_ARCH_ARM64 && dev_version.page_size == page_size)
		return dev_version.cont_shift[level] ? 1ULL << dev_version.cont_shift[level] : 0;
	if (page_shift == 12)
		return level == PTSCOPE_LEVEL_PTE ? 64 << 10 : 32 << 20;
	return level == PTSCOPE_LEVEL_PTE ? 1ULL << (page_shift + 7) :
	       1ULL << (page_shift + bits + 5);
}

/* What arm64's own bits of a leaf add to its meaning, after ", ". */
static void arm64_meaning(char *buf, size_t len, const struct ptscope_vtop_level *l,
			  unsigned int page_size)
{
	unsigned int mt = (l->bits & PTSCOPE_B_ARM64_MT_MASK) >> PTSCOPE_B_ARM64_MT_SHIFT;
	size_t off = strlen(buf);
	char size[16];

	if (!(l->bits & PTSCOPE_B_ARM64_VALID) && off < len)
		off += snprintf(buf + off, len - off, "; present to the kernel but invalid to the "
				"MMU (PROT_NONE or NUMA hinting): an access faults");
	if ((l->bits & PTSCOPE_B_ARM64_CONT) && off < len) {
		size_human(size, sizeof(size), cont_bytes(l->level, page_size));
		off += snprintf(buf + off, len - off, "; contiguous hint: part of an aligned %s "
				"block the MMU may cache as one TLB entry", size);
	}
	if (mt && mt != PTSCOPE_ARM64_MT_NORMAL && off < len)
		snprintf(buf + off, len - off, "; memory type %s (MAIR attribute %llu)",
			 enum_name(arm64_memtype_names, 8, mt),
			 (unsigned long long)((l->bits & PTSCOPE_B_ARM64_ATTR_MASK) >>
					      PTSCOPE_B_ARM64_ATTR_SHIFT));
}

static void meaning(char *buf, size_t len, const struct ptscope_vtop_level *l,
		    unsigned int levels, unsigned int page_size)
{
	char size[16];

	size_human(size, sizeof(size), 1ULL << l->shift);
	switch (l->kind) {
	case PTSCOPE_KIND_TABLE:
		snprintf(buf, len, "points to a %s table (each entry below covers %s / %u)",
			 enum_name(level_names, LEVELS, level_below(l->level, levels)), size,
			 page_size / 8);
		break;
	case PTSCOPE_KIND_PAGE:
		snprintf(buf, len, "maps a %s page%s%s", size,
			 l->level > PTSCOPE_LEVEL_PTE ? " directly (a huge page: no lower table)" : "",
			 l->pfn ? "" : "; its frame is hidden (needs CAP_SYS_ADMIN)");
		if (entry_arch() == PTSCOPE_ARCH_ARM64)
			arm64_meaning(buf, len, l, page_size);
		break;
	case PTSCOPE_KIND_SWAP:
		snprintf(buf, len, "not present: the %s page is in swap", size);
		break;
	case PTSCOPE_KIND_NONE:
		snprintf(buf, len, "empty: nothing is mapped in these %s", size);
		break;
	default:
		snprintf(buf, len, "not present: a %s entry", enum_name(kind_names, KINDS, l->kind));
		break;
	}
}

static void result_meaning(char *buf, size_t len, const struct ptscope_vtop *v)
{
	char names[128];

	switch (v->result) {
	case PTSCOPE_VTOP_MAPPED:
		snprintf(buf, len, "the byte is in RAM%s; page: %s, mapped %u time%s",
			 v->phys ? "" : " (address hidden: run as root)",
			 page_names(names, sizeof(names), v->page) , v->mapcount,
			 v->mapcount == 1 ? "" : "s");
		break;
	case PTSCOPE_VTOP_NOT_POPULATED:
		snprintf(buf, len, "in a VMA but never touched: the first access faults a page in");
		break;
	case PTSCOPE_VTOP_SWAPPED:
		snprintf(buf, len, "swapped out to device %u, page 0x%llx: an access faults it back",
			 v->swap_type, (unsigned long long)v->swap_offset);
		break;
	case PTSCOPE_VTOP_NOT_PRESENT:
		snprintf(buf, len, "not present (migrating, a marker or device memory)");
		break;
	case PTSCOPE_VTOP_NO_VMA:
		snprintf(buf, len, "no VMA here: an access is a segmentation fault");
		break;
	case PTSCOPE_VTOP_NO_ACCESS:
		snprintf(buf, len, "the VMA allows no access (PROT_NONE): an access is a fault");
		break;
	}
}

/*
 * The top bit of the address that indexes @l's table. arm64's top table is
 * smaller than a page (52-bit addresses: 16 entries of 2^48 with 4 KiB
 * pages, 32 of 2^47 with 16 KiB): its index ends at the task size's top bit.
 */
static unsigned int addr_top_bit(const struct ptscope_vtop_level *l, unsigned int page_size,
				 uint64_t task_size)
{
	unsigned int top = l->shift + index_bits(__builtin_ctz(page_size)) - 1;
	unsigned int va_top = task_size > 1 ? 63U - (unsigned int)__builtin_clzll(task_size - 1) : top;

	if (entry_arch() == PTSCOPE_ARCH_ARM64 && top > va_top)
		top = va_top;
	return top;
}

static void level_row(struct libscols_table *tb, const struct ptscope_vtop_level *l,
		      unsigned int levels, unsigned int page_size, uint64_t task_size)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char buf[512];
	size_t i;

	for (i = 0; i < vtop_view.nsel; i++) {
		switch (vtop_view.sel[i]) {
		case COL_STEP: cell(ln, i, "%s", enum_name(level_names, LEVELS, l->level)); break;
		case COL_INDEX: cell_u64(ln, i, l->index); break;
		case COL_ADDR_BITS:
			cell(ln, i, "%u-%u", addr_top_bit(l, page_size, task_size), l->shift);
			break;
		case COL_TABLE:
			if (l->table_pa)
				cell_hex(ln, i, l->table_pa);
			break;
		case COL_ENTRY: cell_hex(ln, i, l->entry); break;
		case COL_NEXT:
			if (l->pfn && (l->kind == PTSCOPE_KIND_TABLE || l->kind == PTSCOPE_KIND_PAGE))
				cell_hex(ln, i, l->pfn * page_size);
			break;
		case COL_KIND: cell(ln, i, "%s", enum_name(kind_names, KINDS, l->kind)); break;
		case COL_FLAGS: cell(ln, i, "%s", bits_letters(buf, l->bits)); break;
		case COL_BITS: cell(ln, i, "%s", bits_names(buf, sizeof(buf), l->bits)); break;
		case COL_COVERS: cell_size(ln, i, 1ULL << l->shift); break;
		case COL_MEANING: meaning(buf, sizeof(buf), l, levels, page_size);
			cell(ln, i, "%s", buf);
			break;
		}
	}
}

static void result_row(struct libscols_table *tb, const struct ptscope_vtop *v,
		       unsigned int page_size)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	unsigned int shift = v->nlevels ? v->levels[v->nlevels - 1].shift :
					  (unsigned int)__builtin_ctz(page_size);
	char buf[512];
	size_t i;

	for (i = 0; i < vtop_view.nsel; i++) {
		switch (vtop_view.sel[i]) {
		case COL_STEP: cell(ln, i, "page"); break;
		case COL_INDEX:
			if (v->result == PTSCOPE_VTOP_MAPPED)
				cell_u64(ln, i, v->addr & ((1ULL << shift) - 1));
			break;
		case COL_ADDR_BITS:
			if (v->result == PTSCOPE_VTOP_MAPPED)
				cell(ln, i, "%u-0", shift - 1);
			break;
		case COL_NEXT:
			if (v->phys)
				cell_hex(ln, i, v->phys);
			break;
		case COL_KIND: cell(ln, i, "%s", result_names[v->result]); break;
		case COL_MEANING: result_meaning(buf, sizeof(buf), v);
			cell(ln, i, "%s", buf);
			break;
		}
	}
}

/* The address cut into its indexes, before the table (not in JSON or raw). */
static void vtop_intro(const struct ptscope_vtop *v, const struct snap *s)
{
	const struct ptscope_vma *vma = snap_find_vma(s, v->addr);
	char perms[8];
	unsigned int i;

	printf("Virtual address 0x%llx of process %d (%s), %u-level paging:\n",
	       (unsigned long long)v->addr, s->pid, s->comm, s->levels);
	if (vma)
		printf("in the VMA 0x%llx-0x%llx %s %s\n", (unsigned long long)vma->start,
		       (unsigned long long)vma->end, vma_perms(perms, vma), vma->name);
	else if (v->vma_start)
		printf("in the VMA 0x%llx-0x%llx\n", (unsigned long long)v->vma_start,
		       (unsigned long long)v->vma_end);
	else
		printf("in no VMA\n");
	printf("The CPU cuts it into table indexes, %u bits each, and a page offset:\n ",
	       index_bits(__builtin_ctz(s->page_size)));
	for (i = 0; i < v->nlevels; i++)
		printf(" %s[%u] ", enum_name(level_names, LEVELS, v->levels[i].level),
		       v->levels[i].index);
	if (v->nlevels && v->result == PTSCOPE_VTOP_MAPPED)
		printf(" offset 0x%llx", (unsigned long long)(v->addr &
		       ((1ULL << v->levels[v->nlevels - 1].shift) - 1)));
	printf("\n\n");
}

int cmd_vtop(void)
{
	struct libscols_table *tb;
	struct ptscope_vtop v;
	struct snap s;
	uint64_t addr;
	unsigned int i;
	int err, fd;

	if (parse_u64(opt.extra[0], &addr)) {
		fprintf(stderr, "ptscope: '%s' is not an address\n", opt.extra[0]);
		return EXIT_USAGE;
	}
	err = snap_get(&s, 0, opt.nfrom ? SNAP_RUNS | SNAP_VMAS : SNAP_NAMES, 0, 0);
	if (err)
		return err;
	if (opt.nfrom) {
		vtop_from_snap(&v, &s, addr);
	} else {
		fd = dev_open();
		if (fd < 0) {
			snap_free(&s);
			return -fd;
		}
		err = dev_target(fd, s.pid, &(struct ptscope_target){ 0 });
		if (!err)
			err = dev_vtop(fd, addr, &v);
		close(fd);
		if (err) {
			snap_free(&s);
			return err;
		}
	}
	if (!opt.json && !opt.raw)
		vtop_intro(&v, &s);
	tb = view_table(&vtop_view);
	for (i = 0; i < v.nlevels && i < ARRAY_SIZE(v.levels); i++)
		level_row(tb, &v.levels[i], s.levels, s.page_size, s.task_size);
	result_row(tb, &v, s.page_size);
	table_print(tb);
	snap_free(&s);
	return EXIT_OK;
}
