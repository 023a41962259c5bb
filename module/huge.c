// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope: huge pages. The system view (THP event counters, hugetlb pools,
 * the sizes with per-size THP settings) and, per VMA of a target, whether
 * PMD-sized THP may back it and what huge mappings it has: PMD-mapped THPs,
 * PTE-mapped large folios by order, hugetlb pages by size, and how many
 * TLB entries its mapping needs against 4 KiB pages. Serves the device's
 * ioctls and the debugfs views.
 *
 * What a module cannot read, it does not report: the THP settings live in
 * variables the kernel does not export (see include/uapi/ptscope.h). The
 * hugetlb pools are found through the hugetlbfs superblocks: the kernel
 * mounts one internally per page size at boot, and each names its struct
 * hstate. The pool counters are read without hugetlb_lock (not exported),
 * as /proc/meminfo does.
 *
 * Locking: iterate_supers_type() holds each superblock's s_umount while
 * note_hstate() looks at it; the hstates themselves live as long as the
 * kernel. The per-VMA queries take the target's mm, describe each VMA
 * under its read lock or mmap_lock for read (ptscope_vma_lock(), killable),
 * count its huge mappings from the same hold in bounded holds of the locks
 * (ptscope_walk_parts_locked(), see walk.c), and drop both before copying
 * to user space, as query.c does.
 */
#include <linux/fs.h>
#include <linux/huge_mm.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>

#include "ptscope.h"

#define HUGE_VMA_BATCH	16

/* --- the system view ------------------------------------------------------- */

struct thp_event {
	u8 ptscope;		/* enum ptscope_thp_event */
	u16 item;		/* enum vm_event_item */
};

#define THP_EVENT(name) { PTSCOPE_THP_##name, THP_##name },

static const struct thp_event thp_events[] = {
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	THP_EVENT(FAULT_ALLOC)
	THP_EVENT(FAULT_FALLBACK)
	THP_EVENT(FAULT_FALLBACK_CHARGE)
	THP_EVENT(COLLAPSE_ALLOC)
	THP_EVENT(COLLAPSE_ALLOC_FAILED)
	THP_EVENT(FILE_ALLOC)
	THP_EVENT(FILE_FALLBACK)
	THP_EVENT(FILE_FALLBACK_CHARGE)
	THP_EVENT(FILE_MAPPED)
	THP_EVENT(SPLIT_PAGE)
	THP_EVENT(SPLIT_PAGE_FAILED)
	THP_EVENT(DEFERRED_SPLIT_PAGE)
	THP_EVENT(SPLIT_PMD)
#ifdef CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD
	THP_EVENT(SPLIT_PUD)
#endif
	THP_EVENT(SCAN_EXCEED_NONE_PTE)
	THP_EVENT(SCAN_EXCEED_SWAP_PTE)
	THP_EVENT(SCAN_EXCEED_SHARED_PTE)
	THP_EVENT(ZERO_PAGE_ALLOC)
	THP_EVENT(ZERO_PAGE_ALLOC_FAILED)
	THP_EVENT(SWPOUT)
	THP_EVENT(SWPOUT_FALLBACK)
	PTSCOPE_COMPAT_THP_EVENTS
#ifdef CONFIG_MIGRATION
	THP_EVENT(MIGRATION_SUCCESS)
	THP_EVENT(MIGRATION_FAIL)
	THP_EVENT(MIGRATION_SPLIT)
#endif
#endif
};

/* The THP counters of /proc/vmstat, summed over CPUs. Return: 0 or -ENOMEM. */
static int read_thp_events(struct ptscope_huge_system *s)
{
	unsigned long *ev;
	unsigned int i;

	if (!ARRAY_SIZE(thp_events))
		return 0;
	ev = kcalloc(NR_VM_EVENT_ITEMS, sizeof(*ev), GFP_KERNEL);
	if (!ev)
		return -ENOMEM;
	all_vm_events(ev);
	for (i = 0; i < ARRAY_SIZE(thp_events); i++) {
		s->events[thp_events[i].ptscope] = ev[thp_events[i].item];
		s->events_valid |= BIT_ULL(thp_events[i].ptscope);
	}
	kfree(ev);
	return 0;
}

#ifdef CONFIG_HUGETLBFS
struct hstate_set {
	struct hstate *h[PTSCOPE_HUGETLB_POOLS];
	unsigned int n;
};

/* Called for every hugetlbfs superblock, with its s_umount held. */
static void note_hstate(struct super_block *sb, void *arg)
{
	struct hstate *h = HUGETLBFS_SB(sb)->hstate;
	struct hstate_set *set = arg;
	unsigned int i;

	for (i = 0; i < set->n; i++)
		if (set->h[i] == h)
			return;
	if (set->n < ARRAY_SIZE(set->h))
		set->h[set->n++] = h;
}

static int cmp_pool(const void *a, const void *b)
{
	const struct ptscope_hugetlb_pool *pa = a, *pb = b;

	return pa->page_size < pb->page_size ? -1 : pa->page_size > pb->page_size;
}

/* The pools of every hugetlb page size, smallest first. */
static void read_hugetlb_pools(struct ptscope_huge_system *s)
{
	struct file_system_type *type = get_fs_type("hugetlbfs");
	struct hstate_set set = { };
	unsigned int i;

	if (!type)
		return;
	iterate_supers_type(type, note_hstate, &set);
	/* put_filesystem() is not exported; it is this. */
	module_put(type->owner);

	for (i = 0; i < set.n; i++) {
		struct ptscope_hugetlb_pool *p = &s->pools[i];
		struct hstate *h = set.h[i];

		p->page_size = huge_page_size(h);
		p->total = READ_ONCE(h->nr_huge_pages);
		p->free = READ_ONCE(h->free_huge_pages);
		p->reserved = READ_ONCE(h->resv_huge_pages);
		p->surplus = READ_ONCE(h->surplus_huge_pages);
		p->persistent = READ_ONCE(h->max_huge_pages);
	}
	s->nr_pools = set.n;
	sort(s->pools, set.n, sizeof(s->pools[0]), cmp_pool, NULL);
	s->features |= PTSCOPE_HUGE_HUGETLB;
}
#else
static void read_hugetlb_pools(struct ptscope_huge_system *s)
{
}
#endif

/**
 * ptscope_huge_system - the system's huge-page state
 * @s: out fields filled in; the caller zeroed them
 *
 * Context: process context, may sleep. Return: 0 or -ENOMEM.
 */
int ptscope_huge_system(struct ptscope_huge_system *s)
{
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		s->features |= PTSCOPE_HUGE_THP;
	s->pmd_order = PMD_SHIFT - PAGE_SHIFT;
	s->mthp_orders = ptscope_mthp_orders();
	if (s->mthp_orders)
		s->features |= PTSCOPE_HUGE_MTHP;
	read_hugetlb_pools(s);
	return read_thp_events(s);
}

/* --- per VMA ----------------------------------------------------------------- */

/* Reasons that rule PMD-sized THP out whatever the settings. */
static u32 thp_why(struct vm_area_struct *vma)
{
	unsigned long haddr = ALIGN(vma->vm_start, PMD_SIZE);
	u32 why = 0;

	if (is_vm_hugetlb_page(vma))
		return PTSCOPE_THP_WHY_HUGETLB;
	if ((vma->vm_flags & (VM_PFNMAP | VM_IO | VM_MIXEDMAP)) ||
	    (!vma_is_anonymous(vma) && !vma->vm_file))
		why |= PTSCOPE_THP_WHY_SPECIAL;
	if (vma->vm_flags & VM_NOHUGEPAGE)
		why |= PTSCOPE_THP_WHY_NOHUGEPAGE;
	if (ptscope_mm_thp_disabled(vma))
		why |= PTSCOPE_THP_WHY_PROCESS;
	if (haddr < vma->vm_start || haddr + PMD_SIZE > vma->vm_end)
		why |= PTSCOPE_THP_WHY_TOO_SMALL;
	if (vma->vm_file &&
	    !IS_ALIGNED((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff, HPAGE_PMD_NR))
		why |= PTSCOPE_THP_WHY_MISALIGNED;
	if (vma_is_anonymous(vma) && !(vma->vm_flags & VM_HUGEPAGE))
		why |= PTSCOPE_THP_WHY_NO_MADVISE;
	return why;
}

/* What THP for @vma still depends on, given @why. */
static u32 thp_policy(struct vm_area_struct *vma, u32 why)
{
	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) ||
	    (why & ~PTSCOPE_THP_WHY_NO_MADVISE))
		return PTSCOPE_THP_NEVER;
	if (ptscope_vma_is_shmem(vma))
		return PTSCOPE_THP_IF_SHMEM;
	if (vma->vm_file)
		return PTSCOPE_THP_IF_FILE;
	return why ? PTSCOPE_THP_IF_ALWAYS : PTSCOPE_THP_IF_ENABLED;
}

struct huge_counter {
	struct ptscope_huge_vma *out;
	u64 last_head;		/* first pfn of the folio the last PTE mapped */
};

static void count_huge_leaf(struct ptscope_huge_vma *out, const struct ptscope_entry *e)
{
	bool pmd = e->level == PTSCOPE_LEVEL_PMD;

	out->huge_mapped += 1ULL << (e->shift - PAGE_SHIFT);
	if (e->page & PTSCOPE_PAGE_HUGETLB) {
		if (pmd)
			out->hugetlb_pmd++;
		else
			out->hugetlb_pud++;
	} else if (pmd && (e->page & PTSCOPE_PAGE_THP)) {
		out->thp_pmd++;
	}
}

/* A PTE mapping a page of a large folio; folios are aligned to their size. */
static void count_large_pte(struct huge_counter *c, const struct ptscope_entry *e)
{
	u64 head = e->pfn & ~((1ULL << e->folio_order) - 1);

	if (e->folio_order >= PTSCOPE_HUGE_ORDERS || (e->page & PTSCOPE_PAGE_HUGETLB))
		return;
	c->out->pte_large[e->folio_order]++;
	if (head != c->last_head)
		c->out->pte_folios[e->folio_order]++;
	c->last_head = head;
}

static int count_huge_entry(struct ptscope_walker *w, const struct ptscope_entry *e)
{
	struct huge_counter *c = w->private;

	if (e->kind != PTSCOPE_KIND_PAGE) {
		c->last_head = ~0ULL;
		return 0;
	}
	c->out->mapped += 1ULL << (e->shift - PAGE_SHIFT);
	c->out->leaves++;
	if (e->level != PTSCOPE_LEVEL_PTE)
		count_huge_leaf(c->out, e);
	else if (e->folio_order)
		count_large_pte(c, e);
	else
		c->last_head = ~0ULL;
	return 0;
}

static const struct ptscope_walk_ops huge_ops = {
	.entry = count_huge_entry,
};

/**
 * ptscope_huge_vma_fill - what @vma is, as far as huge pages go; no counts
 * @vma: the VMA
 * @out: filled in, its counts zero
 *
 * Locking: @vma read-locked, or mmap_lock held for read (ptscope_vma_lock()).
 */
void ptscope_huge_vma_fill(struct vm_area_struct *vma, struct ptscope_huge_vma *out)
{
	memset(out, 0, sizeof(*out));
	out->start = vma->vm_start;
	out->end = vma->vm_end;
	out->vm_flags = vma->vm_flags;
	out->page_size = vma_kernel_pagesize(vma);
	out->thp_why = thp_why(vma);
	out->thp = thp_policy(vma, out->thp_why);
}

/**
 * ptscope_huge_vma_count - the huge mappings in the range @out describes
 * @l:   the VMA @out describes, as ptscope_vma_lock() left it; let go here
 * @out: described by ptscope_huge_vma_fill(); its counts are added to
 *
 * Return: 0 or -EINTR.
 */
int ptscope_huge_vma_count(struct ptscope_vma_lock *l, struct ptscope_huge_vma *out)
{
	struct huge_counter c = { .out = out, .last_head = ~0ULL };
	struct ptscope_walker w = {
		.mm = l->mm,
		.ops = &huge_ops,
		.private = &c,
	};

	return ptscope_walk_parts_locked(&w, l, out->start, out->end);
}

static void fill_huge_vma(struct vm_area_struct *vma, char *pathbuf, void *out)
{
	ptscope_huge_vma_fill(vma, out);
}

static int count_huge_vma(struct ptscope_vma_lock *l, void *out)
{
	return ptscope_huge_vma_count(l, out);
}

static const struct ptscope_vma_query huge_vmas_query = {
	.record_size = sizeof(struct ptscope_huge_vma),
	.batch = HUGE_VMA_BATCH,
	.fill = fill_huge_vma,
	.count = count_huge_vma,
};

/* --- ioctls ----------------------------------------------------------------- */

long ptscope_ioctl_huge_system(void __user *uarg)
{
	struct ptscope_huge_system *s;
	long usize;
	int err;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	usize = ptscope_args_in(s, sizeof(*s), sizeof(*s), uarg);
	if (usize < 0) {
		err = usize;
		goto out;
	}
	if (s->flags || s->reserved1 || memchr_inv(s->reserved, 0, sizeof(s->reserved))) {
		err = -EINVAL;
		goto out;
	}
	/* Out fields start from zero whatever the caller passed in. */
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	err = ptscope_huge_system(s) ?: ptscope_args_out(uarg, s, sizeof(*s), usize);
out:
	kfree(s);
	return err;
}

long ptscope_ioctl_huge_vmas(struct ptscope_ctx *ctx, void __user *uarg)
{
	return ptscope_ioctl_vma_query(ctx, uarg, &huge_vmas_query);
}
