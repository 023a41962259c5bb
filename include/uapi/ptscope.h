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
#define PTSCOPE_ABI_MINOR	0

/* Not in Documentation/userspace-api/ioctl/ioctl-number.rst as of 6.12. */
#define PTSCOPE_IOC_MAGIC	0xB9

/* Feature bits reported by PTSCOPE_IOC_VERSION. */
#define PTSCOPE_FEAT_5LEVEL	(1ULL << 0)	/* the running kernel uses 5-level paging */

/**
 * struct ptscope_version - ABI version and features of the loaded module
 * @size:      in: sizeof(struct ptscope_version)
 * @flags:     in: must be 0
 * @abi_major: out: PTSCOPE_ABI_MAJOR of the module; a caller built for
 *             another major must not use any other command
 * @abi_minor: out: PTSCOPE_ABI_MINOR of the module; minors only add
 * @features:  out: PTSCOPE_FEAT_* bits
 * @page_size: out: PAGE_SIZE of the running kernel
 * @pgtable_levels: out: page-table levels in use (4 or 5)
 * @reserved:  in: must be 0
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
};

#define PTSCOPE_IOC_VERSION	_IOWR(PTSCOPE_IOC_MAGIC, 0x00, struct ptscope_version)

#endif /* _UAPI_PTSCOPE_H */
