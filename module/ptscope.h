/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PTSCOPE_H
#define _PTSCOPE_H

#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <uapi/ptscope.h>

#define PTSCOPE_VERSION "0.1.0"

struct cred;
struct dentry;
struct file;
struct mm_struct;
struct pid;
struct seq_file;
struct task_struct;
struct tracepoint;
struct vm_area_struct;

/* main.c */
u64 ptscope_features(void);

/* debugfs.c */
struct dentry *ptscope_debugfs_init(void);
void ptscope_debugfs_exit(struct dentry *dir);

/* walk.c: one decoded page-table entry */
struct ptscope_entry {
	unsigned long addr;	/* first address the entry maps */
	u64 raw;		/* the descriptor, as the MMU reads it */
	u64 view_xor;		/* of a present leaf: the kernel's view ^ raw */
	u64 bits;		/* PTSCOPE_B_* */
	u64 pfn;		/* page, next table, or the pfn of a pfn swap entry */
	u64 swap_offset;
	u32 swap_type;
	u32 page;		/* PTSCOPE_PAGE_* */
	u32 mapcount;
	u32 folio_order;
	u32 nr;			/* entries this report stands for (walker->batch) */
	u16 pkey;
	u8 level;		/* enum ptscope_level */
	u8 kind;		/* enum ptscope_kind */
	u8 shift;		/* log2 of the bytes the entry maps */
};

/*
 * How a walk may batch present PTEs into one report (struct ptscope_entry.nr),
 * so that a consumer is called once per batch rather than once per PTE:
 *  NONE:   one report per entry, nr == 1
 *  FRAMES: consecutive entries that differ only in mapping the next frame,
 *          with the same kind of page: entry i maps pfn + i
 *  ALIKE:  consecutive entries with the same bits and kind of page, whatever
 *          their frames (pfn and raw are the first entry's): for counting
 */
enum ptscope_batch {
	PTSCOPE_BATCH_NONE = 0,
	PTSCOPE_BATCH_FRAMES,
	PTSCOPE_BATCH_ALIKE,
};

struct ptscope_walker;

/**
 * struct ptscope_walk_ops - what a walk does with each entry
 * @entry: called for every non-empty entry (TABLE entries only when
 *         walker->tables), under the entry's page-table lock and RCU: must
 *         not sleep. Returns 0 to continue, 1 to stop, < 0 on error.
 */
struct ptscope_walk_ops {
	int (*entry)(struct ptscope_walker *w, const struct ptscope_entry *e);
};

struct ptscope_walker {
	struct mm_struct *mm;
	const struct ptscope_walk_ops *ops;
	bool tables;			/* report TABLE entries too */
	/*
	 * Or, for one address's path (VTOP): each table entry's raw value
	 * stored in path[its level] instead of reported, under the locks it
	 * was read under, for the caller to decode after the walk.
	 */
	u64 *path;
	u8 batch;			/* enum ptscope_batch */
	bool no_page;			/* leave e->page, mapcount, folio_order 0 */
	unsigned int budget;		/* entries per hold of a lock; 0: no bound */
	void *private;
	/* set by the walk */
	struct vm_area_struct *vma;	/* the VMA being walked */
	bool vma_locked;		/* under its read lock, not mmap_lock */
	unsigned long start;		/* where this walk started */
	unsigned long next;		/* where it stopped */
	unsigned int work;		/* entries looked at under this hold */
	/* the last table entry reported per level: VMAs share tables */
	unsigned long table_seen[PTSCOPE_LEVEL_PGD + 1];
};

/* A walk stopped by its budget, or because its lock is wanted (walk.c). */
#define PTSCOPE_WALK_PAUSED	2
/* Entries a walk looks at per hold of a lock: 8 PTE tables. */
#define PTSCOPE_WALK_BUDGET	(8 * PTRS_PER_PTE)

void ptscope_levels_init(void);
unsigned int ptscope_pgtable_levels(void);
unsigned int ptscope_level_shift(unsigned int level);
unsigned int ptscope_level_below(unsigned int level);
void ptscope_decode_pte(pte_t pte, bool large, struct ptscope_entry *e);
int ptscope_walk_range(struct ptscope_walker *w, unsigned long start,
		       unsigned long end);
struct ptscope_vma_lock;
int ptscope_walk_vma(struct ptscope_walker *w, struct ptscope_vma_lock *l,
		     unsigned long start, unsigned long end);
int ptscope_walk_parts(struct ptscope_walker *w, unsigned long start,
		       unsigned long end);

/**
 * struct ptscope_vma_lock - a VMA held for a walk (walk.c)
 * @mm:          the target's mm, referenced (set by the caller)
 * @vma:         the VMA, or NULL
 * @mmap_locked: held under mmap_lock for read, not its own read lock
 */
struct ptscope_vma_lock {
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	bool mmap_locked;
};

int ptscope_vma_lock(struct ptscope_vma_lock *l, unsigned long addr,
		     unsigned long end);
int ptscope_vma_lock_addr(struct ptscope_vma_lock *l, unsigned long addr);
void ptscope_vma_unlock(struct ptscope_vma_lock *l);
int ptscope_walk_parts_locked(struct ptscope_walker *w, struct ptscope_vma_lock *l,
			      unsigned long start, unsigned long end);

/* target.c: the process an open file (or debugfs) reads, and who may */
struct ptscope_access {
	spinlock_t lock;		/* protects the fields below */
	const struct cred *cred;	/* the caller last allowed, referenced */
	struct pid *pid;		/* the target it was allowed, referenced */
	u64 exec_id;			/* the target's self_exec_id then */
	const struct cred *pfn_cred;	/* the caller last shown PFNs, referenced */
	struct mm_struct *mm;		/* the target's mm then, mmgrab()bed, or NULL */
};

struct ptscope_ctx {
	struct mutex lock;	/* serialises changes of @pid */
	struct pid *pid;	/* the target; NULL until selected */
	struct ptscope_access access;
	struct mutex runs_lock;	/* the holder uses @runs */
	struct ptscope_run *runs;	/* a WALK's buffer, kept (query.c) */
};

int ptscope_target_init(void);
void ptscope_target_exit(void);
int ptscope_may_read(struct task_struct *task);
void ptscope_access_init(struct ptscope_access *acc);
void ptscope_access_release(struct ptscope_access *acc);
struct mm_struct *ptscope_pid_mm(struct pid *pid, struct ptscope_access *acc);
void ptscope_ctx_init(struct ptscope_ctx *ctx);
void ptscope_ctx_release(struct ptscope_ctx *ctx);
int ptscope_ctx_select(struct ptscope_ctx *ctx, pid_t nr, struct ptscope_target *out);
struct mm_struct *ptscope_ctx_mm(struct ptscope_ctx *ctx);
struct pid *ptscope_ctx_get_pid(struct ptscope_ctx *ctx);
pid_t ptscope_ctx_pid(struct ptscope_ctx *ctx);
bool ptscope_show_pfn(const struct file *file);
bool ptscope_ctx_show_pfn(struct ptscope_ctx *ctx, const struct file *file);

/* query.c: the page-table commands, for the device and debugfs */
long ptscope_ioctl_target(struct ptscope_ctx *ctx, void __user *uarg);
long ptscope_ioctl_walk(struct ptscope_ctx *ctx, bool show_pfn, void __user *uarg);
long ptscope_ioctl_vmas(struct ptscope_ctx *ctx, bool show_pfn, void __user *uarg);
long ptscope_ioctl_vtop(struct ptscope_ctx *ctx, bool show_pfn, void __user *uarg);
int ptscope_vtop(struct mm_struct *mm, u64 addr, bool show_pfn, struct ptscope_vtop *v);
void ptscope_vma_fill(struct vm_area_struct *vma, char *pathbuf,
		      struct ptscope_vma *out);
int ptscope_vma_count(struct ptscope_vma_lock *l, struct ptscope_vma *out);
int ptscope_walk_runs(struct mm_struct *mm, u64 start, u64 end, u32 flags,
		      struct ptscope_run *runs, u32 cap, u32 *count, u64 *next);
void ptscope_hide_entry(struct ptscope_entry *e);
/* ptscope_walk_runs() flag of the module's own: hidden mode (see query.c) */
#define PTSCOPE_WALK_HIDE_PHYS	BIT(31)
/**
 * struct ptscope_vma_query - a per-VMA command taking struct ptscope_vmas
 * @record_size: bytes of one record (struct ptscope_vma, ...)
 * @batch:       records filled per call at most
 * @flags:       the flags the command accepts
 * @fill:        describe @vma into @out, under its read lock or mmap_lock
 *               (ptscope_vma_lock())
 * @count:       then walk the range @out describes, from the same hold,
 *               which it lets go of (ptscope_walk_parts_locked()); 0 or
 *               -errno. NULL: none
 * @count_flag:  @count runs only when the command's flags have it (0: always)
 */
struct ptscope_vma_query {
	size_t record_size;
	u32 batch;
	u32 flags;
	void (*fill)(struct vm_area_struct *vma, char *pathbuf, void *out);
	int (*count)(struct ptscope_vma_lock *l, void *out);
	u32 count_flag;
};

long ptscope_ioctl_vma_query(struct ptscope_ctx *ctx, void __user *uarg,
			     const struct ptscope_vma_query *kind);

/* huge.c: huge pages, for the device and debugfs */
int ptscope_huge_system(struct ptscope_huge_system *s);
void ptscope_huge_vma_fill(struct vm_area_struct *vma, struct ptscope_huge_vma *out);
int ptscope_huge_vma_count(struct ptscope_vma_lock *l, struct ptscope_huge_vma *out);
long ptscope_ioctl_huge_system(void __user *uarg);
long ptscope_ioctl_huge_vmas(struct ptscope_ctx *ctx, void __user *uarg);

/* main.c: size-first argument structs */
long ptscope_args_in(void *karg, size_t ksize, size_t minsize, const void __user *uarg);
long ptscope_args_out(void __user *uarg, const void *karg, size_t ksize, size_t usize);

/*
 * ptscope_copy_out - copy @len bytes of a small struct (a few hundred
 * bytes at most) to the user, as the architecture copies best (its
 * header's PTSCOPE_ARCH_COPY_OUT_WORDS). A caller that knows @len at build
 * time has the copy checked then, not again by hardened usercopy at every
 * call (check_copy_size()).
 *
 * Return: 0 or -EFAULT.
 */
static __always_inline long ptscope_copy_out(void __user *uarg, const void *karg, size_t len)
{
	if (!PTSCOPE_ARCH_COPY_OUT_WORDS)
		return copy_to_user(uarg, karg, len) ? -EFAULT : 0;
	if (!user_write_access_begin(uarg, len))
		return -EFAULT;
	unsafe_copy_to_user(uarg, karg, len, efault);
	user_write_access_end();
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}

/*
 * arch-*.c: what differs between architectures, one file each, chosen by
 * Kbuild from $(SRCARCH); arch-*.h, force-included, holds its inline part
 * (PTSCOPE_ARCH_*, ptscope_arch_ptep_get()).
 */
void ptscope_arch_decode_leaf(pte_t pte, u64 desc, bool large, struct ptscope_entry *e);
void ptscope_arch_decode_table(u64 raw, struct ptscope_entry *e);
u64 ptscope_arch_features(void);
void ptscope_arch_version(struct ptscope_version *v);
void ptscope_arch_show_bits(struct seq_file *m, u64 bits);

/* A tracepoint the counters attach to at load, found by name. */
struct ptscope_tp_hook {
	const char *name;
	void *probe;
	u32 valid;			/* PTSCOPE_CNT_F_* it feeds */
	struct tracepoint *tp;		/* found at load, or NULL */
	bool attached;
};

struct ptscope_tp_hook *ptscope_arch_tp_hooks(unsigned int *n);
void ptscope_arch_counters_attach(void);
void ptscope_arch_counters_detach(void);
u32 ptscope_arch_counters_valid(void);
void ptscope_arch_counters_show(struct seq_file *m);
void ptscope_arch_init(void);

/* counters.c: TLB flush and page-fault counters */
void ptscope_count_tlb(struct mm_struct *mm, unsigned int i, bool full,
		       unsigned long pages);
void ptscope_count_fault(struct mm_struct *mm, int access);
void ptscope_counters_init(void);
void ptscope_counters_exit(void);
void ptscope_counters_debugfs(struct dentry *dir);
void ptscope_counters_release(struct file *file);
long ptscope_ioctl_watch(struct file *file, void __user *uarg);
long ptscope_ioctl_unwatch(struct file *file, void __user *uarg);
long ptscope_ioctl_counters(struct file *file, void __user *uarg);

#endif /* _PTSCOPE_H */
