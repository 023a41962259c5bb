// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope: TLB flush and page-fault counters, per address space and global.
 *
 * A watch (struct ptscope_watcher) counts the events of one mm, or of
 * every mm for a global watch, into per-CPU counters. The hooks feeding
 * them, here and in the architecture's file (arch-*.c, which counts through
 * ptscope_count_tlb() and ptscope_count_fault()):
 *
 *   TLB flushes                x86: tlb:tlb_flush by reason, charged to the
 *                              mm of the task on the flushing CPU, with
 *                              sched:sched_switch for task switches
 *   fault exceptions           x86: exceptions:page_fault_user, by access
 *   signal:signal_generate     SIGSEGV/SIGBUS raised for a fault
 *   probe on handle_mm_fault   outcome, minor/major, page size, VMA: no
 *   (fprobe or kretprobe)      tracepoint reports the result of a fault;
 *                              only while a PTSCOPE_WATCH_FAULT_DETAIL
 *                              watch exists, and for
 *                              PTSCOPE_FAULT_PROBE_LINGER after the last
 *                              (a few % of a fault, the tracepoints
 *                              nothing measurable: make bench)
 *
 * Tracepoint structs are not exported: they are found by name with
 * for_each_kernel_tracepoint() at load time. The tracepoint probes stay
 * attached while the module is loaded: with no watch, a probe is a call and
 * an empty list walk. Attaching one flips a static key in the hottest paths
 * of the kernel (exc_page_fault, switch_mm_irqs_off), and under
 * multi-threaded QEMU TCG flipping exceptions:page_fault_user while another
 * CPU faults crashes the guest on the patching int3 (tracefs alone does it:
 * echo 1/0 > enable), so it happens once, at load and unload, not per watch.
 *
 * Who may do what. WATCH of a process, and every COUNTERS read of its
 * watch, follow target.c's rule (ptscope_may_read(), asked outside
 * ptscope_watch_lock: it opens a file): a watch's file passed on
 * (SCM_RIGHTS) or inherited by a process that could not have created the
 * watch reads nothing from it (-EPERM). Of a reaped target only the
 * capability part of that rule can still be asked. A global watch needs
 * CAP_SYS_ADMIN, at creation and at every read. UNWATCH reveals nothing and
 * is for whoever holds the file. PTSCOPE_WATCH_FAULT_DETAIL patches
 * handle_mm_fault() for the whole system: it needs what a kprobe through
 * perf needs, CAP_PERFMON or CAP_SYS_ADMIN (perfmon_capable()). The dTLB
 * counter is a perf hardware event from perf_event_create_kernel_counter(),
 * which asks neither perf_event_paranoid nor the LSMs' perf_event_open hook
 * (only their perf_event_alloc hook runs): security_perf_event_open() and
 * the paranoid sysctl are not exported to modules (6.1, 6.12). So the
 * counter is made for, and read by, a caller that perf_event_open() itself
 * lets through at every paranoid level (perfmon_capable()) and nobody else:
 * PTSCOPE_CNT_F_DTLB stays clear for the others, never a 0 that looks
 * measured. Checks whose denial is routine (what a caller can be offered:
 * the dTLB counter, detail, which the tool asks for first; the checks at
 * every read) use ns_capable_noaudit(), so they leave no audit record;
 * capable() stays where a caller asked for something privileged once and a
 * denial is the answer (a global WATCH).
 * At most PTSCOPE_WATCH_MAX watches exist, PTSCOPE_WATCH_FILE_MAX per open
 * file, so one opener cannot take them all.
 *
 * Locking: ptscope_watch_lock (a mutex) serialises everything that changes
 * the watch list, the watch ids, the counts and the hooks, and is held only
 * in process context. The hooks never take a lock: they walk
 * ptscope_watches under RCU and bump counters of the running CPU.
 *
 * Lifetime of a watch. WATCH builds it, reserves an id for it (the idr maps
 * the id to NULL; the watch waits on ptscope_reserved and counts against
 * the limits), copies the id out, and only then publishes it (idr_replace(),
 * onto ptscope_watches): nothing fails once it is published, and nobody sees
 * a watch whose WATCH can still fail. A reserved id is no watch: UNWATCH
 * and COUNTERS of it give -ENOENT. When the copy fails, the reservation is
 * dropped and the watch freed at once: no hook or other caller has seen it.
 * A reserved watch never outlives its file, whose release() runs only once
 * no ioctl is in flight on it. A published watch is freed only after it
 * left the list and an RCU grace period passed; the hooks run with
 * preemption disabled (tracepoint probes, fault-probe handlers), so
 * synchronize_rcu() also waits for them.
 *
 * The fault probe is attached with the first detail watch. The last one
 * going arms ptscope_fault_probe_detach, which detaches it
 * PTSCOPE_FAULT_PROBE_LINGER later unless a detail watch came meanwhile: a
 * WATCH/UNWATCH loop patches kernel text once, not at every turn. Unloading
 * cancels that work and detaches at once (unregistering the probe waits for
 * its handlers), then ends with tracepoint_synchronize_unregister(), so no
 * probe of this module runs once it is gone; the module cannot go before
 * its files, and so its watches, are closed.
 */
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/perf_event.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>

#include "ptscope.h"

/* VMAs each CPU remembers per watch; faults in others go to vma_other. */
#define PTSCOPE_VMA_SLOTS	16

struct ptscope_vma_slot {
	unsigned long start;
	unsigned long end;	/* 0: free; written last */
	u64 faults;
	u64 major;
};

/* One CPU's share of a watch's counters. */
struct ptscope_watch_cpu {
	u64 faults[PTSCOPE_FLT_MAX];
	struct ptscope_tlb_count tlb[PTSCOPE_TLB_MAX];
	u64 vma_other;
	struct ptscope_vma_slot vmas[PTSCOPE_VMA_SLOTS];
};

/**
 * struct ptscope_watcher - one watch
 * @node:     in ptscope_watches (RCU), once published
 * @link:     in ptscope_reserved until published; once removed, on a list
 *            of watches to free after the grace period
 * @id:       the id user space names it by
 * @flags:    PTSCOPE_WATCH_*
 * @pid:      the pid it was created with, as the caller saw it
 * @owner:    the file that created it; only that file may use it
 * @mm:       the watched mm (mmgrab'd, so its address is never reused while
 *            watched); NULL for a global watch
 * @task:     the watched thread (referenced), for the kernel's own fault
 *            counts and the dTLB counter; NULL for a global watch
 * @dtlb:     perf counter of dTLB load misses, or NULL (the creator was not
 *            perfmon_capable(), or no PMU counts them)
 * @start_ns: when counting started
 * @kmin:     the kernel's min_flt of the process at the start
 * @kmaj:     and its maj_flt
 * @cpu:      the counters
 */
struct ptscope_watcher {
	struct list_head node;
	struct list_head link;
	u32 id;
	u32 flags;
	pid_t pid;
	struct file *owner;
	struct mm_struct *mm;
	struct task_struct *task;
	struct perf_event *dtlb;
	u64 start_ns;
	u64 kmin, kmaj;
	struct ptscope_watch_cpu __percpu *cpu;
};

static DEFINE_MUTEX(ptscope_watch_lock);
static LIST_HEAD(ptscope_watches);
static LIST_HEAD(ptscope_reserved);
static DEFINE_IDR(ptscope_watch_ids);
static unsigned int ptscope_nr_watches;	/* published */
static unsigned int ptscope_nr_reserved;
static unsigned int ptscope_nr_detail;	/* published PTSCOPE_WATCH_FAULT_DETAIL */

/* ------------------------------------------------------------------------
 * The hot path: probes. None sleeps or locks; all run with preemption off.
 */

static bool watch_matches(const struct ptscope_watcher *w,
			  const struct mm_struct *mm)
{
	return (w->flags & PTSCOPE_WATCH_GLOBAL) || (mm && w->mm == mm);
}

/**
 * ptscope_count_tlb - count a TLB flush for the watches of @mm
 * @mm:    the address space it is charged to (NULL: none, global watches only)
 * @i:     enum ptscope_tlb_reason
 * @full:  it flushed everything
 * @pages: otherwise, how many pages
 *
 * For the architecture's hooks (arch-*.c): preemption off, no lock.
 */
void ptscope_count_tlb(struct mm_struct *mm, unsigned int i, bool full,
		       unsigned long pages)
{
	struct ptscope_watcher *w;

	rcu_read_lock();
	list_for_each_entry_rcu(w, &ptscope_watches, node) {
		if (!watch_matches(w, mm))
			continue;
		this_cpu_inc(w->cpu->tlb[i].events);
		if (full)
			this_cpu_inc(w->cpu->tlb[i].full);
		else
			this_cpu_add(w->cpu->tlb[i].pages, pages);
	}
	rcu_read_unlock();
}

/**
 * ptscope_count_fault - count a user-mode page-fault exception for @mm
 * @mm:     the faulting task's address space
 * @access: PTSCOPE_FLT_READ, _WRITE or _EXEC, or -1 when the hook cannot
 *          tell (PTSCOPE_FLT_TOTAL only)
 *
 * For the architecture's hooks (arch-*.c): preemption off, no lock.
 */
void ptscope_count_fault(struct mm_struct *mm, int access)
{
	struct ptscope_watcher *w;

	rcu_read_lock();
	list_for_each_entry_rcu(w, &ptscope_watches, node) {
		if (!watch_matches(w, mm))
			continue;
		this_cpu_inc(w->cpu->faults[PTSCOPE_FLT_TOTAL]);
		if (access >= 0)
			this_cpu_inc(w->cpu->faults[access]);
	}
	rcu_read_unlock();
}

/* The signal a memory fault raises, as a counter index, or -1. */
static int fault_signal_index(int sig, const struct kernel_siginfo *info)
{
	if (info == SEND_SIG_NOINFO || info == SEND_SIG_PRIV)
		return -1;
	if (sig == SIGSEGV && (info->si_code == SEGV_MAPERR ||
			       info->si_code == SEGV_ACCERR ||
			       info->si_code == SEGV_PKUERR))
		return PTSCOPE_FLT_SIGSEGV;
	if (sig == SIGBUS && (info->si_code == BUS_ADRERR ||
			      info->si_code == BUS_MCEERR_AR))
		return PTSCOPE_FLT_SIGBUS;
	return -1;
}

static void probe_signal_generate(void *data, int sig, struct kernel_siginfo *info,
				  struct task_struct *task, int group, int result)
{
	struct ptscope_watcher *w;
	int i;

	/* A fault's signal goes to the faulting task, which is current. */
	if (task != current)
		return;
	i = fault_signal_index(sig, info);
	if (i < 0)
		return;
	rcu_read_lock();
	list_for_each_entry_rcu(w, &ptscope_watches, node)
		if (watch_matches(w, task->mm))
			this_cpu_inc(w->cpu->faults[i]);
	rcu_read_unlock();
}

/* What the probe on handle_mm_fault() carries from entry to return. */
struct ptscope_fault_call {
	unsigned long address;
	unsigned long vm_start;
	unsigned long vm_end;
	unsigned int flags;
};

static bool detail_matches(const struct ptscope_watcher *w, const struct mm_struct *mm)
{
	return (w->flags & PTSCOPE_WATCH_FAULT_DETAIL) && watch_matches(w, mm);
}

static bool mm_is_watched_in_detail(const struct mm_struct *mm)
{
	struct ptscope_watcher *w;
	bool found = false;

	rcu_read_lock();
	list_for_each_entry_rcu(w, &ptscope_watches, node) {
		if (detail_matches(w, mm)) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * fault_call_begin - handle_mm_fault(@vma, @address, @flags, regs) entered
 * @call: filled with what its return needs
 *
 * Return: false to leave this fault alone, with no return handler.
 */
static bool fault_call_begin(struct ptscope_fault_call *call,
			     struct vm_area_struct *vma, unsigned long address,
			     unsigned int flags)
{
	struct mm_struct *mm = current->mm;

	/* mm-less kernel threads are left out: no process's fault */
	if (!mm || !mm_is_watched_in_detail(mm))
		return false;
	call->address = address;
	call->flags = flags;
	/*
	 * The vma may be gone by the return, once the fault dropped its lock.
	 * A fault on another process's memory (GUP) counts for current, as in
	 * the kernel's min_flt, but has no VMA or page size here.
	 */
	if (vma->vm_mm == mm) {
		call->vm_start = vma->vm_start;
		call->vm_end = vma->vm_end;
	} else {
		call->vm_start = 0;
		call->vm_end = 0;
	}
	return true;
}

/*
 * fault_page_index - the page size that maps @addr after a completed fault
 *
 * Called on the return of handle_mm_fault() while the fault still holds
 * mmap_lock or the VMA lock, so no upper table is freed under us; entries
 * are read once, as GUP-fast does.
 */
static int fault_page_index(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgdp = pgd_offset(mm, addr);
	pgd_t pgd = READ_ONCE(*pgdp);
	p4d_t *p4dp, p4d;
	pud_t *pudp, pud;
	pmd_t pmd;

	if (pgd_none(pgd) || pgd_bad(pgd))
		return PTSCOPE_FLT_PAGE_4K;
	p4dp = p4d_offset_lockless(pgdp, pgd, addr);
	p4d = READ_ONCE(*p4dp);
	if (p4d_none(p4d) || p4d_bad(p4d))
		return PTSCOPE_FLT_PAGE_4K;
	pudp = pud_offset_lockless(p4dp, p4d, addr);
	pud = READ_ONCE(*pudp);
	if (pud_leaf(pud))
		return PTSCOPE_FLT_PAGE_1G;
	if (pud_none(pud) || pud_bad(pud))
		return PTSCOPE_FLT_PAGE_4K;
	pmd = READ_ONCE(*pmd_offset_lockless(pudp, pud, addr));
	return pmd_leaf(pmd) ? PTSCOPE_FLT_PAGE_2M : PTSCOPE_FLT_PAGE_4K;
}

/*
 * The counters only the fault probe's return writes (outcome, minor/major,
 * page size, VMAs) have one writer per CPU: its handler runs with
 * preemption off and never nests (no fault is handled in interrupt
 * context), so a plain increment, written once for the readers, is enough.
 */
static void detail_inc(u64 *v)
{
	WRITE_ONCE(*v, *v + 1);
}

/* Count a completed fault against its VMA in this CPU's table. */
static void count_fault_vma(struct ptscope_watch_cpu *c,
			    const struct ptscope_fault_call *call, bool major)
{
	struct ptscope_vma_slot *s;

	if (!call->vm_end)
		goto other;
	for (s = c->vmas; s < c->vmas + PTSCOPE_VMA_SLOTS; s++) {
		unsigned long end = READ_ONCE(s->end);

		if (!end) {
			WRITE_ONCE(s->start, call->vm_start);
			/* Claims the slot: pairs with merge_vmas()'s acquire. */
			smp_store_release(&s->end, call->vm_end);
			break;
		}
		if (end == call->vm_end && READ_ONCE(s->start) == call->vm_start)
			break;
	}
	if (s == c->vmas + PTSCOPE_VMA_SLOTS)
		goto other;
	WRITE_ONCE(s->faults, s->faults + 1);
	if (major)
		WRITE_ONCE(s->major, s->major + 1);
	return;
other:
	WRITE_ONCE(c->vma_other, c->vma_other + 1);
}

/*
 * fault_call_end - handle_mm_fault() of @call returns @ret
 *
 * Counts as mm_account_fault() does: a retried attempt is not a fault yet,
 * a failed one is neither minor nor major, and one that needed a retry
 * (FAULT_FLAG_TRIED) is major.
 */
static void fault_call_end(const struct ptscope_fault_call *call, vm_fault_t ret)
{
	struct mm_struct *mm = current->mm;
	struct ptscope_watcher *w;
	bool done = !(ret & (VM_FAULT_RETRY | VM_FAULT_ERROR));
	bool major = (ret & VM_FAULT_MAJOR) || (call->flags & FAULT_FLAG_TRIED);
	bool user = call->flags & FAULT_FLAG_USER;
	int outcome, page = -1;

	if (ret & VM_FAULT_RETRY)
		outcome = PTSCOPE_FLT_RETRY;
	else if (ret & VM_FAULT_ERROR)
		outcome = PTSCOPE_FLT_ERROR;
	else
		outcome = PTSCOPE_FLT_HANDLED;
	/* With VM_FAULT_COMPLETED the locks are gone: the size stays unknown. */
	if (done && call->vm_end && !(ret & VM_FAULT_COMPLETED))
		page = fault_page_index(mm, call->address);

	rcu_read_lock();
	list_for_each_entry_rcu(w, &ptscope_watches, node) {
		struct ptscope_watch_cpu *c;

		if (!detail_matches(w, mm))
			continue;
		c = this_cpu_ptr(w->cpu);
		detail_inc(&c->faults[outcome]);
		if (!user)
			detail_inc(&c->faults[PTSCOPE_FLT_KERNEL_MODE]);
		if (!done)
			continue;
		detail_inc(&c->faults[major ? PTSCOPE_FLT_MAJOR : PTSCOPE_FLT_MINOR]);
		if (page >= 0)
			detail_inc(&c->faults[page]);
		if (!(w->flags & PTSCOPE_WATCH_GLOBAL))
			count_fault_vma(c, call, major);
	}
	rcu_read_unlock();
}

/*
 * The probe on handle_mm_fault(), the one place that knows which kind it
 * is. Where the kernel has fprobe with an exit handler on function-graph
 * tracing (7.x), a fault enters through the ftrace call at the function's
 * entry and returns through the task's shadow return stack: no exception.
 * Elsewhere it is a kretprobe, whose entry kprobe rides ftrace on x86 but
 * is a BRK exception per fault on arm64 (no KPROBES_ON_FTRACE). Both pass
 * struct ptscope_fault_call from entry to return, count in nmissed the
 * faults they could not follow, and on unregistering wait for the handlers
 * running: fprobe's run under rcu_read_lock_sched() and unregister_fprobe()
 * ends with synchronize_rcu(). A fault in flight then returns through the
 * kernel's trampoline, which no longer calls ours.
 */
#ifdef PTSCOPE_FAULT_FPROBE
#define PTSCOPE_FAULT_PROBE_NAME	"fprobe:handle_mm_fault"

static struct fprobe ptscope_fault_probe;

/* Nonzero skips the exit handler. */
static int fault_fprobe_entry(struct fprobe *fp, unsigned long entry_ip,
			      unsigned long ret_ip, struct ftrace_regs *fregs,
			      void *data)
{
	return !fault_call_begin(data,
				 (void *)ftrace_regs_get_argument(fregs, 0),
				 ftrace_regs_get_argument(fregs, 1),
				 ftrace_regs_get_argument(fregs, 2));
}

static void fault_fprobe_exit(struct fprobe *fp, unsigned long entry_ip,
			      unsigned long ret_ip, struct ftrace_regs *fregs,
			      void *data)
{
	fault_call_end(data, (__force vm_fault_t)ftrace_regs_get_return_value(fregs));
}

static int fault_probe_register(void)
{
	const char *sym = "handle_mm_fault";

	ptscope_fault_probe = (struct fprobe) {
		.entry_handler	= fault_fprobe_entry,
		.exit_handler	= fault_fprobe_exit,
		.entry_data_size = sizeof(struct ptscope_fault_call),
	};
	return register_fprobe_syms(&ptscope_fault_probe, &sym, 1);
}

static void fault_probe_unregister(void)
{
	unregister_fprobe(&ptscope_fault_probe);
}

static unsigned long fault_probe_nmissed(void)
{
	return ptscope_fault_probe.nmissed;
}
#else
#define PTSCOPE_FAULT_PROBE_NAME	"kretprobe:handle_mm_fault"

static struct kretprobe ptscope_fault_probe;

/* Nonzero skips the return handler. */
static int fault_krp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return !fault_call_begin((void *)ri->data,
				 (void *)regs_get_kernel_argument(regs, 0),
				 regs_get_kernel_argument(regs, 1),
				 regs_get_kernel_argument(regs, 2));
}

static int fault_krp_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	fault_call_end((void *)ri->data, (__force vm_fault_t)regs_return_value(regs));
	return 0;
}

static int fault_probe_register(void)
{
	ptscope_fault_probe = (struct kretprobe) {
		.kp.symbol_name	= "handle_mm_fault",
		.entry_handler	= fault_krp_entry,
		.handler	= fault_krp_return,
		.data_size	= sizeof(struct ptscope_fault_call),
		/* faults sleep (I/O, locks): room for many per CPU */
		.maxactive	= 16 * num_possible_cpus(),
	};
	return register_kretprobe(&ptscope_fault_probe);
}

static void fault_probe_unregister(void)
{
	unregister_kretprobe(&ptscope_fault_probe);
}

static unsigned long fault_probe_nmissed(void)
{
	return ptscope_fault_probe.nmissed;
}
#endif

/* ------------------------------------------------------------------------
 * Attaching and detaching the hooks, under ptscope_watch_lock.
 */

static struct ptscope_tp_hook ptscope_tp_hooks[] = {
	{ "signal_generate",	probe_signal_generate,	PTSCOPE_CNT_F_SIGNALS },
};

/* The architecture's tracepoints (arch-*.c), set at load, and ours. */
struct ptscope_tp_table {
	struct ptscope_tp_hook *hooks;
	unsigned int n;
};

static struct ptscope_tp_table ptscope_tp_tables[2] = {
	[1] = { ptscope_tp_hooks, ARRAY_SIZE(ptscope_tp_hooks) },
};

/* The hook after @h (NULL: the first), through both tables, or NULL. */
static struct ptscope_tp_hook *tp_hook_next(struct ptscope_tp_hook *h)
{
	struct ptscope_tp_table *t;

	for (t = ptscope_tp_tables; t < ptscope_tp_tables + ARRAY_SIZE(ptscope_tp_tables); t++) {
		if (!h) {
			if (t->n)
				return t->hooks;
		} else if (h >= t->hooks && h < t->hooks + t->n) {
			if (++h < t->hooks + t->n)
				return h;
			h = NULL;
		}
	}
	return NULL;
}

static bool ptscope_fault_probe_attached;
/* faults the probe could not follow, over every time it was attached */
static unsigned long ptscope_fault_probe_missed;

/* What the attached hooks feed: PTSCOPE_CNT_F_* */
static u32 ptscope_hooks_valid;

static void find_tracepoint(struct tracepoint *tp, void *priv)
{
	struct ptscope_tp_hook *h;

	for (h = tp_hook_next(NULL); h; h = tp_hook_next(h))
		if (!strcmp(tp->name, h->name))
			h->tp = tp;
}

static void attach_fault_probe(void)
{
	int err;

	lockdep_assert_held(&ptscope_watch_lock);
	err = fault_probe_register();
	if (err) {
		pr_warn_once("cannot attach %s: %d\n", PTSCOPE_FAULT_PROBE_NAME, err);
		return;
	}
	ptscope_fault_probe_attached = true;
}

/* Unregistering waits for running handlers. */
static void detach_fault_probe(void)
{
	lockdep_assert_held(&ptscope_watch_lock);
	if (!ptscope_fault_probe_attached)
		return;
	fault_probe_unregister();
	ptscope_fault_probe_missed += fault_probe_nmissed();
	ptscope_fault_probe_attached = false;
}

/* How long the fault probe stays after the last detail watch. */
#define PTSCOPE_FAULT_PROBE_LINGER	HZ

static void fault_probe_detach_fn(struct work_struct *work)
{
	mutex_lock(&ptscope_watch_lock);
	if (!ptscope_nr_detail)
		detach_fault_probe();
	mutex_unlock(&ptscope_watch_lock);
}

static DECLARE_DELAYED_WORK(ptscope_fault_probe_detach, fault_probe_detach_fn);

/* A detail watch published: attach, or keep what a pending detach would drop. */
static void get_fault_probe(void)
{
	lockdep_assert_held(&ptscope_watch_lock);
	if (ptscope_nr_detail++)
		return;
	/* not _sync: the work takes our lock; run late, it sees the watch */
	cancel_delayed_work(&ptscope_fault_probe_detach);
	if (!ptscope_fault_probe_attached)
		attach_fault_probe();
}

/* A detail watch removed: the last one detaches PTSCOPE_FAULT_PROBE_LINGER later. */
static void put_fault_probe(void)
{
	lockdep_assert_held(&ptscope_watch_lock);
	if (!--ptscope_nr_detail)
		mod_delayed_work(system_wq, &ptscope_fault_probe_detach,
				 PTSCOPE_FAULT_PROBE_LINGER);
}

static void detach_hooks(void)
{
	struct ptscope_tp_hook *h;

	ptscope_arch_counters_detach();
	for (h = tp_hook_next(NULL); h; h = tp_hook_next(h)) {
		if (!h->attached)
			continue;
		tracepoint_probe_unregister(h->tp, h->probe, NULL);
		h->attached = false;
	}
	tracepoint_synchronize_unregister();
	ptscope_hooks_valid = 0;
}

/*
 * attach_hooks - attach every tracepoint the kernel offers
 *
 * A missing or refused hook is not an error: its counters are left out of
 * ptscope_hooks_valid and read as 0.
 */
static void attach_hooks(void)
{
	struct ptscope_tp_hook *h;
	int err;

	for (h = tp_hook_next(NULL); h; h = tp_hook_next(h)) {
		if (!h->tp)
			continue;
		err = tracepoint_probe_register(h->tp, h->probe, NULL);
		if (err) {
			pr_warn_once("cannot attach to tracepoint %s: %d\n", h->name, err);
			continue;
		}
		h->attached = true;
		ptscope_hooks_valid |= h->valid;
	}
	ptscope_arch_counters_attach();
}

/* ------------------------------------------------------------------------
 * Watches: creation, release, snapshots. Process context.
 */

/* The kernel's own fault counts of @task's process, as /proc/PID/stat sums them. */
static void task_fault_counts(struct task_struct *task, u64 *min, u64 *maj)
{
	struct signal_struct *sig = task->signal;
	struct task_struct *t;
	unsigned int seq;

	rcu_read_lock();
	do {
		seq = read_seqbegin(&sig->stats_lock);
		*min = sig->min_flt;
		*maj = sig->maj_flt;
		__for_each_thread(sig, t) {
			*min += t->min_flt;
			*maj += t->maj_flt;
		}
	} while (read_seqretry(&sig->stats_lock, seq));
	rcu_read_unlock();
}

/*
 * CAP_PERFMON or CAP_SYS_ADMIN, as perfmon_capable(), without an audit
 * record when the answer is no: detail and the dTLB counter are offered,
 * and a caller without them is no event.
 */
static bool caller_perfmon_capable(void)
{
	return ns_capable_noaudit(&init_user_ns, CAP_PERFMON) ||
	       ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
}

/*
 * dtlb_counter - dTLB load misses of @task in user mode
 *
 * Return: the counter, or NULL for a caller that perf_event_open() could
 * refuse (see the top of this file) or without a PMU that counts them.
 */
static struct perf_event *dtlb_counter(struct task_struct *task)
{
	struct perf_event_attr attr = {
		.type		= PERF_TYPE_HW_CACHE,
		.size		= sizeof(attr),
		.config		= PERF_COUNT_HW_CACHE_DTLB |
				  (PERF_COUNT_HW_CACHE_OP_READ << 8) |
				  (PERF_COUNT_HW_CACHE_RESULT_MISS << 16),
		.exclude_kernel	= 1,
		.exclude_hv	= 1,
	};
	struct perf_event *event;

	if (!caller_perfmon_capable())
		return NULL;
	event = perf_event_create_kernel_counter(&attr, -1, task, NULL, NULL);
	return IS_ERR(event) ? NULL : event;
}

static void watch_free(struct ptscope_watcher *w)
{
	if (w->dtlb)
		perf_event_release_kernel(w->dtlb);
	if (w->mm)
		mmdrop(w->mm);
	if (w->task)
		put_task_struct(w->task);
	free_percpu(w->cpu);
	kfree(w);
}

/*
 * watch_target - take the task and mm of @pid for a watch
 *
 * Return: 0, -ESRCH (no such process, or exiting), -EINVAL (a kernel
 * thread) or -EPERM (ptscope_may_read() says no).
 */
static int watch_target(struct ptscope_watcher *w, pid_t nr)
{
	struct task_struct *task = NULL;
	struct mm_struct *mm;
	struct pid *pid;
	int err;

	pid = nr > 0 ? find_get_pid(nr) : NULL;
	if (pid)
		task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return -ESRCH;
	err = -EINVAL;
	if (task->flags & PF_KTHREAD)
		goto err_task;
	err = ptscope_may_read(task);
	if (err)
		goto err_task;
	err = -ESRCH;
	mm = get_task_mm(task);
	if (!mm)
		goto err_task;
	mmgrab(mm);
	mmput(mm);
	w->task = task;
	w->mm = mm;
	w->dtlb = dtlb_counter(task);
	return 0;

err_task:
	put_task_struct(task);
	return err;
}

static struct ptscope_watcher *watch_create(struct file *file, u32 flags, pid_t pid)
{
	struct ptscope_watcher *w;
	int err;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return ERR_PTR(-ENOMEM);
	w->cpu = alloc_percpu(struct ptscope_watch_cpu);
	if (!w->cpu) {
		err = -ENOMEM;
		goto err_free;
	}
	w->flags = flags;
	w->pid = pid;
	w->owner = file;
	err = -EPERM;
	if (flags & PTSCOPE_WATCH_GLOBAL) {
		if (!capable(CAP_SYS_ADMIN))
			goto err_free;
	} else {
		err = watch_target(w, pid);
		if (err)
			goto err_free;
	}
	return w;

err_free:
	watch_free(w);
	return ERR_PTR(err);
}

/* Watches of @file, reserved or published. */
static unsigned int file_watches(const struct file *file)
{
	const struct ptscope_watcher *w;
	unsigned int n = 0;

	lockdep_assert_held(&ptscope_watch_lock);
	list_for_each_entry(w, &ptscope_watches, node)
		n += w->owner == file;
	list_for_each_entry(w, &ptscope_reserved, link)
		n += w->owner == file;
	return n;
}

/*
 * watch_reserve - give @w an id, counted against the limits, not published
 *
 * Return: the id, -ENOSPC (PTSCOPE_WATCH_MAX watches in all, or
 * PTSCOPE_WATCH_FILE_MAX of this file) or -ENOMEM.
 */
static int watch_reserve(struct ptscope_watcher *w)
{
	int id;

	mutex_lock(&ptscope_watch_lock);
	id = -ENOSPC;
	if (ptscope_nr_watches + ptscope_nr_reserved >= PTSCOPE_WATCH_MAX ||
	    file_watches(w->owner) >= PTSCOPE_WATCH_FILE_MAX)
		goto out;
	id = idr_alloc(&ptscope_watch_ids, NULL, 1, 0, GFP_KERNEL);
	if (id < 0)
		goto out;
	w->id = id;
	list_add(&w->link, &ptscope_reserved);
	ptscope_nr_reserved++;
out:
	mutex_unlock(&ptscope_watch_lock);
	return id;
}

/* Give back the id of a reserved @w, which nobody else has seen, and free it. */
static void watch_unreserve(struct ptscope_watcher *w)
{
	mutex_lock(&ptscope_watch_lock);
	idr_remove(&ptscope_watch_ids, w->id);
	list_del(&w->link);
	ptscope_nr_reserved--;
	mutex_unlock(&ptscope_watch_lock);
	watch_free(w);
}

/* Publish a reserved @w: its id names it, the hooks count for it. */
static void watch_publish(struct ptscope_watcher *w)
{
	mutex_lock(&ptscope_watch_lock);
	list_del(&w->link);
	ptscope_nr_reserved--;
	idr_replace(&ptscope_watch_ids, w, w->id);
	ptscope_nr_watches++;
	if (w->flags & PTSCOPE_WATCH_FAULT_DETAIL)
		get_fault_probe();
	w->start_ns = ktime_get_ns();
	list_add_tail_rcu(&w->node, &ptscope_watches);
	/*
	 * The kernel's counts start after ours: a fault of a busy target in
	 * between is in ours only, never the other way round.
	 */
	if (w->task)
		task_fault_counts(w->task, &w->kmin, &w->kmaj);
	mutex_unlock(&ptscope_watch_lock);
}

/* Unpublish @w. Free it after a grace period. */
static void watch_remove(struct ptscope_watcher *w)
{
	lockdep_assert_held(&ptscope_watch_lock);
	list_del_rcu(&w->node);
	idr_remove(&ptscope_watch_ids, w->id);
	if (w->flags & PTSCOPE_WATCH_FAULT_DETAIL)
		put_fault_probe();
	ptscope_nr_watches--;
}

/* @file's published watch @id, or NULL (none, another file's, or reserved). */
static struct ptscope_watcher *watch_find(struct file *file, u32 id)
{
	struct ptscope_watcher *w;

	lockdep_assert_held(&ptscope_watch_lock);
	w = idr_find(&ptscope_watch_ids, id);
	return w && w->owner == file ? w : NULL;
}

/**
 * ptscope_ioctl_watch - PTSCOPE_IOC_WATCH: start a watch
 * @file: the open device, which will own the watch
 * @uarg: struct ptscope_watch
 *
 * Return: 0 with the id written back, or a negative errno; nothing is
 * created on error, and nobody has seen the watch.
 */
long ptscope_ioctl_watch(struct file *file, void __user *uarg)
{
	struct ptscope_watcher *w;
	struct ptscope_watch a;
	long usize;
	int id;

	usize = ptscope_args_in(&a, sizeof(a), sizeof(a), uarg);
	if (usize < 0)
		return usize;
	if ((a.flags & ~(PTSCOPE_WATCH_GLOBAL | PTSCOPE_WATCH_FAULT_DETAIL)) || a.id ||
	    memchr_inv(a.reserved, 0, sizeof(a.reserved)))
		return -EINVAL;
	if ((a.flags & PTSCOPE_WATCH_GLOBAL) && a.pid)
		return -EINVAL;
	if ((a.flags & PTSCOPE_WATCH_FAULT_DETAIL) && !caller_perfmon_capable())
		return -EPERM;

	w = watch_create(file, a.flags, a.pid);
	if (IS_ERR(w))
		return PTR_ERR(w);
	id = watch_reserve(w);
	if (id < 0) {
		watch_free(w);
		return id;
	}
	a.id = id;
	if (ptscope_args_out(uarg, &a, sizeof(a), usize)) {
		watch_unreserve(w);
		return -EFAULT;
	}
	watch_publish(w);
	return 0;
}

/**
 * ptscope_ioctl_unwatch - PTSCOPE_IOC_UNWATCH: release a watch of @file
 * @file: the open device
 * @uarg: struct ptscope_watch with @id
 *
 * Return: 0, or -ENOENT if @file has no such watch (yet: a WATCH still
 * copying its id out has none).
 */
long ptscope_ioctl_unwatch(struct file *file, void __user *uarg)
{
	struct ptscope_watcher *w;
	struct ptscope_watch a;
	long usize;

	usize = ptscope_args_in(&a, sizeof(a), sizeof(a), uarg);
	if (usize < 0)
		return usize;
	if (a.flags || a.pid || memchr_inv(a.reserved, 0, sizeof(a.reserved)))
		return -EINVAL;

	mutex_lock(&ptscope_watch_lock);
	w = watch_find(file, a.id);
	if (w)
		watch_remove(w);
	mutex_unlock(&ptscope_watch_lock);
	if (!w)
		return -ENOENT;
	synchronize_rcu();
	watch_free(w);
	return 0;
}

/**
 * ptscope_counters_release - release every watch of a file being closed
 * @file: the open device
 *
 * No ioctl runs on @file any more, so none of its watches is reserved.
 */
void ptscope_counters_release(struct file *file)
{
	struct ptscope_watcher *w, *tmp;
	LIST_HEAD(gone);

	mutex_lock(&ptscope_watch_lock);
	list_for_each_entry_safe(w, tmp, &ptscope_watches, node) {
		if (w->owner != file)
			continue;
		watch_remove(w);
		list_add(&w->link, &gone);
	}
	mutex_unlock(&ptscope_watch_lock);
	if (list_empty(&gone))
		return;
	synchronize_rcu();
	list_for_each_entry_safe(w, tmp, &gone, link)
		watch_free(w);
}

static int vma_cmp_faults(const void *a, const void *b)
{
	const struct ptscope_fault_vma *x = a, *y = b;

	if (x->faults != y->faults)
		return x->faults < y->faults ? 1 : -1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * merge_vmas - fold every CPU's VMA table into @vmas, most faults first
 *
 * @vmas has room for @max; what does not fit goes to c->vma_other.
 * Return: the number of entries filled.
 */
static unsigned int merge_vmas(const struct ptscope_watcher *w,
			       struct ptscope_fault_vma *vmas, unsigned int max,
			       struct ptscope_counters *c)
{
	unsigned int n = 0, i, cpu;

	for_each_possible_cpu(cpu) {
		const struct ptscope_watch_cpu *pc = per_cpu_ptr(w->cpu, cpu);
		const struct ptscope_vma_slot *s;

		for (s = pc->vmas; s < pc->vmas + PTSCOPE_VMA_SLOTS; s++) {
			/* A claimed slot has its start: see count_fault_vma(). */
			unsigned long end = smp_load_acquire(&s->end);
			unsigned long start = READ_ONCE(s->start);

			if (!end)
				break;
			for (i = 0; i < n; i++)
				if (vmas[i].start == start && vmas[i].end == end)
					break;
			if (i == n && n == max) {
				c->vma_other += READ_ONCE(s->faults);
				continue;
			}
			if (i == n) {
				vmas[n++] = (struct ptscope_fault_vma) {
					.start = start, .end = end,
				};
			}
			vmas[i].faults += READ_ONCE(s->faults);
			vmas[i].major += READ_ONCE(s->major);
		}
	}
	sort(vmas, n, sizeof(*vmas), vma_cmp_faults, NULL);
	return n;
}

/*
 * watch_snapshot - sum @w's counters into @c
 * @dtlb: the reader may see the dTLB counter
 *
 * Called with ptscope_watch_lock held, which keeps @w alive; the counters
 * move on while they are summed, each one is read whole.
 */
static int watch_snapshot(const struct ptscope_watcher *w, bool dtlb,
			  struct ptscope_counters *c)
{
	struct ptscope_fault_vma *vmas;
	unsigned int cpu, i, n, max = 2 * PTSCOPE_VMA_SLOTS;

	lockdep_assert_held(&ptscope_watch_lock);
	for_each_possible_cpu(cpu) {
		const struct ptscope_watch_cpu *pc = per_cpu_ptr(w->cpu, cpu);

		for (i = 0; i < PTSCOPE_FLT_MAX; i++)
			c->faults[i] += READ_ONCE(pc->faults[i]);
		for (i = 0; i < PTSCOPE_TLB_MAX; i++) {
			c->tlb[i].events += READ_ONCE(pc->tlb[i].events);
			c->tlb[i].full += READ_ONCE(pc->tlb[i].full);
			c->tlb[i].pages += READ_ONCE(pc->tlb[i].pages);
		}
		c->vma_other += READ_ONCE(pc->vma_other);
	}

	vmas = kcalloc(max, sizeof(*vmas), GFP_KERNEL);
	if (!vmas)
		return -ENOMEM;
	n = merge_vmas(w, vmas, max, c);
	c->nr_vmas = min_t(unsigned int, n, PTSCOPE_FAULT_VMAS);
	memcpy(c->vmas, vmas, c->nr_vmas * sizeof(*vmas));
	for (i = c->nr_vmas; i < n; i++)
		c->vma_other += vmas[i].faults;
	kfree(vmas);

	c->pid = w->pid;
	c->watch_flags = w->flags;
	c->valid = ptscope_hooks_valid | ptscope_arch_counters_valid();
	if ((w->flags & PTSCOPE_WATCH_FAULT_DETAIL) && ptscope_fault_probe_attached)
		c->valid |= PTSCOPE_CNT_F_OUTCOME;
	c->elapsed_ns = ktime_get_ns() - w->start_ns;
	c->state = w->mm && !atomic_read(&w->mm->mm_users) ?
		   PTSCOPE_WATCH_GONE : PTSCOPE_WATCH_ACTIVE;
	if (w->task) {
		u64 min, maj;

		task_fault_counts(w->task, &min, &maj);
		c->faults[PTSCOPE_FLT_KERNEL_MIN] = min - w->kmin;
		c->faults[PTSCOPE_FLT_KERNEL_MAJ] = maj - w->kmaj;
		c->valid |= PTSCOPE_CNT_F_KERNEL;
	}
	if (w->dtlb && dtlb) {
		u64 enabled, running;

		c->dtlb_misses = perf_event_read_value(w->dtlb, &enabled, &running);
		c->valid |= PTSCOPE_CNT_F_DTLB;
	}
	return 0;
}

/*
 * task_may_read - may the caller still read the watched @task?
 *
 * ptscope_may_read(), and for a target gone meanwhile, which has no /proc
 * entry left to ask about, what remains of that rule: the same thread group
 * or CAP_SYS_PTRACE. Its counters stay readable until released.
 *
 * Return: 0, -EPERM, or an error of ptscope_may_read()'s open other than
 * the target being gone.
 */
static int task_may_read(struct task_struct *task)
{
	int err = ptscope_may_read(task);

	if (err == -ESRCH || (err && !pid_alive(task)))
		err = same_thread_group(task, current) ||
		      ns_capable_noaudit(&init_user_ns, CAP_SYS_PTRACE) ? 0 : -EPERM;
	return err;
}

/*
 * watch_reader_check - may the caller read @file's watch @id?
 * @task: set to the watched task, referenced, or NULL for a global watch
 *
 * At every read, as the file may have changed hands since WATCH (passed
 * with SCM_RIGHTS, inherited), and outside ptscope_watch_lock: target.c's
 * check opens a file.
 *
 * Return: 0, -ENOENT (no such watch), -EPERM, or ptscope_may_read()'s error.
 */
static int watch_reader_check(struct file *file, u32 id, struct task_struct **task)
{
	struct ptscope_watcher *w;
	bool global = false;
	int err;

	mutex_lock(&ptscope_watch_lock);
	w = watch_find(file, id);
	if (w) {
		global = w->flags & PTSCOPE_WATCH_GLOBAL;
		*task = w->task;
		if (*task)
			get_task_struct(*task);
	}
	mutex_unlock(&ptscope_watch_lock);
	if (!w)
		return -ENOENT;
	if (global)
		err = ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN) ? 0 : -EPERM;
	else
		err = task_may_read(*task);
	if (err && *task) {
		put_task_struct(*task);
		*task = NULL;
	}
	return err;
}

/**
 * ptscope_ioctl_counters - PTSCOPE_IOC_COUNTERS: snapshot a watch of @file
 * @file: the open device
 * @uarg: struct ptscope_counters with @id
 *
 * Return: 0, -ENOENT (no such watch on @file), -EPERM (the caller may not
 * read it: the file changed hands), or another negative errno.
 */
long ptscope_ioctl_counters(struct file *file, void __user *uarg)
{
	struct task_struct *task = NULL;
	struct ptscope_watcher *w;
	struct ptscope_counters *c;
	long usize, err;
	u32 id;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	usize = ptscope_args_in(c, sizeof(*c), sizeof(*c), uarg);
	err = usize;
	if (usize < 0)
		goto out;
	err = -EINVAL;
	if (c->flags || memchr_inv(c->reserved, 0, sizeof(c->reserved)))
		goto out;
	/* Everything else is out: start from zero whatever the caller left. */
	id = c->id;
	memset(c, 0, sizeof(*c));
	c->size = usize;
	c->id = id;

	err = watch_reader_check(file, c->id, &task);
	if (err)
		goto out;
	mutex_lock(&ptscope_watch_lock);
	w = watch_find(file, c->id);
	/* Released meanwhile, its id maybe reused: as if it went first. */
	if (w && w->task == task)
		err = watch_snapshot(w, caller_perfmon_capable(), c);
	else
		err = -ENOENT;
	mutex_unlock(&ptscope_watch_lock);
	if (task)
		put_task_struct(task);
	if (!err)
		err = ptscope_args_out(uarg, c, sizeof(*c), usize);
out:
	kfree(c);
	return err;
}

/* ------------------------------------------------------------------------
 * debugfs ptscope/counters: every watch, as "watch ID KEY VALUE..." lines.
 * Root's only (0400, in root's debugfs): it shows every watch of every file.
 */

static const char *const ptscope_fault_names[PTSCOPE_FLT_MAX] = {
	[PTSCOPE_FLT_TOTAL]	= "total",
	[PTSCOPE_FLT_READ]	= "read",
	[PTSCOPE_FLT_WRITE]	= "write",
	[PTSCOPE_FLT_EXEC]	= "exec",
	[PTSCOPE_FLT_MINOR]	= "minor",
	[PTSCOPE_FLT_MAJOR]	= "major",
	[PTSCOPE_FLT_HANDLED]	= "handled",
	[PTSCOPE_FLT_RETRY]	= "retry",
	[PTSCOPE_FLT_ERROR]	= "error",
	[PTSCOPE_FLT_SIGSEGV]	= "sigsegv",
	[PTSCOPE_FLT_SIGBUS]	= "sigbus",
	[PTSCOPE_FLT_KERNEL_MODE] = "kernel_mode",
	[PTSCOPE_FLT_PAGE_4K]	= "page_4k",
	[PTSCOPE_FLT_PAGE_2M]	= "page_2m",
	[PTSCOPE_FLT_PAGE_1G]	= "page_1g",
	[PTSCOPE_FLT_KERNEL_MIN] = "kernel_min_flt",
	[PTSCOPE_FLT_KERNEL_MAJ] = "kernel_maj_flt",
};

static const char *const ptscope_tlb_names[PTSCOPE_TLB_MAX] = {
	[PTSCOPE_TLB_TASK_SWITCH]	= "task_switch",
	[PTSCOPE_TLB_REMOTE_SHOOTDOWN]	= "remote_shootdown",
	[PTSCOPE_TLB_LOCAL_SHOOTDOWN]	= "local_shootdown",
	[PTSCOPE_TLB_LOCAL_MM_SHOOTDOWN] = "local_mm_shootdown",
	[PTSCOPE_TLB_REMOTE_SEND_IPI]	= "remote_send_ipi",
};

static void show_watch(struct seq_file *m, const struct ptscope_watcher *w,
		       const struct ptscope_counters *c)
{
	unsigned int i;

	seq_printf(m, "watch %u pid %d%s%s state %s\n", w->id, c->pid,
		   w->flags & PTSCOPE_WATCH_GLOBAL ? " global" : "",
		   w->flags & PTSCOPE_WATCH_FAULT_DETAIL ? " detail" : "",
		   c->state == PTSCOPE_WATCH_GONE ? "gone" : "active");
	seq_printf(m, "watch %u elapsed_ns %llu\n", w->id, c->elapsed_ns);
	for (i = 0; i < PTSCOPE_FLT_MAX; i++)
		if (ptscope_fault_names[i])
			seq_printf(m, "watch %u fault.%s %llu\n", w->id,
				   ptscope_fault_names[i], c->faults[i]);
	for (i = 0; i < PTSCOPE_TLB_MAX; i++)
		if (ptscope_tlb_names[i])
			seq_printf(m, "watch %u tlb.%s %llu full %llu pages %llu\n",
				   w->id, ptscope_tlb_names[i], c->tlb[i].events,
				   c->tlb[i].full, c->tlb[i].pages);
	if (c->valid & PTSCOPE_CNT_F_DTLB)
		seq_printf(m, "watch %u dtlb_misses %llu\n", w->id, c->dtlb_misses);
	else
		seq_printf(m, "watch %u dtlb_misses unsupported\n", w->id);
	for (i = 0; i < c->nr_vmas; i++)
		seq_printf(m, "watch %u vma %llx-%llx faults %llu major %llu\n", w->id,
			   c->vmas[i].start, c->vmas[i].end, c->vmas[i].faults,
			   c->vmas[i].major);
	seq_printf(m, "watch %u vma_other %llu\n", w->id, c->vma_other);
}

static int counters_show(struct seq_file *m, void *unused)
{
	struct ptscope_tp_hook *h;
	struct ptscope_watcher *w;
	struct ptscope_counters *c;
	int err = 0;

	c = kmalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	mutex_lock(&ptscope_watch_lock);
	seq_printf(m, "watches %u\n", ptscope_nr_watches);
	seq_puts(m, "hooks");
	for (h = tp_hook_next(NULL); h; h = tp_hook_next(h))
		if (h->attached)
			seq_printf(m, " %s", h->name);
	ptscope_arch_counters_show(m);
	if (ptscope_fault_probe_attached)
		seq_puts(m, " " PTSCOPE_FAULT_PROBE_NAME);
	seq_puts(m, "\n");
	seq_printf(m, "fault_probe_missed %lu\n", ptscope_fault_probe_missed +
		   (ptscope_fault_probe_attached ? fault_probe_nmissed() : 0));
	list_for_each_entry(w, &ptscope_watches, node) {
		memset(c, 0, sizeof(*c));
		err = watch_snapshot(w, true, c);
		if (err)
			break;
		show_watch(m, w, c);
	}
	mutex_unlock(&ptscope_watch_lock);
	kfree(c);
	return err;
}
DEFINE_SHOW_ATTRIBUTE(counters);

/**
 * ptscope_counters_debugfs - create ptscope/counters
 * @dir: the module's debugfs directory
 */
void ptscope_counters_debugfs(struct dentry *dir)
{
	debugfs_create_file("counters", 0400, dir, NULL, &counters_fops);
}

/**
 * ptscope_counters_init - attach to the tracepoints the counters read
 *
 * Counting starts with the first watch. A tracepoint this kernel lacks
 * leaves its counters out of struct ptscope_counters.valid.
 */
void ptscope_counters_init(void)
{
	ptscope_tp_tables[0].hooks = ptscope_arch_tp_hooks(&ptscope_tp_tables[0].n);
	for_each_kernel_tracepoint(find_tracepoint, NULL);
	attach_hooks();
}

/**
 * ptscope_counters_exit - detach every hook, at unload
 *
 * Every file, and so every watch, is gone by then; the fault probe may still
 * wait for its delayed detach, which is done now instead.
 */
void ptscope_counters_exit(void)
{
	cancel_delayed_work_sync(&ptscope_fault_probe_detach);
	mutex_lock(&ptscope_watch_lock);
	detach_fault_probe();
	mutex_unlock(&ptscope_watch_lock);
	detach_hooks();
}
