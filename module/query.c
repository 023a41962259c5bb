// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope: the page-table queries: merged runs of entries, VMAs with their
 * counts, and one address's translation path. The same functions serve the
 * device's ioctls and the debugfs views.
 *
 * Every query takes the target's mm (ptscope_ctx_mm), its mmap_lock for read
 * (killable), fills a bounded kernel buffer, and drops the lock and the mm
 * before anything is copied to user space; a full buffer ends the batch and
 * the caller resumes from the returned next address. Walks, of a range or
 * of a VMA to count its entries, go through ptscope_walk_parts(), which
 * holds each VMA's read lock (or mmap_lock) for a bounded number of entries
 * at a time (walk.c): a VMA to count is described and its walk begun under
 * one hold (ptscope_vma_lock()), and counted over as many as it takes.
 *
 * Hidden mode, for a reader without CAP_SYS_ADMIN (ptscope_show_pfn()):
 * nothing returned may depend on where the memory is physically or on what
 * other processes do with it, as pagemap shows such readers no frame, no
 * swap slot and only PM_MMAP_EXCLUSIVE of the sharing. Each entry is
 * stripped (ptscope_hide_entry()) before runs are merged, and hidden runs
 * merge on virtual adjacency and the attributes that are left: a run's
 * length then says nothing of physical contiguity. Folio orders and THP
 * stay: they tell how the memory was allocated (as smaps does), not where.
 */
#include <kunit/visibility.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmap_lock.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ptscope.h"

/* Runs and VMAs one batch may hold: bounds kernel memory per call. */
#define PTSCOPE_RUN_BATCH	256
#define PTSCOPE_VMA_BATCH	8
/* A walk batch must hold a table entry per level and still make progress. */
#define PTSCOPE_WALK_MIN_RUNS	8

/* --- merged runs ----------------------------------------------------------- */

struct run_collector {
	struct ptscope_run *runs;
	u32 cap;
	u32 count;
	bool pending;		/* runs[count] is being extended */
	bool hide;		/* hidden mode */
};

/**
 * hide_raw - the raw entry a reader without CAP_SYS_ADMIN sees
 * @raw:  the entry
 * @kind: enum ptscope_kind
 *
 * A present entry without its frame bits; a non-present one (swap,
 * migration, marker...) keeps only its flag bits (see the arch header).
 */
static u64 hide_raw(u64 raw, u8 kind)
{
	switch (kind) {
	case PTSCOPE_KIND_PAGE:
	case PTSCOPE_KIND_TABLE:
	case PTSCOPE_KIND_BAD:
		return raw & ~PTSCOPE_ARCH_PTE_FRAME_MASK;
	default:
		return raw & GENMASK_ULL(PTSCOPE_ARCH_SWP_FLAG_BITS - 1, 0);
	}
}

/**
 * ptscope_hide_entry - strip what only CAP_SYS_ADMIN may see from @e
 * @e: a decoded entry
 *
 * Frames, table addresses, swap type and offset, the exact mapcount and the
 * KSM flag go; PTSCOPE_PAGE_EXCLUSIVE (pagemap's PM_MMAP_EXCLUSIVE) stays.
 */
void ptscope_hide_entry(struct ptscope_entry *e)
{
	e->raw = hide_raw(e->raw, e->kind);
	e->pfn = 0;
	e->swap_offset = 0;
	e->swap_type = 0;
	e->mapcount = 0;
	e->page &= ~PTSCOPE_PAGE_KSM;
}

/* Every field is written: no memset first (the struct has no padding). */
static_assert(sizeof(struct ptscope_run) == 7 * sizeof(__u64) + 8 * sizeof(__u32));

static void run_from_entry(const struct ptscope_entry *e, struct ptscope_run *r)
{
	bool table = e->kind == PTSCOPE_KIND_TABLE;

	r->start = e->addr;
	r->count = e->nr;
	r->entry = e->raw;
	r->pfn = table ? 0 : e->pfn;
	r->table_pa = table ? (u64)e->pfn << PAGE_SHIFT : 0;
	r->bits = e->bits;
	r->swap_offset = e->swap_offset;
	r->swap_type = e->swap_type;
	r->level = e->level;
	r->kind = e->kind;
	r->shift = e->shift;
	r->page = e->page;
	r->mapcount = e->mapcount;
	r->folio_order = e->folio_order;
	r->pkey = e->pkey;
}

/*
 * Does @e continue run @r: adjacent, alike, consecutive frames? Hidden
 * entries have no frames: adjacent and alike is enough.
 */
static bool run_extends(const struct ptscope_run *r, const struct ptscope_entry *e,
			bool hide)
{
	u64 n = r->count;

	if (e->kind == PTSCOPE_KIND_TABLE || r->kind != e->kind ||
	    r->level != e->level || r->bits != e->bits || r->page != e->page ||
	    r->mapcount != e->mapcount || r->folio_order != e->folio_order ||
	    r->pkey != e->pkey || r->swap_type != e->swap_type)
		return false;
	if (e->addr != r->start + (n << r->shift))
		return false;
	if (hide)
		return true;
	if (e->kind == PTSCOPE_KIND_SWAP)
		return e->swap_offset == r->swap_offset + n;
	if (e->kind == PTSCOPE_KIND_MARKER)
		return true;
	return e->pfn == r->pfn + (n << (r->shift - PAGE_SHIFT));
}

static int add_run(struct run_collector *c, const struct ptscope_entry *e)
{
	if (c->pending && run_extends(&c->runs[c->count], e, c->hide)) {
		c->runs[c->count].count += e->nr;
		return 0;
	}
	if (c->pending)
		c->count++;
	if (c->count == c->cap) {
		c->pending = false;
		return 1;
	}
	run_from_entry(e, &c->runs[c->count]);
	c->pending = e->kind != PTSCOPE_KIND_TABLE;
	if (!c->pending)
		c->count++;
	return 0;
}

/* Out of line: the copy is on its stack alone (Debian's kernels zero it). */
static noinline int add_hidden_run(struct run_collector *c, const struct ptscope_entry *e)
{
	struct ptscope_entry hidden = *e;

	ptscope_hide_entry(&hidden);
	return add_run(c, &hidden);
}

static int collect_run(struct ptscope_walker *w, const struct ptscope_entry *e)
{
	struct run_collector *c = w->private;

	return c->hide ? add_hidden_run(c, e) : add_run(c, e);
}

static const struct ptscope_walk_ops run_ops = {
	.entry = collect_run,
};

/**
 * ptscope_walk_runs - merged runs of the entries in [start, end)
 * @mm:    the target's mm, referenced; its mmap_lock is not held (taken
 *         per part of the walk)
 * @start: first address, page aligned
 * @end:   end address, page aligned
 * @flags: PTSCOPE_WALK_*, and PTSCOPE_WALK_HIDE_PHYS for hidden mode
 * @runs:  a kernel buffer of @cap runs
 * @cap:   its size
 * @count: out: runs filled
 * @next:  out: where to resume, @end when done
 *
 * Return: 0 or -EINTR.
 */
int ptscope_walk_runs(struct mm_struct *mm, u64 start, u64 end, u32 flags,
		      struct ptscope_run *runs, u32 cap, u32 *count, u64 *next)
{
	struct run_collector c = {
		.runs = runs, .cap = cap,
		/* the entries alone: no page, and no frame or slot either */
		.hide = flags & (PTSCOPE_WALK_HIDE_PHYS | PTSCOPE_WALK_NO_PAGE),
	};
	struct ptscope_walker w = {
		.mm = mm,
		.ops = &run_ops,
		.tables = flags & PTSCOPE_WALK_TABLES,
		.batch = flags & PTSCOPE_WALK_NO_PAGE ? PTSCOPE_BATCH_ALIKE :
							PTSCOPE_BATCH_FRAMES,
		.no_page = flags & PTSCOPE_WALK_NO_PAGE,
		.private = &c,
	};
	int ret;

	ret = ptscope_walk_parts(&w, start, end);
	if (ret < 0)
		return ret;
	/* A stop leaves no run pending: the run in progress ends at the end. */
	*next = w.next;
	if (c.pending)
		c.count++;
	*count = c.count;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ptscope_walk_runs);

/* --- VMAs ------------------------------------------------------------------- */

static u32 vma_kind(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;

	if (is_vm_hugetlb_page(vma))
		return PTSCOPE_VMA_HUGETLB;
	if (vma->vm_flags & (VM_PFNMAP | VM_IO))
		return PTSCOPE_VMA_PFNMAP;
	if (ptscope_vma_is_shmem(vma))
		return PTSCOPE_VMA_SHMEM;
	if (vma->vm_file)
		return PTSCOPE_VMA_FILE;
	if (vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk)
		return PTSCOPE_VMA_HEAP;
	if (vma->vm_start <= mm->start_stack && vma->vm_end >= mm->start_stack)
		return PTSCOPE_VMA_STACK;
	return PTSCOPE_VMA_ANON;
}

/* The name /proc/PID/maps shows, into @out (NUL-terminated, truncated). */
static void vma_name(struct vm_area_struct *vma, char *pathbuf, char *out,
		     size_t len, u32 *kind)
{
	const char *name;

	if (vma->vm_file) {
		name = d_path(&vma->vm_file->f_path, pathbuf, PATH_MAX);
		strscpy(out, IS_ERR(name) ? "?" : name, len);
		return;
	}
	if (vma->vm_ops && vma->vm_ops->name) {
		name = vma->vm_ops->name(vma);
		if (name) {
			strscpy(out, name, len);
			if (!strcmp(name, "[vdso]"))
				*kind = PTSCOPE_VMA_VDSO;
			else if (!strcmp(name, "[vvar]"))
				*kind = PTSCOPE_VMA_VVAR;
			else
				*kind = PTSCOPE_VMA_SPECIAL;
			return;
		}
	}
	switch (*kind) {
	case PTSCOPE_VMA_HEAP:
		strscpy(out, "[heap]", len);
		return;
	case PTSCOPE_VMA_STACK:
		strscpy(out, "[stack]", len);
		return;
	}
	name = ptscope_anon_vma_name(vma);
	if (name)
		snprintf(out, len, "[anon:%s]", name);
}

/**
 * ptscope_vma_fill - describe @vma, without its counts
 * @vma:     the VMA
 * @pathbuf: PATH_MAX bytes of scratch space for d_path()
 * @out:     filled in; counts[] zero
 *
 * Locking: @vma read-locked, or mmap_lock held for read (ptscope_vma_lock()).
 */
void ptscope_vma_fill(struct vm_area_struct *vma, char *pathbuf,
		      struct ptscope_vma *out)
{
	memset(out, 0, sizeof(*out));
	out->start = vma->vm_start;
	out->end = vma->vm_end;
	out->vm_flags = vma->vm_flags;
	out->page_size = vma_kernel_pagesize(vma);
	if (vma->vm_flags & VM_READ)
		out->prot |= PTSCOPE_PROT_READ;
	if (vma->vm_flags & VM_WRITE)
		out->prot |= PTSCOPE_PROT_WRITE;
	if (vma->vm_flags & VM_EXEC)
		out->prot |= PTSCOPE_PROT_EXEC;
	if (vma->vm_flags & VM_MAYSHARE)
		out->prot |= PTSCOPE_PROT_SHARED;
	if (vma->vm_file) {
		struct inode *inode = file_inode(vma->vm_file);

		out->pgoff = (u64)vma->vm_pgoff << PAGE_SHIFT;
		out->inode = inode->i_ino;
		out->dev = (MAJOR(inode->i_sb->s_dev) << 20) | MINOR(inode->i_sb->s_dev);
	}
	out->kind = vma_kind(vma);
	vma_name(vma, pathbuf, out->name, sizeof(out->name), &out->kind);
}

static void count_page(u64 *cnt, const struct ptscope_entry *e, u64 pages)
{
	if (e->page & PTSCOPE_PAGE_ZERO) {
		cnt[PTSCOPE_CNT_ZERO] += pages;
		return;
	}
	if (e->bits & PTSCOPE_B_SPECIAL || !e->page) {
		cnt[PTSCOPE_CNT_SPECIAL] += pages;
		return;
	}
	if (e->page & PTSCOPE_PAGE_HUGETLB) {
		cnt[PTSCOPE_CNT_HUGETLB] += e->nr;
		return;
	}
	/* Resident as smaps counts Rss: normal pages, by the entry's size. */
	switch (e->level) {
	case PTSCOPE_LEVEL_PTE:
		cnt[PTSCOPE_CNT_RSS_PTE] += pages;
		break;
	case PTSCOPE_LEVEL_PMD:
		cnt[PTSCOPE_CNT_RSS_PMD] += pages;
		if (e->page & PTSCOPE_PAGE_ANON)
			cnt[PTSCOPE_CNT_THP_PMD] += e->nr;
		break;
	default:
		cnt[PTSCOPE_CNT_RSS_PUD] += pages;
	}
	if (e->page & PTSCOPE_PAGE_ANON)
		cnt[PTSCOPE_CNT_ANON] += pages;
	else if (e->page & PTSCOPE_PAGE_SHMEM)
		cnt[PTSCOPE_CNT_SHMEM] += pages;
	else
		cnt[PTSCOPE_CNT_FILE] += pages;
	if (e->page & PTSCOPE_PAGE_EXCLUSIVE)
		cnt[PTSCOPE_CNT_EXCLUSIVE] += pages;
}

/* The counter of the tables below a table entry, by their level. */
static const u8 table_counter[] = {
	[PTSCOPE_LEVEL_PTE] = PTSCOPE_CNT_PTE_TABLES,
	[PTSCOPE_LEVEL_PMD] = PTSCOPE_CNT_PMD_TABLES,
	[PTSCOPE_LEVEL_PUD] = PTSCOPE_CNT_PUD_TABLES,
	[PTSCOPE_LEVEL_P4D] = PTSCOPE_CNT_P4D_TABLES,
};

static int count_entry(struct ptscope_walker *w, const struct ptscope_entry *e)
{
	u64 pages = (u64)e->nr << (e->shift - PAGE_SHIFT);
	u64 *cnt = w->private;

	switch (e->kind) {
	case PTSCOPE_KIND_TABLE:
		/* With 4-level paging the top entries point to PUD tables. */
		cnt[table_counter[ptscope_level_below(e->level)]]++;
		return 0;
	case PTSCOPE_KIND_PAGE:
		count_page(cnt, e, pages);
		break;
	case PTSCOPE_KIND_SWAP:
		cnt[PTSCOPE_CNT_SWAP] += pages;
		break;
	case PTSCOPE_KIND_NONE:
	case PTSCOPE_KIND_BAD:
		return 0;
	default:
		cnt[PTSCOPE_CNT_MIGRATION] += pages;
	}
	if (e->bits & PTSCOPE_B_DIRTY)
		cnt[PTSCOPE_CNT_DIRTY] += pages;
	if (e->bits & PTSCOPE_B_ACCESSED)
		cnt[PTSCOPE_CNT_YOUNG] += pages;
	if (e->bits & PTSCOPE_B_SOFT_DIRTY)
		cnt[PTSCOPE_CNT_SOFT_DIRTY] += pages;
	return 0;
}

static const struct ptscope_walk_ops count_ops = {
	.entry = count_entry,
};

/**
 * ptscope_vma_count - fill out->counts by walking the range @out describes
 * @l:   the VMA @out describes, as ptscope_vma_lock() left it; let go here
 * @out: described by ptscope_vma_fill(); counts[] are added to
 *
 * Counts what is mapped in [out->start, out->end) as the walk finds it:
 * the walk starts under @l's hold, and the VMA may change between two.
 *
 * Return: 0 or -EINTR.
 */
int ptscope_vma_count(struct ptscope_vma_lock *l, struct ptscope_vma *out)
{
	struct ptscope_walker w = {
		.mm = l->mm,
		.ops = &count_ops,
		.tables = true,
		.batch = PTSCOPE_BATCH_ALIKE,
		.private = out->counts,
	};

	return ptscope_walk_parts_locked(&w, l, out->start, out->end);
}

/* One VMA of a PTSCOPE_IOC_VMAS batch: described, then counted when asked. */
static void fill_vma(struct vm_area_struct *vma, char *pathbuf, void *out)
{
	ptscope_vma_fill(vma, pathbuf, out);
}

static int count_vma(struct ptscope_vma_lock *l, void *out)
{
	return ptscope_vma_count(l, out);
}

static const struct ptscope_vma_query vmas_query = {
	.record_size = sizeof(struct ptscope_vma),
	.batch = PTSCOPE_VMA_BATCH,
	.flags = PTSCOPE_VMAS_COUNTS,
	.fill = fill_vma,
	.count = count_vma,
	.count_flag = PTSCOPE_VMAS_COUNTS,
};

/* A batch of VMA records being filled. */
struct vma_batch {
	const struct ptscope_vma_query *kind;
	void *out;
	char *pathbuf;
	u32 cap;
	u32 count;
	u64 next;	/* where the next batch starts; 0: no VMA left */
};

/* Room for @vma in @b? Else it is where the next batch starts. */
static void *batch_slot(struct vma_batch *b, struct vm_area_struct *vma)
{
	if (b->count == b->cap) {
		b->next = vma->vm_start;
		return NULL;
	}
	return b->out + b->count++ * b->kind->record_size;
}

/* Without counts: the VMAs of [start, end) described under one hold of mmap_lock. */
static int list_vmas(struct mm_struct *mm, u64 start, u64 end, struct vma_batch *b)
{
	VMA_ITERATOR(vmi, mm, start);
	struct vm_area_struct *vma;
	void *rec;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for_each_vma_range(vmi, vma, end) {
		rec = batch_slot(b, vma);
		if (!rec)
			break;
		b->kind->fill(vma, b->pathbuf, rec);
	}
	mmap_read_unlock(mm);
	return 0;
}

/*
 * With counts: each VMA of [start, end) described and counted from one hold
 * of its own lock (ptscope_vma_lock()), which the count lets go of, so the
 * next one is looked for again from where this one ended.
 */
static int count_vmas(struct mm_struct *mm, u64 start, u64 end, struct vma_batch *b)
{
	struct ptscope_vma_lock l = { .mm = mm };
	void *rec;
	int ret;

	for (;;) {
		ret = ptscope_vma_lock(&l, start, end);
		if (ret || !l.vma)
			return ret;
		rec = batch_slot(b, l.vma);
		if (!rec) {
			ptscope_vma_unlock(&l);
			return 0;
		}
		b->kind->fill(l.vma, b->pathbuf, rec);
		start = l.vma->vm_end;
		ret = b->kind->count(&l, rec);
		if (ret)
			return ret;
	}
}

/* VMAs overlapping [start, end) into @out; *next is 0 when none is left. */
static int collect_vmas(struct mm_struct *mm, const struct ptscope_vma_query *kind,
			const struct ptscope_vmas *q, void *out, u32 cap, u32 *count,
			u64 *next)
{
	bool counts = kind->count && (q->flags & kind->count_flag) == kind->count_flag;
	struct vma_batch b = { .kind = kind, .out = out, .cap = cap };
	int ret;

	b.pathbuf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!b.pathbuf)
		return -ENOMEM;
	if (counts)
		ret = count_vmas(mm, q->start, q->end, &b);
	else
		ret = list_vmas(mm, q->start, q->end, &b);
	kfree(b.pathbuf);
	*count = b.count;
	*next = b.next;
	return ret;
}

/* --- vtop ------------------------------------------------------------------- */

/*
 * The walk stores the table entries of the path (walker->path) and reports
 * only the deepest entry, a leaf, a swap entry or a bad one (collect_last());
 * the path is then decoded top level first into the caller's struct, after
 * the locks are dropped.
 */
struct vtop_collector {
	struct ptscope_vtop *v;
	struct ptscope_entry last;	/* what the walk reported, if @any */
	bool any;
	bool show_pfn;
	u8 level;		/* of the last level added to the path */
	u64 table_pa;		/* the table the next level's entry is in */
};

static int collect_last(struct ptscope_walker *w, const struct ptscope_entry *e)
{
	struct vtop_collector *c = w->private;

	c->last = *e;
	c->any = true;
	return 0;
}

static const struct ptscope_walk_ops path_ops = {
	.entry = collect_last,
};

/*
 * vtop_level - add the next level down to the path
 * @c:     the collector
 * @level: the entry's level
 * @shift: log2 of what it maps
 * @kind:  enum ptscope_kind
 * @raw:   the entry as shown to the caller
 * @bits:  its decoded bits
 * @pfn:   the frame or table it points to, 0 when hidden
 */
static void vtop_level(struct vtop_collector *c, unsigned int level, unsigned int shift,
		       u8 kind, u64 raw, u64 bits, u64 pfn)
{
	struct ptscope_vtop *v = c->v;
	struct ptscope_vtop_level *l;

	if (v->nlevels == ARRAY_SIZE(v->levels))
		return;
	l = &v->levels[v->nlevels++];
	l->table_pa = c->table_pa;
	l->entry = raw;
	l->bits = bits;
	l->pfn = pfn;
	l->level = level;
	l->kind = kind;
	l->shift = shift;
	l->index = (v->addr >> shift) & (PTRS_PER_PTE - 1);
	/* Hidden entries have no frame: every table address is 0 then. */
	c->table_pa = pfn << PAGE_SHIFT;
	c->level = level;
}

/* A table entry of the path, as the walk stored it. */
static void vtop_table(struct vtop_collector *c, unsigned int level, u64 raw)
{
	unsigned int shift = ptscope_level_shift(level);
	struct ptscope_entry e __uninitialized;	/* bits and pfn only */

	ptscope_arch_decode_table(raw, &e);
	if (c->show_pfn)
		vtop_level(c, level, shift, PTSCOPE_KIND_TABLE, raw, e.bits, e.pfn);
	else
		vtop_level(c, level, shift, PTSCOPE_KIND_TABLE,
			   hide_raw(raw, PTSCOPE_KIND_TABLE), e.bits, 0);
}

/*
 * vtop_path - the path into the caller's struct: the tables the walk went
 * through, top level first, then the entry it reported (c->last, hidden
 * here when it must be), or where the path stops at a table whose entry
 * for the address is empty, that empty entry (c->last says NONE then).
 */
static void vtop_path(struct vtop_collector *c, const u64 *path)
{
	struct ptscope_entry *e = &c->last;
	unsigned int level;

	for (level = PTSCOPE_LEVEL_PGD; level > PTSCOPE_LEVEL_PTE; level--)
		if (path[level])
			vtop_table(c, level, path[level]);
	if (!c->any) {
		e->kind = PTSCOPE_KIND_NONE;
		e->level = c->v->nlevels ? ptscope_level_below(c->level) : PTSCOPE_LEVEL_PGD;
		e->shift = ptscope_level_shift(e->level);
		e->raw = 0;
		e->bits = 0;
		e->pfn = 0;
	} else if (!c->show_pfn) {
		ptscope_hide_entry(e);
	}
	vtop_level(c, e->level, e->shift, e->kind, e->raw, e->bits, e->pfn);
}

/*
 * The out fields of @v before the walk fills some of them: every one is
 * written, here or by vtop_levels_end(), so that nobody zeroes the whole
 * struct first (a 352-byte memset() was a tenth of a call's own cost).
 */
static void vtop_out_init(struct ptscope_vtop *v)
{
	/*
	 * The struct is not zeroed: a new out field must be written here, or
	 * in vtop_level() for a level's. These asserts fail when one is added.
	 */
	static_assert(offsetof(struct ptscope_vtop, levels) == 80);
	static_assert(sizeof(struct ptscope_vtop_level) == 48);
	static_assert(offsetof(struct ptscope_vtop, reserved) == 80 + 5 * 48);
	v->phys = 0;
	v->result = 0;
	v->nlevels = 0;
	v->vma_start = 0;
	v->vma_end = 0;
	v->vm_flags = 0;
	v->page = 0;
	v->mapcount = 0;
	v->swap_type = 0;
	v->folio_order = 0;
	v->swap_offset = 0;
}

/* The levels past the path's last: zero. */
static void vtop_levels_end(struct ptscope_vtop *v)
{
	if (v->nlevels < ARRAY_SIZE(v->levels))
		memset(&v->levels[v->nlevels], 0,
		       (ARRAY_SIZE(v->levels) - v->nlevels) * sizeof(v->levels[0]));
}

/**
 * ptscope_vtop - the translation path of @addr in @mm
 * @mm:       referenced, mmap_lock not held
 * @addr:     the virtual address
 * @show_pfn: the caller may see physical addresses
 * @v:        @v->addr is @addr; every out field is written (when 0 is
 *            returned), none needs zeroing first
 *
 * Return: 0 or -EINTR; the outcome is in v->result.
 */
int ptscope_vtop(struct mm_struct *mm, u64 addr, bool show_pfn, struct ptscope_vtop *v)
{
	u64 path[PTSCOPE_LEVEL_PGD + 1] = { };
	struct vtop_collector c __uninitialized;
	/* every field but table_seen, which a walk without tables leaves alone */
	struct ptscope_walker w __uninitialized;
	struct ptscope_vma_lock l = { .mm = mm };
	struct ptscope_entry *last = &c.last;
	int ret;

	w.mm = mm;
	w.ops = &path_ops;
	w.tables = false;
	w.path = path;
	w.batch = PTSCOPE_BATCH_NONE;
	w.no_page = false;
	w.budget = 0;
	w.private = &c;
	w.vma = NULL;
	w.vma_locked = false;
	w.start = 0;
	w.next = 0;
	w.work = 0;
	/*
	 * Only these: c.last is written whole by the walk's report, or where
	 * it reports nothing, vtop_path() writes the fields read after it.
	 */
	c.v = v;
	c.any = false;
	c.show_pfn = show_pfn;
	c.level = 0;
	c.table_pa = show_pfn ? __pa(mm->pgd) : 0;
	vtop_out_init(v);

	ret = ptscope_vma_lock_addr(&l, addr);
	if (ret)
		return ret;
	if (!l.vma) {
		ptscope_vma_unlock(&l);
		v->result = PTSCOPE_VTOP_NO_VMA;
		goto out;
	}
	v->vma_start = l.vma->vm_start;
	v->vma_end = l.vma->vm_end;
	v->vm_flags = l.vma->vm_flags;
	ret = ptscope_walk_vma(&w, &l, addr & PAGE_MASK, (addr & PAGE_MASK) + PAGE_SIZE);
	ptscope_vma_unlock(&l);
	if (ret)
		return ret;
	vtop_path(&c, path);

	switch (last->kind) {
	case PTSCOPE_KIND_PAGE:
		v->result = PTSCOPE_VTOP_MAPPED;
		if (show_pfn)
			v->phys = ((u64)last->pfn << PAGE_SHIFT) +
				  (addr & ((1ULL << last->shift) - 1));
		v->page = last->page;
		v->mapcount = last->mapcount;
		v->folio_order = last->folio_order;
		break;
	case PTSCOPE_KIND_NONE:
		v->result = PTSCOPE_VTOP_NOT_POPULATED;
		break;
	case PTSCOPE_KIND_SWAP:
		v->result = PTSCOPE_VTOP_SWAPPED;
		v->swap_type = last->swap_type;
		v->swap_offset = last->swap_offset;
		break;
	default:
		v->result = PTSCOPE_VTOP_NOT_PRESENT;
	}
	if (!(v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
		v->result = PTSCOPE_VTOP_NO_ACCESS;
out:
	vtop_levels_end(v);
	return 0;
}

/* --- ioctls ----------------------------------------------------------------- */

long ptscope_ioctl_target(struct ptscope_ctx *ctx, void __user *uarg)
{
	struct ptscope_target t;
	long usize;
	int err;

	usize = ptscope_args_in(&t, sizeof(t), sizeof(t), uarg);
	if (usize < 0)
		return usize;
	if (t.flags || memchr_inv(t.reserved, 0, sizeof(t.reserved)))
		return -EINVAL;
	err = ptscope_ctx_select(ctx, t.pid, &t);
	if (err)
		return err;
	return ptscope_args_out(uarg, &t, sizeof(t), usize);
}

/* A range of the target: page aligned, non-empty, below its task size. */
static int check_range(struct mm_struct *mm, u64 start, u64 end)
{
	if (!PAGE_ALIGNED(start) || !PAGE_ALIGNED(end) || start >= end ||
	    end > mm->task_size)
		return -EINVAL;
	return 0;
}

/*
 * The user's array of @count records of @size bytes, or NULL. It must lie
 * in the caller's address space: arm64's access_ok() allows up to the
 * largest user address the kernel supports (52 bits), not the task's own
 * top (48 or 47 bits with arm64.nolva).
 */
static void __user *user_array(u64 ptr, u32 count, u32 size)
{
	unsigned long top = current->mm ? current->mm->task_size : 0;
	size_t bytes;

	if (check_mul_overflow((size_t)count, (size_t)size, &bytes))
		return NULL;
	if (!ptr || bytes > top || ptr > top - bytes ||
	    !access_ok(u64_to_user_ptr(ptr), bytes))
		return NULL;
	return u64_to_user_ptr(ptr);
}

/*
 * A WALK's buffer of PTSCOPE_RUN_BATCH runs: the one its file keeps, made
 * at its first WALK, where no other WALK of that file holds it, else one of
 * its own. Kept, because Debian's kernels zero every allocation
 * (INIT_ON_ALLOC_DEFAULT_ON): that was most of what a call cost beyond its
 * walk. Not zeroed: a run is written whole before it is counted and copied.
 */
static struct ptscope_run *runs_get(struct ptscope_ctx *ctx, bool *kept)
{
	*kept = mutex_trylock(&ctx->runs_lock);
	if (*kept) {
		if (!ctx->runs)
			ctx->runs = kvmalloc_array(PTSCOPE_RUN_BATCH, sizeof(*ctx->runs),
						   GFP_KERNEL);
		if (ctx->runs)
			return ctx->runs;
		mutex_unlock(&ctx->runs_lock);
		*kept = false;
	}
	return kvmalloc_array(PTSCOPE_RUN_BATCH, sizeof(*ctx->runs), GFP_KERNEL);
}

static void runs_put(struct ptscope_ctx *ctx, struct ptscope_run *runs, bool kept)
{
	if (kept)
		mutex_unlock(&ctx->runs_lock);
	else
		kvfree(runs);
}

long ptscope_ioctl_walk(struct ptscope_ctx *ctx, bool show_pfn, void __user *uarg)
{
	struct ptscope_run *runs;
	struct ptscope_walk wk;
	void __user *ubuf;
	struct mm_struct *mm;
	u32 cap, flags;
	long usize;
	bool kept;
	int err;

	usize = ptscope_args_in(&wk, sizeof(wk), sizeof(wk), uarg);
	if (usize < 0)
		return usize;
	if ((wk.flags & ~(PTSCOPE_WALK_TABLES | PTSCOPE_WALK_NO_PAGE)) ||
	    memchr_inv(wk.reserved, 0, sizeof(wk.reserved)) ||
	    wk.run_size != sizeof(*runs) || wk.count < PTSCOPE_WALK_MIN_RUNS)
		return -EINVAL;
	ubuf = user_array(wk.runs, wk.count, wk.run_size);
	if (!ubuf)
		return -EFAULT;

	mm = ptscope_ctx_mm(ctx);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	err = check_range(mm, wk.start, wk.end);
	if (err)
		goto out_mm;
	cap = min_t(u32, wk.count, PTSCOPE_RUN_BATCH);
	runs = runs_get(ctx, &kept);
	if (!runs) {
		err = -ENOMEM;
		goto out_mm;
	}
	flags = wk.flags | (show_pfn ? 0 : PTSCOPE_WALK_HIDE_PHYS);
	err = ptscope_walk_runs(mm, wk.start, wk.end, flags, runs, cap,
				&wk.count, &wk.next);
	mmput(mm);
	mm = NULL;
	if (err)
		goto out_free;
	if (copy_to_user(ubuf, runs, wk.count * sizeof(*runs)))
		err = -EFAULT;
	else
		err = ptscope_args_out(uarg, &wk, sizeof(wk), usize);
out_free:
	runs_put(ctx, runs, kept);
out_mm:
	if (mm)
		mmput(mm);
	return err;
}

/**
 * ptscope_ioctl_vma_query - a batched per-VMA command taking struct ptscope_vmas
 * @ctx:  the opener's context, with the target
 * @uarg: the user's struct ptscope_vmas
 * @kind: what one record is and how to fill it
 *
 * Return: 0, or -EINVAL (flags, reserved, record size, count, range, no
 * target), -EFAULT, -ESRCH, -EPERM, -ENOMEM, -EINTR.
 */
long ptscope_ioctl_vma_query(struct ptscope_ctx *ctx, void __user *uarg,
			     const struct ptscope_vma_query *kind)
{
	struct ptscope_vmas q;
	struct mm_struct *mm;
	void __user *ubuf;
	void *records;
	u32 cap;
	long usize;
	int err;

	usize = ptscope_args_in(&q, sizeof(q), sizeof(q), uarg);
	if (usize < 0)
		return usize;
	if ((q.flags & ~kind->flags) ||
	    memchr_inv(q.reserved, 0, sizeof(q.reserved)) ||
	    q.vma_size != kind->record_size || !q.count)
		return -EINVAL;
	ubuf = user_array(q.vmas, q.count, q.vma_size);
	if (!ubuf)
		return -EFAULT;

	mm = ptscope_ctx_mm(ctx);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (!q.end)
		q.end = mm->task_size;
	err = check_range(mm, q.start, q.end);
	if (err)
		goto out_mm;
	cap = min_t(u32, q.count, kind->batch);
	records = kvcalloc(cap, kind->record_size, GFP_KERNEL);
	if (!records) {
		err = -ENOMEM;
		goto out_mm;
	}
	err = collect_vmas(mm, kind, &q, records, cap, &q.count, &q.next);
	mmput(mm);
	mm = NULL;
	if (!err && copy_to_user(ubuf, records, q.count * kind->record_size))
		err = -EFAULT;
	if (!err)
		err = ptscope_args_out(uarg, &q, sizeof(q), usize);
	kvfree(records);
out_mm:
	if (mm)
		mmput(mm);
	return err;
}

long ptscope_ioctl_vmas(struct ptscope_ctx *ctx, bool show_pfn, void __user *uarg)
{
	return ptscope_ioctl_vma_query(ctx, uarg, &vmas_query);
}

/*
 * vtop_args_in - the in fields of the user's struct ptscope_vtop (size,
 * flags, addr, reserved), checked as ptscope_args_in() checks a whole
 * struct, but read alone: the out fields between them are most of it.
 *
 * Return: the user's size, or -EFAULT, -EINVAL, -E2BIG.
 */
static long vtop_args_in(struct ptscope_vtop *v, struct ptscope_vtop __user *u)
{
	const u64 __user *r = u->reserved;
	u64 reserved = 0, word;
	u32 usize;
	int ret;

	if (get_user(usize, &u->size))
		return -EFAULT;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	if (usize < sizeof(*v))
		return -EINVAL;
	if (usize > sizeof(*v)) {
		ret = check_zeroed_user((void __user *)u + sizeof(*v), usize - sizeof(*v));
		if (ret <= 0)
			return ret ?: -E2BIG;
	}
	if (!user_read_access_begin(u, sizeof(*u)))
		return -EFAULT;
	unsafe_get_user(v->flags, &u->flags, efault);
	unsafe_get_user(v->addr, &u->addr, efault);
	/* no bounds check (UBSAN) inside the access window: a pointer, not an index */
	for (; r < u->reserved + ARRAY_SIZE(u->reserved); r++) {
		unsafe_get_user(word, r, efault);
		reserved |= word;
	}
	user_read_access_end();
	if (v->flags || reserved)
		return -EINVAL;
	v->size = sizeof(*v);
	return usize;
efault:
	user_read_access_end();
	return -EFAULT;
}

long ptscope_ioctl_vtop(struct ptscope_ctx *ctx, bool show_pfn, void __user *uarg)
{
	/* in fields read by vtop_args_in(), out fields all written by ptscope_vtop() */
	struct ptscope_vtop v __uninitialized;
	struct mm_struct *mm;
	long usize;
	int err;

	usize = vtop_args_in(&v, uarg);
	if (usize < 0)
		return usize;
	mm = ptscope_ctx_mm(ctx);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (v.addr >= mm->task_size) {
		mmput(mm);
		return -EINVAL;
	}
	err = ptscope_vtop(mm, v.addr, show_pfn, &v);
	mmput(mm);
	if (err)
		return err;
	/* reserved is in only, and was zero; usize is at least sizeof(v) */
	return ptscope_copy_out(uarg, &v, offsetof(struct ptscope_vtop, reserved));
}
