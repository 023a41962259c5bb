// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope: which process a reader looks at, and whether it may.
 *
 * A context (one per open /dev/ptscope, one for debugfs) holds a reference
 * on the target's struct pid, never on its task or mm: a target that exits
 * is seen as gone (-ESRCH) at the next query. Each query takes the mm with
 * get_task_mm() and drops it with mmput() when done.
 *
 * Who may read what (ptscope_may_read()), checked with the caller's
 * credentials at selection and again at every query:
 *  - a process may always read itself (any thread of its thread group), as
 *    ptrace_may_access() allows;
 *  - reading another process needs CAP_SYS_PTRACE, and the kernel must let
 *    the caller open that process's pagemap. ptrace_may_access() and
 *    mm_access() are not exported, so the module asks the very question:
 *    it opens "<tgid>/task/<tid>/pagemap" read-only in a proc instance of
 *    its own (mounted at load) with the caller's credentials and closes it
 *    again. That open runs the file's permission check and proc_mem_open(),
 *    i.e. mm_access(PTRACE_MODE_READ_FSCREDS): the dumpable and same-user
 *    rules and every LSM's ptrace_access_check (Landlock, Yama, SELinux,
 *    AppArmor, ...).
 * A positive answer is remembered in a struct ptscope_access, keyed by the
 * caller's struct cred (referenced, so the pointer cannot be reused), the
 * target's struct pid (referenced) and its self_exec_id; any change of
 * these asks again. A refusal is never remembered. The answer covers
 * CAP_SYS_PTRACE too: capabilities are part of the cred, so a caller that
 * drops one has a new cred and is asked again.
 *
 * With the answer, the target's mm it was for is remembered (mmgrab(): the
 * struct stays and its address is not reused; its memory is not pinned, as
 * an open /proc/PID/pagemap holds it). A query whose caller, target and
 * target's self_exec_id are the answer's, and whose target still runs that
 * mm, takes it with mmget_not_zero() under RCU (access_mm()): a program
 * exec'd since runs a new mm, so the one comparison stands for taking the
 * target's exec_update_lock and task_lock() (task_mm()).
 *
 * What differs from opening /proc/PID/pagemap:
 *  - another process always needs CAP_SYS_PTRACE too; pagemap lets the same
 *    user read a dumpable process without it;
 *  - the check runs at every query, not only at open (the cache makes a
 *    repeated positive answer cost a few comparisons);
 *  - the path is the module's own proc mount, not the caller's /proc:
 *    path-based rules (Landlock filesystem rules, AppArmor paths) see that
 *    mount, so a rule that allows /proc does not cover it; a target that
 *    the module's proc instance (the pid namespace insmod ran in) cannot
 *    see is refused;
 *  - errnos: the open's -EACCES and -EPERM become -EPERM (ptscope's
 *    refusal), -ENOENT (gone meanwhile) becomes -ESRCH; others pass.
 *
 * PFNs and physical addresses need CAP_SYS_ADMIN of both the opener and
 * the caller, as pagemap does (ptscope_show_pfn()); without it, what the
 * queries return does not depend on physical placement (see query.c). On
 * the device, a positive answer is remembered per open file for the
 * caller's cred, as above (ptscope_ctx_show_pfn()).
 * Capabilities that are asked on every call and routinely missing are
 * checked without an audit record.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "ptscope.h"

/* The module's proc instance, for asking pagemap's question. */
static struct vfsmount *proc_mnt;

int ptscope_target_init(void)
{
	struct file_system_type *proc = get_fs_type("proc");

	/* proc is built in: get_fs_type() took no module reference. */
	if (!proc)
		return -ENODEV;
	proc_mnt = kern_mount(proc);
	if (IS_ERR(proc_mnt))
		return PTR_ERR(proc_mnt);
	return 0;
}

void ptscope_target_exit(void)
{
	kern_unmount(proc_mnt);
}

void ptscope_access_init(struct ptscope_access *acc)
{
	spin_lock_init(&acc->lock);
	acc->cred = NULL;
	acc->pid = NULL;
	acc->exec_id = 0;
	acc->pfn_cred = NULL;
	acc->mm = NULL;
}

void ptscope_access_release(struct ptscope_access *acc)
{
	if (acc->cred)
		put_cred(acc->cred);
	if (acc->pfn_cred)
		put_cred(acc->pfn_cred);
	if (acc->mm)
		mmdrop(acc->mm);
	put_pid(acc->pid);
}

/* Is the remembered answer the caller's, for @pid at @exec_id? Under acc->lock. */
static bool access_matches(const struct ptscope_access *acc, struct pid *pid, u64 exec_id)
{
	return acc->cred == current_cred() && acc->pid == pid && acc->exec_id == exec_id;
}

static bool access_cached(struct ptscope_access *acc, struct task_struct *task,
			  u64 exec_id)
{
	bool hit;

	spin_lock(&acc->lock);
	hit = access_matches(acc, task_pid(task), exec_id);
	spin_unlock(&acc->lock);
	return hit;
}

/* Remember that the caller may read @task as it was at @exec_id. */
static void access_remember(struct ptscope_access *acc, struct task_struct *task,
			    u64 exec_id)
{
	const struct cred *cred = get_current_cred();
	struct pid *pid = get_task_pid(task, PIDTYPE_PID);
	struct mm_struct *mm = NULL;

	spin_lock(&acc->lock);
	swap(acc->cred, cred);
	swap(acc->pid, pid);
	acc->exec_id = exec_id;
	swap(acc->mm, mm);	/* the mm is remembered once taken */
	spin_unlock(&acc->lock);
	if (cred)
		put_cred(cred);
	if (mm)
		mmdrop(mm);
	put_pid(pid);
}

/*
 * Remember @mm, taken from @task as it was at @exec_id, with the answer for
 * it, unless another caller's answer replaced that one meanwhile.
 */
static void access_remember_mm(struct ptscope_access *acc, struct task_struct *task,
			       u64 exec_id, struct mm_struct *mm)
{
	mmgrab(mm);
	spin_lock(&acc->lock);
	if (access_matches(acc, task_pid(task), exec_id))
		swap(acc->mm, mm);
	spin_unlock(&acc->lock);
	if (mm)
		mmdrop(mm);
}

/*
 * access_mm - the remembered mm, referenced, when the caller may read it
 * @acc: the remembered answer
 * @pid: the target
 *
 * Return: the mm (release it with mmput()) when the caller, @pid and its
 * self_exec_id are the answer's and @pid's task still runs the remembered
 * mm (see the top of this file), else NULL: ask task_mm().
 */
static struct mm_struct *access_mm(struct ptscope_access *acc, struct pid *pid)
{
	struct mm_struct *mm = NULL;
	struct task_struct *task;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	spin_lock(&acc->lock);
	if (task && acc->mm && access_matches(acc, pid, READ_ONCE(task->self_exec_id)) &&
	    READ_ONCE(task->mm) == acc->mm && mmget_not_zero(acc->mm))
		mm = acc->mm;
	spin_unlock(&acc->lock);
	rcu_read_unlock();
	return mm;
}

/* Would the kernel let the caller open @task's pagemap? 0 or -errno. */
static int ask_pagemap(struct task_struct *task)
{
	struct pid_namespace *ns = proc_sb_info(proc_mnt->mnt_sb)->pid_ns;
	pid_t tgid = task_tgid_nr_ns(task, ns);
	pid_t tid = task_pid_nr_ns(task, ns);
	struct file *file;
	char name[48];

	if (!tgid || !tid)
		return -EPERM;
	snprintf(name, sizeof(name), "%d/task/%d/pagemap", tgid, tid);
	file = file_open_root_mnt(proc_mnt, name, O_RDONLY, 0);
	if (IS_ERR(file)) {
		switch (PTR_ERR(file)) {
		case -EACCES:
		case -EPERM:
			return -EPERM;
		case -ENOENT:
			return -ESRCH;
		default:
			return PTR_ERR(file);
		}
	}
	fput(file);
	return 0;
}

/* may_read()'s answer for the caller's own process: whatever it execs */
#define ANY_EXEC	U64_MAX

/*
 * may_read - the rule at the top of this file
 * @task:    the target
 * @acc:     where positive answers are remembered, or NULL
 * @exec_id: out, on success: the exec of @task the answer holds for
 *           (its self_exec_id), or ANY_EXEC
 */
static int may_read(struct task_struct *task, struct ptscope_access *acc,
		    u64 *exec_id)
{
	int err;

	*exec_id = ANY_EXEC;
	if (same_thread_group(task, current))
		return 0;
	/* Read before asking: an exec meanwhile makes the answer stale. */
	*exec_id = READ_ONCE(task->self_exec_id);
	if (acc && access_cached(acc, task, *exec_id))
		return 0;
	if (!ns_capable_noaudit(&init_user_ns, CAP_SYS_PTRACE))
		return -EPERM;
	err = ask_pagemap(task);
	if (!err && acc)
		access_remember(acc, task, *exec_id);
	return err;
}

/**
 * ptscope_may_read - may the current caller read @task's address space?
 * @task: the target, referenced by the caller
 *
 * Asks the kernel every time (no cache). See the top of this file.
 *
 * Return: 0, -EPERM (refused), -ESRCH (gone), or another error of the open.
 */
int ptscope_may_read(struct task_struct *task)
{
	u64 exec_id;

	return may_read(task, NULL, &exec_id);
}

/*
 * task_mm - the target's mm with a reference, or an ERR_PTR
 *
 * As mm_access() does, the mm is taken under the target's exec_update_lock,
 * which an exec holds for write from installing its new mm until that mm
 * has its task size and the new program its credentials and self_exec_id:
 * the mm is the old program's or the new one's, never one half set up, and
 * the answer of may_read() must be for the program whose mm it is. The lock
 * is not held while asking (ask_pagemap()'s mm_access() takes it too, and a
 * second reader behind a waiting exec would deadlock): an exec in between
 * asks again.
 */
static struct mm_struct *task_mm(struct task_struct *task, struct ptscope_access *acc)
{
	struct rw_semaphore *exec_lock = &task->signal->exec_update_lock;
	struct mm_struct *mm;
	u64 exec_id;
	int err;

	if (task->flags & PF_KTHREAD)
		return ERR_PTR(-EINVAL);
	for (;;) {
		err = may_read(task, acc, &exec_id);
		if (err)
			return ERR_PTR(err);
		if (down_read_killable(exec_lock))
			return ERR_PTR(-EINTR);
		if (exec_id == ANY_EXEC || exec_id == READ_ONCE(task->self_exec_id))
			break;
		up_read(exec_lock);
		cond_resched();
	}
	mm = get_task_mm(task);
	up_read(exec_lock);
	if (!mm)
		return ERR_PTR(-ESRCH);
	if (acc && exec_id != ANY_EXEC)
		access_remember_mm(acc, task, exec_id, mm);
	return mm;
}

/**
 * ptscope_pid_mm - the mm of process @pid, if the caller may read it
 * @pid: the target
 * @acc: where positive answers are remembered, or NULL
 *
 * Return: the mm, referenced (release it with mmput()), or ERR_PTR(-ESRCH),
 * -EINVAL (a kernel thread), -EPERM.
 */
struct mm_struct *ptscope_pid_mm(struct pid *pid, struct ptscope_access *acc)
{
	struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);
	struct mm_struct *mm;

	if (!task)
		return ERR_PTR(-ESRCH);
	mm = task_mm(task, acc);
	put_task_struct(task);
	return mm;
}

void ptscope_ctx_init(struct ptscope_ctx *ctx)
{
	mutex_init(&ctx->lock);
	ctx->pid = NULL;
	ptscope_access_init(&ctx->access);
	mutex_init(&ctx->runs_lock);
	ctx->runs = NULL;
}

void ptscope_ctx_release(struct ptscope_ctx *ctx)
{
	ptscope_access_release(&ctx->access);
	put_pid(ctx->pid);
	mutex_destroy(&ctx->lock);
	kvfree(ctx->runs);
	mutex_destroy(&ctx->runs_lock);
}

/**
 * ptscope_ctx_select - make process @nr the target of @ctx
 * @ctx: the context
 * @nr:  pid in the caller's pid namespace
 * @out: filled with what the target looks like
 *
 * Return: 0, -ESRCH (no such process or it has exited), -EINVAL (a kernel
 * thread: no user address space), -EPERM (the caller may not read it).
 * On error the previous target stays.
 */
int ptscope_ctx_select(struct ptscope_ctx *ctx, pid_t nr, struct ptscope_target *out)
{
	struct mm_struct *mm;
	struct pid *pid;

	if (nr <= 0)
		return -ESRCH;
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	mm = ptscope_pid_mm(pid, &ctx->access);
	if (IS_ERR(mm)) {
		put_pid(pid);
		return PTR_ERR(mm);
	}
	out->pgtable_levels = ptscope_pgtable_levels();
	out->task_size = mm->task_size;
	mmput(mm);

	mutex_lock(&ctx->lock);
	swap(ctx->pid, pid);
	mutex_unlock(&ctx->lock);
	put_pid(pid);
	return 0;
}

/* The target's pid, referenced, NULL when none is selected. */
struct pid *ptscope_ctx_get_pid(struct ptscope_ctx *ctx)
{
	struct pid *pid;

	mutex_lock(&ctx->lock);
	pid = get_pid(ctx->pid);
	mutex_unlock(&ctx->lock);
	return pid;
}

/**
 * ptscope_ctx_mm - the target's mm, referenced: release it with mmput()
 * @ctx: the context
 *
 * Return: the mm, or ERR_PTR(-EINVAL) when no target is selected, -ESRCH
 * when it has exited, -EPERM when the caller may not read it.
 */
struct mm_struct *ptscope_ctx_mm(struct ptscope_ctx *ctx)
{
	struct task_struct *task = NULL;
	struct mm_struct *mm;
	bool selected;

	mutex_lock(&ctx->lock);
	selected = ctx->pid;
	mm = selected ? access_mm(&ctx->access, ctx->pid) : NULL;
	if (selected && !mm)
		task = get_pid_task(ctx->pid, PIDTYPE_PID);
	mutex_unlock(&ctx->lock);
	if (mm)
		return mm;
	if (!selected)
		return ERR_PTR(-EINVAL);
	if (!task)
		return ERR_PTR(-ESRCH);
	mm = task_mm(task, &ctx->access);
	put_task_struct(task);
	return mm;
}

/* The target's pid as the caller sees it, 0 when none is selected. */
pid_t ptscope_ctx_pid(struct ptscope_ctx *ctx)
{
	pid_t nr;

	mutex_lock(&ctx->lock);
	nr = ctx->pid ? pid_vnr(ctx->pid) : 0;
	mutex_unlock(&ctx->lock);
	return nr;
}

/*
 * May @file's opener and the caller see physical addresses? The caller is
 * asked first and without an audit record: most callers without the
 * capability are ordinary hidden-mode readers, on every query.
 */
bool ptscope_show_pfn(const struct file *file)
{
	return ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN) &&
	       file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
}

/**
 * ptscope_ctx_show_pfn - ptscope_show_pfn(), remembered
 * @ctx:  the device's context
 * @file: the open device @ctx belongs to
 *
 * A positive answer is remembered for the caller's cred (the opener's
 * cannot change), a refusal never: see the top of this file.
 */
bool ptscope_ctx_show_pfn(struct ptscope_ctx *ctx, const struct file *file)
{
	struct ptscope_access *acc = &ctx->access;
	const struct cred *cred;

	/*
	 * One pointer, compared without the lock: it can equal the caller's
	 * cred, alive while it runs, only while it is that cred's answer.
	 */
	if (READ_ONCE(acc->pfn_cred) == current_cred())
		return true;
	if (!ptscope_show_pfn(file))
		return false;
	cred = get_current_cred();
	spin_lock(&acc->lock);
	cred = xchg(&acc->pfn_cred, cred);
	spin_unlock(&acc->lock);
	if (cred)
		put_cred(cred);
	return true;
}
