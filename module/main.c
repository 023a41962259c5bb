// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope: show a live process's page tables.
 *
 * This file owns the module's life cycle and the character device
 * /dev/ptscope: opening it, and decoding and dispatching its ioctls.
 *
 * Who may use the device: the node is created root-only (0600) and open()
 * additionally requires CAP_SYS_ADMIN, unless the administrator loaded the
 * module with allow_unprivileged=1. What an opener may then read is
 * target.c's business.
 */
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pgtable.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "ptscope.h"

static bool allow_unprivileged;
module_param(allow_unprivileged, bool, 0444);
MODULE_PARM_DESC(allow_unprivileged,
		 "let users without CAP_SYS_ADMIN open /dev/ptscope (default: no)");

static struct dentry *ptscope_debugfs_dir;

u64 ptscope_features(void)
{
	u64 features = ptscope_arch_features();

	if (ptscope_pgtable_levels() == 5)
		features |= PTSCOPE_FEAT_5LEVEL;
	return features;
}

/*
 * ptscope_args_in - copy a size-first argument struct in from user space
 * @karg:    the kernel's copy, sizeof(*karg) == @ksize
 * @ksize:   size of the struct this module knows
 * @minsize: size of the first version of the struct
 * @uarg:    the user's struct, whose first __u32 is its size
 *
 * Return: the user's size (> 0), or -EFAULT, -EINVAL (too small), -E2BIG
 * (larger than known and the unknown tail is not zero).
 */
long ptscope_args_in(void *karg, size_t ksize, size_t minsize,
		     const void __user *uarg)
{
	u32 usize;
	int err;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	if (usize < minsize)
		return -EINVAL;
	err = copy_struct_from_user(karg, ksize, uarg, usize);
	if (err)
		return err;
	return usize;
}
EXPORT_SYMBOL_IF_KUNIT(ptscope_args_in);

/* Copy back what both sides know of the struct. */
long ptscope_args_out(void __user *uarg, const void *karg, size_t ksize,
		      size_t usize)
{
	return ptscope_copy_out(uarg, karg, min(ksize, usize));
}

static long ptscope_ioctl_version(void __user *uarg)
{
	struct ptscope_version v;
	unsigned int level;
	long usize;

	usize = ptscope_args_in(&v, sizeof(v), PTSCOPE_VERSION_SIZE_VER0, uarg);
	if (usize < 0)
		return usize;
	if (v.flags || memchr_inv(v.reserved, 0, sizeof(v.reserved)))
		return -EINVAL;

	/* Out fields start from zero whatever the caller passed in. */
	memset(&v, 0, sizeof(v));
	v.size = usize;
	v.abi_major = PTSCOPE_ABI_MAJOR;
	v.abi_minor = PTSCOPE_ABI_MINOR;
	v.features = ptscope_features();
	v.page_size = PAGE_SIZE;
	v.pgtable_levels = ptscope_pgtable_levels();
	for (level = PTSCOPE_LEVEL_PTE; level <= PTSCOPE_LEVEL_PGD; level++)
		v.level_shift[level] = ptscope_level_shift(level);
	ptscope_arch_version(&v);
	return ptscope_args_out(uarg, &v, sizeof(v), usize);
}

static long ptscope_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ptscope_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case PTSCOPE_IOC_VERSION:
		return ptscope_ioctl_version(uarg);
	case PTSCOPE_IOC_TARGET:
		return ptscope_ioctl_target(ctx, uarg);
	case PTSCOPE_IOC_WALK:
		return ptscope_ioctl_walk(ctx, ptscope_ctx_show_pfn(ctx, file), uarg);
	case PTSCOPE_IOC_VMAS:
		return ptscope_ioctl_vmas(ctx, ptscope_ctx_show_pfn(ctx, file), uarg);
	case PTSCOPE_IOC_VTOP:
		return ptscope_ioctl_vtop(ctx, ptscope_ctx_show_pfn(ctx, file), uarg);
	case PTSCOPE_IOC_WATCH:
		return ptscope_ioctl_watch(file, uarg);
	case PTSCOPE_IOC_UNWATCH:
		return ptscope_ioctl_unwatch(file, uarg);
	case PTSCOPE_IOC_COUNTERS:
		return ptscope_ioctl_counters(file, uarg);
	case PTSCOPE_IOC_HUGE_SYSTEM:
		return ptscope_ioctl_huge_system(uarg);
	case PTSCOPE_IOC_HUGE_VMAS:
		return ptscope_ioctl_huge_vmas(ctx, uarg);
	default:
		return -ENOTTY;
	}
}

static int ptscope_open(struct inode *inode, struct file *file)
{
	struct ptscope_ctx *ctx;

	if (!allow_unprivileged && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ptscope_ctx_init(ctx);
	file->private_data = ctx;
	return 0;
}

static int ptscope_release(struct inode *inode, struct file *file)
{
	struct ptscope_ctx *ctx = file->private_data;

	ptscope_counters_release(file);
	ptscope_ctx_release(ctx);
	kfree(ctx);
	return 0;
}

static const struct file_operations ptscope_fops = {
	.owner		= THIS_MODULE,
	.open		= ptscope_open,
	.release	= ptscope_release,
	.unlocked_ioctl	= ptscope_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice ptscope_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ptscope",
	.fops	= &ptscope_fops,
	.mode	= 0600,
};

static int __init ptscope_init(void)
{
	int err;

	ptscope_arch_init();
	ptscope_levels_init();
	err = ptscope_target_init();
	if (err)
		return err;
	ptscope_counters_init();
	ptscope_debugfs_dir = ptscope_debugfs_init();

	err = misc_register(&ptscope_miscdev);
	if (err)
		goto err_debugfs;

	pr_info("version %s, ABI %d.%d, %u-level paging\n", PTSCOPE_VERSION,
		PTSCOPE_ABI_MAJOR, PTSCOPE_ABI_MINOR, ptscope_pgtable_levels());
	return 0;

err_debugfs:
	ptscope_debugfs_exit(ptscope_debugfs_dir);
	ptscope_counters_exit();
	ptscope_target_exit();
	return err;
}

static void __exit ptscope_exit(void)
{
	misc_deregister(&ptscope_miscdev);
	ptscope_debugfs_exit(ptscope_debugfs_dir);
	ptscope_counters_exit();
	ptscope_target_exit();
}

module_init(ptscope_init);
module_exit(ptscope_exit);

MODULE_DESCRIPTION("ptscope: show a live process's page tables");
MODULE_AUTHOR("The ptscope developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(PTSCOPE_VERSION);
