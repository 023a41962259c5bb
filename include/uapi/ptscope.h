/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ptscope: the binary interface of /dev/ptscope.
 *
 * Rules every command follows (Documentation/driver-api/ioctl.rst):
 *  - every argument struct starts with __u32 size, set by the caller to
 *    sizeof() of the struct it was compiled with; a size below the first
 *    version of the struct is -EINVAL, a larger one whose extra bytes are
 *    not zero is -E2BIG, so old and new callers keep working;
 *  - only __u32/__u64 fields, user pointers as __u64, no implicit padding,
 *    sizes a multiple of 8;
 *  - flags and reserved fields the caller does not know must be zero
 *    (-EINVAL otherwise);
 *  - bad user memory is -EFAULT; an unknown command is -ENOTTY.
 */
#ifndef _UAPI_PTSCOPE_H
#define _UAPI_PTSCOPE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PTSCOPE_ABI_MAJOR	1
/*
 * Minor 1: huge pages (PTSCOPE_IOC_HUGE_*); 2: PTSCOPE_WALK_NO_PAGE;
 * 3: architectures (struct ptscope_version.arch and what follows it, the
 * architecture's own bits PTSCOPE_B_ARCH_MASK, PTSCOPE_CNT_F_FAULT_TOTAL).
 */
#define PTSCOPE_ABI_MINOR	3

/* Not in Documentation/userspace-api/ioctl/ioctl-number.rst as of 6.12. */
#define PTSCOPE_IOC_MAGIC	0xB9

/* Feature bits reported by PTSCOPE_IOC_VERSION. */
#define PTSCOPE_FEAT_5LEVEL	(1ULL << 0)	/* the running kernel uses 5-level paging */
/* arm64 with LPA2: bits 8-9 of every descriptor are address bits 50-51 (ABI 1.3) */
#define PTSCOPE_FEAT_ARM64_LPA2	(1ULL << 1)

/* struct ptscope_version.arch: whose page tables the module reads */
enum ptscope_arch {
	PTSCOPE_ARCH_UNKNOWN = 0,	/* a module before ABI 1.3: x86-64 */
	PTSCOPE_ARCH_X86_64,
	PTSCOPE_ARCH_ARM64,
};

/**
 * struct ptscope_version - ABI version and features of the loaded module
 * @size:      in: sizeof(struct ptscope_version)
 * @flags:     in: must be 0
 * @abi_major: out: PTSCOPE_ABI_MAJOR of the module; a caller built for
 *             another major must not use any other command
 * @abi_minor: out: PTSCOPE_ABI_MINOR of the module; minors only add
 * @features:  out: PTSCOPE_FEAT_* bits
 * @page_size: out: PAGE_SIZE of the running kernel
 * @pgtable_levels: out: page-table levels in use (3 to 5)
 * @reserved:  in: must be 0
 * @arch:      out (ABI 1.3): enum ptscope_arch; what the bits of
 *             PTSCOPE_B_ARCH_MASK mean
 * @reserved1: out: 0
 * @level_shift: out (ABI 1.3): by enum ptscope_level, log2 of the bytes one
 *             entry of that level maps (x86-64: 12, 21, 30, 39, 48; arm64
 *             with 16 KiB pages: 14, 25, 36, 47); 0 for a level the kernel
 *             folds away (with 4 levels, P4D: the top table's entries are
 *             PGD entries)
 * @cont_shift: out (ABI 1.3): by level, log2 of the bytes a contiguous
 *             block of entries maps (arm64's contiguous bit: 64 KiB of PTEs
 *             and 32 MiB of PMDs with 4 KiB pages, 2 MiB and 1 GiB with
 *             16 KiB); 0 where there is none
 * @reserved2: out: 0
 *
 * The fields after @reserved are new in ABI 1.3: a caller with an older
 * (smaller) struct gets the first part only, and a module older than 1.3
 * leaves them as the caller set them (0).
 */
struct ptscope_version {
	__u32 size;
	__u32 flags;
	__u32 abi_major;
	__u32 abi_minor;
	__u64 features;
	__u32 page_size;
	__u32 pgtable_levels;
	__u64 reserved[4];
	/* ABI 1.3 */
	__u32 arch;
	__u32 reserved1;
	__u32 level_shift[6];
	__u32 cont_shift[6];
	__u64 reserved2[2];
};

/* sizeof(struct ptscope_version) before ABI 1.3: the smallest accepted */
#define PTSCOPE_VERSION_SIZE_VER0	64

/*
 * The command keeps the number it had with the struct's first version (64
 * bytes): a struct that grows keeps its command, and its own size field
 * tells the versions apart, so callers built before ABI 1.3 still reach it.
 */
#define PTSCOPE_IOC_VERSION	_IOC(_IOC_READ | _IOC_WRITE, PTSCOPE_IOC_MAGIC, 0x00, \
				     PTSCOPE_VERSION_SIZE_VER0)

/*
 * Command numbers: 0x00-0x0f version, target and page tables; 0x10-0x1f
 * TLB and fault counters; 0x20-0x2f huge pages.
 */

/* ------------------------------------------------------------------------
 * Target selection. Each open file has one target process; the queries
 * below read it. Selecting needs no privilege for the caller's own process;
 * another process needs CAP_SYS_PTRACE and the kernel's permission to open
 * its /proc/PID/pagemap (LSMs included), checked again at every query
 * (-EPERM otherwise). Physical addresses and PFNs read back as 0 without
 * CAP_SYS_ADMIN, as in pagemap.
 */

/**
 * struct ptscope_target - select the process whose page tables are read
 * @size:     in: sizeof(struct ptscope_target)
 * @flags:    in: must be 0
 * @pid:      in: process id in the caller's pid namespace; 0, negative or
 *            gone: -ESRCH; a kernel thread (no mm): -EINVAL
 * @pgtable_levels: out: page-table levels of the target (3 to 5)
 * @task_size: out: the top of the target's user address space
 * @reserved: in: must be 0
 */
struct ptscope_target {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 pgtable_levels;
	__u64 task_size;
	__u64 reserved[4];
};

#define PTSCOPE_IOC_TARGET	_IOWR(PTSCOPE_IOC_MAGIC, 0x01, struct ptscope_target)

/* Levels, as numbered in struct ptscope_run and struct ptscope_vtop. */
enum ptscope_level {
	PTSCOPE_LEVEL_PTE = 1,
	PTSCOPE_LEVEL_PMD = 2,
	PTSCOPE_LEVEL_PUD = 3,
	PTSCOPE_LEVEL_P4D = 4,
	PTSCOPE_LEVEL_PGD = 5,
};

/* What an entry is. */
enum ptscope_kind {
	PTSCOPE_KIND_NONE = 0,		/* empty (pte_none) */
	PTSCOPE_KIND_TABLE,		/* points to a lower-level table */
	PTSCOPE_KIND_PAGE,		/* present leaf: maps a page */
	PTSCOPE_KIND_SWAP,		/* swapped out: swap_type, swap_offset */
	/*
	 * Migration entry: PTSCOPE_B_MIGRATION_*, and ACCESSED and DIRTY when
	 * it kept the page's young and dirty bits; pfn is the page's.
	 */
	PTSCOPE_KIND_MIGRATION,
	PTSCOPE_KIND_DEVICE_PRIVATE,	/* device-private memory */
	PTSCOPE_KIND_DEVICE_EXCLUSIVE,	/* device-exclusive entry */
	PTSCOPE_KIND_HWPOISON,		/* poisoned page */
	PTSCOPE_KIND_MARKER,		/* PTE marker (uffd-wp, poisoned, guard) */
	PTSCOPE_KIND_BAD,		/* a corrupt upper-level entry */
};

/* Decoded bits of an entry (struct ptscope_run.bits, ptscope_vtop_level.bits). */
#define PTSCOPE_B_PRESENT	(1ULL << 0)
#define PTSCOPE_B_WRITE		(1ULL << 1)
#define PTSCOPE_B_USER		(1ULL << 2)
#define PTSCOPE_B_ACCESSED	(1ULL << 3)	/* "young" */
#define PTSCOPE_B_DIRTY		(1ULL << 4)
#define PTSCOPE_B_GLOBAL	(1ULL << 5)
#define PTSCOPE_B_NX		(1ULL << 6)
#define PTSCOPE_B_LEAF		(1ULL << 7)	/* PSE at PMD/PUD level; every present PTE */
#define PTSCOPE_B_PWT		(1ULL << 8)
#define PTSCOPE_B_PCD		(1ULL << 9)
#define PTSCOPE_B_PAT		(1ULL << 10)
#define PTSCOPE_B_SOFT_DIRTY	(1ULL << 11)
#define PTSCOPE_B_UFFD_WP	(1ULL << 12)
#define PTSCOPE_B_SPECIAL	(1ULL << 13)	/* no struct page behind it (PFN map) */
#define PTSCOPE_B_DEVMAP	(1ULL << 14)
#define PTSCOPE_B_PROTNONE	(1ULL << 15)	/* NUMA-hinting / PROT_NONE entry */
#define PTSCOPE_B_MIGRATION_READ	(1ULL << 16)
#define PTSCOPE_B_MIGRATION_WRITE	(1ULL << 17)
#define PTSCOPE_B_MIGRATION_EXCL	(1ULL << 18)
#define PTSCOPE_B_SWP_EXCLUSIVE	(1ULL << 19)	/* swap entry of an exclusive anon page */

/*
 * Bits 0-31 mean the same on every architecture (PWT, PCD, PAT and GLOBAL
 * are x86's and set on x86 only); bits 32-63 are the architecture's own
 * terms for the entry (ABI 1.3), as struct ptscope_version.arch says: none
 * on x86-64, whose own terms are bits 0-31.
 */
#define PTSCOPE_B_ARCH_MASK	0xffffffff00000000ULL

/*
 * arm64 (PTSCOPE_ARCH_ARM64), from the descriptor as the MMU reads it (the
 * raw entry), in the Arm ARM's names. A leaf (page or block):
 */
#define PTSCOPE_B_ARM64_VALID	(1ULL << 32)	/* valid: the MMU uses it (clear: PROT_NONE) */
#define PTSCOPE_B_ARM64_AF	(1ULL << 33)	/* Access Flag of this descriptor */
#define PTSCOPE_B_ARM64_NG	(1ULL << 34)	/* not global: TLB entries tagged by ASID */
#define PTSCOPE_B_ARM64_AP_RO	(1ULL << 35)	/* AP[2]: read-only (DBM may lift it) */
#define PTSCOPE_B_ARM64_AP_EL0	(1ULL << 36)	/* AP[1]: EL0 (user) data access */
#define PTSCOPE_B_ARM64_PXN	(1ULL << 37)	/* privileged execute-never */
#define PTSCOPE_B_ARM64_UXN	(1ULL << 38)	/* unprivileged (user) execute-never */
#define PTSCOPE_B_ARM64_DBM	(1ULL << 39)	/* Dirty Bit Modifier: the kernel's writable */
#define PTSCOPE_B_ARM64_GP	(1ULL << 40)	/* Guarded Page (BTI) */
#define PTSCOPE_B_ARM64_CONT	(1ULL << 41)	/* Contiguous hint: part of an aligned block */
#define PTSCOPE_B_ARM64_SW_DIRTY (1ULL << 42)	/* the kernel's software dirty bit (PTE_DIRTY) */
#define PTSCOPE_B_ARM64_SH_TCR	(1ULL << 43)	/* LPA2: shareability from TCR, not the entry */
#define PTSCOPE_B_ARM64_SH_SHIFT	44	/* SH[1:0]: 0 non-, 2 outer, 3 inner shareable */
#define PTSCOPE_B_ARM64_SH_MASK	(3ULL << PTSCOPE_B_ARM64_SH_SHIFT)
#define PTSCOPE_B_ARM64_ATTR_SHIFT	46	/* AttrIndx[2:0]: MAIR_EL1 attribute number */
#define PTSCOPE_B_ARM64_ATTR_MASK	(7ULL << PTSCOPE_B_ARM64_ATTR_SHIFT)
#define PTSCOPE_B_ARM64_MT_SHIFT	49	/* enum ptscope_arm64_memtype */
#define PTSCOPE_B_ARM64_MT_MASK	(7ULL << PTSCOPE_B_ARM64_MT_SHIFT)
/* A table entry's hierarchical attributes, limiting every entry below it: */
#define PTSCOPE_B_ARM64_PXN_TABLE	(1ULL << 52)
#define PTSCOPE_B_ARM64_UXN_TABLE	(1ULL << 53)
#define PTSCOPE_B_ARM64_AP_TABLE_NO_EL0	(1ULL << 54)	/* APTable[0] */
#define PTSCOPE_B_ARM64_AP_TABLE_RO	(1ULL << 55)	/* APTable[1] */
/* A leaf: the MAIR_EL1 attribute byte that AttrIndx selects. */
#define PTSCOPE_B_ARM64_MAIR_SHIFT	56
#define PTSCOPE_B_ARM64_MAIR_MASK	(0xffULL << PTSCOPE_B_ARM64_MAIR_SHIFT)

/* PTSCOPE_B_ARM64_MT_MASK: the memory type, from the MAIR_EL1 attribute */
enum ptscope_arm64_memtype {
	PTSCOPE_ARM64_MT_NONE = 0,	/* not a leaf */
	PTSCOPE_ARM64_MT_NORMAL,	/* Normal, write-back (the kernel's MT_NORMAL) */
	PTSCOPE_ARM64_MT_NORMAL_TAGGED,	/* Normal, write-back, MTE tags (MT_NORMAL_TAGGED) */
	PTSCOPE_ARM64_MT_NORMAL_NC,	/* Normal, non-cacheable (MT_NORMAL_NC) */
	PTSCOPE_ARM64_MT_NORMAL_OTHER,	/* Normal, other cacheability (write-through...) */
	PTSCOPE_ARM64_MT_DEVICE_NGNRNE,	/* Device-nGnRnE (MT_DEVICE_nGnRnE) */
	PTSCOPE_ARM64_MT_DEVICE_NGNRE,	/* Device-nGnRE (MT_DEVICE_nGnRE) */
	PTSCOPE_ARM64_MT_DEVICE_OTHER,	/* Device-nGRE or Device-GRE */
};

/* What the mapped page is (struct ptscope_run.page), when cheap and safe to tell. */
#define PTSCOPE_PAGE_ANON	(1U << 0)
#define PTSCOPE_PAGE_FILE	(1U << 1)
#define PTSCOPE_PAGE_SHMEM	(1U << 2)
#define PTSCOPE_PAGE_KSM	(1U << 3)
#define PTSCOPE_PAGE_ZERO	(1U << 4)	/* the shared zero page */
#define PTSCOPE_PAGE_EXCLUSIVE	(1U << 5)	/* mapped once (pagemap's MMAP_EXCLUSIVE) */
#define PTSCOPE_PAGE_HUGETLB	(1U << 6)
#define PTSCOPE_PAGE_THP	(1U << 7)	/* part of a transparent huge folio */

/**
 * struct ptscope_run - a run of adjacent entries at one level
 * @start:      out: virtual address of the first entry
 * @count:      out: number of entries; each maps 1 << @shift bytes
 * @entry:      out: raw value of the first entry (PFN bits cleared without
 *              CAP_SYS_ADMIN)
 * @pfn:        out: PFN of the first entry (PAGE), 0 when hidden or none;
 *              entry i maps @pfn + (i << (@shift - PAGE_SHIFT))
 * @table_pa:   out: physical address of the table the entry points to
 *              (TABLE), 0 when hidden
 * @bits:       out: PTSCOPE_B_*
 * @swap_offset: out: swap offset of the first entry (SWAP); consecutive
 * @swap_type:  out: swap device (SWAP)
 * @level:      out: enum ptscope_level
 * @kind:       out: enum ptscope_kind
 * @shift:      out: log2 of the bytes one entry maps (12, 21, 30, ... on
 *              x86-64; struct ptscope_version.level_shift has each level's)
 * @page:       out: PTSCOPE_PAGE_* of the first entry's page
 * @mapcount:   out: how many times the first entry's page is mapped (0 when
 *              hidden; PTSCOPE_PAGE_EXCLUSIVE still says "once")
 * @folio_order: out: order of the folio the first entry's page belongs to
 * @pkey:       out: protection key
 *
 * Entries merge into one run when they are adjacent, have the same level,
 * kind, bits, page, mapcount and folio order, and their PFNs (or swap
 * offsets) are consecutive. TABLE entries never merge.
 *
 * Hidden (without CAP_SYS_ADMIN, as pagemap hides PFNs): nothing depends
 * on physical placement or on other processes. PFNs, table addresses, swap
 * type and offset and the mapcount read 0, PTSCOPE_PAGE_KSM is never set,
 * @entry keeps only its flag bits (no frame; of a non-present entry only
 * the bits below the swap offset), and adjacent alike entries merge without
 * regard to frames or swap slots.
 */
struct ptscope_run {
	__u64 start;
	__u64 count;
	__u64 entry;
	__u64 pfn;
	__u64 table_pa;
	__u64 bits;
	__u64 swap_offset;
	__u32 swap_type;
	__u32 level;
	__u32 kind;
	__u32 shift;
	__u32 page;
	__u32 mapcount;
	__u32 folio_order;
	__u32 pkey;
};

/* struct ptscope_walk.flags */
#define PTSCOPE_WALK_TABLES	(1U << 0)	/* also report TABLE entries */
/*
 * The entries alone, not what is behind them (ABI 1.2): no page (page,
 * mapcount, folio_order 0) and no frame or swap slot (pfn, table_pa,
 * swap_type, swap_offset 0, entry without them, as a reader without
 * CAP_SYS_ADMIN sees them); runs merge on virtual adjacency and the bits.
 * What a presence or residency question needs (PAGEMAP_SCAN's
 * PAGE_IS_PRESENT), without reading a struct page per entry.
 */
#define PTSCOPE_WALK_NO_PAGE	(1U << 1)

/**
 * struct ptscope_walk - read the target's page tables over a range, batched
 * @size:     in: sizeof(struct ptscope_walk)
 * @flags:    in: PTSCOPE_WALK_*
 * @start:    in: page-aligned first address
 * @end:      in: page-aligned end (exclusive), at most the task size
 * @runs:     in: user pointer to an array of struct ptscope_run
 * @run_size: in: sizeof(struct ptscope_run)
 * @count:    in: capacity of @runs; out: runs written
 * @next:     out: where to resume; equals @end when the walk is complete
 * @reserved: in: must be 0
 *
 * Empty entries are not reported: their span is skipped without being
 * visited. A batch that fills up ends early; call again from @next. With
 * PTSCOPE_WALK_TABLES each table entry comes once per call, before the
 * entries below it; a call resuming inside a table reports the table
 * entries above @start again. A leaf that straddles @start is reported
 * from its first address.
 */
struct ptscope_walk {
	__u32 size;
	__u32 flags;
	__u64 start;
	__u64 end;
	__u64 runs;
	__u32 run_size;
	__u32 count;
	__u64 next;
	__u64 reserved[4];
};

#define PTSCOPE_IOC_WALK	_IOWR(PTSCOPE_IOC_MAGIC, 0x02, struct ptscope_walk)

/* struct ptscope_vma.prot */
#define PTSCOPE_PROT_READ	(1U << 0)
#define PTSCOPE_PROT_WRITE	(1U << 1)
#define PTSCOPE_PROT_EXEC	(1U << 2)
#define PTSCOPE_PROT_SHARED	(1U << 3)	/* VM_MAYSHARE; else private */

/* struct ptscope_vma.kind */
enum ptscope_vma_kind {
	PTSCOPE_VMA_ANON = 0,
	PTSCOPE_VMA_FILE,
	PTSCOPE_VMA_SHMEM,	/* shmem/tmpfs/memfd, MAP_SHARED|MAP_ANONYMOUS */
	PTSCOPE_VMA_HEAP,
	PTSCOPE_VMA_STACK,
	PTSCOPE_VMA_VDSO,
	PTSCOPE_VMA_VVAR,
	PTSCOPE_VMA_HUGETLB,
	PTSCOPE_VMA_PFNMAP,	/* VM_PFNMAP/VM_IO: device or special memory */
	PTSCOPE_VMA_SPECIAL,	/* another special mapping with a name */
};

/* Counters of struct ptscope_vma.counts[], in base pages unless noted. */
enum ptscope_vma_count {
	PTSCOPE_CNT_RSS_PTE,	/* resident, mapped by PTEs */
	PTSCOPE_CNT_RSS_PMD,	/* resident, mapped by PMD leaves (base pages) */
	PTSCOPE_CNT_RSS_PUD,	/* resident, mapped by PUD leaves (base pages) */
	PTSCOPE_CNT_SWAP,	/* swap entries (base pages) */
	PTSCOPE_CNT_DIRTY,
	PTSCOPE_CNT_YOUNG,
	PTSCOPE_CNT_SOFT_DIRTY,
	PTSCOPE_CNT_ANON,
	PTSCOPE_CNT_FILE,
	PTSCOPE_CNT_SHMEM,
	PTSCOPE_CNT_THP_PMD,	/* PMD-mapped THPs (count of PMD leaves) */
	PTSCOPE_CNT_HUGETLB,	/* hugetlb pages mapped (count, of @page_size) */
	PTSCOPE_CNT_SPECIAL,	/* special / PFN-mapped entries */
	PTSCOPE_CNT_ZERO,	/* entries mapping the zero page */
	PTSCOPE_CNT_EXCLUSIVE,	/* pages mapped only here (pagemap MMAP_EXCLUSIVE) */
	PTSCOPE_CNT_MIGRATION,	/* migration and other non-swap entries */
	PTSCOPE_CNT_PTE_TABLES,	/* PTE tables populated under this VMA */
	PTSCOPE_CNT_PMD_TABLES,	/* PMD tables reached from this VMA */
	PTSCOPE_CNT_PUD_TABLES,
	PTSCOPE_CNT_P4D_TABLES,	/* 5-level paging only */
	PTSCOPE_CNT_MAX = 24,	/* size of the array; unused slots are 0 */
};

#define PTSCOPE_NAME_LEN	256

/**
 * struct ptscope_vma - one VMA of the target
 * @start, @end: out: [start, end)
 * @pgoff:    out: file offset in bytes (file mappings)
 * @vm_flags: out: the kernel's VM_* flags, raw
 * @inode:    out: inode number of the backing file, 0 for none
 * @prot:     out: PTSCOPE_PROT_*
 * @kind:     out: enum ptscope_vma_kind
 * @page_size: out: page size of the VMA (vma_kernel_pagesize)
 * @dev:      out: device of the backing file, (major << 20) | minor
 * @counts:   out: enum ptscope_vma_count; zero unless PTSCOPE_VMAS_COUNTS
 * @name:     out: backing path, or [heap], [stack], [vdso], [anon:NAME], ...;
 *            NUL-terminated, truncated to fit
 */
struct ptscope_vma {
	__u64 start;
	__u64 end;
	__u64 pgoff;
	__u64 vm_flags;
	__u64 inode;
	__u32 prot;
	__u32 kind;
	__u32 page_size;
	__u32 dev;
	__u64 counts[PTSCOPE_CNT_MAX];
	char name[PTSCOPE_NAME_LEN];
};

/* struct ptscope_vmas.flags */
#define PTSCOPE_VMAS_COUNTS	(1U << 0)	/* walk each VMA to fill counts[] */

/**
 * struct ptscope_vmas - list the target's VMAs, batched
 * @size:     in: sizeof(struct ptscope_vmas)
 * @flags:    in: PTSCOPE_VMAS_*
 * @start:    in: report VMAs that end after @start
 * @end:      in: and start before @end (0: the task size)
 * @vmas:     in: user pointer to an array of struct ptscope_vma
 * @vma_size: in: sizeof(struct ptscope_vma)
 * @count:    in: capacity of @vmas; out: VMAs written
 * @next:     out: where to resume; 0 when there is no VMA left
 * @reserved: in: must be 0
 */
struct ptscope_vmas {
	__u32 size;
	__u32 flags;
	__u64 start;
	__u64 end;
	__u64 vmas;
	__u32 vma_size;
	__u32 count;
	__u64 next;
	__u64 reserved[4];
};

#define PTSCOPE_IOC_VMAS	_IOWR(PTSCOPE_IOC_MAGIC, 0x03, struct ptscope_vmas)

/**
 * struct ptscope_vtop_level - one step of a translation
 * @table_pa: out: physical address of the table read at this level (0 when hidden)
 * @entry:    out: raw entry (PFN bits cleared when hidden)
 * @bits:     out: PTSCOPE_B_*
 * @pfn:      out: PFN the entry points to: next table or page (0 when hidden)
 * @level:    out: enum ptscope_level
 * @index:    out: index of the entry in its table
 * @kind:     out: enum ptscope_kind
 * @shift:    out: log2 of the bytes one entry of this level maps
 */
struct ptscope_vtop_level {
	__u64 table_pa;
	__u64 entry;
	__u64 bits;
	__u64 pfn;
	__u32 level;
	__u32 index;
	__u32 kind;
	__u32 shift;
};

/* struct ptscope_vtop.result: how the translation ended */
enum ptscope_vtop_result {
	PTSCOPE_VTOP_MAPPED = 0,	/* @phys is valid (if not hidden) */
	PTSCOPE_VTOP_NOT_POPULATED,	/* in a VMA, not faulted in yet */
	PTSCOPE_VTOP_SWAPPED,		/* swapped out: see the last level */
	PTSCOPE_VTOP_NOT_PRESENT,	/* another non-present entry (migration, marker, ...) */
	PTSCOPE_VTOP_NO_VMA,		/* no VMA: an access would be a segfault */
	PTSCOPE_VTOP_NO_ACCESS,		/* VMA without access rights (PROT_NONE) */
};

/**
 * struct ptscope_vtop - translate one virtual address, every level decoded
 * @size:     in: sizeof(struct ptscope_vtop)
 * @flags:    in: must be 0
 * @addr:     in: the virtual address (below the task size)
 * @phys:     out: the physical address, 0 when hidden or not mapped
 * @result:   out: enum ptscope_vtop_result
 * @nlevels:  out: entries of @levels filled, top level first
 * @vma_start, @vma_end: out: the VMA containing @addr, 0 if none
 * @vm_flags: out: its VM_* flags
 * @page:     out: PTSCOPE_PAGE_* of the mapped page
 * @mapcount: out: its mapcount (0 when hidden, as are @phys, table addresses,
 *            PFNs, swap type and offset and PTSCOPE_PAGE_KSM)
 * @swap_type, @swap_offset: out: for PTSCOPE_VTOP_SWAPPED
 * @folio_order: out: order of the folio of the mapped page
 * @levels:   out: the path, top level first
 * @reserved: in: must be 0
 */
struct ptscope_vtop {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 phys;
	__u32 result;
	__u32 nlevels;
	__u64 vma_start;
	__u64 vma_end;
	__u64 vm_flags;
	__u32 page;
	__u32 mapcount;
	__u32 swap_type;
	__u32 folio_order;
	__u64 swap_offset;
	struct ptscope_vtop_level levels[5];
	__u64 reserved[4];
};

#define PTSCOPE_IOC_VTOP	_IOWR(PTSCOPE_IOC_MAGIC, 0x04, struct ptscope_vtop)

/* ------------------------------------------------------------------------
 * TLB flush and page-fault counters (0x10-0x1f).
 *
 * A watch counts events for one address space (the mm a process had when
 * it was watched; its threads share it) or, with PTSCOPE_WATCH_GLOBAL, for
 * every process. It belongs to the open file that created it and lives
 * until PTSCOPE_IOC_UNWATCH or the file is closed; counting stops by itself
 * when the target exits or execs, and the counters stay readable until the
 * watch is released. Several watches, on the same or other files, count
 * independently. The module's tracepoint probes stay attached while it is
 * loaded (with no watch, a probe is a call and an empty list walk); the
 * fault probe of PTSCOPE_WATCH_FAULT_DETAIL is attached with the first such
 * watch and detached a second after the last (a detail watch started within
 * that second finds it attached).
 *
 * Who may: watching another process needs what PTSCOPE_IOC_TARGET needs
 * (CAP_SYS_PTRACE and the kernel's permission to open its pagemap), a
 * global watch CAP_SYS_ADMIN, PTSCOPE_WATCH_FAULT_DETAIL CAP_PERFMON or
 * CAP_SYS_ADMIN (-EPERM otherwise). The same rule holds at every
 * PTSCOPE_IOC_COUNTERS: a watch's file passed to (SCM_RIGHTS) or inherited
 * by a process that may not read the watched one gives it -EPERM; UNWATCH
 * stays allowed. The dTLB counter is made for, and shown to, callers with
 * CAP_PERFMON or CAP_SYS_ADMIN only (see below). At most PTSCOPE_WATCH_MAX
 * watches exist at once, PTSCOPE_WATCH_FILE_MAX per open file (-ENOSPC).
 *
 * PTSCOPE_IOC_COUNTERS reads a snapshot: totals since the watch started
 * and its age in @elapsed_ns; rates are for the caller to compute from two
 * snapshots. The same numbers, as text, are in debugfs ptscope/counters.
 * A typical reader: WATCH the pid (with PTSCOPE_WATCH_FAULT_DETAIL for
 * minor/major, outcomes, page sizes and VMAs), then every interval read
 * COUNTERS and print (new - old) / (new.elapsed_ns - old.elapsed_ns) per
 * counter: faults[] for "faults", tlb[] for "tlb", vmas[] for "top";
 * show only what @valid says is counted; UNWATCH (or close) at the end.
 *
 * Where the numbers come from (x86-64):
 *  - TLB flushes: the tlb:tlb_flush tracepoint, charged to the address space
 *    of the task running on the CPU that flushes: for a task switch the one
 *    switched to (from sched:sched_switch); for a remote shootdown the one
 *    the IPI interrupted, which the kernel only flushes (and traces) when it
 *    is the address space being shot down, or for a flush of no particular
 *    mm; for an IPI sent, the sender's.
 *  - PTSCOPE_FLT_TOTAL and the access kinds: the exceptions:page_fault_user
 *    tracepoint, one per user-mode page-fault exception, whatever becomes of
 *    it (also faults the kernel fixes up without handle_mm_fault, such as
 *    spurious ones, and access errors that end in a signal).
 *  - minor, major, outcome, page size and VMA, for a watch with
 *    PTSCOPE_WATCH_FAULT_DETAIL only: a probe on handle_mm_fault()'s entry
 *    and return, a kretprobe or (arm64 7.x) an fprobe (no tracepoint
 *    reports its result, and the probe costs a tenth to a fifth of a
 *    fault: `make bench`), with the
 *    kernel's own accounting rule (mm_account_fault()): retried attempts are
 *    not counted until they complete, failed ones are not minor or major,
 *    and a fault that needed a retry is major. Like the kernel's min_flt,
 *    this includes faults the kernel takes on user memory for a syscall
 *    (PTSCOPE_FLT_KERNEL_MODE) and not those in user mode only.
 *  - SIGSEGV/SIGBUS: the signal:signal_generate tracepoint, for signals the
 *    kernel raises for a memory fault (si_code SEGV_MAPERR, SEGV_ACCERR,
 *    SEGV_PKUERR, BUS_ADRERR, BUS_MCEERR_AR), including access errors that
 *    never reach handle_mm_fault().
 *  - dTLB load misses: a perf hardware-cache counter on the watched thread,
 *    where the CPU has a PMU (PTSCOPE_CNT_F_DTLB); none under QEMU TCG. The
 *    module makes it without perf_event_open(), so neither
 *    perf_event_paranoid nor the LSMs' perf_event_open hook is asked (a
 *    module cannot: neither is exported); it is made, and read, only for a
 *    caller that perf_event_open() lets through at every paranoid level:
 *    CAP_PERFMON or CAP_SYS_ADMIN. For others PTSCOPE_CNT_F_DTLB is clear.
 *
 * Where they come from on arm64, which has neither tracepoint:
 *  - TLB flushes: not counted (PTSCOPE_CNT_F_TLB clear). arm64 flushes with
 *    broadcast TLBI instructions inlined at every call site (tlbflush.h):
 *    no IPI, no tracepoint and no function to probe.
 *  - PTSCOPE_FLT_TOTAL alone (PTSCOPE_CNT_F_FAULT_TOTAL, not
 *    PTSCOPE_CNT_F_FAULTS): the kernel's software perf event page-faults,
 *    which do_page_fault() raises for every translation, access-flag and
 *    permission fault before it looks for the VMA, counted for user mode
 *    only, one per exception. The access kind (the ESR) is not passed to
 *    it, so READ, WRITE and EXEC are not counted.
 *  - detail (an fprobe on 7.x, a kretprobe before), signals, the kernel's
 *    own counts and dTLB: as on x86-64.
 */

#define PTSCOPE_WATCH_MAX	64	/* watches in the module, of every file */
#define PTSCOPE_WATCH_FILE_MAX	16	/* watches of one open file */

/* struct ptscope_watch.flags */
#define PTSCOPE_WATCH_GLOBAL	(1U << 0)	/* every process; @pid must be 0 */
#define PTSCOPE_WATCH_FAULT_DETAIL (1U << 1)	/* also PTSCOPE_CNT_F_OUTCOME counters */

/**
 * struct ptscope_watch - start (PTSCOPE_IOC_WATCH) or release
 *                        (PTSCOPE_IOC_UNWATCH) a watch
 * @size:     in: sizeof(struct ptscope_watch)
 * @flags:    in: PTSCOPE_WATCH_* for WATCH; 0 for UNWATCH;
 *            PTSCOPE_WATCH_FAULT_DETAIL without CAP_PERFMON or
 *            CAP_SYS_ADMIN: -EPERM
 * @pid:      in: WATCH: a process (or thread) id in the caller's pid
 *            namespace; 0 with PTSCOPE_WATCH_GLOBAL; 0, negative or gone
 *            otherwise: -ESRCH; a kernel thread (no mm): -EINVAL.
 *            UNWATCH: must be 0
 * @id:       WATCH: out: the new watch's id (> 0); when it cannot be
 *            written back, WATCH fails with -EFAULT and no watch exists.
 *            UNWATCH: in: the watch to release; not a watch of this file
 *            (or one whose WATCH has not returned yet): -ENOENT
 * @reserved: in: must be 0
 */
struct ptscope_watch {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 id;
	__u64 reserved[2];
};

#define PTSCOPE_IOC_WATCH	_IOWR(PTSCOPE_IOC_MAGIC, 0x10, struct ptscope_watch)
#define PTSCOPE_IOC_UNWATCH	_IOW(PTSCOPE_IOC_MAGIC, 0x11, struct ptscope_watch)

/* Index of struct ptscope_counters.tlb[]: the kernel's TLB flush reasons. */
enum ptscope_tlb_reason {
	PTSCOPE_TLB_TASK_SWITCH = 0,	/* CR3 loaded on a switch; full == a flush */
	PTSCOPE_TLB_REMOTE_SHOOTDOWN,	/* flushed by an IPI from another CPU */
	PTSCOPE_TLB_LOCAL_SHOOTDOWN,	/* local flush of no particular mm */
	PTSCOPE_TLB_LOCAL_MM_SHOOTDOWN,	/* local flush of this mm */
	PTSCOPE_TLB_REMOTE_SEND_IPI,	/* asked other CPUs to flush */
	PTSCOPE_TLB_MAX = 8,		/* size of the array; unused slots are 0 */
};

/**
 * struct ptscope_tlb_count - tlb:tlb_flush events of one reason
 * @events: out: tracepoint hits (for a task switch: every CR3 load)
 * @full:   out: of which flushed everything (TLB_FLUSH_ALL)
 * @pages:  out: pages flushed by the others (ranged flushes)
 */
struct ptscope_tlb_count {
	__u64 events;
	__u64 full;
	__u64 pages;
};

/* Index of struct ptscope_counters.faults[]. */
enum ptscope_fault_count {
	PTSCOPE_FLT_TOTAL = 0,		/* user-mode page-fault exceptions */
	PTSCOPE_FLT_READ,		/* ... by access: read */
	PTSCOPE_FLT_WRITE,		/* ... write */
	PTSCOPE_FLT_EXEC,		/* ... instruction fetch */
	PTSCOPE_FLT_MINOR,		/* completed, no I/O (the kernel's min_flt) */
	PTSCOPE_FLT_MAJOR,		/* completed with I/O or a retry (maj_flt) */
	PTSCOPE_FLT_HANDLED,		/* handle_mm_fault() outcome: done */
	PTSCOPE_FLT_RETRY,		/* ... must be retried (VM_FAULT_RETRY) */
	PTSCOPE_FLT_ERROR,		/* ... failed (VM_FAULT_ERROR: OOM, SIGBUS, ...) */
	PTSCOPE_FLT_SIGSEGV,		/* SIGSEGV raised for a fault */
	PTSCOPE_FLT_SIGBUS,		/* SIGBUS raised for a fault */
	PTSCOPE_FLT_KERNEL_MODE,	/* handle_mm_fault() for a kernel access */
	PTSCOPE_FLT_PAGE_4K,		/* completed faults by the level of the leaf */
	PTSCOPE_FLT_PAGE_2M,		/*   that maps the address afterwards: PTE, */
	PTSCOPE_FLT_PAGE_1G,		/*   PMD, PUD (sizes: version.level_shift) */
	PTSCOPE_FLT_KERNEL_MIN,		/* the kernel's min_flt of the process */
	PTSCOPE_FLT_KERNEL_MAJ,		/* and maj_flt, over the same window */
	PTSCOPE_FLT_MAX = 32,		/* size of the array; unused slots are 0 */
};

/**
 * struct ptscope_fault_vma - completed faults in one VMA
 * @start, @end: out: the VMA as it was at the time of its first fault
 * @faults:   out: minor + major faults in it
 * @major:    out: of which major
 */
struct ptscope_fault_vma {
	__u64 start;
	__u64 end;
	__u64 faults;
	__u64 major;
};

#define PTSCOPE_FAULT_VMAS	8

/* struct ptscope_counters.state */
enum ptscope_watch_state {
	PTSCOPE_WATCH_ACTIVE = 0,	/* counting */
	PTSCOPE_WATCH_GONE,		/* the address space is gone (exit or exec) */
};

/* struct ptscope_counters.valid */
#define PTSCOPE_CNT_F_TLB	(1U << 0)	/* tlb[] is counted */
#define PTSCOPE_CNT_F_FAULTS	(1U << 1)	/* TOTAL, READ, WRITE, EXEC */
#define PTSCOPE_CNT_F_OUTCOME	(1U << 2)	/* MINOR ... PAGE_1G, vmas[]: FAULT_DETAIL */
#define PTSCOPE_CNT_F_SIGNALS	(1U << 3)	/* SIGSEGV, SIGBUS */
#define PTSCOPE_CNT_F_DTLB	(1U << 4)	/* @dtlb_misses: a PMU counts them */
#define PTSCOPE_CNT_F_KERNEL	(1U << 5)	/* KERNEL_MIN, KERNEL_MAJ (not global) */
/* TOTAL alone, where the access kinds are not counted (ABI 1.3: arm64) */
#define PTSCOPE_CNT_F_FAULT_TOTAL (1U << 6)

/**
 * struct ptscope_counters - a snapshot of a watch's counters
 * @size:     in: sizeof(struct ptscope_counters)
 * @flags:    in: must be 0
 * @id:       in: the watch (of this file); -ENOENT otherwise; -EPERM when
 *            the caller may not read it (see "Who may" above)
 * @pid:      out: the pid it was created with (0 for a global watch)
 * @watch_flags: out: its PTSCOPE_WATCH_* flags
 * @state:    out: enum ptscope_watch_state
 * @valid:    out: PTSCOPE_CNT_F_* of the counters the running kernel feeds;
 *            the others read 0 (a hook is missing; for dTLB a PMU, or the
 *            creator's or reader's CAP_PERFMON)
 * @nr_vmas:  out: entries of @vmas filled, most faults first
 * @elapsed_ns: out: time since the watch started (CLOCK_MONOTONIC)
 * @dtlb_misses: out: dTLB load misses of the watched thread
 * @faults:   out: enum ptscope_fault_count
 * @tlb:      out: enum ptscope_tlb_reason
 * @vma_other: out: completed faults in VMAs that did not fit in the
 *            module's table (PTSCOPE_FAULT_VMAS per CPU) or are not shown
 * @vmas:     out: the VMAs with the most faults (not for a global watch)
 * @reserved: in: must be 0
 */
struct ptscope_counters {
	__u32 size;
	__u32 flags;
	__u32 id;
	__s32 pid;
	__u32 watch_flags;
	__u32 state;
	__u32 valid;
	__u32 nr_vmas;
	__u64 elapsed_ns;
	__u64 dtlb_misses;
	__u64 faults[PTSCOPE_FLT_MAX];
	struct ptscope_tlb_count tlb[PTSCOPE_TLB_MAX];
	__u64 vma_other;
	struct ptscope_fault_vma vmas[PTSCOPE_FAULT_VMAS];
	__u64 reserved[4];
};

#define PTSCOPE_IOC_COUNTERS	_IOWR(PTSCOPE_IOC_MAGIC, 0x12, struct ptscope_counters)

/* ------------------------------------------------------------------------
 * Huge pages: THP, mTHP and hugetlb, for the system (PTSCOPE_IOC_HUGE_SYSTEM)
 * and per VMA of the target (PTSCOPE_IOC_HUGE_VMAS).
 *
 * What a module cannot read: the THP settings (enabled, defrag, the
 * khugepaged tunables, the per-size mTHP settings and counters, shmem_enabled)
 * live in variables the kernel does not export to modules on 6.1 or 6.12
 * (transparent_hugepage_flags, huge_anon_orders_*, khugepaged_*, mthp_stats).
 * ptscope does not guess them: read them where the kernel documents them
 * (Documentation/admin-guide/mm/transhuge.rst):
 *   /sys/kernel/mm/transparent_hugepage/{enabled,defrag,shmem_enabled}
 *   /sys/kernel/mm/transparent_hugepage/khugepaged/{pages_to_scan,
 *       scan_sleep_millisecs,alloc_sleep_millisecs,defrag,max_ptes_none,
 *       max_ptes_swap,max_ptes_shared,pages_collapsed,full_scans}
 *   /sys/kernel/mm/transparent_hugepage/hugepages-<size>kB/{enabled,
 *       shmem_enabled,stats/} for each order in
 *       struct ptscope_huge_system.mthp_orders
 * The module reports what it can read itself: the THP event counters of
 * /proc/vmstat (all_vm_events), the hugetlb pools, the sizes that have
 * per-size settings, and for each VMA every reason that rules THP out
 * whatever the settings (struct ptscope_huge_vma.thp_why) plus the setting
 * it still depends on (struct ptscope_huge_vma.thp).
 */

/* THP event counters, as /proc/vmstat names them (thp_fault_alloc, ...). */
enum ptscope_thp_event {
	PTSCOPE_THP_FAULT_ALLOC,
	PTSCOPE_THP_FAULT_FALLBACK,
	PTSCOPE_THP_FAULT_FALLBACK_CHARGE,
	PTSCOPE_THP_COLLAPSE_ALLOC,
	PTSCOPE_THP_COLLAPSE_ALLOC_FAILED,
	PTSCOPE_THP_FILE_ALLOC,
	PTSCOPE_THP_FILE_FALLBACK,
	PTSCOPE_THP_FILE_FALLBACK_CHARGE,
	PTSCOPE_THP_FILE_MAPPED,
	PTSCOPE_THP_SPLIT_PAGE,
	PTSCOPE_THP_SPLIT_PAGE_FAILED,
	PTSCOPE_THP_DEFERRED_SPLIT_PAGE,
	PTSCOPE_THP_UNDERUSED_SPLIT_PAGE,	/* 6.12 */
	PTSCOPE_THP_SPLIT_PMD,
	PTSCOPE_THP_SPLIT_PUD,
	PTSCOPE_THP_SCAN_EXCEED_NONE_PTE,
	PTSCOPE_THP_SCAN_EXCEED_SWAP_PTE,
	PTSCOPE_THP_SCAN_EXCEED_SHARED_PTE,
	PTSCOPE_THP_ZERO_PAGE_ALLOC,
	PTSCOPE_THP_ZERO_PAGE_ALLOC_FAILED,
	PTSCOPE_THP_SWPOUT,
	PTSCOPE_THP_SWPOUT_FALLBACK,
	PTSCOPE_THP_MIGRATION_SUCCESS,
	PTSCOPE_THP_MIGRATION_FAIL,
	PTSCOPE_THP_MIGRATION_SPLIT,
	PTSCOPE_THP_EVENT_MAX = 32,	/* size of the array; unused slots are 0 */
};

/*
 * The /proc/vmstat name of each enum ptscope_thp_event, as an initializer:
 * static const char *const names[PTSCOPE_THP_EVENT_MAX] = PTSCOPE_THP_EVENT_NAMES;
 */
#define PTSCOPE_THP_EVENT_NAMES {						\
	[PTSCOPE_THP_FAULT_ALLOC] = "thp_fault_alloc",				\
	[PTSCOPE_THP_FAULT_FALLBACK] = "thp_fault_fallback",			\
	[PTSCOPE_THP_FAULT_FALLBACK_CHARGE] = "thp_fault_fallback_charge",	\
	[PTSCOPE_THP_COLLAPSE_ALLOC] = "thp_collapse_alloc",			\
	[PTSCOPE_THP_COLLAPSE_ALLOC_FAILED] = "thp_collapse_alloc_failed",	\
	[PTSCOPE_THP_FILE_ALLOC] = "thp_file_alloc",				\
	[PTSCOPE_THP_FILE_FALLBACK] = "thp_file_fallback",			\
	[PTSCOPE_THP_FILE_FALLBACK_CHARGE] = "thp_file_fallback_charge",	\
	[PTSCOPE_THP_FILE_MAPPED] = "thp_file_mapped",				\
	[PTSCOPE_THP_SPLIT_PAGE] = "thp_split_page",				\
	[PTSCOPE_THP_SPLIT_PAGE_FAILED] = "thp_split_page_failed",		\
	[PTSCOPE_THP_DEFERRED_SPLIT_PAGE] = "thp_deferred_split_page",		\
	[PTSCOPE_THP_UNDERUSED_SPLIT_PAGE] = "thp_underused_split_page",	\
	[PTSCOPE_THP_SPLIT_PMD] = "thp_split_pmd",				\
	[PTSCOPE_THP_SPLIT_PUD] = "thp_split_pud",				\
	[PTSCOPE_THP_SCAN_EXCEED_NONE_PTE] = "thp_scan_exceed_none_pte",	\
	[PTSCOPE_THP_SCAN_EXCEED_SWAP_PTE] = "thp_scan_exceed_swap_pte",	\
	[PTSCOPE_THP_SCAN_EXCEED_SHARED_PTE] = "thp_scan_exceed_share_pte",	\
	[PTSCOPE_THP_ZERO_PAGE_ALLOC] = "thp_zero_page_alloc",			\
	[PTSCOPE_THP_ZERO_PAGE_ALLOC_FAILED] = "thp_zero_page_alloc_failed",	\
	[PTSCOPE_THP_SWPOUT] = "thp_swpout",					\
	[PTSCOPE_THP_SWPOUT_FALLBACK] = "thp_swpout_fallback",			\
	[PTSCOPE_THP_MIGRATION_SUCCESS] = "thp_migration_success",		\
	[PTSCOPE_THP_MIGRATION_FAIL] = "thp_migration_fail",			\
	[PTSCOPE_THP_MIGRATION_SPLIT] = "thp_migration_split",			\
}

/* struct ptscope_huge_system.features */
#define PTSCOPE_HUGE_THP	(1U << 0)	/* CONFIG_TRANSPARENT_HUGEPAGE */
#define PTSCOPE_HUGE_MTHP	(1U << 1)	/* per-size THP (mthp_orders != 0) */
#define PTSCOPE_HUGE_HUGETLB	(1U << 2)	/* CONFIG_HUGETLBFS */

#define PTSCOPE_HUGETLB_POOLS	4

/**
 * struct ptscope_hugetlb_pool - one hugetlb page size, as
 * /sys/kernel/mm/hugepages/hugepages-<size>kB/ shows it
 * @page_size: out: bytes per page (2 MiB, 1 GiB on x86-64)
 * @total:     out: pages in the pool (nr_hugepages: persistent + surplus)
 * @free:      out: pages not in use (free_hugepages)
 * @reserved:  out: free pages promised to mappings (resv_hugepages)
 * @surplus:   out: pages above the persistent size (surplus_hugepages)
 * @persistent: out: the persistent pool size asked for (nr_hugepages
 *             written by the administrator; /proc/sys/vm/nr_hugepages for
 *             the default size)
 */
struct ptscope_hugetlb_pool {
	__u64 page_size;
	__u64 total;
	__u64 free;
	__u64 reserved;
	__u64 surplus;
	__u64 persistent;
};

/**
 * struct ptscope_huge_system - the system's huge-page state
 * @size:      in: sizeof(struct ptscope_huge_system)
 * @flags:     in: must be 0
 * @features:  out: PTSCOPE_HUGE_*
 * @pmd_order: out: order of a PMD-sized page (9 with 4 KiB pages)
 * @mthp_orders: out: bit N set when order N has per-size settings in
 *             /sys/kernel/mm/transparent_hugepage/hugepages-<4<<N>kB/ (6.8 and
 *             later); 0 on kernels without per-size THP (6.1)
 * @events_valid: out: bit N set when @events[N] exists on this kernel
 * @events:    out: enum ptscope_thp_event: the THP counters of /proc/vmstat,
 *             summed over all CPUs; 0 where @events_valid says absent
 * @nr_pools:  out: entries of @pools filled, smallest page size first
 * @reserved1: in: must be 0
 * @pools:     out: one entry per hugetlb page size the kernel has set up
 * @reserved:  in: must be 0
 *
 * The hugetlb numbers are read without the kernel's hugetlb_lock (it is not
 * exported), as /proc/meminfo reads them: a snapshot that a concurrent
 * allocation may move.
 */
struct ptscope_huge_system {
	__u32 size;
	__u32 flags;
	__u32 features;
	__u32 pmd_order;
	__u64 mthp_orders;
	__u64 events_valid;
	__u64 events[PTSCOPE_THP_EVENT_MAX];
	__u32 nr_pools;
	__u32 reserved1;
	struct ptscope_hugetlb_pool pools[PTSCOPE_HUGETLB_POOLS];
	__u64 reserved[4];
};

#define PTSCOPE_IOC_HUGE_SYSTEM	_IOWR(PTSCOPE_IOC_MAGIC, 0x20, struct ptscope_huge_system)

/*
 * struct ptscope_huge_vma.thp: what PMD-sized THP for the VMA still depends
 * on, once nothing in thp_why rules it out:
 *  NEVER:      ruled out, see thp_why
 *  IF_ALWAYS:  anonymous without MADV_HUGEPAGE: eligible when
 *              transparent_hugepage/enabled is "always"
 *  IF_ENABLED: anonymous with MADV_HUGEPAGE: eligible when enabled is
 *              "always" or "madvise"
 *  IF_SHMEM:   shmem: shmem_enabled and the mount's huge= option decide
 *  IF_FILE:    page cache: the filesystem decides (large folios,
 *              CONFIG_READ_ONLY_THP_FOR_FS)
 */
enum ptscope_thp_policy {
	PTSCOPE_THP_NEVER = 0,
	PTSCOPE_THP_IF_ALWAYS,
	PTSCOPE_THP_IF_ENABLED,
	PTSCOPE_THP_IF_SHMEM,
	PTSCOPE_THP_IF_FILE,
};

/* struct ptscope_huge_vma.thp_why: every reason that applies */
#define PTSCOPE_THP_WHY_HUGETLB		(1U << 0)	/* a hugetlb VMA: huge pages of its own */
#define PTSCOPE_THP_WHY_SPECIAL		(1U << 1)	/* PFN map, I/O, mixed map, vdso/vvar */
#define PTSCOPE_THP_WHY_NOHUGEPAGE	(1U << 2)	/* MADV_NOHUGEPAGE (VM_NOHUGEPAGE) */
#define PTSCOPE_THP_WHY_PROCESS		(1U << 3)	/* prctl(PR_SET_THP_DISABLE) */
#define PTSCOPE_THP_WHY_TOO_SMALL	(1U << 4)	/* no PMD-aligned range fits in the VMA */
#define PTSCOPE_THP_WHY_MISALIGNED	(1U << 5)	/* file: address, offset differ mod 2 MiB */
#define PTSCOPE_THP_WHY_NO_MADVISE	(1U << 6)	/* no MADV_HUGEPAGE: out under "madvise" */

#define PTSCOPE_HUGE_ORDERS	20	/* orders 0..19 (a 1 GiB folio is order 18) */

/**
 * struct ptscope_huge_vma - huge pages in one VMA of the target
 * @start, @end: out: [start, end)
 * @vm_flags:  out: the kernel's VM_* flags, raw
 * @thp:       out: enum ptscope_thp_policy
 * @thp_why:   out: PTSCOPE_THP_WHY_*; a VMA is eligible for PMD-sized THP
 *             when @thp_why has no bit but NO_MADVISE and the setting @thp
 *             names allows it
 * @page_size: out: the VMA's page size (vma_kernel_pagesize)
 * @reserved1: out: 0
 * @mapped:    out: base pages mapped by present leaf entries (what pagemap
 *             marks present: includes the zero page and PFN maps)
 * @huge_mapped: out: of which mapped by PMD or PUD leaves
 * @leaves:    out: present leaf entries: the TLB entries the mapping needs
 *             as it is, against @mapped at one base page each (arm64: each
 *             entry of a contiguous block counts; the MMU may cache the
 *             block, PTSCOPE_B_ARM64_CONT, as one entry)
 * @thp_pmd:   out: PMD leaves mapping a THP (anonymous, shmem or file)
 * @hugetlb_pmd: out: PMD leaves mapping hugetlb pages (2 MiB on x86-64)
 * @hugetlb_pud: out: PUD leaves mapping hugetlb pages (1 GiB on x86-64)
 * @pte_large: out: by folio order N >= 1: PTEs mapping a page of a large
 *             non-hugetlb folio (mTHP, or a THP mapped by PTEs after a split)
 * @pte_folios: out: by folio order: those folios, each counted once per run
 *             of PTEs that map it
 * @reserved:  out: 0
 *
 * Huge coverage is @huge_mapped / @mapped; TLB reach compares @leaves with
 * @mapped.
 */
struct ptscope_huge_vma {
	__u64 start;
	__u64 end;
	__u64 vm_flags;
	__u32 thp;
	__u32 thp_why;
	__u32 page_size;
	__u32 reserved1;
	__u64 mapped;
	__u64 huge_mapped;
	__u64 leaves;
	__u64 thp_pmd;
	__u64 hugetlb_pmd;
	__u64 hugetlb_pud;
	__u64 pte_large[PTSCOPE_HUGE_ORDERS];
	__u64 pte_folios[PTSCOPE_HUGE_ORDERS];
	__u64 reserved[4];
};

/*
 * PTSCOPE_IOC_HUGE_VMAS takes struct ptscope_vmas, with its rules: @vmas
 * points to an array of struct ptscope_huge_vma, @vma_size is
 * sizeof(struct ptscope_huge_vma), @flags must be 0. Needs a target
 * (PTSCOPE_IOC_TARGET).
 */
#define PTSCOPE_IOC_HUGE_VMAS	_IOWR(PTSCOPE_IOC_MAGIC, 0x21, struct ptscope_vmas)

#endif /* _UAPI_PTSCOPE_H */
