/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PTSCOPE_H
#define _PTSCOPE_H

#include <linux/types.h>
#include <uapi/ptscope.h>

#define PTSCOPE_VERSION "0.1.0"

struct dentry;

/* main.c */
u64 ptscope_features(void);
unsigned int ptscope_pgtable_levels(void);

/* debugfs.c */
struct dentry *ptscope_debugfs_init(void);
void ptscope_debugfs_exit(struct dentry *dir);

#endif /* _PTSCOPE_H */
