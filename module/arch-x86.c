// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope on x86-64: everything that reads x86's own page-table formats or
 * x86-only kernel hooks, behind the interface of ptscope.h ("arch-*.c").
 *
 *  - Entries: present leaves and table entries share one layout at every
 *    level (a PMD or PUD leaf is read as a PTE, __pte(pmd_val(pmd))), but
 *    for the PAT bit, which a large leaf keeps in bit 12, the lowest frame
 *    bit of a PTE. Without _PAGE_PRESENT the global bit is _PAGE_PROTNONE.
 *  - Counters: tlb:tlb_flush (with sched:sched_switch to charge a task
 *    switch to the mm switched to) and exceptions:page_fault_user, x86's
 *    own tracepoints (see counters.c for the rules every hook follows).
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/swapops.h>
#include <linux/tracepoint.h>
#include <asm/tlbflush.h>
#include <asm/trap_pf.h>

#include "ptscope.h"

/* --- entries ------------------------------------------------------------ */

/* Bits common to present entries of every level. */
static u64 decode_flags(unsigned long flags, bool leaf, bool large)
{
	u64 bits = 0;

	if (flags & _PAGE_PRESENT)
		bits |= PTSCOPE_B_PRESENT;
	if (flags & _PAGE_RW)
		bits |= PTSCOPE_B_WRITE;
	if (flags & _PAGE_USER)
		bits |= PTSCOPE_B_USER;
	if (flags & _PAGE_ACCESSED)
		bits |= PTSCOPE_B_ACCESSED;
	if (flags & _PAGE_PWT)
		bits |= PTSCOPE_B_PWT;
	if (flags & _PAGE_PCD)
		bits |= PTSCOPE_B_PCD;
	if (flags & _PAGE_NX)
		bits |= PTSCOPE_B_NX;
	if (!leaf)
		return bits;
	bits |= PTSCOPE_B_LEAF;
	if (flags & PTSCOPE_PAGE_DIRTY_BITS)
		bits |= PTSCOPE_B_DIRTY;
	/* Without _PAGE_PRESENT, the global bit is _PAGE_PROTNONE. */
	if ((flags & (_PAGE_PRESENT | _PAGE_GLOBAL)) == (_PAGE_PRESENT | _PAGE_GLOBAL))
		bits |= PTSCOPE_B_GLOBAL;
	if (flags & (large ? _PAGE_PAT_LARGE : _PAGE_PAT))
		bits |= PTSCOPE_B_PAT;
	if (flags & _PAGE_SOFT_DIRTY)
		bits |= PTSCOPE_B_SOFT_DIRTY;
	if (flags & _PAGE_SPECIAL)
		bits |= PTSCOPE_B_SPECIAL;
	if (flags & PTSCOPE_PAGE_DEVMAP)
		bits |= PTSCOPE_B_DEVMAP;
	if ((flags & (_PAGE_PRESENT | _PAGE_PROTNONE)) == _PAGE_PROTNONE)
		bits |= PTSCOPE_B_PROTNONE;
	return bits;
}

/**
 * ptscope_arch_decode_leaf - the bits, frame and key of a present leaf
 * @pte:   the leaf, as the kernel sees it; a PMD or PUD leaf read as a PTE
 * @desc:  its descriptor (on x86, pte_val(@pte))
 * @large: a PMD or PUD leaf (PAT sits in another bit)
 * @e:     bits, pfn and pkey filled in
 */
void ptscope_arch_decode_leaf(pte_t pte, u64 desc, bool large, struct ptscope_entry *e)
{
	/* A PMD or PUD leaf's PAT bit is bit 12, a PTE's lowest frame bit. */
	unsigned long flags = large ? pmd_flags(__pmd(pte_val(pte))) : pte_flags(pte);

	e->bits = decode_flags(flags, true, large);
	e->pfn = large ? pmd_pfn(__pmd(pte_val(pte))) : pte_pfn(pte);
	e->pkey = pte_flags_pkey(flags);
}

/**
 * ptscope_arch_decode_table - the bits and next table of a table entry
 * @raw: the entry, of any level above the PTEs
 * @e:   bits and pfn filled in
 */
void ptscope_arch_decode_table(u64 raw, struct ptscope_entry *e)
{
	e->bits = decode_flags(raw & ~PTE_PFN_MASK, false, false);
	e->pfn = (raw & PTE_PFN_MASK) >> PAGE_SHIFT;
}

/* PTSCOPE_FEAT_* of x86's own: none. */
u64 ptscope_arch_features(void)
{
	return 0;
}

/* What PTSCOPE_IOC_VERSION says of x86-64: no contiguous blocks. */
void ptscope_arch_version(struct ptscope_version *v)
{
	v->arch = PTSCOPE_ARCH_X86_64;
}

/* The architecture's own bits (PTSCOPE_B_ARCH_MASK) for debugfs: none. */
void ptscope_arch_show_bits(struct seq_file *m, u64 bits)
{
}

/* --- counters' hooks ------------------------------------------------------ */

/*
 * What a task switch is about to load: sched:sched_switch fires just before
 * context_switch() calls switch_mm_irqs_off(), which traces the flush while
 * current is still the previous task. @prev tells a context switch apart
 * from exec and kthread_use_mm(), where current->mm already is the new mm.
 */
struct ptscope_switch {
	struct task_struct *prev;
	struct mm_struct *next_mm;
};

static DEFINE_PER_CPU(struct ptscope_switch, ptscope_switch);

static void probe_sched_switch(void *data, bool preempt, struct task_struct *prev,
			       struct task_struct *next, unsigned int prev_state)
{
	this_cpu_write(ptscope_switch.prev, prev);
	this_cpu_write(ptscope_switch.next_mm, next->mm);
}

/*
 * tlb_flush_mm - the mm a tlb:tlb_flush event is charged to
 *
 * The tracepoint has no mm. A task switch is charged to the mm switched to.
 * Every other flush runs on the CPU that flushes, in the context of the
 * task it interrupted or runs: a local flush and an IPI sent belong to
 * current's mm. A remote shootdown runs in the IPI handler on the receiving
 * CPU; flush_tlb_func() returns without tracing unless the mm loaded there
 * (not lazily) is the mm being shot down, or the flush names no mm (a batched
 * flush after reclaim), so current->mm is the mm whose entries were flushed.
 */
static struct mm_struct *tlb_flush_mm(int reason)
{
	if (reason == TLB_FLUSH_ON_TASK_SWITCH &&
	    this_cpu_read(ptscope_switch.prev) == current)
		return this_cpu_read(ptscope_switch.next_mm);
	return current->mm;
}

static int tlb_reason_index(int reason)
{
	switch (reason) {
	case TLB_FLUSH_ON_TASK_SWITCH:	return PTSCOPE_TLB_TASK_SWITCH;
	case TLB_REMOTE_SHOOTDOWN:	return PTSCOPE_TLB_REMOTE_SHOOTDOWN;
	case TLB_LOCAL_SHOOTDOWN:	return PTSCOPE_TLB_LOCAL_SHOOTDOWN;
	case TLB_LOCAL_MM_SHOOTDOWN:	return PTSCOPE_TLB_LOCAL_MM_SHOOTDOWN;
	case TLB_REMOTE_SEND_IPI:	return PTSCOPE_TLB_REMOTE_SEND_IPI;
	default:			return -1;
	}
}

static void probe_tlb_flush(void *data, int reason, unsigned long pages)
{
	int i = tlb_reason_index(reason);

	if (i >= 0)
		ptscope_count_tlb(tlb_flush_mm(reason), i, pages == TLB_FLUSH_ALL, pages);
}

static void probe_page_fault_user(void *data, unsigned long address,
				  struct pt_regs *regs, unsigned long error_code)
{
	int access;

	if (error_code & X86_PF_INSTR)
		access = PTSCOPE_FLT_EXEC;
	else if (error_code & X86_PF_WRITE)
		access = PTSCOPE_FLT_WRITE;
	else
		access = PTSCOPE_FLT_READ;
	ptscope_count_fault(current->mm, access);
}

static struct ptscope_tp_hook x86_tp_hooks[] = {
	{ "sched_switch",	probe_sched_switch,	0 },
	{ "tlb_flush",		probe_tlb_flush,	PTSCOPE_CNT_F_TLB },
	{ "page_fault_user",	probe_page_fault_user,	PTSCOPE_CNT_F_FAULTS },
};

/**
 * ptscope_arch_tp_hooks - the architecture's tracepoints for the counters
 * @n: set to their number
 *
 * Return: the table, which counters.c fills in and attaches at load.
 */
struct ptscope_tp_hook *ptscope_arch_tp_hooks(unsigned int *n)
{
	*n = ARRAY_SIZE(x86_tp_hooks);
	return x86_tp_hooks;
}

/* Hooks other than tracepoints: x86 needs none. */
void ptscope_arch_counters_attach(void)
{
}

void ptscope_arch_counters_detach(void)
{
}

u32 ptscope_arch_counters_valid(void)
{
	return 0;
}

void ptscope_arch_counters_show(struct seq_file *m)
{
}

/* Nothing to read from the CPU at load. */
void ptscope_arch_init(void)
{
}
