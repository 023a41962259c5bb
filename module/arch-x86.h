/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptscope on x86-64: the inline half of arch-x86.c, for the walker's inner
 * loops. Kbuild force-includes the header of the architecture it builds for.
 */
#ifndef _PTSCOPE_ARCH_X86_H
#define _PTSCOPE_ARCH_X86_H

#include <linux/pgtable.h>

/* The frame bits of a present PTE, of a PMD leaf (PAT_LARGE is bit 12). */
#define PTSCOPE_ARCH_PTE_FRAME_MASK	PTE_PFN_MASK
#define PTSCOPE_ARCH_PMD_FRAME_MASK	PHYSICAL_PMD_PAGE_MASK
/*
 * A non-present entry's bits below its swap offset, the only ones a reader
 * without CAP_SYS_ADMIN sees (type and inverted offset live above
 * SWP_OFFSET_FIRST_BIT, and so does a migration entry's PFN).
 */
#define PTSCOPE_ARCH_SWP_FLAG_BITS	SWP_OFFSET_FIRST_BIT

/*
 * A small struct is copied out to the caller with word stores in one user
 * access window (unsafe_copy_to_user()), not copy_to_user()'s rep movs.
 */
#define PTSCOPE_ARCH_COPY_OUT_WORDS	1

/* Nothing to keep across the PTEs of a table (see arch-arm64.h). */
struct ptscope_arch_ptes {
};

static __always_inline void ptscope_arch_ptes_init(struct ptscope_arch_ptes *s)
{
}

/*
 * ptscope_arch_ptep_get - read a PTE: the kernel's view of it, and the
 * descriptor as the MMU reads it from memory. x86 has one PTE per page:
 * both are the same word.
 */
static __always_inline pte_t ptscope_arch_ptep_get(pte_t *ptep, u64 *desc,
						   struct ptscope_arch_ptes *s)
{
	pte_t pte = ptep_get(ptep);

	*desc = pte_val(pte);
	return pte;
}

/* A PTE's descriptor alone, for a test that needs no view (ptes_none()). */
static __always_inline u64 ptscope_arch_pte_desc(pte_t *ptep)
{
	return pte_val(ptep_get(ptep));
}

/* The kernel's view of a PTE always is its descriptor (see above). */
#define PTSCOPE_ARCH_VIEW_DIFFERS	0

#endif /* _PTSCOPE_ARCH_X86_H */
