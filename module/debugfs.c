// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope: the text views under /sys/kernel/debug/ptscope/, for cat.
 *
 *   version    the module, its ABI and the paging mode
 *   target     the process the views below read: write a pid to select it
 *   vmas       its VMAs, one line each, with their counts
 *   pagetable  its page tables as merged runs, indented by level
 *   vtop       write an address, read its translation path
 *   huge       the system's huge pages: THP counters, hugetlb pools, mTHP sizes
 *   huge_vmas  the target's VMAs: THP eligibility, huge mappings, TLB reach
 *
 * target and vtop are writable, and kernel lockdown refuses writable debugfs
 * files: there, select the target and translate through /dev/ptscope (the
 * ptscope tool does). debugfs failures are not fatal to the module.
 *
 * Locking: the views share one context (debugfs_ctx, see target.c); the
 * vtop address is protected by vtop_lock. Reads take the target's mm and
 * mmap_lock per batch, as the ioctls do.
 *
 * An open view (vmas, pagetable, huge_vmas) reads the address space its
 * target had at open(), as /proc/PID/mem does: it holds the target's
 * struct pid and only mmgrab() of the mm, so the memory is freed when the
 * target exits or execs. Each read (->start to ->stop) checks the caller
 * again (ptscope_pid_mm()) and holds mm_users while it walks; a target
 * gone or moved to another mm ends the view with -ESRCH. Walk errors reach
 * the reader as ERR_PTR()s from ->start.
 */
#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/utsname.h>

#include "ptscope.h"

#define RUNS_PER_RECORD	64

static struct ptscope_ctx debugfs_ctx;
static DEFINE_MUTEX(vtop_lock);
static u64 vtop_addr;

static int version_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "ptscope %s\n", PTSCOPE_VERSION);
	seq_printf(m, "abi %d.%d\n", PTSCOPE_ABI_MAJOR, PTSCOPE_ABI_MINOR);
	seq_printf(m, "features 0x%llx\n", ptscope_features());
	seq_printf(m, "kernel %s\n", init_utsname()->release);
	seq_printf(m, "paging %u-level\n", ptscope_pgtable_levels());
	seq_printf(m, "page_size %lu\n", PAGE_SIZE);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(version);

static const char *const level_names[] = {
	[PTSCOPE_LEVEL_PTE] = "PTE", [PTSCOPE_LEVEL_PMD] = "PMD",
	[PTSCOPE_LEVEL_PUD] = "PUD", [PTSCOPE_LEVEL_P4D] = "P4D",
	[PTSCOPE_LEVEL_PGD] = "PGD",
};

static const char *const kind_names[] = {
	[PTSCOPE_KIND_NONE] = "none", [PTSCOPE_KIND_TABLE] = "table",
	[PTSCOPE_KIND_PAGE] = "page", [PTSCOPE_KIND_SWAP] = "swap",
	[PTSCOPE_KIND_MIGRATION] = "migration",
	[PTSCOPE_KIND_DEVICE_PRIVATE] = "device-private",
	[PTSCOPE_KIND_DEVICE_EXCLUSIVE] = "device-exclusive",
	[PTSCOPE_KIND_HWPOISON] = "hwpoison", [PTSCOPE_KIND_MARKER] = "marker",
	[PTSCOPE_KIND_BAD] = "bad",
};

static const char *const bit_names[] = {
	"present", "write", "user", "accessed", "dirty", "global", "nx", "leaf",
	"pwt", "pcd", "pat", "soft-dirty", "uffd-wp", "special", "devmap",
	"protnone", "migration-read", "migration-write", "migration-excl",
	"swp-exclusive",
};

static const char *const page_names[] = {
	"anon", "file", "shmem", "ksm", "zero", "exclusive", "hugetlb", "thp",
};

static void show_names(struct seq_file *m, u64 set, const char *const *names,
		       unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (set & BIT_ULL(i))
			seq_printf(m, " %s", names[i]);
}

/* --- target --------------------------------------------------------------- */

static int target_show(struct seq_file *m, void *unused)
{
	pid_t pid = ptscope_ctx_pid(&debugfs_ctx);

	if (pid)
		seq_printf(m, "%d\n", pid);
	else
		seq_puts(m, "none (write a pid here)\n");
	return 0;
}

static int target_open(struct inode *inode, struct file *file)
{
	return single_open(file, target_show, NULL);
}

static ssize_t target_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	struct ptscope_target t;
	int pid, err;

	err = kstrtoint_from_user(ubuf, len, 10, &pid);
	if (err)
		return err;
	err = ptscope_ctx_select(&debugfs_ctx, pid, &t);
	return err ?: len;
}

static const struct file_operations target_fops = {
	.owner		= THIS_MODULE,
	.open		= target_open,
	.read		= seq_read,
	.write		= target_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

/* --- vmas and pagetable: one record per VMA or per batch of runs ------------- */

struct view_iter {
	struct pid *pid;	/* the target, referenced */
	struct mm_struct *mm;	/* its mm at open(): mmgrab() while the file is open */
	bool held;		/* mm_users taken by the read in progress */
	struct ptscope_access access;
	u64 addr;		/* where the record at @pos starts */
	u64 next;		/* where the record after it starts */
	loff_t pos;
	union {
		struct ptscope_vma vma;
		struct {
			struct ptscope_run runs[RUNS_PER_RECORD];
			u32 count;
		};
		struct {
			struct ptscope_huge_vma huge;
			struct ptscope_huge_vma total;	/* of the VMAs shown so far */
		};
	};
	char pathbuf[PATH_MAX];
};

static int view_open(struct inode *inode, struct file *file,
		     const struct seq_operations *ops)
{
	struct pid *pid = ptscope_ctx_get_pid(&debugfs_ctx);
	struct view_iter *it;
	struct mm_struct *mm;
	int err = -EINVAL;

	if (!pid)
		return err;
	err = -ENOMEM;
	it = __seq_open_private(file, ops, sizeof(*it));
	if (!it)
		goto err_pid;
	ptscope_access_init(&it->access);
	mm = ptscope_pid_mm(pid, &it->access);
	if (IS_ERR(mm)) {
		err = PTR_ERR(mm);
		goto err_seq;
	}
	mmgrab(mm);
	mmput(mm);
	it->mm = mm;
	it->pid = pid;
	return 0;

err_seq:
	ptscope_access_release(&it->access);
	seq_release_private(inode, file);
err_pid:
	put_pid(pid);
	return err;
}

static int view_release(struct inode *inode, struct file *file)
{
	struct view_iter *it = ((struct seq_file *)file->private_data)->private;

	mmdrop(it->mm);
	put_pid(it->pid);
	ptscope_access_release(&it->access);
	return seq_release_private(inode, file);
}

/*
 * view_get - hold the view's address space for this read: the caller may
 * still read the target, and the target still has the mm of open().
 */
static int view_get(struct view_iter *it)
{
	struct mm_struct *mm;

	if (it->held)
		return 0;
	mm = ptscope_pid_mm(it->pid, &it->access);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (mm != it->mm) {
		mmput(mm);
		return -ESRCH;
	}
	it->held = true;
	return 0;
}

static void view_stop(struct seq_file *m, void *v)
{
	struct view_iter *it = m->private;

	if (it->held) {
		mmput(it->mm);
		it->held = false;
	}
}

/* Reads go forward; a read from the start begins again. */
static bool view_seek(struct view_iter *it, loff_t pos)
{
	if (pos == 0) {
		it->addr = 0;
		it->pos = 0;
	}
	return pos == it->pos && it->addr < it->mm->task_size;
}

static void *vmas_start(struct seq_file *m, loff_t *pos)
{
	struct view_iter *it = m->private;
	struct ptscope_vma_lock l;
	int err;

	if (!view_seek(it, *pos))
		return NULL;
	err = view_get(it);
	if (err)
		return ERR_PTR(err);
	if (*pos == 0)
		seq_printf(m, "%-33s %-4s %-8s %-8s %8s %8s %8s %8s %8s %8s %8s %6s  %s\n",
			   "range", "perm", "offset", "kind", "pagesize", "rss_4k",
			   "rss_2m", "swap", "anon", "dirty", "hugetlb", "tables",
			   "name");
	l.mm = it->mm;
	err = ptscope_vma_lock(&l, it->addr, it->mm->task_size);
	if (err)
		return ERR_PTR(err);
	if (!l.vma)
		return NULL;
	ptscope_vma_fill(l.vma, it->pathbuf, &it->vma);
	/* Counted from this hold on, in bounded holds, over the range described. */
	err = ptscope_vma_count(&l, &it->vma);
	return err ? ERR_PTR(err) : it;
}

static void *vmas_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct view_iter *it = m->private;

	it->addr = it->vma.end;
	it->pos = ++*pos;
	return vmas_start(m, pos);
}

static const char *const vma_kind_names[] = {
	[PTSCOPE_VMA_ANON] = "anon", [PTSCOPE_VMA_FILE] = "file",
	[PTSCOPE_VMA_SHMEM] = "shmem", [PTSCOPE_VMA_HEAP] = "heap",
	[PTSCOPE_VMA_STACK] = "stack", [PTSCOPE_VMA_VDSO] = "vdso",
	[PTSCOPE_VMA_VVAR] = "vvar", [PTSCOPE_VMA_HUGETLB] = "hugetlb",
	[PTSCOPE_VMA_PFNMAP] = "pfnmap", [PTSCOPE_VMA_SPECIAL] = "special",
};

static int vmas_show(struct seq_file *m, void *v)
{
	struct ptscope_vma *vma = &((struct view_iter *)v)->vma;
	const u64 *c = vma->counts;

	seq_printf(m, "%016llx-%016llx %c%c%c%c %08llx %-8s %8u %8llu %8llu %8llu %8llu %8llu %8llu %6llu  ",
		   vma->start, vma->end,
		   vma->prot & PTSCOPE_PROT_READ ? 'r' : '-',
		   vma->prot & PTSCOPE_PROT_WRITE ? 'w' : '-',
		   vma->prot & PTSCOPE_PROT_EXEC ? 'x' : '-',
		   vma->prot & PTSCOPE_PROT_SHARED ? 's' : 'p',
		   vma->pgoff, vma_kind_names[vma->kind], vma->page_size,
		   c[PTSCOPE_CNT_RSS_PTE], c[PTSCOPE_CNT_RSS_PMD] >> (PMD_SHIFT - PAGE_SHIFT),
		   c[PTSCOPE_CNT_SWAP], c[PTSCOPE_CNT_ANON], c[PTSCOPE_CNT_DIRTY],
		   c[PTSCOPE_CNT_HUGETLB],
		   c[PTSCOPE_CNT_PTE_TABLES] + c[PTSCOPE_CNT_PMD_TABLES] +
		   c[PTSCOPE_CNT_PUD_TABLES] + c[PTSCOPE_CNT_P4D_TABLES]);
	/* As show_map_vma() prints a path: a newline in it must not end the line. */
	seq_escape(m, vma->name, "\n");
	seq_putc(m, '\n');
	return 0;
}

static const struct seq_operations vmas_sops = {
	.start	= vmas_start,
	.next	= vmas_next,
	.stop	= view_stop,
	.show	= vmas_show,
};

static int vmas_open(struct inode *inode, struct file *file)
{
	return view_open(inode, file, &vmas_sops);
}

static const struct file_operations vmas_fops = {
	.owner		= THIS_MODULE,
	.open		= vmas_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= view_release,
};

static void *pagetable_start(struct seq_file *m, loff_t *pos)
{
	struct view_iter *it = m->private;
	u32 flags;
	int err;

	if (!view_seek(it, *pos))
		return NULL;
	err = view_get(it);
	if (err)
		return ERR_PTR(err);
	if (*pos == 0)
		seq_printf(m, "# %u-level paging; level, first address, entries, what they map\n",
			   ptscope_pgtable_levels());
	flags = PTSCOPE_WALK_TABLES;
	if (!ptscope_show_pfn(m->file))
		flags |= PTSCOPE_WALK_HIDE_PHYS;
	err = ptscope_walk_runs(it->mm, it->addr, it->mm->task_size, flags,
				it->runs, RUNS_PER_RECORD, &it->count, &it->next);
	if (err)
		return ERR_PTR(err);
	return it->count ? it : NULL;
}

static void *pagetable_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct view_iter *it = m->private;

	it->addr = it->next;
	it->pos = ++*pos;
	return pagetable_start(m, pos);
}

static void show_run(struct seq_file *m, const struct ptscope_run *r)
{
	int indent = 2 * (PTSCOPE_LEVEL_PGD - r->level);

	seq_printf(m, "%*s%s %016llx", indent, "", level_names[r->level], r->start);
	if (r->kind == PTSCOPE_KIND_TABLE) {
		seq_printf(m, " table at %#llx", r->table_pa);
	} else {
		seq_printf(m, " x%llu %s", r->count, kind_names[r->kind]);
		if (r->kind == PTSCOPE_KIND_SWAP)
			seq_printf(m, " type %u offset %#llx", r->swap_type, r->swap_offset);
		else
			seq_printf(m, " pfn %#llx", r->pfn);
		show_names(m, r->page, page_names, ARRAY_SIZE(page_names));
		if (r->kind == PTSCOPE_KIND_PAGE)
			seq_printf(m, " mapcount %u order %u", r->mapcount, r->folio_order);
	}
	seq_puts(m, " |");
	show_names(m, r->bits, bit_names, ARRAY_SIZE(bit_names));
	ptscope_arch_show_bits(m, r->bits);
	seq_putc(m, '\n');
}

static int pagetable_show(struct seq_file *m, void *v)
{
	struct view_iter *it = v;
	u32 i;

	for (i = 0; i < it->count; i++)
		show_run(m, &it->runs[i]);
	return 0;
}

static const struct seq_operations pagetable_sops = {
	.start	= pagetable_start,
	.next	= pagetable_next,
	.stop	= view_stop,
	.show	= pagetable_show,
};

static int pagetable_open(struct inode *inode, struct file *file)
{
	return view_open(inode, file, &pagetable_sops);
}

static const struct file_operations pagetable_fops = {
	.owner		= THIS_MODULE,
	.open		= pagetable_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= view_release,
};

/* --- huge pages -------------------------------------------------------------- */

/* /proc/vmstat's names of enum ptscope_thp_event. */
static const char *const thp_event_names[PTSCOPE_THP_EVENT_MAX] = PTSCOPE_THP_EVENT_NAMES;

static int huge_show(struct seq_file *m, void *unused)
{
	struct ptscope_huge_system *s = kzalloc(sizeof(*s), GFP_KERNEL);
	unsigned int i;
	int err;

	if (!s)
		return -ENOMEM;
	err = ptscope_huge_system(s);
	if (err)
		goto out;
	seq_puts(m, "# THP settings are not readable by a module: see /sys/kernel/mm/transparent_hugepage/\n");
	seq_printf(m, "thp %s\n", s->features & PTSCOPE_HUGE_THP ? "yes" : "no");
	seq_printf(m, "pmd_order %u\n", s->pmd_order);
	seq_puts(m, "mthp_sizes");
	for (i = 0; i < BITS_PER_LONG_LONG; i++)
		if (s->mthp_orders & BIT_ULL(i))
			seq_printf(m, " %lukB", (PAGE_SIZE << i) >> 10);
	seq_puts(m, s->mthp_orders ? "\n" : " none (no per-size THP on this kernel)\n");
	for (i = 0; i < PTSCOPE_THP_EVENT_MAX; i++)
		if (s->events_valid & BIT_ULL(i))
			seq_printf(m, "%s %llu\n", thp_event_names[i], s->events[i]);
	for (i = 0; i < s->nr_pools; i++) {
		const struct ptscope_hugetlb_pool *p = &s->pools[i];

		seq_printf(m, "hugetlb_%llukB total %llu free %llu reserved %llu surplus %llu persistent %llu\n",
			   p->page_size >> 10, p->total, p->free, p->reserved, p->surplus,
			   p->persistent);
	}
out:
	kfree(s);
	return err;
}
DEFINE_SHOW_ATTRIBUTE(huge);

static const char *const thp_policy_names[] = {
	[PTSCOPE_THP_NEVER] = "never", [PTSCOPE_THP_IF_ALWAYS] = "if-always",
	[PTSCOPE_THP_IF_ENABLED] = "if-enabled", [PTSCOPE_THP_IF_SHMEM] = "shmem",
	[PTSCOPE_THP_IF_FILE] = "file",
};

static const char *const thp_why_names[] = {
	"hugetlb", "special", "nohugepage", "process", "too-small", "misaligned",
	"no-madvise",
};

static void *huge_vmas_start(struct seq_file *m, loff_t *pos)
{
	struct view_iter *it = m->private;
	struct ptscope_vma_lock l;
	int err;

	if (!view_seek(it, *pos))
		return NULL;
	err = view_get(it);
	if (err)
		return ERR_PTR(err);
	if (*pos == 0) {
		memset(&it->total, 0, sizeof(it->total));
		seq_printf(m, "%-33s %-10s %8s %8s %8s %6s %6s %6s %7s  %s\n",
			   "range", "thp", "mapped", "huge", "leaves", "thp", "h2m", "h1g",
			   "huge%", "why; pte-mapped large folios order:ptes/folios");
	}
	l.mm = it->mm;
	err = ptscope_vma_lock(&l, it->addr, it->mm->task_size);
	if (err)
		return ERR_PTR(err);
	if (!l.vma) {
		/* One last record: the totals. */
		it->huge = it->total;
		return it;
	}
	ptscope_huge_vma_fill(l.vma, &it->huge);
	err = ptscope_huge_vma_count(&l, &it->huge);
	return err ? ERR_PTR(err) : it;
}

static void huge_add(struct ptscope_huge_vma *sum, const struct ptscope_huge_vma *v)
{
	unsigned int i;

	sum->mapped += v->mapped;
	sum->huge_mapped += v->huge_mapped;
	sum->leaves += v->leaves;
	sum->thp_pmd += v->thp_pmd;
	sum->hugetlb_pmd += v->hugetlb_pmd;
	sum->hugetlb_pud += v->hugetlb_pud;
	for (i = 0; i < PTSCOPE_HUGE_ORDERS; i++) {
		sum->pte_large[i] += v->pte_large[i];
		sum->pte_folios[i] += v->pte_folios[i];
	}
}

static void *huge_vmas_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct view_iter *it = m->private;

	it->pos = ++*pos;
	if (!it->huge.end) {		/* the totals were the last record */
		it->addr = it->mm->task_size;
		return NULL;
	}
	huge_add(&it->total, &it->huge);
	it->addr = it->huge.end;
	return huge_vmas_start(m, pos);
}

/* @part of @whole in per mille, for a percentage with one decimal. */
static unsigned int permille(u64 part, u64 whole)
{
	return whole ? div64_u64(part * 1000, whole) : 0;
}

static int huge_vmas_show(struct seq_file *m, void *v)
{
	const struct ptscope_huge_vma *h = &((struct view_iter *)v)->huge;
	unsigned int cov = permille(h->huge_mapped, h->mapped), i;

	if (h->end)
		seq_printf(m, "%016llx-%016llx %-10s", h->start, h->end,
			   thp_policy_names[h->thp]);
	else
		seq_printf(m, "%-33s %-10s", "total", "-");
	seq_printf(m, " %8llu %8llu %8llu %6llu %6llu %6llu %5u.%u%% ",
		   h->mapped, h->huge_mapped, h->leaves, h->thp_pmd, h->hugetlb_pmd,
		   h->hugetlb_pud, cov / 10, cov % 10);
	if (!h->thp_why)
		seq_puts(m, " -");
	show_names(m, h->thp_why, thp_why_names, ARRAY_SIZE(thp_why_names));
	seq_puts(m, ";");
	for (i = 1; i < PTSCOPE_HUGE_ORDERS; i++)
		if (h->pte_large[i])
			seq_printf(m, " %u:%llu/%llu", i, h->pte_large[i], h->pte_folios[i]);
	seq_putc(m, '\n');
	return 0;
}

static const struct seq_operations huge_vmas_sops = {
	.start	= huge_vmas_start,
	.next	= huge_vmas_next,
	.stop	= view_stop,
	.show	= huge_vmas_show,
};

static int huge_vmas_open(struct inode *inode, struct file *file)
{
	return view_open(inode, file, &huge_vmas_sops);
}

static const struct file_operations huge_vmas_fops = {
	.owner		= THIS_MODULE,
	.open		= huge_vmas_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= view_release,
};

/* --- vtop ------------------------------------------------------------------- */

static const char *const vtop_results[] = {
	[PTSCOPE_VTOP_MAPPED] = "mapped",
	[PTSCOPE_VTOP_NOT_POPULATED] = "not populated: the first access will fault it in",
	[PTSCOPE_VTOP_SWAPPED] = "swapped out: an access is a major fault",
	[PTSCOPE_VTOP_NOT_PRESENT] = "not present",
	[PTSCOPE_VTOP_NO_VMA] = "no VMA: an access is a segmentation fault",
	[PTSCOPE_VTOP_NO_ACCESS] = "a VMA without access rights: an access is a segmentation fault",
};

static int vtop_show(struct seq_file *m, void *unused)
{
	struct mm_struct *mm = ptscope_ctx_mm(&debugfs_ctx);
	struct ptscope_vtop *v;
	unsigned int i;
	int err;

	if (IS_ERR(mm))
		return PTR_ERR(mm);
	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v) {
		mmput(mm);
		return -ENOMEM;
	}
	mutex_lock(&vtop_lock);
	v->addr = vtop_addr;
	mutex_unlock(&vtop_lock);
	err = v->addr < mm->task_size ?
	      ptscope_vtop(mm, v->addr, ptscope_show_pfn(m->file), v) : -EINVAL;
	mmput(mm);
	if (err)
		goto out;
	seq_printf(m, "%#llx: %s", v->addr, vtop_results[v->result]);
	if (v->result == PTSCOPE_VTOP_MAPPED)
		seq_printf(m, " at physical %#llx", v->phys);
	seq_putc(m, '\n');
	for (i = 0; i < v->nlevels; i++) {
		const struct ptscope_vtop_level *l = &v->levels[i];

		seq_printf(m, "  %s table %#llx [%3u] = %#018llx %s", level_names[l->level],
			   l->table_pa, l->index, l->entry, kind_names[l->kind]);
		if (l->kind == PTSCOPE_KIND_TABLE || l->kind == PTSCOPE_KIND_PAGE)
			seq_printf(m, " -> pfn %#llx", l->pfn);
		seq_puts(m, " |");
		show_names(m, l->bits, bit_names, ARRAY_SIZE(bit_names));
		ptscope_arch_show_bits(m, l->bits);
		seq_putc(m, '\n');
	}
out:
	kfree(v);
	return err;
}

static int vtop_open(struct inode *inode, struct file *file)
{
	return single_open(file, vtop_show, NULL);
}

static ssize_t vtop_write(struct file *file, const char __user *ubuf, size_t len,
			  loff_t *ppos)
{
	u64 addr;
	int err;

	err = kstrtou64_from_user(ubuf, len, 0, &addr);
	if (err)
		return err;
	mutex_lock(&vtop_lock);
	vtop_addr = addr;
	mutex_unlock(&vtop_lock);
	return len;
}

static const struct file_operations vtop_fops = {
	.owner		= THIS_MODULE,
	.open		= vtop_open,
	.read		= seq_read,
	.write		= vtop_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

struct dentry *ptscope_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("ptscope", NULL);

	ptscope_ctx_init(&debugfs_ctx);
	debugfs_create_file("version", 0444, dir, NULL, &version_fops);
	debugfs_create_file("target", 0600, dir, NULL, &target_fops);
	debugfs_create_file("vmas", 0400, dir, NULL, &vmas_fops);
	debugfs_create_file("pagetable", 0400, dir, NULL, &pagetable_fops);
	debugfs_create_file("vtop", 0600, dir, NULL, &vtop_fops);
	ptscope_counters_debugfs(dir);
	debugfs_create_file("huge", 0444, dir, NULL, &huge_fops);
	debugfs_create_file("huge_vmas", 0400, dir, NULL, &huge_vmas_fops);
	return dir;
}

void ptscope_debugfs_exit(struct dentry *dir)
{
	debugfs_remove(dir);
	ptscope_ctx_release(&debugfs_ctx);
}
