// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope: the text views under /sys/kernel/debug/ptscope/, for cat.
 *
 * Every file here is read-only: under kernel lockdown debugfs refuses files
 * with write, ioctl or mmap, and everything that changes state goes through
 * /dev/ptscope instead. debugfs failures are not fatal to the module.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/utsname.h>

#include "ptscope.h"

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

struct dentry *ptscope_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("ptscope", NULL);

	debugfs_create_file("version", 0444, dir, NULL, &version_fops);
	return dir;
}

void ptscope_debugfs_exit(struct dentry *dir)
{
	debugfs_remove(dir);
}
