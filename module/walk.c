// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope: the page-table walker.
 *
 * Descends pgd -> p4d -> pud -> pmd -> pte of a process's mm over a range,
 * one VMA at a time, and hands every non-empty entry, decoded, to a
 * callback. Empty upper-level entries are skipped with their whole span, so
 * a walk costs in proportion to the page tables that exist.
 *
 * Locking: the caller holds a reference on the mm (mmget) and its
 * mmap_lock for read. Under it, VMAs and the upper-level tables inside
 * them cannot go away, but their entries can change (THP split and
 * collapse, faults), so entries are read once, locklessly, each level is
 * descended from the value read (p?d_offset_lockless()), and leaves are
 * decoded again under their page-table lock. Since 6.5 khugepaged may free
 * or replace a PTE table without mmap_lock for write, so a PTE table is
 * mapped under rcu_read_lock() and the pmd re-checked after taking the PTE
 * lock, as __pte_offset_map_lock() does (it is not exported); the same
 * holds on 6.1, where it costs nothing. Callbacks run under that spinlock
 * and RCU: they must not sleep. Between PTE tables the walk reschedules
 * and stops on a fatal signal.
 *
 * hugetlb VMAs that may share (VM_MAYSHARE) are the exception to "tables
 * stay": their PMD tables can be shared with other processes and unshared
 * (huge_pmd_unshare(): truncate, hole punch, migration) under the file's
 * i_mmap_rwsem for write, without this mm's mmap_lock, and then freed by
 * the other sharers. The core walks them under hugetlb_vma_lock_read()
 * (not exported) or i_mmap_rwsem (see hugetlb_walk()); so does the walker,
 * taking i_mmap_lock_read() around the walk of such a VMA. Lock order, as
 * in mm/rmap.c: mmap_lock, then i_mmap_rwsem, then the page-table locks.
 *
 * Per-VMA locks: where the kernel has them (compat.h), ptscope_walk_parts()
 * walks a VMA under its read lock alone, as 7.x's smaps does. Where
 * lock_vma_under_rcu() is exported (7.x), the VMA is found under RCU and
 * locked without mmap_lock, by lock_next_vma()'s rules (lock_vma_rcu());
 * elsewhere, or when that fails (a VMA being changed: its writer holds
 * mmap_lock for write), it is looked up and read-locked under mmap_lock for
 * read (killable), which is then dropped. VTOP's one address takes the
 * VMA covering it as a page fault does, with lock_vma_under_rcu(), else
 * under mmap_lock for read (ptscope_vma_lock_addr()). A VMA of one PTE
 * table's span or less is walked under mmap_lock instead, with the VMAs
 * after it in the same bounded hold, as pagemap_read() walks
 * (vma_small()). A VMA's read lock keeps what mmap_lock for read kept for
 * the walk: the VMA cannot change, and the upper-level tables inside it
 * cannot be freed (munmap, mremap and mprotect write-lock every VMA they
 * change, and the tables they free lie under no other VMA), while a PTE
 * table is still taken as above. Shared hugetlb VMAs stay under mmap_lock
 * (with i_mmap_rwsem, as above). A VMA is held by one struct
 * ptscope_vma_lock at a time, never two locks at once; what a walk sees
 * between two holds is the tree as it is then.
 *
 * Bounded holds: a walker with a budget (ptscope_walk_parts() gives one of
 * PTSCOPE_WALK_BUDGET) pauses between two upper-level entries or VMAs once
 * it has looked at that many entries under this hold of mmap_lock or of
 * the VMA's lock (a PTE table counts its entries, any other entry one;
 * after an empty entry the check waits for the next one that is not, or
 * the end of its table), or as soon as someone waits for the lock
 * (mmap_lock_is_contended(), as smaps_rollup does; for a VMA's lock, a
 * writer waiting for it), and returns PTSCOPE_WALK_PAUSED with w->next
 * where to resume; the caller drops the lock, reschedules, retakes it and
 * resumes. One hold looks at PTSCOPE_WALK_BUDGET entries (4,096) plus at
 * most one table, where pagemap_read() holds the lock for one PTE table.
 * Measured under QEMU
 * TCG over a GiB of 4 KiB pages (walk_test mmap_lock_let_go_per_part),
 * the longest hold was 22 to 61 ms on 6.1 and 6.12, and 14 to 107 ms on
 * the KASAN and lockdep debug kernel, where the whole VMA took 2 s in one
 * hold before.
 *
 * Return convention of callbacks and walks: 0 continue, > 0 stop (the walk
 * records where in w->next), < 0 error. A table entry is reported once per
 * walk, with the first VMA under it, and once across the pauses of a walk;
 * a new walk that starts inside a table reports the tables above its start
 * again.
 */
#include <kunit/visibility.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/sched/signal.h>
#include <linux/swapops.h>

#include "ptscope.h"

/* --- decoding --------------------------------------------------------- */

/*
 * decode_swap - a non-present, non-empty leaf, in its PTE form (PMD and
 * PUD swap-type entries use the same encoding, on x86 and arm64).
 */
static void decode_swap(pte_t pte, struct ptscope_entry *e)
{
	swp_entry_t entry = ptscope_leaf_from_pte(pte);

	if (pte_swp_soft_dirty(pte))
		e->bits |= PTSCOPE_B_SOFT_DIRTY;
	if (ptscope_pte_swp_uffd_wp(pte))
		e->bits |= PTSCOPE_B_UFFD_WP;
	if (pte_swp_exclusive(pte))
		e->bits |= PTSCOPE_B_SWP_EXCLUSIVE;

	if (ptscope_leaf_is_swap(entry)) {
		e->kind = PTSCOPE_KIND_SWAP;
		e->swap_type = swp_type(entry);
		e->swap_offset = swp_offset(entry);
	} else if (ptscope_leaf_is_migration(entry)) {
		e->kind = PTSCOPE_KIND_MIGRATION;
		if (ptscope_leaf_is_migration_write(entry))
			e->bits |= PTSCOPE_B_MIGRATION_WRITE;
		else if (ptscope_leaf_is_migration_read_excl(entry))
			e->bits |= PTSCOPE_B_MIGRATION_EXCL;
		else
			e->bits |= PTSCOPE_B_MIGRATION_READ;
		/*
		 * The young and dirty bits above the frame, as
		 * is_migration_entry_young() reads them: it asks
		 * swap_migration_ad_supported first (not exported), but
		 * where that is false the bits are never set.
		 */
		if (swp_offset(entry) & SWP_MIG_YOUNG)
			e->bits |= PTSCOPE_B_ACCESSED;
		if (swp_offset(entry) & SWP_MIG_DIRTY)
			e->bits |= PTSCOPE_B_DIRTY;
		e->pfn = ptscope_leaf_pfn(entry);
	} else if (ptscope_leaf_is_device_private(entry)) {
		e->kind = PTSCOPE_KIND_DEVICE_PRIVATE;
		e->pfn = ptscope_leaf_pfn(entry);
	} else if (ptscope_leaf_is_device_exclusive(entry)) {
		e->kind = PTSCOPE_KIND_DEVICE_EXCLUSIVE;
		e->pfn = ptscope_leaf_pfn(entry);
	} else if (ptscope_leaf_is_hwpoison(entry)) {
		e->kind = PTSCOPE_KIND_HWPOISON;
		e->pfn = ptscope_leaf_pfn(entry);
	} else if (ptscope_leaf_is_marker(entry)) {
		e->kind = PTSCOPE_KIND_MARKER;
		if (ptscope_leaf_is_uffd_wp_marker(entry))
			e->bits |= PTSCOPE_B_UFFD_WP;
	} else {
		e->kind = PTSCOPE_KIND_BAD;
	}
}

/*
 * decode_entry - a leaf of any level in its PTE form: as the kernel sees it
 * (@pte) and its descriptor in memory (@desc), which differ on arm64 where
 * the kernel folds a contiguous block's young and dirty bits (see arch-*.h).
 */
static void decode_entry(pte_t pte, u64 desc, bool large, struct ptscope_entry *e)
{
	e->raw = desc;
	if (pte_none(pte)) {
		e->kind = PTSCOPE_KIND_NONE;
		return;
	}
	if (!pte_present(pte)) {
		decode_swap(pte, e);
		return;
	}
	e->kind = PTSCOPE_KIND_PAGE;
	e->view_xor = pte_val(pte) ^ desc;
	ptscope_arch_decode_leaf(pte, desc, large, e);
	/* pte_present() includes PROT_NONE entries, as pagemap does. */
	e->bits |= PTSCOPE_B_PRESENT | PTSCOPE_B_LEAF;
	if (ptscope_pte_uffd_wp(pte))
		e->bits |= PTSCOPE_B_UFFD_WP;
}

/**
 * ptscope_decode_pte - decode a PTE-format leaf: a PTE, or a PMD/PUD leaf
 * read as a PTE (__pte(pmd_val(pmd)))
 * @pte:   the entry
 * @large: a PMD or PUD leaf
 * @e:     filled in; e->level, e->shift and e->addr are the caller's
 */
void ptscope_decode_pte(pte_t pte, bool large, struct ptscope_entry *e)
{
	decode_entry(pte, pte_val(pte), large, e);
}
EXPORT_SYMBOL_IF_KUNIT(ptscope_decode_pte);

/*
 * What a folio is, as PTSCOPE_PAGE_* bits, and one of its pages with its
 * mapcount: inline, for the walk's inner loop (pte_continues()) too.
 */
static __always_inline u32 folio_kind(struct folio *folio)
{
	u32 kind;

	if (folio_test_anon(folio))
		kind = PTSCOPE_PAGE_ANON;
	else if (folio_test_swapbacked(folio))
		kind = PTSCOPE_PAGE_SHMEM;
	else
		kind = PTSCOPE_PAGE_FILE;
	if (folio_test_ksm(folio))
		kind |= PTSCOPE_PAGE_KSM;
	if (folio_test_hugetlb(folio))
		kind |= PTSCOPE_PAGE_HUGETLB;
	else if (folio_test_large(folio))
		kind |= PTSCOPE_PAGE_THP;
	return kind;
}

static __always_inline u32 page_kind(struct folio *folio, struct page *page,
				     u32 *mapcount)
{
	*mapcount = ptscope_page_mapcount(folio, page);
	return folio_kind(folio) | (*mapcount == 1 ? PTSCOPE_PAGE_EXCLUSIVE : 0);
}

/*
 * The page a present leaf maps, by the rules of the core's vm_normal_page()
 * and vm_normal_page_pmd() (neither is exported): none behind a special
 * entry, a raw PFN mapping (VM_PFNMAP, except its COW copies) or device
 * memory mapped whole; x86 has pte_special(), so for a PTE that bit alone
 * decides.
 */
static struct page *leaf_page(struct vm_area_struct *vma, const struct ptscope_entry *e)
{
	unsigned long pfn = e->pfn;

	if (e->bits & PTSCOPE_B_SPECIAL)
		return NULL;
	if (e->level != PTSCOPE_LEVEL_PTE) {
		if (vma->vm_flags & VM_MIXEDMAP)
			return pfn_valid(pfn) ? pfn_to_page(pfn) : NULL;
		if ((vma->vm_flags & VM_PFNMAP) &&
		    (pfn == vma->vm_pgoff + ((e->addr - vma->vm_start) >> PAGE_SHIFT) ||
		     !ptscope_vma_is_cow(vma)))
			return NULL;
		if (e->bits & PTSCOPE_B_DEVMAP)
			return NULL;
	}
	return pfn_valid(pfn) ? pfn_to_page(pfn) : NULL;
}

/*
 * What the page behind a present leaf of @vma is. Called under the entry's
 * page-table lock, so the page cannot be freed while we look.
 */
static void decode_page(struct vm_area_struct *vma, struct ptscope_entry *e)
{
	struct folio *folio;
	struct page *page;

	/* The zero page is mapped with the special bit: look for it first. */
	if (is_zero_pfn(e->pfn)) {
		e->page = PTSCOPE_PAGE_ZERO;
		return;
	}
	/*
	 * The huge zero page (huge_zero_pfn is not exported) is the one folio
	 * that is not anonymous and yet mapped by a PMD leaf of an anonymous
	 * VMA: a read fault there maps it, as is_huge_zero_pmd() would say.
	 * Looked for before leaf_page(): 7.x maps it with the special bit.
	 */
	if (e->level == PTSCOPE_LEVEL_PMD && vma_is_anonymous(vma) && pfn_valid(e->pfn)) {
		folio = page_folio(pfn_to_page(e->pfn));
		if (!folio_test_anon(folio)) {
			e->page = PTSCOPE_PAGE_ZERO;
			e->folio_order = folio_order(folio);
			return;
		}
	}
	page = leaf_page(vma, e);
	if (!page)
		return;
	folio = page_folio(page);
	e->page = page_kind(folio, page, &e->mapcount);
	e->folio_order = folio_order(folio);
}

/* --- levels ------------------------------------------------------------- */

/*
 * Folded levels. A kernel may configure fewer than the walk's five levels
 * (pgd, p4d, pud, pmd, pte): at build time (asm-generic/pgtable-nop4d.h and
 * its kin) or at boot (x86 without LA57, arm64 without 52-bit virtual
 * addresses: arm64.nolva, or a CPU without LPA2). A folded level's table is
 * the level above's, and the walk reads its entries once per level of the
 * chain, with the real checks (pXd_none(), pXd_bad(), pXd_offset()) at the
 * lowest. They are reported once, there, named after the highest level of
 * the chain: the top table's entries are always PGD entries.
 *
 * walk_level[L]: what the loop of level L reports its entries as, 0 where
 * the loop below reads the same entries; walk_shift[L]: log2 of the bytes
 * an entry of reported level L maps, 0 for a level that does not exist.
 * Set once at load: folding is the same for every mm.
 */
static u8 walk_level[PTSCOPE_LEVEL_PGD + 1];
static u8 walk_shift[PTSCOPE_LEVEL_PGD + 1];

/**
 * ptscope_levels_init - learn how the running kernel folds its levels
 */
void ptscope_levels_init(void)
{
	const bool folded[PTSCOPE_LEVEL_PGD + 1] = {
		[PTSCOPE_LEVEL_PMD] = mm_pmd_folded(NULL),
		[PTSCOPE_LEVEL_PUD] = mm_pud_folded(NULL),
		[PTSCOPE_LEVEL_P4D] = mm_p4d_folded(NULL),
	};
	const u8 shift[PTSCOPE_LEVEL_PGD + 1] = {
		[PTSCOPE_LEVEL_PTE] = PAGE_SHIFT, [PTSCOPE_LEVEL_PMD] = PMD_SHIFT,
		[PTSCOPE_LEVEL_PUD] = PUD_SHIFT, [PTSCOPE_LEVEL_P4D] = P4D_SHIFT,
		[PTSCOPE_LEVEL_PGD] = PGDIR_SHIFT,
	};
	u8 level, top = PTSCOPE_LEVEL_PGD;

	memset(walk_shift, 0, sizeof(walk_shift));
	for (level = PTSCOPE_LEVEL_PGD; level >= PTSCOPE_LEVEL_PTE; level--) {
		if (level < PTSCOPE_LEVEL_PGD && !folded[level])
			top = level;
		walk_level[level] = level > PTSCOPE_LEVEL_PTE && folded[level - 1] ? 0 : top;
		if (walk_level[level])
			walk_shift[top] = shift[level];
	}
}

/* Levels in use: 3 to 5. */
unsigned int ptscope_pgtable_levels(void)
{
	unsigned int level, n = 0;

	for (level = PTSCOPE_LEVEL_PTE; level <= PTSCOPE_LEVEL_PGD; level++)
		n += !!walk_shift[level];
	return n;
}

/* log2 of the bytes an entry of @level maps; 0 for a folded level. */
unsigned int ptscope_level_shift(unsigned int level)
{
	return level <= PTSCOPE_LEVEL_PGD ? walk_shift[level] : 0;
}

/* The level of the tables @level's table entries point to; 0 below PTEs. */
unsigned int ptscope_level_below(unsigned int level)
{
	while (level > PTSCOPE_LEVEL_PTE && level <= PTSCOPE_LEVEL_PGD)
		if (walk_shift[--level])
			return level;
	return 0;
}

/* --- the walk ----------------------------------------------------------- */

/*
 * Fills all of @e: its declarations are __uninitialized, not zeroed first
 * by the kernel's stack initialisation (INIT_STACK_ALL_ZERO) as well.
 */
static __always_inline void entry_init(struct ptscope_entry *e, unsigned long addr,
				       enum ptscope_level level, unsigned int shift)
{
	memset(e, 0, sizeof(*e));
	e->addr = addr & ~((1UL << shift) - 1);
	e->nr = 1;
	e->level = level;
	e->shift = shift;
}

/*
 * A leaf of any level, in its PTE form, and the page behind it. Called under
 * the leaf's page-table lock (see decode_page()).
 */
static void decode_leaf(struct ptscope_walker *w, struct ptscope_entry *e,
			unsigned long addr, enum ptscope_level level,
			unsigned int shift, pte_t pte, u64 desc)
{
	entry_init(e, addr, level, shift);
	decode_entry(pte, desc, level != PTSCOPE_LEVEL_PTE, e);
	if (e->kind == PTSCOPE_KIND_PAGE && !w->no_page)
		decode_page(w->vma, e);
}

static int report(struct ptscope_walker *w, const struct ptscope_entry *e)
{
	int ret = w->ops->entry(w, e);

	if (ret > 0)
		w->next = max(e->addr, w->start);
	return ret;
}

/* A table entry: present, pointing to the next level's table. */
static int report_table(struct ptscope_walker *w, unsigned long addr,
			enum ptscope_level level, unsigned int shift, u64 raw)
{
	struct ptscope_entry e __uninitialized;

	/* level 0: folded, the loop below reports the entry */
	if (!level)
		return 0;
	if (w->path) {
		w->path[level] = raw;
		return 0;
	}
	if (!w->tables)
		return 0;
	entry_init(&e, addr, level, shift);
	/* Several VMAs under one table: report it with the first. */
	if (w->table_seen[level] == e.addr)
		return 0;
	w->table_seen[level] = e.addr;
	e.kind = PTSCOPE_KIND_TABLE;
	e.raw = raw;
	ptscope_arch_decode_table(raw, &e);
	return report(w, &e);
}

/*
 * An entry of @level read again because it changed: a table entry stored
 * for the path when it was read first is no longer on it.
 */
static void forget_table(struct ptscope_walker *w, enum ptscope_level level)
{
	if (w->path)
		w->path[level] = 0;
}

static int report_bad(struct ptscope_walker *w, unsigned long addr,
		      enum ptscope_level level, unsigned int shift, u64 raw)
{
	struct ptscope_entry e __uninitialized;

	entry_init(&e, addr, level, shift);
	e.kind = PTSCOPE_KIND_BAD;
	e.raw = raw;
	return report(w, &e);
}

/*
 * walk_pause - has this hold of the lock done its share? Called between
 * two upper-level entries, @next being the address of the second.
 *
 * Return: 0 to go on, or PTSCOPE_WALK_PAUSED with w->next = @next.
 */
static int walk_pause(struct ptscope_walker *w, unsigned long next)
{
	bool wanted;

	if (!w->budget)
		return 0;
	wanted = w->vma_locked ? ptscope_vma_lock_contended(w->vma) :
				 mmap_lock_is_contended(w->mm);
	if (w->work < w->budget && !wanted)
		return 0;
	w->next = next;
	return PTSCOPE_WALK_PAUSED;
}

/* Does @pmd point to a PTE table? */
static bool pmd_is_table(pmd_t pmd)
{
	return !pmd_none(pmd) && pmd_present(pmd) && !pmd_leaf(pmd) && !pmd_bad(pmd);
}

/*
 * The words of an order-0 page that decide what page_kind() says of it: the
 * tail bit of the compound word, the head and swapbacked flags, the anon/KSM
 * bits of the mapping and the raw mapcount (a page type shares it). Two
 * pages with the same words are the same kind with the same mapcount.
 */
struct small_page {
	unsigned long flags;
	unsigned long mapping;
	unsigned int mapcount;
};

static __always_inline unsigned long small_page_diff(struct page *page,
						     const struct small_page *sp)
{
	return (ptscope_page_compound_word(page) & 1) |
	       ((ptscope_page_flags_word(page) & (BIT(PG_head) | BIT(PG_swapbacked))) ^
		sp->flags) |
	       (((unsigned long)READ_ONCE(page->mapping) & PTSCOPE_PAGE_MAPPING_FLAGS) ^
		sp->mapping) |
	       ((unsigned int)atomic_read(&page->_mapcount) ^ sp->mapcount);
}

/* The words of @page, false for a page of a large folio (a tail or head). */
static __always_inline bool small_page_read(struct page *page, struct small_page *sp)
{
	sp->flags = ptscope_page_flags_word(page) & (BIT(PG_head) | BIT(PG_swapbacked));
	sp->mapping = (unsigned long)READ_ONCE(page->mapping) & PTSCOPE_PAGE_MAPPING_FLAGS;
	sp->mapcount = atomic_read(&page->_mapcount);
	return !(sp->flags & BIT(PG_head)) && !small_page_diff(page, sp);
}

/*
 * pte_continues - may @pte, PTE number @i of batch @e (counting from its
 * first), join it? Its descriptor @desc must have @e's bits, and for
 * PTSCOPE_BATCH_FRAMES its frame the first one's + @i (one comparison of
 * the raw values: the frame field is below the high flag bits and never
 * carries; batch_ptes() checks that it counts frames up); where the
 * kernel's view of an entry may differ from its descriptor (arm64's
 * contiguous blocks), it must differ as @e's; then the page behind it must
 * be what decode_page() found for @e (unless the walk leaves pages out,
 * !@pages): the same kind, mapcount and folio order (for order-0 pages:
 * the same words, @first, when it was read). *@valid_sub is a subsection
 * (of PAGES_PER_SUBSECTION frames) known to have a memmap: pfn_valid() is
 * asked only of a frame outside it, which then becomes it (memmap is valid
 * and contiguous per subsection). Called under the PTE table's lock, once
 * per PTE: inline, no call and no entry on the stack (Debian's kernels
 * zero every stack variable).
 */
static __always_inline bool pte_continues(u8 batch, bool pages,
					  const struct ptscope_entry *e, unsigned int i,
					  pte_t pte, u64 desc, const struct small_page *first,
					  bool small, unsigned long *valid_sub)
{
	unsigned long pfn = pte_pfn(pte);
	struct folio *folio;
	struct page *page;
	u32 mapcount;

	if (batch == PTSCOPE_BATCH_FRAMES) {
		if (desc != e->raw + ((u64)i << PAGE_SHIFT))
			return false;
	} else if ((desc ^ e->raw) & ~PTSCOPE_ARCH_PTE_FRAME_MASK) {
		return false;
	}
	if (PTSCOPE_ARCH_VIEW_DIFFERS && (pte_val(pte) ^ desc) != e->view_xor)
		return false;
	if (!pages)
		return true;
	if (is_zero_pfn(pfn))
		return e->page == PTSCOPE_PAGE_ZERO;
	if (!e->page || e->page == PTSCOPE_PAGE_ZERO)
		/* no page behind @e: special (and so is @pte) or no memmap */
		return e->page != PTSCOPE_PAGE_ZERO &&
		       ((e->bits & PTSCOPE_B_SPECIAL) || !pfn_valid(pfn));
	if (pfn / PAGES_PER_SUBSECTION != *valid_sub) {
		if (!pfn_valid(pfn))
			return false;
		*valid_sub = pfn / PAGES_PER_SUBSECTION;
	}
	page = pfn_to_page(pfn);
	if (small)
		return !small_page_diff(page, first);
	folio = page_folio(page);
	return page_kind(folio, page, &mapcount) == e->page && mapcount == e->mapcount &&
	       folio_order(folio) == e->folio_order;
}

/*
 * batch_small_frames - pte_continues() for a batch of order-0 pages, the
 * first with the words @first, in PTSCOPE_BATCH_FRAMES: PTE i (counting
 * from @e) maps @e's frame + i, and so the page after the previous one's
 * (memmap is contiguous within a subsection, and pfn_valid() is asked at
 * each new one), with the same words. Dense anonymous memory is made of
 * such batches: a few loads and comparisons per PTE, no folio.
 */
static __always_inline unsigned int batch_small_frames(const struct ptscope_entry *e,
						       pte_t *ptep, unsigned int max,
						       const struct small_page *first,
						       struct ptscope_arch_ptes *ap)
{
	unsigned long pfn = e->pfn;
	struct page *page = pfn_to_page(pfn);
	u64 want = e->raw, desc;
	unsigned int n;
	pte_t pte;

	for (n = 0; n < max; n++) {
		pte = ptscope_arch_ptep_get(ptep + n, &desc, ap);
		want += PAGE_SIZE;
		if (desc != want)
			break;
		if (PTSCOPE_ARCH_VIEW_DIFFERS && (pte_val(pte) ^ desc) != e->view_xor)
			break;
		pfn++;
		if (is_zero_pfn(pfn))
			break;
		if (pfn & (PAGES_PER_SUBSECTION - 1))
			page++;
		else if (pfn_valid(pfn))
			page = pfn_to_page(pfn);
		else
			break;
		if (small_page_diff(page, first))
			break;
	}
	return n;
}

/*
 * batch_folio_frames - pte_continues() for a batch of pages of large folios
 * in PTSCOPE_BATCH_FRAMES: PTE i (counting from @e) maps @e's frame + i.
 * A folio is decoded once, where the batch enters it (for @e's, by
 * decode_page()): its kind, order and entire mapcount are the same for all
 * of its pages, and a page of it has @e's mapcount exactly when it has the
 * same word of its own (page->_mapcount) as the batch's first page of that
 * folio; its struct pages are consecutive. The PTE lock keeps a folio mapped
 * by PTEs of this table from being split under us. The loop's head is
 * batch_small_frames()'s, written out in both: shared through a helper, it
 * cost dense memory 3 more instructions per PTE (GCC 14, arm64).
 */
static __always_inline unsigned int batch_folio_frames(const struct ptscope_entry *e,
						       pte_t *ptep, unsigned int max,
						       struct ptscope_arch_ptes *ap)
{
	unsigned long pfn = e->pfn, valid_sub = pfn / PAGES_PER_SUBSECTION, folio_end;
	struct page *page = pfn_to_page(pfn);
	struct folio *folio = page_folio(page);
	int word = atomic_read(&page->_mapcount);
	u64 want = e->raw, desc;
	unsigned int n;
	u32 mapcount;
	pte_t pte;

	folio_end = folio_pfn(folio) + folio_nr_pages(folio);
	for (n = 0; n < max; n++) {
		pte = ptscope_arch_ptep_get(ptep + n, &desc, ap);
		want += PAGE_SIZE;
		if (desc != want)
			break;
		if (PTSCOPE_ARCH_VIEW_DIFFERS && (pte_val(pte) ^ desc) != e->view_xor)
			break;
		if (++pfn < folio_end) {
			if (atomic_read(&(++page)->_mapcount) != word)
				break;
			continue;
		}
		/* the next folio, decoded as decode_page() would */
		if (is_zero_pfn(pfn))
			break;
		if (pfn / PAGES_PER_SUBSECTION != valid_sub) {
			if (!pfn_valid(pfn))
				break;
			valid_sub = pfn / PAGES_PER_SUBSECTION;
		}
		page = pfn_to_page(pfn);
		folio = page_folio(page);
		if (page_kind(folio, page, &mapcount) != e->page || mapcount != e->mapcount ||
		    folio_order(folio) != e->folio_order)
			break;
		folio_end = folio_pfn(folio) + folio_nr_pages(folio);
		word = atomic_read(&page->_mapcount);
	}
	return n;
}

/*
 * batch_entries - pte_continues() for PTSCOPE_BATCH_ALIKE without pages:
 * the entries alone, whatever their frames.
 */
static __always_inline unsigned int batch_entries(const struct ptscope_entry *e,
						  pte_t *ptep, unsigned int max,
						  struct ptscope_arch_ptes *ap)
{
	const u64 flags = ~(u64)PTSCOPE_ARCH_PTE_FRAME_MASK;
	unsigned int n;
	pte_t pte;
	u64 desc;

	for (n = 0; n < max; n++) {
		pte = ptscope_arch_ptep_get(ptep + n, &desc, ap);
		if ((desc ^ e->raw) & flags)
			break;
		if (PTSCOPE_ARCH_VIEW_DIFFERS && (pte_val(pte) ^ desc) != e->view_xor)
			break;
	}
	return n;
}

/*
 * batch_ptes - how many of the @max PTEs from @ptep continue batch @e, so
 * that they are reported with it, once (but batches of small frames: see
 * small_frames_start()).
 */
static __always_inline unsigned int batch_ptes(struct ptscope_walker *w,
					       const struct ptscope_entry *e,
					       pte_t *ptep, unsigned int max,
					       struct ptscope_arch_ptes *ap)
{
	/* @e's frame has a memmap where it has a page (decode_page()) */
	unsigned long valid_sub = e->pfn / PAGES_PER_SUBSECTION;
	struct small_page first;
	bool small = false;
	unsigned int n;
	pte_t pte;
	u64 desc;

	if (w->batch == PTSCOPE_BATCH_FRAMES) {
		/* Frames counted down (x86's inverted PROT_NONE entries) do not batch. */
		if (pte_pfn(__pte(e->raw + PAGE_SIZE)) != e->pfn + 1)
			return 0;
		if (!w->no_page && e->folio_order && e->page && e->page != PTSCOPE_PAGE_ZERO)
			return batch_folio_frames(e, ptep, max, ap);
	} else if (w->no_page) {
		return batch_entries(e, ptep, max, ap);
	} else if (e->page && e->page != PTSCOPE_PAGE_ZERO && !e->folio_order) {
		small = small_page_read(pfn_to_page(e->pfn), &first);
	}
	for (n = 0; n < max; n++) {
		pte = ptscope_arch_ptep_get(ptep + n, &desc, ap);
		if (!pte_continues(w->batch, !w->no_page, e, n + 1, pte, desc, &first, small,
				   &valid_sub))
			break;
	}
	return n;
}

/*
 * small_frames_start - is the decoded PTE @e the first of a batch of small
 * frames (PTSCOPE_BATCH_FRAMES, an order-0 page, frames counting up)? Then
 * *@first has its page's words, for batch_small_frames().
 */
static __always_inline bool small_frames_start(const struct ptscope_walker *w,
					       const struct ptscope_entry *e,
					       struct small_page *first)
{
	return w->batch == PTSCOPE_BATCH_FRAMES && !w->no_page &&
	       e->kind == PTSCOPE_KIND_PAGE && e->page && e->page != PTSCOPE_PAGE_ZERO &&
	       !e->folio_order && pte_pfn(__pte(e->raw + PAGE_SIZE)) == e->pfn + 1 &&
	       small_page_read(pfn_to_page(e->pfn), first);
}

/*
 * small_frames_next - after batch @e of small frames, may the PTE @pte
 * (@desc) at @addr start the next one as a copy of @e? Where its flag bits,
 * its view of them and its page's words are @e's, decode_leaf() would find
 * all of @e but the address and the frame: a batch broken by the physical
 * layout alone starts again without decoding anything.
 */
static __always_inline bool small_frames_next(struct ptscope_entry *e, unsigned long addr,
					      pte_t pte, u64 desc,
					      const struct small_page *first)
{
	unsigned long pfn = pte_pfn(pte);

	if ((desc ^ e->raw) & ~(u64)PTSCOPE_ARCH_PTE_FRAME_MASK)
		return false;
	if (PTSCOPE_ARCH_VIEW_DIFFERS && (pte_val(pte) ^ desc) != e->view_xor)
		return false;
	if (is_zero_pfn(pfn) || !pfn_valid(pfn) || small_page_diff(pfn_to_page(pfn), first))
		return false;
	e->addr = addr;
	e->raw = desc;
	e->pfn = pfn;
	e->nr = 1;
	return true;
}

/* Empty PTEs are skipped this many at a time (ptes_none()). */
#define PTES_NONE_GROUP		8

/* The OR of the descriptors of the PTES_NONE_GROUP entries from @ptep. */
static __always_inline u64 ptes_or(pte_t *ptep)
{
	return ptscope_arch_pte_desc(ptep) | ptscope_arch_pte_desc(ptep + 1) |
	       ptscope_arch_pte_desc(ptep + 2) | ptscope_arch_pte_desc(ptep + 3) |
	       ptscope_arch_pte_desc(ptep + 4) | ptscope_arch_pte_desc(ptep + 5) |
	       ptscope_arch_pte_desc(ptep + 6) | ptscope_arch_pte_desc(ptep + 7);
}

/*
 * ptes_none - how many of the @max PTEs from @ptep are empty, counted a
 * group of PTES_NONE_GROUP at a time (the tail of a shorter group is left
 * to the caller): a group whose words are all zero is empty, whatever
 * pte_none() would make of the bits it ignores (x86's KNL erratum bits),
 * for a load and an OR per entry where reading and testing each costs
 * about ten instructions. A sparse VMA's PTE tables are mostly empty:
 * 2,048 entries each with 16 KiB pages. Called under the table's lock,
 * where no empty entry can be filled.
 */
static __always_inline unsigned int ptes_none(pte_t *ptep, unsigned int max)
{
	unsigned int n;

	for (n = 0; n + PTES_NONE_GROUP <= max; n += PTES_NONE_GROUP)
		if (ptes_or(ptep + n))
			break;
	return n;
}

static int walk_ptes(struct ptscope_walker *w, pte_t *ptep, unsigned long addr,
		     unsigned long end)
{
	struct ptscope_entry e __uninitialized;
	struct small_page first;	/* of a batch of small frames */
	struct ptscope_arch_ptes ap;	/* what the arch keeps under this lock */
	bool small = false;		/* @e is one */
	unsigned int n, max;
	int ret;

	ptscope_arch_ptes_init(&ap);
	w->work += (end - addr) >> PAGE_SHIFT;
	for (; addr < end; addr += PAGE_SIZE, ptep++) {
		u64 desc;
		pte_t pte = ptscope_arch_ptep_get(ptep, &desc, &ap);

		if (pte_none(pte)) {
			/* and the empty entries after it, a group at a time */
			n = ptes_none(ptep + 1, ((end - addr) >> PAGE_SHIFT) - 1);
			addr += (unsigned long)n << PAGE_SHIFT;
			ptep += n;
			continue;
		}
		if (!small || !small_frames_next(&e, addr, pte, desc, &first)) {
			decode_leaf(w, &e, addr, PTSCOPE_LEVEL_PTE, PAGE_SHIFT, pte, desc);
			small = small_frames_start(w, &e, &first);
		}
		/* Merge here what the consumer would merge: one report per batch. */
		max = ((end - addr) >> PAGE_SHIFT) - 1;
		if (small)
			n = batch_small_frames(&e, ptep + 1, max, &first, &ap);
		else if (w->batch && e.kind == PTSCOPE_KIND_PAGE)
			n = batch_ptes(w, &e, ptep + 1, max, &ap);
		else
			n = 0;
		addr += (unsigned long)n << PAGE_SHIFT;
		ptep += n;
		e.nr += n;
		ret = report(w, &e);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * walk_pte_range - the PTE table under @pmdp, mapped and locked the way
 * __pte_offset_map_lock() does: under RCU, with the pmd read again once
 * the PTE lock is held.
 *
 * Return: as a callback, or -EAGAIN when the pmd changed under us.
 */
static int walk_pte_range(struct ptscope_walker *w, pmd_t *pmdp,
			  unsigned long addr, unsigned long end)
{
	spinlock_t *ptl;	/* the PTE table's lock */
	pmd_t pmdval;
	int ret;

	rcu_read_lock();
	pmdval = ptscope_pmdp_get_lockless(pmdp);
	if (!pmd_is_table(pmdval)) {
		rcu_read_unlock();
		return -EAGAIN;
	}
	ptl = pte_lockptr(w->mm, &pmdval);
	spin_lock(ptl);
	if (pmd_same(pmdval, ptscope_pmdp_get_lockless(pmdp)))
		ret = walk_ptes(w, pte_offset_kernel(&pmdval, addr), addr, end);
	else
		ret = -EAGAIN;
	spin_unlock(ptl);
	rcu_read_unlock();
	return ret;
}

/*
 * batch_pmds - how many of the PMD entries from @pmdp, below @end, are
 * leaves with @e's bits (any frame), to be reported with it: for a walk
 * without pages (PTSCOPE_BATCH_ALIKE), read once each, locklessly.
 */
static unsigned int batch_pmds(const struct ptscope_entry *e, pmd_t *pmdp,
			       unsigned long addr, unsigned long end)
{
	unsigned int n = 0;

	for (addr += PMD_SIZE; addr < end && addr; addr += PMD_SIZE, n++)
		if ((pmd_val(ptscope_pmdp_get_lockless(pmdp + n)) ^ e->raw) &
		    ~PTSCOPE_ARCH_PMD_FRAME_MASK)
			break;
	return n;
}

/*
 * A PMD leaf (THP or hugetlb) or non-present PMD entry, read under its lock
 * (or once, locklessly, when the walk wants no page behind it: then the
 * leaves after it below @end with the same bits join it, and *@more says
 * how many).
 */
static int walk_pmd_leaf(struct ptscope_walker *w, pmd_t *pmdp,
			 unsigned long addr, unsigned long end, unsigned int *more)
{
	struct ptscope_entry e __uninitialized;
	spinlock_t *ptl;	/* the entry's page-table lock */
	pmd_t pmd;

	*more = 0;
	if (w->no_page) {
		/* No page to look at: the value read once is all there is to decode. */
		pmd = ptscope_pmdp_get_lockless(pmdp);
		if (!pmd_leaf(pmd) && pmd_present(pmd))
			return -EAGAIN;
		decode_leaf(w, &e, addr, walk_level[PTSCOPE_LEVEL_PMD], PMD_SHIFT,
			    __pte(pmd_val(pmd)), pmd_val(pmd));
		if (w->batch == PTSCOPE_BATCH_ALIKE && e.kind == PTSCOPE_KIND_PAGE) {
			*more = batch_pmds(&e, pmdp + 1, e.addr, end);
			e.nr += *more;
		}
	} else {
		ptl = pmd_lock(w->mm, pmdp);
		pmd = ptscope_pmdp_get(pmdp);
		if (!pmd_leaf(pmd) && pmd_present(pmd)) {
			spin_unlock(ptl);
			return -EAGAIN;
		}
		decode_leaf(w, &e, addr, walk_level[PTSCOPE_LEVEL_PMD], PMD_SHIFT,
			    __pte(pmd_val(pmd)), pmd_val(pmd));
		spin_unlock(ptl);
	}
	if (e.kind == PTSCOPE_KIND_NONE)
		return 0;
	return report(w, &e);
}

static int walk_pmd_range(struct ptscope_walker *w, pud_t *pudp, pud_t pud,
			  unsigned long addr, unsigned long end)
{
	pmd_t *pmdp = pmd_offset_lockless(pudp, pud, addr);
	unsigned long next;
	unsigned int more;
	int ret;

	for (; addr < end; pmdp++, addr = next) {
		pmd_t pmd;

		next = pmd_addr_end(addr, end);
		w->work++;
again:
		pmd = ptscope_pmdp_get_lockless(pmdp);
		/* counted, but nothing below to reschedule or pause for */
		if (pmd_none(pmd))
			continue;
		if (pmd_leaf(pmd) || !pmd_present(pmd)) {
			ret = walk_pmd_leaf(w, pmdp, addr, end, &more);
			/* leaves reported with this one: step over them */
			if (!ret && more) {
				pmdp += more;
				w->work += more;
				next = (addr & PMD_MASK) + ((unsigned long)more << PMD_SHIFT);
				next = pmd_addr_end(next, end);
			}
		} else if (pmd_bad(pmd)) {
			ret = report_bad(w, addr, walk_level[PTSCOPE_LEVEL_PMD], PMD_SHIFT,
					 pmd_val(pmd));
		} else {
			ret = report_table(w, addr, walk_level[PTSCOPE_LEVEL_PMD], PMD_SHIFT,
					   pmd_val(pmd)) ?:
			      walk_pte_range(w, pmdp, addr, next);
		}
		if (ret == -EAGAIN) {
			forget_table(w, walk_level[PTSCOPE_LEVEL_PMD]);
			goto again;
		}
		if (ret)
			return ret;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		ret = walk_pause(w, next);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A PUD leaf (a 1 GiB hugetlb page) or non-present PUD entry, read under
 * its lock: a PUD that became a table meanwhile is walked as one.
 */
static int walk_pud_leaf(struct ptscope_walker *w, pud_t *pudp,
			 unsigned long addr)
{
	struct ptscope_entry e __uninitialized;
	spinlock_t *ptl;	/* the entry's page-table lock */
	pud_t pud;

	ptl = pud_lock(w->mm, pudp);
	pud = ptscope_pudp_get(pudp);
	if (!pud_leaf(pud) && pud_present(pud)) {
		spin_unlock(ptl);
		return -EAGAIN;
	}
	decode_leaf(w, &e, addr, walk_level[PTSCOPE_LEVEL_PUD] ?: PTSCOPE_LEVEL_PUD, PUD_SHIFT,
		    __pte(pud_val(pud)), pud_val(pud));
	spin_unlock(ptl);
	if (e.kind == PTSCOPE_KIND_NONE)
		return 0;
	return report(w, &e);
}

static int walk_pud_range(struct ptscope_walker *w, p4d_t *p4dp, p4d_t p4d,
			  unsigned long addr, unsigned long end)
{
	enum ptscope_level level = walk_level[PTSCOPE_LEVEL_PUD];
	pud_t *pudp = pud_offset_lockless(p4dp, p4d, addr);
	unsigned long next;
	int ret;

	for (; addr < end; pudp++, addr = next) {
		pud_t pud;

		next = pud_addr_end(addr, end);
		w->work++;
again:
		pud = ptscope_pudp_get(pudp);
		if (pud_none(pud))
			continue;
		if (pud_leaf(pud) || !pud_present(pud))
			ret = walk_pud_leaf(w, pudp, addr);
		else if (pud_bad(pud))
			ret = report_bad(w, addr, level ?: PTSCOPE_LEVEL_PUD, PUD_SHIFT,
					 pud_val(pud));
		else
			ret = report_table(w, addr, level, PUD_SHIFT,
					   pud_val(pud)) ?:
			      walk_pmd_range(w, pudp, pud, addr, next);
		if (ret == -EAGAIN) {
			forget_table(w, level);
			goto again;
		}
		ret = ret ?: walk_pause(w, next);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * With 4-level paging the p4d level is folded into the pgd: its entries
 * are the top table's, and are reported as PGD entries (see walk_level).
 */
static int walk_p4d_range(struct ptscope_walker *w, pgd_t *pgdp, pgd_t pgd,
			  unsigned long addr, unsigned long end)
{
	enum ptscope_level level = walk_level[PTSCOPE_LEVEL_P4D];
	p4d_t *p4dp = p4d_offset_lockless(pgdp, pgd, addr);
	unsigned long next;
	int ret;

	for (; addr < end; p4dp++, addr = next) {
		p4d_t p4d = ptscope_p4dp_get(p4dp);

		next = p4d_addr_end(addr, end);
		w->work++;
		if (p4d_none(p4d))
			continue;
		if (p4d_bad(p4d))
			ret = report_bad(w, addr, level ?: PTSCOPE_LEVEL_P4D, P4D_SHIFT,
					 p4d_val(p4d));
		else
			ret = report_table(w, addr, level, P4D_SHIFT,
					   p4d_val(p4d)) ?:
			      walk_pud_range(w, p4dp, p4d, addr, next);
		ret = ret ?: walk_pause(w, next);
		if (ret)
			return ret;
	}
	return 0;
}

static int walk_pgd_range(struct ptscope_walker *w, unsigned long addr,
			  unsigned long end)
{
	pgd_t *pgdp = pgd_offset(w->mm, addr);
	unsigned long next;
	int ret;

	for (; addr < end; pgdp++, addr = next) {
		pgd_t pgd = ptscope_pgdp_get(pgdp);

		next = pgd_addr_end(addr, end);
		w->work++;
		if (pgd_none(pgd))
			continue;
		if (pgd_bad(pgd))
			ret = report_bad(w, addr, PTSCOPE_LEVEL_PGD, PGDIR_SHIFT, pgd_val(pgd));
		else
			ret = report_table(w, addr, walk_level[PTSCOPE_LEVEL_PGD], PGDIR_SHIFT,
					   pgd_val(pgd)) ?:
			      walk_p4d_range(w, pgdp, pgd, addr, next);
		ret = ret ?: walk_pause(w, next);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The mapping whose i_mmap_rwsem keeps @vma's page tables from being
 * unshared under the walk (see the top of this file), or NULL.
 */
static struct address_space *vma_shared_tables(struct vm_area_struct *vma)
{
	if (is_vm_hugetlb_page(vma) && (vma->vm_flags & VM_MAYSHARE))
		return vma->vm_file->f_mapping;
	return NULL;
}

static int walk_vma(struct ptscope_walker *w, struct vm_area_struct *vma,
		    unsigned long start, unsigned long end)
{
	struct address_space *mapping = vma_shared_tables(vma);
	int ret;

	if (mapping)
		i_mmap_lock_read(mapping);
	w->vma = vma;
	ret = walk_pgd_range(w, start, end);
	if (mapping)
		i_mmap_unlock_read(mapping);
	return ret;
}

/* A walk of [start, end) begins, or resumes under a new hold. */
static void walk_begin(struct ptscope_walker *w, unsigned long start,
		       unsigned long end)
{
	w->start = start;
	w->next = end;
	w->work = 0;
}

/* The VMAs in [start, end), from the VMA tree as it is now. */
static int walk_vmas(struct ptscope_walker *w, unsigned long start,
		     unsigned long end)
{
	VMA_ITERATOR(vmi, w->mm, start);
	struct vm_area_struct *vma;
	int ret;

	mmap_assert_locked(w->mm);
	walk_begin(w, start, end);
	for_each_vma_range(vmi, vma, end) {
		ret = walk_vma(w, vma, max(start, vma->vm_start), min(end, vma->vm_end)) ?:
		      walk_pause(w, min(end, vma->vm_end));
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * ptscope_walk_range - walk the page tables of every VMA in [start, end)
 * @w:     the walker: mm, ops, tables, budget and private set by the caller
 * @start: first address, page aligned
 * @end:   end address (exclusive), page aligned
 *
 * Locking: the caller holds @w->mm's mmap_lock for read (asserted).
 *
 * Return: 0 when the range was walked (w->next == @end), > 0 when a
 * callback stopped the walk or (PTSCOPE_WALK_PAUSED) its budget ran out
 * (w->next is where to resume), < 0 on error (-EINTR on a fatal signal).
 */
int ptscope_walk_range(struct ptscope_walker *w, unsigned long start,
		       unsigned long end)
{
	memset(w->table_seen, 0xff, sizeof(w->table_seen));
	return walk_vmas(w, start, end);
}
EXPORT_SYMBOL_IF_KUNIT(ptscope_walk_range);

/**
 * ptscope_walk_vma - walk the page tables of [start, end) inside one VMA
 * @w:     the walker, as for ptscope_walk_range()
 * @l:     the VMA, held by ptscope_vma_lock_addr() (or ptscope_vma_lock())
 * @start: first address, page aligned, in l->vma
 * @end:   end address (exclusive), page aligned, at most l->vma->vm_end
 *
 * For a caller that has found its VMA already (VTOP's one address): the
 * VMA tree is not searched again, and the walk is one hold: no budget.
 *
 * Return: as ptscope_walk_range().
 */
int ptscope_walk_vma(struct ptscope_walker *w, struct ptscope_vma_lock *l,
		     unsigned long start, unsigned long end)
{
	int ret;

	if (l->mmap_locked)
		mmap_assert_locked(w->mm);
	if (w->tables)
		memset(w->table_seen, 0xff, sizeof(w->table_seen));
	walk_begin(w, start, end);
	w->vma_locked = !l->mmap_locked;
	ret = walk_vma(w, l->vma, start, end);
	w->vma_locked = false;
	return ret;
}

/* --- VMAs under their own locks ------------------------------------------ */

/* The first VMA of [@addr, @end) in the tree, under RCU or mmap_lock. */
static struct vm_area_struct *first_vma(struct mm_struct *mm, unsigned long addr,
					unsigned long end)
{
	VMA_ITERATOR(vmi, mm, addr);

	return vma_find(&vmi, end);
}

/*
 * lock_vma_rcu - the first VMA of [@addr, @end), read-locked without
 * mmap_lock, by the rules of the core's lock_next_vma(): found under RCU
 * (its fields may be stale there), locked by the address it was found at
 * (lock_vma_under_rcu() checks that it still covers it), and when it starts
 * after @addr, looked for again from @addr once locked, unless mmap_lock
 * was not taken for write since the first look (its write sequence, read
 * before it, is the same): a VMA that shrank while another took the space
 * it left must not read as a gap that never was. Each look-up is a walk
 * of the maple tree, a third of what locking a VMA costs: a sparse address
 * space's VMAs all start after a gap. Shared hugetlb VMAs are walked under
 * mmap_lock (see the top).
 *
 * Return: the VMA, NULL when there is none, or ERR_PTR(-EAGAIN) when it
 * cannot be locked this way: look under mmap_lock.
 */
static struct vm_area_struct *lock_vma_rcu(struct mm_struct *mm, unsigned long addr,
					   unsigned long end)
{
	struct vm_area_struct *vma, *first;
	unsigned long start;
	unsigned int seq;
	bool unchanged;

	if (!PTSCOPE_LOCK_VMA_RCU)
		return ERR_PTR(-EAGAIN);
	rcu_read_lock();
	unchanged = ptscope_mmap_speculate_begin(mm, &seq);
	vma = first_vma(mm, addr, end);
	start = vma ? max(addr, READ_ONCE(vma->vm_start)) : 0;
	rcu_read_unlock();
	if (!vma)
		return NULL;
	if (start >= end)
		return ERR_PTR(-EAGAIN);
	vma = ptscope_lock_vma_rcu(mm, start);
	if (!vma)
		return ERR_PTR(-EAGAIN);
	first = vma;
	if (vma->vm_start > addr &&
	    (!unchanged || ptscope_mmap_speculate_retry(mm, seq))) {
		rcu_read_lock();
		first = first_vma(mm, addr, end);
		rcu_read_unlock();
	}
	if (first != vma || vma_shared_tables(vma)) {
		ptscope_vma_read_unlock(vma);
		return ERR_PTR(-EAGAIN);
	}
	return vma;
}

/*
 * vma_small - is the part of @vma in [@addr, @end) one PTE table's span at
 * most? Such a VMA is walked under mmap_lock, with the VMAs after it in
 * the same hold (walk_vmas(), bounded by the budget), as pagemap_read()
 * walks: a per-VMA lock would cost a look-up and a lock round trip for a
 * table or less of entries, which made a sparse address space's walk cost
 * 0.70 of PAGEMAP_SCAN's time on 7.3-arm64-16k (0.46 this way).
 */
static bool vma_small(struct vm_area_struct *vma, unsigned long addr, unsigned long end)
{
	return min(end, vma->vm_end) - max(addr, vma->vm_start) <= PMD_SIZE;
}

/**
 * ptscope_vma_lock - read-lock the first VMA of [addr, end)
 * @l:     l->mm set by the caller; out: l->vma, NULL when there is none,
 *         and how it is locked
 * @addr:  first address
 * @end:   end address (exclusive)
 *
 * Where the kernel has per-VMA locks, the VMA is locked alone: under RCU
 * where lock_vma_under_rcu() is exported, else looked up and locked under
 * mmap_lock, which is then dropped. Otherwise, and for VMAs that are
 * walked under mmap_lock (small ones, vma_small(), and shared hugetlb),
 * l->vma is found under mmap_lock for read, which stays held
 * (l->mmap_locked). Release with ptscope_vma_unlock().
 *
 * Return: 0, or -EINTR on a fatal signal (nothing held).
 */
int ptscope_vma_lock(struct ptscope_vma_lock *l, unsigned long addr,
		     unsigned long end)
{
	struct vm_area_struct *vma;

	l->mmap_locked = false;
	l->vma = lock_vma_rcu(l->mm, addr, end);
	if (!IS_ERR(l->vma)) {
		if (!l->vma || !vma_small(l->vma, addr, end))
			return 0;
		ptscope_vma_read_unlock(l->vma);
	}
	l->vma = NULL;
	if (mmap_read_lock_killable(l->mm))
		return -EINTR;
	vma = find_vma(l->mm, addr);
	if (!vma || vma->vm_start >= end) {
		mmap_read_unlock(l->mm);
		return 0;
	}
	l->vma = vma;
	if (!vma_small(vma, addr, end) && !vma_shared_tables(vma) &&
	    ptscope_vma_read_lock_locked(vma))
		mmap_read_unlock(l->mm);
	else
		l->mmap_locked = true;
	return 0;
}

/**
 * ptscope_vma_lock_addr - the VMA covering @addr, held for one short walk
 * @l:    l->mm set by the caller; out: l->vma, NULL when no VMA covers
 *        @addr, and how it is held
 * @addr: the address
 *
 * Read-locked alone under RCU where lock_vma_under_rcu() is exported, as a
 * page fault takes it; otherwise, and for VMAs that are walked under
 * mmap_lock, looked up under mmap_lock for read, which stays held: for one
 * address, a per-VMA lock taken under mmap_lock would be one more round
 * trip. Release with ptscope_vma_unlock().
 *
 * Return: 0, or -EINTR on a fatal signal (nothing held).
 */
int ptscope_vma_lock_addr(struct ptscope_vma_lock *l, unsigned long addr)
{
	struct vm_area_struct *vma = ptscope_lock_vma_rcu(l->mm, addr);

	l->mmap_locked = false;
	l->vma = NULL;
	if (vma && !vma_shared_tables(vma)) {
		l->vma = vma;
		return 0;
	}
	if (vma)
		ptscope_vma_read_unlock(vma);
	if (mmap_read_lock_killable(l->mm))
		return -EINTR;
	l->mmap_locked = true;
	l->vma = vma_lookup(l->mm, addr);
	return 0;
}

/**
 * ptscope_vma_unlock - drop what ptscope_vma_lock() took
 * @l: the lock; l->vma is NULL afterwards
 */
void ptscope_vma_unlock(struct ptscope_vma_lock *l)
{
	if (l->mmap_locked)
		mmap_read_unlock(l->mm);
	else if (l->vma)
		ptscope_vma_read_unlock(l->vma);
	l->vma = NULL;
	l->mmap_locked = false;
}

/*
 * walk_locked - one hold of a walk from @addr, under what @l holds: its
 * VMA alone under the VMA's read lock, or the VMAs from @addr under
 * mmap_lock until the budget runs out.
 *
 * Return: as ptscope_walk_range(); PTSCOPE_WALK_PAUSED when the walk goes
 * on at w->next (the end of the VMA walked, or where the budget ran out).
 */
static int walk_locked(struct ptscope_walker *w, struct ptscope_vma_lock *l,
		       unsigned long addr, unsigned long end)
{
	struct vm_area_struct *vma = l->vma;
	unsigned long vma_end;
	int ret;

	if (!vma) {
		walk_begin(w, addr, end);
		return 0;
	}
	if (l->mmap_locked)
		return walk_vmas(w, addr, end);
	vma_end = min(end, vma->vm_end);
	walk_begin(w, addr, end);
	w->vma_locked = true;
	ret = walk_vma(w, vma, max(addr, vma->vm_start), vma_end);
	w->vma_locked = false;
	if (!ret && vma_end < end) {
		w->next = vma_end;
		ret = PTSCOPE_WALK_PAUSED;
	}
	return ret;
}

/**
 * ptscope_walk_parts_locked - ptscope_walk_parts() from a VMA locked already
 * @w:     the walker, as for ptscope_walk_parts()
 * @l:     locked by ptscope_vma_lock(@start, @end); unlocked here
 * @start: first address, page aligned
 * @end:   end address (exclusive), page aligned
 *
 * For a caller that looks at the VMA before it is walked (PTSCOPE_IOC_VMAS
 * describes it): the first part of the walk is done under the same hold.
 *
 * Return: as ptscope_walk_parts().
 */
int ptscope_walk_parts_locked(struct ptscope_walker *w, struct ptscope_vma_lock *l,
			      unsigned long start, unsigned long end)
{
	struct ptscope_vma_lock next = { .mm = w->mm };
	int ret;

	w->budget = PTSCOPE_WALK_BUDGET;
	memset(w->table_seen, 0xff, sizeof(w->table_seen));
	ret = walk_locked(w, l, start, end);
	ptscope_vma_unlock(l);
	while (ret == PTSCOPE_WALK_PAUSED) {
		cond_resched();
		ret = ptscope_vma_lock(&next, w->next, end);
		if (ret)
			break;
		ret = walk_locked(w, &next, w->next, end);
		ptscope_vma_unlock(&next);
	}
	return ret;
}

/**
 * ptscope_walk_parts - ptscope_walk_range() in bounded holds of the locks
 * @w:     the walker, as for ptscope_walk_range(); its budget is set here
 * @start: first address, page aligned
 * @end:   end address (exclusive), page aligned
 *
 * Walks each VMA under its own read lock where the kernel has per-VMA
 * locks, else under mmap_lock for read (killable); each hold lasts until
 * the budget runs out or the lock is wanted, then the lock is dropped, the
 * walk reschedules, and resumes at w->next from the VMAs there now: a VMA
 * that changed between two holds is walked as it is in the second. The
 * callbacks' state carries over, and a table entry is still reported once.
 *
 * Locking: mmap_lock not held; it and the VMAs' locks are taken and
 * dropped here.
 *
 * Return: as ptscope_walk_range(), never PTSCOPE_WALK_PAUSED.
 */
int ptscope_walk_parts(struct ptscope_walker *w, unsigned long start,
		       unsigned long end)
{
	struct ptscope_vma_lock l = { .mm = w->mm };

	return ptscope_vma_lock(&l, start, end) ?:
	       ptscope_walk_parts_locked(w, &l, start, end);
}
EXPORT_SYMBOL_IF_KUNIT(ptscope_walk_parts);
