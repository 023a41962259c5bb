/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything ptscope knows about kernel differences lives here, as feature
 * tests: Kbuild probes the kernel's headers and passes PTSCOPE_HAVE_*, and
 * the logic elsewhere calls the ptscope_* helpers below, never a version
 * test. Kbuild force-includes this file and refuses kernels outside 6.1 to
 * 6.12.
 */
#ifndef _PTSCOPE_COMPAT_H
#define _PTSCOPE_COMPAT_H

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

#endif /* _PTSCOPE_COMPAT_H */
