// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope: which process a reader looks at, and whether it may.
 *
 * A context (one per open /dev/ptscope, one for debugfs) holds a reference
 * on the target's struct pid, never on its task or mm: a target that exits
 * is seen as gone (-ESRCH) at the next query. Each query takes the mm with
 * get_task_mm() and drops it with mmput() when done.
 *
 * Who may read what: a process may always read itself; reading another
 * process needs CAP_SYS_PTRACE, checked with the caller's credentials at
 * selection and again at every query. PFNs and physical addresses need
 * CAP_SYS_ADMIN of both the opener and the caller, as pagemap does.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "ptscope.h"

void ptscope_ctx_init(struct ptscope_ctx *ctx)
{
	mutex_init(&ctx->lock);
	ctx->pid = NULL;
}

void ptscope_ctx_release(struct ptscope_ctx *ctx)
{
	put_pid(ctx->pid);
	mutex_destroy(&ctx->lock);
}

static int may_read(struct task_struct *task)
{
	if (same_thread_group(task, current))
		return 0;
	return capable(CAP_SYS_PTRACE) ? 0 : -EPERM;
}

/* task_mm - the target's mm with a reference, or an ERR_PTR */
static struct mm_struct *task_mm(struct task_struct *task)
{
	struct mm_struct *mm;
	int err;

	if (task->flags & PF_KTHREAD)
		return ERR_PTR(-EINVAL);
	err = may_read(task);
	if (err)
		return ERR_PTR(err);
	mm = get_task_mm(task);
	return mm ?: ERR_PTR(-ESRCH);
}

static struct mm_struct *pid_mm(struct pid *pid)
{
	struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);
	struct mm_struct *mm;

	if (!task)
		return ERR_PTR(-ESRCH);
	mm = task_mm(task);
	put_task_struct(task);
	return mm;
}

/**
 * ptscope_ctx_select - make process @nr the target of @ctx
 * @ctx: the context
 * @nr:  pid in the caller's pid namespace
 * @out: filled with what the target looks like
 *
 * Return: 0, -ESRCH (no such process or it has exited), -EINVAL (a kernel
 * thread: no user address space), -EPERM (another process, unprivileged).
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
	mm = pid_mm(pid);
	if (IS_ERR(mm)) {
		put_pid(pid);
		return PTR_ERR(mm);
	}
	out->pgtable_levels = mm_p4d_folded(mm) ? 4 : 5;
	out->task_size = mm->task_size;
	mmput(mm);

	mutex_lock(&ctx->lock);
	swap(ctx->pid, pid);
	mutex_unlock(&ctx->lock);
	put_pid(pid);
	return 0;
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
	struct mm_struct *mm;
	struct pid *pid;

	mutex_lock(&ctx->lock);
	pid = get_pid(ctx->pid);
	mutex_unlock(&ctx->lock);
	if (!pid)
		return ERR_PTR(-EINVAL);
	mm = pid_mm(pid);
	put_pid(pid);
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

bool ptscope_show_pfn(const struct file *file)
{
	return file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN) &&
	       capable(CAP_SYS_ADMIN);
}
