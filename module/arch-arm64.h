/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptscope on arm64: the inline half of arch-arm64.c, for the walker's inner
 * loops. Kbuild force-includes the header of the architecture it builds for.
 */
#ifndef _PTSCOPE_ARCH_ARM64_H
#define _PTSCOPE_ARCH_ARM64_H

#include <linux/pgtable.h>

/*
 * The output-address bits of a descriptor, of every level: with LPA2 (52-bit
 * physical addresses with 4 or 16 KiB pages) bits 8-9 are address bits 50-51
 * where they otherwise are the shareability field, as __pte_to_phys() reads
 * them. A block's low address bits are zero (RES0). Whether LPA2 is on is
 * read from TCR_EL1 (lpa2_is_enabled()): once, at load, into
 * ptscope_arm64_lpa2 and the mask, not for each entry the walker compares
 * (a system register read, which QEMU's TCG checks access to in a helper).
 */
#ifdef PTE_ADDR_HIGH
extern u64 ptscope_arm64_frame_mask;
#define PTSCOPE_ARCH_PTE_FRAME_MASK	ptscope_arm64_frame_mask
#else
#define PTSCOPE_ARCH_PTE_FRAME_MASK	PTE_ADDR_LOW
#endif
#define PTSCOPE_ARCH_PMD_FRAME_MASK	PTSCOPE_ARCH_PTE_FRAME_MASK
/*
 * A non-present entry's bits below its swap type (exclusive, uffd-wp), the
 * only ones a reader without CAP_SYS_ADMIN sees: the type, offset and a
 * migration entry's PFN live above __SWP_TYPE_SHIFT.
 */
#define PTSCOPE_ARCH_SWP_FLAG_BITS	__SWP_TYPE_SHIFT

/*
 * A small struct is copied out with copy_to_user(): its ldp/stp loop moves
 * 64 bytes a turn, unsafe_copy_to_user() 8 (VTOP's 320 bytes: about 290 ns
 * less per call, by icount).
 */
#define PTSCOPE_ARCH_COPY_OUT_WORDS	0

/*
 * Since 6.9 (CONFIG_ARM64_CONTPTE) the kernel maps an aligned part of a
 * large folio with the contiguous bit (CONT_PTES entries), and the MMU may
 * set the access flag or clear the read-only bit (DBM: dirty) in any one
 * of them: ptep_get() folds the young and dirty bits of the whole block
 * into each entry (contpte_ptep_get(), which reads the block again for
 * every entry asked about), __ptep_get() reads the one descriptor. The
 * walker decodes the kernel's view (what pagemap, smaps and reclaim see)
 * and reports the descriptor's own bits as PTSCOPE_B_ARM64_*.
 *
 * struct ptscope_arch_ptes: what the walker keeps while it reads one PTE
 * table under its lock, the block it folded last: a block is folded once
 * for all of its entries (ptscope_arm64_fold_block()). Under the lock a
 * block cannot be unfolded or changed, but for the bits the MMU sets,
 * which ptep_get() may miss as well.
 */
struct ptscope_arch_ptes {
	pte_t *block;		/* the first entry of the block folded, or NULL */
	bool young;		/* an entry of it is young */
	bool dirty;		/* an entry of it is dirty (pte_dirty()) */
};

static __always_inline void ptscope_arch_ptes_init(struct ptscope_arch_ptes *s)
{
	s->block = NULL;
}

void ptscope_arm64_fold_block(pte_t *block, struct ptscope_arch_ptes *s);

/*
 * ptscope_arch_ptep_get - read a PTE of the table @s was set up for: the
 * kernel's view of it, as ptep_get() returns it, and the descriptor as the
 * MMU reads it from memory (@desc)
 */
static __always_inline pte_t ptscope_arch_ptep_get(pte_t *ptep, u64 *desc,
						   struct ptscope_arch_ptes *s)
{
	pte_t pte = __ptep_get(ptep);
	pte_t *block;

	*desc = pte_val(pte);
	if (!IS_ENABLED(CONFIG_ARM64_CONTPTE) || !pte_valid_cont(pte))
		return pte;
	block = PTR_ALIGN_DOWN(ptep, sizeof(*ptep) * CONT_PTES);
	if (block != s->block)
		ptscope_arm64_fold_block(block, s);
	if (s->dirty)
		pte = pte_mkdirty(pte);
	if (s->young)
		pte = pte_mkyoung(pte);
	return pte;
}

/* A PTE's descriptor alone, for a test that needs no view (ptes_none()). */
static __always_inline u64 ptscope_arch_pte_desc(pte_t *ptep)
{
	return pte_val(__ptep_get(ptep));
}

/* A contiguous block's entries may be seen other than they are (above). */
#define PTSCOPE_ARCH_VIEW_DIFFERS	1

#endif /* _PTSCOPE_ARCH_ARM64_H */
