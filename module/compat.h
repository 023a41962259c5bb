/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything ptscope knows about kernel differences lives here, as feature
 * tests: Kbuild probes the kernel's headers and passes PTSCOPE_HAVE_*, and
 * the logic elsewhere calls the ptscope_* helpers below, never a version
 * test. Kbuild force-includes this file.
 */
#ifndef _PTSCOPE_COMPAT_H
#define _PTSCOPE_COMPAT_H

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pgtable.h>
#include <linux/shmem_fs.h>

/*
 * Lockless reads of upper-level entries. 6.12 has pXdp_get() and
 * pmdp_get_lockless(); before them the core read the entry with READ_ONCE(),
 * which is a single 64-bit load on x86-64.
 */
static inline pgd_t ptscope_pgdp_get(pgd_t *pgdp)
{
#ifdef PTSCOPE_HAVE_PXDP_GET
	return pgdp_get(pgdp);
#else
	return READ_ONCE(*pgdp);
#endif
}

static inline p4d_t ptscope_p4dp_get(p4d_t *p4dp)
{
#ifdef PTSCOPE_HAVE_PXDP_GET
	return p4dp_get(p4dp);
#else
	return READ_ONCE(*p4dp);
#endif
}

static inline pmd_t ptscope_pmdp_get(pmd_t *pmdp)
{
#ifdef PTSCOPE_HAVE_PXDP_GET
	return pmdp_get(pmdp);
#else
	return READ_ONCE(*pmdp);
#endif
}

static inline pud_t ptscope_pudp_get(pud_t *pudp)
{
#ifdef PTSCOPE_HAVE_PXDP_GET
	return pudp_get(pudp);
#else
	return READ_ONCE(*pudp);
#endif
}

static inline pmd_t ptscope_pmdp_get_lockless(pmd_t *pmdp)
{
#ifdef PTSCOPE_HAVE_PMDP_GET_LOCKLESS
	return pmdp_get_lockless(pmdp);
#else
	return READ_ONCE(*pmdp);
#endif
}

/*
 * How many times @page is mapped, as pagemap computes MMAP_EXCLUSIVE: up to
 * 6.1 page_mapcount(); 6.12 has the same sum in the mm-internal
 * folio_precise_page_mapcount().
 */
static inline int ptscope_page_mapcount(struct folio *folio, struct page *page)
{
#ifdef PTSCOPE_HAVE_PAGE_MAPCOUNT
	return page_mapcount(page);
#else
	int mapcount = atomic_read(&page->_mapcount) + 1;

	if (page_mapcount_is_type(mapcount))
		mapcount = 0;
	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount;
#endif
}

/*
 * The name given with PR_SET_VMA_ANON_NAME. anon_vma_name() is not
 * exported; it reads the field below with mmap_lock held, as our callers do.
 */
static inline const char *ptscope_anon_vma_name(struct vm_area_struct *vma)
{
#ifdef CONFIG_ANON_VMA_NAME
	return vma->anon_name ? vma->anon_name->name : NULL;
#else
	return NULL;
#endif
}

/* Is @vma backed by shmem (tmpfs, memfd, shared anonymous memory)? */
static inline bool ptscope_vma_is_shmem(struct vm_area_struct *vma)
{
	if (!vma->vm_file)
		return false;
#ifdef PTSCOPE_HAVE_SHMEM_MAPPING_EXPORT
	return shmem_mapping(vma->vm_file->f_mapping);
#else
	return vma->vm_file->f_mapping->a_ops == &shmem_aops;
#endif
}

/*
 * Orders with per-size THP settings (hugepages-<size>kB/ in sysfs): since
 * 6.8 for anonymous memory, with the page cache's orders too by 6.12; none
 * before.
 */
static inline unsigned long ptscope_mthp_orders(void)
{
#if defined(THP_ORDERS_ALL_ANON) && defined(THP_ORDERS_ALL_FILE_DEFAULT)
	return THP_ORDERS_ALL_ANON | THP_ORDERS_ALL_FILE_DEFAULT;
#elif defined(THP_ORDERS_ALL_ANON)
	return THP_ORDERS_ALL_ANON;
#else
	return 0;
#endif
}

/* THP event counters that only some supported kernels have (huge.c's table). */
#ifdef PTSCOPE_HAVE_THP_UNDERUSED_SPLIT_PAGE
#define PTSCOPE_COMPAT_THP_EVENTS	THP_EVENT(UNDERUSED_SPLIT_PAGE)
#else
#define PTSCOPE_COMPAT_THP_EVENTS
#endif

/*
 * The bits of a leaf that the kernel's pte_dirty() and pmd_dirty() read on
 * x86: since 6.6, write-protecting an entry (mprotect(), fork()'s COW, a
 * uffd-wp) moves its Dirty bit to the software bit _PAGE_SAVED_DIRTY, as
 * Write=0 with Dirty=1 is what a shadow-stack entry is.
 */
#ifdef _PAGE_SAVED_DIRTY
#define PTSCOPE_PAGE_DIRTY_BITS	(_PAGE_DIRTY | _PAGE_SAVED_DIRTY)
#else
#define PTSCOPE_PAGE_DIRTY_BITS	_PAGE_DIRTY
#endif

/*
 * The devmap bit of present entries (ZONE_DEVICE pages) is gone in 7.x,
 * with pte_devmap(): there, no entry has it. x86 reads the bit, arm64 asks
 * pte_devmap().
 */
#ifdef _PAGE_DEVMAP
#define PTSCOPE_PAGE_DEVMAP	_PAGE_DEVMAP
#else
#define PTSCOPE_PAGE_DEVMAP	0
#endif
static inline bool ptscope_pte_devmap(pte_t pte)
{
#ifdef PTSCOPE_HAVE_PTE_DEVMAP
	return pte_devmap(pte);
#else
	return false;
#endif
}

/*
 * Software leaves: non-present, non-empty entries (swap, migration, device
 * private or exclusive, hwpoison, marker). Up to 6.x swp_entry_t with the
 * is_*_entry() tests of <linux/swapops.h>; 7.x names the same encoding
 * softleaf_t, with the softleaf_*() tests of <linux/leafops.h>. The
 * userfaultfd bit (pte_uffd_wp(), pte_swp_uffd_wp()) became pte_uffd() and
 * pte_swp_uffd() when 7.x let it serve read-write protection too.
 */
#ifdef PTSCOPE_HAVE_SOFTLEAF
#include <linux/leafops.h>
#define ptscope_leaf_from_pte(pte)		softleaf_from_pte(pte)
#define ptscope_leaf_is_swap(e)			softleaf_is_swap(e)
#define ptscope_leaf_is_migration(e)		softleaf_is_migration(e)
#define ptscope_leaf_is_migration_write(e)	softleaf_is_migration_write(e)
#define ptscope_leaf_is_migration_read_excl(e)	softleaf_is_migration_read_exclusive(e)
#define ptscope_leaf_is_device_private(e)	softleaf_is_device_private(e)
#define ptscope_leaf_is_device_exclusive(e)	softleaf_is_device_exclusive(e)
#define ptscope_leaf_is_hwpoison(e)		softleaf_is_hwpoison(e)
#define ptscope_leaf_is_marker(e)		softleaf_is_marker(e)
#define ptscope_leaf_is_uffd_wp_marker(e)	softleaf_is_uffd_wp_marker(e)
#define ptscope_leaf_pfn(e)			softleaf_to_pfn(e)
#else
#include <linux/swapops.h>
#define ptscope_leaf_from_pte(pte)		pte_to_swp_entry(pte)
#define ptscope_leaf_is_swap(e)			(!non_swap_entry(e))
#define ptscope_leaf_is_migration(e)		is_migration_entry(e)
#define ptscope_leaf_is_migration_write(e)	is_writable_migration_entry(e)
#define ptscope_leaf_is_migration_read_excl(e)	is_readable_exclusive_migration_entry(e)
#define ptscope_leaf_is_device_private(e)	is_device_private_entry(e)
#define ptscope_leaf_is_device_exclusive(e)	is_device_exclusive_entry(e)
#define ptscope_leaf_is_hwpoison(e)		is_hwpoison_entry(e)
#define ptscope_leaf_is_marker(e)		is_pte_marker_entry(e)
#define ptscope_leaf_is_uffd_wp_marker(e)	pte_marker_entry_uffd_wp(e)
#define ptscope_leaf_pfn(e)			swp_offset_pfn(e)
#endif

#ifdef PTSCOPE_HAVE_PTE_UFFD
#define ptscope_pte_uffd_wp(pte)		pte_uffd(pte)
#define ptscope_pte_swp_uffd_wp(pte)		pte_swp_uffd(pte)
#define ptscope_pte_mkuffd_wp(pte)		pte_mkuffd(pte)
#define ptscope_pte_swp_mkuffd_wp(pte)		pte_swp_mkuffd(pte)
#else
#define ptscope_pte_uffd_wp(pte)		pte_uffd_wp(pte)
#define ptscope_pte_swp_uffd_wp(pte)		pte_swp_uffd_wp(pte)
#define ptscope_pte_mkuffd_wp(pte)		pte_mkuffd_wp(pte)
#define ptscope_pte_swp_mkuffd_wp(pte)		pte_swp_mkuffd_wp(pte)
#endif

/*
 * The constructors the KUnit tests (kunit/) build entries with, where
 * kernels differ. Device-exclusive entries: a readable and a writable type
 * up to 6.14, one type since. PMD migration entries: with
 * ARCH_ENABLE_THP_MIGRATION up to 6.x, ARCH_HAS_PMD_SOFTLEAVES in 7.x.
 * Guard markers (MADV_GUARD_INSTALL) exist since 6.13; the devmap bit only
 * up to 6.x (0: no such entry on this kernel).
 */
#ifdef PTSCOPE_HAVE_MAKE_DEVICE_EXCLUSIVE
#define ptscope_make_device_exclusive_entry(off) make_device_exclusive_entry(off)
#else
#define ptscope_make_device_exclusive_entry(off) make_readable_device_exclusive_entry(off)
#endif
#define PTSCOPE_HAVE_PMD_LEAVES	(IS_ENABLED(CONFIG_ARCH_ENABLE_THP_MIGRATION) || \
				 IS_ENABLED(CONFIG_ARCH_HAS_PMD_SOFTLEAVES))
#ifdef PTE_MARKER_GUARD
#define PTSCOPE_PTE_MARKER_GUARD	PTE_MARKER_GUARD
#else
#define PTSCOPE_PTE_MARKER_GUARD	0
#endif
#ifdef _PAGE_DEVMAP
#define ptscope_pte_mkdevmap(pte)	pte_mkdevmap(pte)
#else
#define ptscope_pte_mkdevmap(pte)	(pte)
#endif

/*
 * A file opened by path from a kernel thread (the KUnit tests open
 * /dev/ptscope). Since 7.0 kernel threads resolve paths from an empty root
 * (nullfs) and borrow init's view for this, with scoped_with_init_fs().
 */
#ifdef PTSCOPE_HAVE_INIT_FS_SCOPE
#include <linux/fs_struct.h>
#endif
static inline struct file *ptscope_kthread_filp_open(const char *path, int flags)
{
#ifdef PTSCOPE_HAVE_INIT_FS_SCOPE
	scoped_with_init_fs()
		return filp_open(path, flags, 0);
#else
	return filp_open(path, flags, 0);
#endif
}

/*
 * The namespace of EXPORT_SYMBOL_IF_KUNIT(), for MODULE_IMPORT_NS(): a
 * string since 6.13, a bare name before.
 */
#ifdef PTSCOPE_HAVE_STRING_NS
#define PTSCOPE_KUNIT_NS	"EXPORTED_FOR_KUNIT_TESTING"
#else
#define PTSCOPE_KUNIT_NS	EXPORTED_FOR_KUNIT_TESTING
#endif

/*
 * The raw words of a struct page that walk.c reads locklessly: the first
 * word (bit 0: a tail page) is compound_head up to 6.x, compound_info in
 * 7.x; the flags are a plain word up to 6.x, memdesc_flags_t in 7.x; the
 * anon/KSM bits of ->mapping are PAGE_MAPPING_FLAGS, FOLIO_MAPPING_FLAGS.
 */
static __always_inline unsigned long ptscope_page_compound_word(struct page *page)
{
#ifdef PTSCOPE_HAVE_COMPOUND_INFO
	return READ_ONCE(page->compound_info);
#else
	return READ_ONCE(page->compound_head);
#endif
}

static __always_inline unsigned long ptscope_page_flags_word(struct page *page)
{
#ifdef PTSCOPE_HAVE_MEMDESC_FLAGS
	return READ_ONCE(page->flags.f);
#else
	return READ_ONCE(page->flags);
#endif
}

#ifdef PAGE_MAPPING_FLAGS
#define PTSCOPE_PAGE_MAPPING_FLAGS	PAGE_MAPPING_FLAGS
#else
#define PTSCOPE_PAGE_MAPPING_FLAGS	FOLIO_MAPPING_FLAGS
#endif

/* Is @vma a private writable (copy-on-write) mapping? */
static inline bool ptscope_vma_is_cow(struct vm_area_struct *vma)
{
#ifdef PTSCOPE_HAVE_VMA_IS_COW_MAPPING
	return vma_is_cow_mapping(vma);
#else
	return is_cow_mapping(vma->vm_flags);
#endif
}

/*
 * Has the process turned THP off for @vma (prctl(PR_SET_THP_DISABLE))? 7.x
 * adds a mode that keeps THP where madvise(MADV_HUGEPAGE) asked for it, as
 * vma_thp_disabled() reads it.
 */
static inline bool ptscope_mm_thp_disabled(struct vm_area_struct *vma)
{
#ifdef MMF_DISABLE_THP_COMPLETELY
	return mm_flags_test(MMF_DISABLE_THP_COMPLETELY, vma->vm_mm) ||
	       (!(vma->vm_flags & VM_HUGEPAGE) &&
		mm_flags_test(MMF_DISABLE_THP_EXCEPT_ADVISED, vma->vm_mm));
#else
	return test_bit(MMF_DISABLE_THP, &vma->vm_mm->flags);
#endif
}

/*
 * Per-VMA read locks (CONFIG_PER_VMA_LOCK, 6.4+), for walking one VMA
 * without holding mmap_lock: the VMA is looked up and read-locked under
 * mmap_lock, which is then dropped, as the core's lock_next_vma() falls
 * back to (7.x). Under mmap_lock for read nobody can write-lock a VMA, so
 * taking its lock cannot fail but for a reader count at its limit. 7.x has
 * vma_start_read_locked(), a reference count with a flag a writer sets
 * while it waits for the readers to leave; 6.12's lock is an rw_semaphore,
 * taken directly as userfaultfd's uffd_lock_vma() does. Without either,
 * false: the walker stays under mmap_lock.
 */
#if defined(CONFIG_PER_VMA_LOCK) && defined(PTSCOPE_HAVE_VMA_START_READ_LOCKED)
static inline bool ptscope_vma_read_lock_locked(struct vm_area_struct *vma)
{
	return vma_start_read_locked(vma);
}

static inline bool ptscope_vma_lock_contended(struct vm_area_struct *vma)
{
	return refcount_read(&vma->vm_refcnt) & VM_REFCNT_EXCLUDE_READERS_FLAG;
}
#elif defined(CONFIG_PER_VMA_LOCK) && defined(PTSCOPE_HAVE_VMA_LOCK_RWSEM)
static inline bool ptscope_vma_read_lock_locked(struct vm_area_struct *vma)
{
	mmap_assert_locked(vma->vm_mm);
	down_read(&vma->vm_lock->lock);
	return true;
}

static inline bool ptscope_vma_lock_contended(struct vm_area_struct *vma)
{
	return rwsem_is_contended(&vma->vm_lock->lock);
}
#else
static inline bool ptscope_vma_read_lock_locked(struct vm_area_struct *vma)
{
	return false;
}

static inline bool ptscope_vma_lock_contended(struct vm_area_struct *vma)
{
	return false;
}

#endif

static inline void ptscope_vma_read_unlock(struct vm_area_struct *vma)
{
#ifdef CONFIG_PER_VMA_LOCK
	vma_end_read(vma);
#endif
}

/*
 * lock_vma_under_rcu() (exported from 7.x): the VMA covering @addr, found
 * and read-locked under RCU alone, with no mmap_lock; NULL where it cannot
 * (no VMA there, one being changed, a reader count at its limit). Without
 * the export, PTSCOPE_LOCK_VMA_RCU is false: mmap_lock it is.
 */
#if defined(CONFIG_PER_VMA_LOCK) && defined(PTSCOPE_HAVE_LOCK_VMA_UNDER_RCU_EXPORT)
#define PTSCOPE_LOCK_VMA_RCU	true
static inline struct vm_area_struct *ptscope_lock_vma_rcu(struct mm_struct *mm,
							  unsigned long addr)
{
	return lock_vma_under_rcu(mm, addr);
}
#else
#define PTSCOPE_LOCK_VMA_RCU	false
static inline struct vm_area_struct *ptscope_lock_vma_rcu(struct mm_struct *mm,
							  unsigned long addr)
{
	return NULL;
}
#endif

/*
 * The probe behind PTSCOPE_WATCH_FAULT_DETAIL (counters.c): fprobe where
 * its handlers get ftrace_regs and its exit handler rides function-graph
 * tracing (7.x; 6.x's fprobe passed pt_regs and returned through rethook)
 * and a kprobe would be a BRK exception (no KPROBES_ON_FTRACE: arm64); a
 * kretprobe elsewhere. With kprobes on ftrace (x86) the kretprobe is the
 * cheaper of the two: make bench ICOUNT=1, 7.3, 1.107 against fprobe's 1.121.
 */
#if defined(CONFIG_FPROBE) && defined(PTSCOPE_HAVE_FPROBE_FREGS)
#ifndef CONFIG_KPROBES_ON_FTRACE
#define PTSCOPE_FAULT_FPROBE
#endif
#endif
#ifdef PTSCOPE_FAULT_FPROBE
#include <linux/fprobe.h>
#else
#include <linux/kprobes.h>
#endif

/*
 * mmap_lock_speculate_try_begin() and _retry() (7.x): mmap_lock's write
 * sequence, for a reader under RCU to learn that nobody took mmap_lock for
 * write meanwhile, and so changed no VMA, as lock_next_vma() asks before it
 * looks a VMA up again. Without them, or per-VMA locks: no speculation
 * begins, and the caller always looks again.
 */
#if defined(CONFIG_PER_VMA_LOCK) && defined(PTSCOPE_HAVE_MMAP_LOCK_SPECULATE)
static inline bool ptscope_mmap_speculate_begin(struct mm_struct *mm, unsigned int *seq)
{
	return mmap_lock_speculate_try_begin(mm, seq);
}

static inline bool ptscope_mmap_speculate_retry(struct mm_struct *mm, unsigned int seq)
{
	return mmap_lock_speculate_retry(mm, seq);
}
#else
static inline bool ptscope_mmap_speculate_begin(struct mm_struct *mm, unsigned int *seq)
{
	return false;
}

static inline bool ptscope_mmap_speculate_retry(struct mm_struct *mm, unsigned int seq)
{
	return true;
}
#endif

#endif /* _PTSCOPE_COMPAT_H */
