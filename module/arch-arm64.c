// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope on arm64: everything that reads arm64's own descriptor formats or
 * hooks only arm64 has, behind the interface of ptscope.h ("arch-*.c").
 *
 *  - Entries: VMSAv8-64 stage 1 descriptors, of 4 KiB or 16 KiB granules,
 *    with the kernel's software bits (pgtable-prot.h). A page (level 3) and
 *    a block (PMD or PUD leaf) share the layout of their attributes; the
 *    kernel reads a block as a PTE (pmd_pte()), and so does the walker. A
 *    present entry without the valid bit is the kernel's present-invalid
 *    state (PROT_NONE, or a PMD being split), where bit 11 (nG) marks it.
 *    Where the kernel folds a contiguous block's access and dirty bits into
 *    each entry (contpte, arch-arm64.h), the generic bits are the kernel's
 *    view and PTSCOPE_B_ARM64_* the descriptor's own.
 *  - The memory type is MAIR_EL1's attribute that AttrIndx selects, read
 *    from the register at load: the kernel programs it once, at boot, on
 *    every CPU alike (MT_NORMAL... in asm/memory.h, MAIR_EL1_SET in proc.S).
 *  - Counters: arm64 has no tracepoint on a fault exception and flushes TLBs
 *    with broadcast TLBI instructions inlined where they are needed, so no
 *    TLB flush is counted. Fault exceptions are counted from the software
 *    perf event that do_page_fault() raises for each (PERF_COUNT_SW_PAGE_
 *    FAULTS), with one CPU-bound kernel counter per online CPU whose overflow
 *    handler runs for every event (a period of 1 is never throttled) in the
 *    faulting task's context, preemption off; it cannot tell the access
 *    kind (see the uapi header).
 *
 * Locking: the per-CPU counters follow CPU hotplug, but are never created
 * or released in a hotplug callback: both take cpus_read_lock() (the
 * software event's static key), which the CPU going up or down holds for
 * writing, so doing it there deadlocks the hotplug. The callbacks only
 * mark a CPU going down (its counter, which perf detaches then, is stale)
 * and queue fault_sync_work, which releases stale counters and creates one
 * for each online CPU that lacks it, under fault_sync_lock, outside the
 * hotplug lock. Until it has run for a CPU that came up or went down, the
 * count says it is not whole. The handler only counts.
 */
#include <kunit/visibility.h>
#include <linux/bitfield.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/perf_event.h>
#include <linux/percpu.h>
#include <linux/pgtable.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/swapops.h>
#include <linux/workqueue.h>
#include <asm/cpufeature.h>
#include <asm/sysreg.h>

#include "ptscope.h"

/* --- entries ------------------------------------------------------------ */

/* MAIR_EL1, read at load (see the top of this file). */
static u64 ptscope_mair __ro_after_init;

/* lpa2_is_enabled() and the frame bits it decides, read at load (arch-arm64.h). */
static bool ptscope_arm64_lpa2 __ro_after_init;
#ifdef PTE_ADDR_HIGH
u64 ptscope_arm64_frame_mask __ro_after_init;
#endif

/* The memory type of a MAIR attribute byte (Arm ARM, MAIR_EL1.Attr<n>). */
static u64 mair_memtype(u8 attr)
{
	if (!(attr & 0xf0))
		switch (attr) {
		case 0x00:	return PTSCOPE_ARM64_MT_DEVICE_NGNRNE;
		case 0x04:	return PTSCOPE_ARM64_MT_DEVICE_NGNRE;
		default:	return PTSCOPE_ARM64_MT_DEVICE_OTHER;
		}
	switch (attr) {
	case 0xff:	return PTSCOPE_ARM64_MT_NORMAL;
	case 0xf0:	return PTSCOPE_ARM64_MT_NORMAL_TAGGED;
	case 0x44:	return PTSCOPE_ARM64_MT_NORMAL_NC;
	default:	return PTSCOPE_ARM64_MT_NORMAL_OTHER;
	}
}

/* The frame a descriptor points to, as pte_pfn() reads it, without TCR_EL1. */
static unsigned long desc_pfn(u64 desc)
{
#ifdef PTE_ADDR_HIGH
	desc &= ptscope_arm64_frame_mask;
	return ((desc & PTE_ADDR_LOW) | ((desc & PTE_ADDR_HIGH) << PTE_ADDR_HIGH_SHIFT)) >>
	       PAGE_SHIFT;
#else
	return pte_pfn(__pte(desc));
#endif
}

/* A leaf descriptor's own attributes, as PTSCOPE_B_ARM64_*. */
static u64 leaf_arch_bits(u64 desc)
{
	u64 idx = FIELD_GET(PTE_ATTRINDX_MASK, desc);
	u8 attr = ptscope_mair >> (idx * 8);
	u64 bits = 0;

	if (desc & PTE_VALID) {
		bits |= PTSCOPE_B_ARM64_VALID;
		/* Without the valid bit, nG is the kernel's present-invalid mark. */
		if (desc & PTE_NG)
			bits |= PTSCOPE_B_ARM64_NG;
	}
	if (desc & PTE_AF)
		bits |= PTSCOPE_B_ARM64_AF;
	if (desc & PTE_RDONLY)
		bits |= PTSCOPE_B_ARM64_AP_RO;
	if (desc & PTE_USER)
		bits |= PTSCOPE_B_ARM64_AP_EL0;
	if (desc & PTE_PXN)
		bits |= PTSCOPE_B_ARM64_PXN;
	if (desc & PTE_UXN)
		bits |= PTSCOPE_B_ARM64_UXN;
	if (desc & PTE_DBM)
		bits |= PTSCOPE_B_ARM64_DBM;
	if (desc & PTE_GP)
		bits |= PTSCOPE_B_ARM64_GP;
	if (desc & PTE_CONT)
		bits |= PTSCOPE_B_ARM64_CONT;
	if (desc & PTE_DIRTY)
		bits |= PTSCOPE_B_ARM64_SW_DIRTY;
	/* With LPA2 bits 8-9 are address bits; TCR_EL1.SH says for all. */
	if (ptscope_arm64_lpa2)
		bits |= PTSCOPE_B_ARM64_SH_TCR;
	else
		bits |= FIELD_PREP(PTSCOPE_B_ARM64_SH_MASK, FIELD_GET(PTE_SHARED, desc));
	bits |= FIELD_PREP(PTSCOPE_B_ARM64_ATTR_MASK, idx);
	bits |= FIELD_PREP(PTSCOPE_B_ARM64_MT_MASK, mair_memtype(attr));
	bits |= FIELD_PREP(PTSCOPE_B_ARM64_MAIR_MASK, attr);
	return bits;
}

/**
 * ptscope_arch_decode_leaf - the bits, frame and key of a present leaf
 * @pte:   the leaf as the kernel sees it; a PMD or PUD leaf read as a PTE
 * @desc:  its descriptor, as the MMU reads it
 * @large: a PMD or PUD leaf (a block): the same layout on arm64
 * @e:     bits, pfn and pkey filled in
 */
void ptscope_arch_decode_leaf(pte_t pte, u64 desc, bool large, struct ptscope_entry *e)
{
	u64 bits = PTSCOPE_B_LEAF;

	if (pte_write(pte))
		bits |= PTSCOPE_B_WRITE;
	/* EL0 may read or write it (AP[1]), or execute it (UXN clear). */
	if (pte_user(pte) || pte_user_exec(pte))
		bits |= PTSCOPE_B_USER;
	if (pte_young(pte))
		bits |= PTSCOPE_B_ACCESSED;
	if (pte_dirty(pte))
		bits |= PTSCOPE_B_DIRTY;
	if (!pte_user_exec(pte))
		bits |= PTSCOPE_B_NX;
	if (pte_soft_dirty(pte))
		bits |= PTSCOPE_B_SOFT_DIRTY;
	if (pte_special(pte))
		bits |= PTSCOPE_B_SPECIAL;
	if (ptscope_pte_devmap(pte))
		bits |= PTSCOPE_B_DEVMAP;
	/* PROT_NONE: present-invalid, and neither EL0 access nor execute. */
	if (!pte_valid(pte) && !pte_user(pte) && !pte_user_exec(pte))
		bits |= PTSCOPE_B_PROTNONE;
	e->bits = bits | leaf_arch_bits(desc);
	e->pfn = desc_pfn(pte_val(pte));
	/* FEAT_S1POE: the permission overlay index, arm64's protection key. */
	if (system_supports_poe())
		e->pkey = FIELD_GET(PTE_PO_IDX_MASK, desc);
}

/**
 * ptscope_arm64_fold_block - fold the young and dirty bits of a contiguous block
 * @block: its first entry, in a PTE table whose lock the caller holds
 * @s:     the bits, for each entry of the block (ptscope_arch_ptep_get())
 *
 * What contpte_ptep_get() (6.9+) folds into each entry it is asked about:
 * the block is young when one of its entries is (the access flag), dirty
 * when one is (pte_dirty(): the software dirty bit, or writable with the
 * read-only bit cleared by DBM); each entry's view is then its descriptor
 * with pte_mkyoung() and pte_mkdirty() applied.
 */
void ptscope_arm64_fold_block(pte_t *block, struct ptscope_arch_ptes *s)
{
	unsigned int i;

	s->block = block;
	s->young = false;
	s->dirty = false;
	for (i = 0; i < CONT_PTES && !(s->young && s->dirty); i++) {
		pte_t pte = __ptep_get(block + i);

		s->young |= pte_young(pte);
		s->dirty |= pte_dirty(pte);
	}
}
EXPORT_SYMBOL_IF_KUNIT(ptscope_arm64_fold_block);

/**
 * ptscope_arch_decode_table - the bits and next table of a table descriptor
 * @raw: the entry, of any level above the PTEs
 * @e:   bits and pfn filled in
 *
 * Its hierarchical attributes limit everything below it: the generic bits
 * say what they leave allowed, as x86's do of its table entries.
 */
void ptscope_arch_decode_table(u64 raw, struct ptscope_entry *e)
{
	u64 bits = PTSCOPE_B_PRESENT;

	if (raw & PTE_VALID)
		bits |= PTSCOPE_B_ARM64_VALID;
	if (raw & PMD_TABLE_PXN)
		bits |= PTSCOPE_B_ARM64_PXN_TABLE;
	if (raw & PMD_TABLE_UXN)
		bits |= PTSCOPE_B_ARM64_UXN_TABLE | PTSCOPE_B_NX;
	if (raw & BIT_ULL(61))
		bits |= PTSCOPE_B_ARM64_AP_TABLE_NO_EL0;
	else
		bits |= PTSCOPE_B_USER;
	if (raw & BIT_ULL(62))
		bits |= PTSCOPE_B_ARM64_AP_TABLE_RO;
	else
		bits |= PTSCOPE_B_WRITE;
	e->bits = bits;
	e->pfn = desc_pfn(raw);
}

/* PTSCOPE_FEAT_* of arm64's: LPA2's descriptor layout. */
u64 ptscope_arch_features(void)
{
	return ptscope_arm64_lpa2 ? PTSCOPE_FEAT_ARM64_LPA2 : 0;
}

/* What PTSCOPE_IOC_VERSION says of arm64: the contiguous blocks' sizes. */
void ptscope_arch_version(struct ptscope_version *v)
{
	v->arch = PTSCOPE_ARCH_ARM64;
	v->cont_shift[PTSCOPE_LEVEL_PTE] = CONT_PTE_SHIFT;
	v->cont_shift[PTSCOPE_LEVEL_PMD] = CONT_PMD_SHIFT;
}

static const char *const arm64_bit_names[] = {
	[32] = "valid", [33] = "af", [34] = "ng", [35] = "ap-ro", [36] = "ap-el0",
	[37] = "pxn", [38] = "uxn", [39] = "dbm", [40] = "gp", [41] = "cont",
	[42] = "sw-dirty", [43] = "sh-tcr",
	[52] = "pxn-table", [53] = "uxn-table", [54] = "ap-table-no-el0",
	[55] = "ap-table-ro",
};

static const char *const arm64_memtypes[] = {
	[PTSCOPE_ARM64_MT_NORMAL] = "normal",
	[PTSCOPE_ARM64_MT_NORMAL_TAGGED] = "normal-tagged",
	[PTSCOPE_ARM64_MT_NORMAL_NC] = "normal-nc",
	[PTSCOPE_ARM64_MT_NORMAL_OTHER] = "normal-other",
	[PTSCOPE_ARM64_MT_DEVICE_NGNRNE] = "device-ngnrne",
	[PTSCOPE_ARM64_MT_DEVICE_NGNRE] = "device-ngnre",
	[PTSCOPE_ARM64_MT_DEVICE_OTHER] = "device-other",
};

/* The architecture's own bits (PTSCOPE_B_ARCH_MASK), for debugfs. */
void ptscope_arch_show_bits(struct seq_file *m, u64 bits)
{
	unsigned int i, mt = FIELD_GET(PTSCOPE_B_ARM64_MT_MASK, bits);

	for (i = 32; i < ARRAY_SIZE(arm64_bit_names); i++)
		if ((bits & BIT_ULL(i)) && arm64_bit_names[i])
			seq_printf(m, " %s", arm64_bit_names[i]);
	if (!(bits & PTSCOPE_B_ARM64_SH_TCR) && mt)
		seq_printf(m, " sh=%llu", FIELD_GET(PTSCOPE_B_ARM64_SH_MASK, bits));
	if (mt)
		seq_printf(m, " attr=%llu(%s, mair %#llx)",
			   FIELD_GET(PTSCOPE_B_ARM64_ATTR_MASK, bits), arm64_memtypes[mt],
			   FIELD_GET(PTSCOPE_B_ARM64_MAIR_MASK, bits));
}

/* --- counters' hooks ------------------------------------------------------ */

/* No tracepoint of arm64's own (see the top of this file). */
struct ptscope_tp_hook *ptscope_arch_tp_hooks(unsigned int *n)
{
	*n = 0;
	return NULL;
}

static struct perf_event_attr fault_attr = {
	.type		= PERF_TYPE_SOFTWARE,
	.size		= sizeof(struct perf_event_attr),
	.config		= PERF_COUNT_SW_PAGE_FAULTS,
	.sample_period	= 1,
	.pinned		= 1,
	.exclude_kernel	= 1,
	.exclude_hv	= 1,
};

static DEFINE_PER_CPU(struct perf_event *, fault_event);
static DEFINE_PER_CPU(bool, fault_stale);	/* the CPU went down since */
static DEFINE_MUTEX(fault_sync_lock);	/* the counters, fault_attached */
static bool fault_attached;		/* counting: between attach and detach */
static int fault_cpuhp = -1;		/* the hotplug state, once set up */

/* A user-mode fault exception, in the faulting task's context. */
static void fault_overflow(struct perf_event *event, struct perf_sample_data *data,
			   struct pt_regs *regs)
{
	if (regs && user_mode(regs))
		ptscope_count_fault(current->mm, -1);
}

/*
 * fault_sync - a live counter on every online CPU, none on the others (see
 * the top of this file). A CPU that goes down while its counter is made
 * fails it (-ENODEV), or marks it stale again and queues this work, which
 * releases it on its next run. A failure otherwise leaves the CPU
 * uncounted, and the count not whole (never a lower count that looks
 * whole).
 */
static void fault_sync(struct work_struct *work)
{
	struct perf_event *event;
	unsigned int cpu;
	bool stale;

	mutex_lock(&fault_sync_lock);
	for_each_possible_cpu(cpu) {
		event = per_cpu(fault_event, cpu);
		stale = xchg(per_cpu_ptr(&fault_stale, cpu), false);
		if (event && (stale || !fault_attached)) {
			WRITE_ONCE(per_cpu(fault_event, cpu), NULL);
			perf_event_release_kernel(event);
			event = NULL;
		}
		if (fault_attached && cpu_online(cpu) && !event) {
			event = perf_event_create_kernel_counter(&fault_attr, cpu, NULL,
								 fault_overflow, NULL);
			if (IS_ERR(event)) {
				if (cpu_online(cpu))
					pr_warn_once("no page-fault counter on CPU %u: %ld\n",
						     cpu, PTR_ERR(event));
				continue;
			}
			WRITE_ONCE(per_cpu(fault_event, cpu), event);
		}
	}
	mutex_unlock(&fault_sync_lock);
}

static DECLARE_WORK(fault_sync_work, fault_sync);

/* A CPU came up: its counter is made outside the hotplug lock. */
static int fault_cpu_online(unsigned int cpu)
{
	queue_work(system_unbound_wq, &fault_sync_work);
	return 0;
}

/* A CPU goes down: perf detaches its counter, released outside the lock. */
static int fault_cpu_offline(unsigned int cpu)
{
	WRITE_ONCE(per_cpu(fault_stale, cpu), true);
	queue_work(system_unbound_wq, &fault_sync_work);
	return 0;
}

/* Create the fault counters on every online CPU, and on those to come. */
void ptscope_arch_counters_attach(void)
{
	int state;

	state = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "ptscope:faults",
					  fault_cpu_online, fault_cpu_offline);
	if (state < 0) {
		pr_warn_once("cannot count page faults: %d\n", state);
		return;
	}
	fault_cpuhp = state;
	mutex_lock(&fault_sync_lock);
	fault_attached = true;
	mutex_unlock(&fault_sync_lock);
	fault_sync(NULL);
}

/*
 * Release them. The handler may still run on another CPU: the caller's
 * grace period (counters.c) waits for it, as for the tracepoints.
 */
void ptscope_arch_counters_detach(void)
{
	if (fault_cpuhp < 0)
		return;
	cpuhp_remove_state_nocalls(fault_cpuhp);
	fault_cpuhp = -1;
	mutex_lock(&fault_sync_lock);
	fault_attached = false;
	mutex_unlock(&fault_sync_lock);
	cancel_work_sync(&fault_sync_work);
	fault_sync(NULL);
}

/* Every online CPU has its counter (racy by nature: hotplug may be under way). */
static bool fault_counted_everywhere(void)
{
	unsigned int cpu;

	if (work_pending(&fault_sync_work))
		return false;
	for_each_online_cpu(cpu)
		if (!READ_ONCE(per_cpu(fault_event, cpu)) || READ_ONCE(per_cpu(fault_stale, cpu)))
			return false;
	return true;
}

/* What the counters get from here: PTSCOPE_CNT_F_*. */
u32 ptscope_arch_counters_valid(void)
{
	return READ_ONCE(fault_cpuhp) >= 0 && fault_counted_everywhere() ?
	       PTSCOPE_CNT_F_FAULT_TOTAL : 0;
}

void ptscope_arch_counters_show(struct seq_file *m)
{
	if (fault_cpuhp >= 0)
		seq_puts(m, " perf:page-faults");
}

/* Read what decoding needs from the CPU, at load. */
void ptscope_arch_init(void)
{
	ptscope_mair = read_sysreg(mair_el1);
	ptscope_arm64_lpa2 = lpa2_is_enabled();
#ifdef PTE_ADDR_HIGH
	ptscope_arm64_frame_mask = PTE_ADDR_LOW | (PTE_ADDR_HIGH & ~PTE_MAYBE_SHARED);
#endif
}
