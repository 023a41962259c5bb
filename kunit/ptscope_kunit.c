// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of ptscope. Built only where the kernel has KUnit (the debug
 * kernel of scripts/debug-kernel); they run when the module is loaded.
 *
 * Suites:
 *  - ptscope_args:  ptscope_args_in(), the size-first argument protocol
 *                   every command goes through;
 *  - ptscope_ioctl: each command's flags, reserved fields and sizes, through
 *                   a real open file of /dev/ptscope.
 *
 * User memory comes from kunit_vm_mmap(), which gives the test thread an mm
 * of its own, so user pointers here are real ones.
 */
#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/pgtable.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ptscope.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

/* The user buffer: USER_PAGES readable and writable pages, then a hole. */
#define USER_PAGES	2
#define USER_SIZE	(USER_PAGES * PAGE_SIZE)

struct ptscope_user {
	u8 __user *buf;		/* USER_SIZE bytes */
	u8 __user *hole;	/* the unmapped page right after @buf */
};

/* Map the user buffer and unmap the page after it. */
static int ptscope_user_init(struct kunit *test)
{
	struct ptscope_user *u;
	unsigned long addr;

	u = kunit_kzalloc(test, sizeof(*u), GFP_KERNEL);
	if (!u)
		return -ENOMEM;
	addr = kunit_vm_mmap(test, NULL, 0, USER_SIZE + PAGE_SIZE,
			     PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (!addr || IS_ERR_VALUE(addr))
		return -ENOMEM;
	if (vm_munmap(addr + USER_SIZE, PAGE_SIZE))
		return -ENOMEM;
	u->buf = (u8 __user *)addr;
	u->hole = u->buf + USER_SIZE;
	test->priv = u;
	return 0;
}

/* Where a case puts its argument struct. */
enum ptscope_place {
	PLACE_START,		/* at the start of the buffer */
	PLACE_HOLE,		/* in the unmapped page */
	PLACE_SPLIT,		/* the size field mapped, the rest in the hole */
	PLACE_NULL,		/* NULL */
	PLACE_KERNEL,		/* a kernel address */
};

/* The user pointer a case passes. */
static u8 __user *ptscope_place(struct kunit *test, enum ptscope_place place)
{
	struct ptscope_user *u = test->priv;

	switch (place) {
	case PLACE_START:
		return u->buf;
	case PLACE_HOLE:
		return u->hole;
	case PLACE_SPLIT:
		return u->hole - sizeof(u32);
	case PLACE_NULL:
		return NULL;
	case PLACE_KERNEL:
		return (u8 __user *)test;
	}
	return NULL;
}

/*
 * ptscope_args: ptscope_args_in() against struct ptscope_version, whose
 * size also stands for the "first version" unless @minsize says otherwise.
 */
struct ptscope_args_case {
	const char *name;
	u32 usize;		/* the size field the user writes */
	u32 minsize;		/* 0: the whole struct */
	u32 nonzero_at;		/* 0, or a byte past the struct set to 1 */
	enum ptscope_place place;
	long want;		/* the return value */
};

#define KSIZE	((u32)sizeof(struct ptscope_version))

static const struct ptscope_args_case ptscope_args_cases[] = {
	{ "size 0",			0,		0, 0, PLACE_START, -EINVAL },
	{ "size field only",		4,		0, 0, PLACE_START, -EINVAL },
	{ "one byte short",		KSIZE - 1,	0, 0, PLACE_START, -EINVAL },
	{ "exact size",			KSIZE,		0, 0, PLACE_START, KSIZE },
	{ "first version of a grown struct", 16,	16, 0, PLACE_START, 16 },
	{ "between versions",		24,		16, 0, PLACE_START, 24 },
	{ "newer caller, zero tail",	KSIZE + 8,	0, 0, PLACE_START, KSIZE + 8 },
	{ "newer caller, tail set",	KSIZE + 8,	0, KSIZE + 7, PLACE_START, -E2BIG },
	{ "tail set at its first byte",	KSIZE + 8,	0, KSIZE, PLACE_START, -E2BIG },
	{ "one page, zero tail",	PAGE_SIZE,	0, 0, PLACE_START, PAGE_SIZE },
	{ "one page, last byte set",	PAGE_SIZE,	0, PAGE_SIZE - 1, PLACE_START, -E2BIG },
	{ "one page plus one",		PAGE_SIZE + 1,	0, 0, PLACE_START, -E2BIG },
	{ "size U32_MAX",		U32_MAX,	0, 0, PLACE_START, -E2BIG },
	{ "size 1 << 31",		1U << 31,	0, 0, PLACE_START, -E2BIG },
	{ "unmapped",			KSIZE,		0, 0, PLACE_HOLE, -EFAULT },
	{ "size mapped, body unmapped",	KSIZE,		0, 0, PLACE_SPLIT, -EFAULT },
	{ "NULL",			KSIZE,		0, 0, PLACE_NULL, -EFAULT },
	{ "kernel pointer",		KSIZE,		0, 0, PLACE_KERNEL, -EFAULT },
};

KUNIT_ARRAY_PARAM_DESC(ptscope_args, ptscope_args_cases, name);

/* Fill the user's struct with a pattern: its bytes are recognisable. */
static void ptscope_fill_user(struct kunit *test, u8 __user *uarg, u32 usize)
{
	u8 *pattern;
	u32 i;

	pattern = kunit_kmalloc(test, USER_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	for (i = 0; i < USER_SIZE; i++)
		pattern[i] = 0xa0 + i % 16;
	memcpy(pattern, &usize, sizeof(usize));
	/* What the kernel does not know must be zero for the good cases. */
	if (usize > KSIZE)
		memset(pattern + KSIZE, 0, min_t(u32, usize, USER_SIZE) - KSIZE);
	KUNIT_ASSERT_EQ(test, copy_to_user(uarg, pattern, USER_SIZE), 0);
}

static void ptscope_put_u32(struct kunit *test, u8 __user *at, u32 val)
{
	KUNIT_ASSERT_EQ(test, put_user(val, (u32 __user *)at), 0);
}

static void ptscope_args_test(struct kunit *test)
{
	const struct ptscope_args_case *c = test->param_value;
	u32 minsize = c->minsize ?: KSIZE;
	u8 __user *uarg = ptscope_place(test, c->place);
	u8 *karg, *ucopy;
	long ret;

	if (c->place == PLACE_START) {
		ptscope_fill_user(test, uarg, c->usize);
		if (c->nonzero_at)
			KUNIT_ASSERT_EQ(test, put_user(1, uarg + c->nonzero_at), 0);
	} else if (c->place == PLACE_SPLIT) {
		ptscope_put_u32(test, uarg, c->usize);
	}

	karg = kunit_kzalloc(test, KSIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, karg);
	memset(karg, 0x5a, KSIZE);
	ret = ptscope_args_in(karg, KSIZE, minsize, uarg);
	KUNIT_ASSERT_EQ(test, ret, c->want);
	if (ret < 0)
		return;

	/* What the user gave is copied; what it did not give reads as 0. */
	ucopy = kunit_kzalloc(test, KSIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ucopy);
	KUNIT_ASSERT_EQ(test, copy_from_user(ucopy, uarg, min_t(u32, ret, KSIZE)), 0);
	KUNIT_EXPECT_MEMEQ(test, karg, ucopy, KSIZE);
}

static struct kunit_case ptscope_args_test_cases[] = {
	KUNIT_CASE_PARAM(ptscope_args_test, ptscope_args_gen_params),
	{}
};

static struct kunit_suite ptscope_args_suite = {
	.name = "ptscope_args",
	.init = ptscope_user_init,
	.test_cases = ptscope_args_test_cases,
};

/*
 * ptscope_ioctl: the commands through /dev/ptscope's own file operations.
 * The test thread has every capability, so open() lets it in.
 */
struct ptscope_ioctl_case {
	const char *name;
	unsigned int cmd;
	u32 size;		/* of the command's struct */
	u32 usize;		/* the size field written */
	u32 set_at;		/* 0, or the offset of a u32 set to @set */
	u32 set;
	enum ptscope_place place;
	long want;
};

/* A struct ptscope_version case: the u32 at @_at (0: none) set to @_set. */
#define VERSION_CASE(_name, _usize, _at, _set, _place, _want)			\
	{ _name, PTSCOPE_IOC_VERSION, KSIZE, _usize, _at, _set, _place, _want }
#define VERSION_AT(field)	offsetof(struct ptscope_version, field)

static const struct ptscope_ioctl_case ptscope_ioctl_cases[] = {
	VERSION_CASE("version", KSIZE, 0, 0, PLACE_START, 0),
	VERSION_CASE("version: flags bit 0", KSIZE, VERSION_AT(flags), 1, PLACE_START, -EINVAL),
	VERSION_CASE("version: flags bit 31", KSIZE, VERSION_AT(flags), 1U << 31,
		     PLACE_START, -EINVAL),
	VERSION_CASE("version: reserved[0]", KSIZE, VERSION_AT(reserved[0]), 1,
		     PLACE_START, -EINVAL),
	VERSION_CASE("version: reserved[3]", KSIZE, VERSION_AT(reserved[3]), 1,
		     PLACE_START, -EINVAL),
	/* Catches a check of the low half of a __u64 only. */
	VERSION_CASE("version: reserved[3] high half", KSIZE, VERSION_AT(reserved[3]) + 4, 1,
		     PLACE_START, -EINVAL),
	VERSION_CASE("version: size 0", 0, 0, 0, PLACE_START, -EINVAL),
	VERSION_CASE("version: size short", KSIZE - 8, 0, 0, PLACE_START, -EINVAL),
	VERSION_CASE("version: newer caller", KSIZE + 8, 0, 0, PLACE_START, 0),
	VERSION_CASE("version: newer caller, tail set", KSIZE + 8, KSIZE + 4, 1,
		     PLACE_START, -E2BIG),
	VERSION_CASE("version: unmapped", KSIZE, 0, 0, PLACE_HOLE, -EFAULT),
	VERSION_CASE("version: size mapped, body unmapped", KSIZE, 0, 0, PLACE_SPLIT, -EFAULT),
	VERSION_CASE("version: NULL", KSIZE, 0, 0, PLACE_NULL, -EFAULT),
	{ "unknown number", _IOWR(PTSCOPE_IOC_MAGIC, 0x0f, struct ptscope_version),
	  KSIZE, KSIZE, 0, 0, PLACE_START, -ENOTTY },
	{ "unknown magic", _IOWR(PTSCOPE_IOC_MAGIC + 1, 0x00, struct ptscope_version),
	  KSIZE, KSIZE, 0, 0, PLACE_START, -ENOTTY },
};

KUNIT_ARRAY_PARAM_DESC(ptscope_ioctl, ptscope_ioctl_cases, name);

static long ptscope_ioctl_call(struct kunit *test, unsigned int cmd, void __user *uarg)
{
	struct file *file;
	long ret;

	file = filp_open("/dev/ptscope", O_RDWR, 0);
	if (IS_ERR(file))
		kunit_skip(test, "cannot open /dev/ptscope: %ld", PTR_ERR(file));
	ret = file->f_op->unlocked_ioctl(file, cmd, (unsigned long)uarg);
	filp_close(file, NULL);
	return ret;
}

/* struct ptscope_version as the module must have filled it in. */
static void ptscope_expect_version(struct kunit *test, const struct ptscope_version *v)
{
	KUNIT_EXPECT_EQ(test, v->abi_major, PTSCOPE_ABI_MAJOR);
	KUNIT_EXPECT_EQ(test, v->abi_minor, PTSCOPE_ABI_MINOR);
	KUNIT_EXPECT_EQ(test, v->page_size, PAGE_SIZE);
	/* A folded P4D level has one entry: 4-level paging. */
	KUNIT_EXPECT_EQ(test, v->pgtable_levels, PTRS_PER_P4D > 1 ? 5 : 4);
	KUNIT_EXPECT_EQ(test, !!(v->features & PTSCOPE_FEAT_5LEVEL), PTRS_PER_P4D > 1);
}

static void ptscope_ioctl_test(struct kunit *test)
{
	const struct ptscope_ioctl_case *c = test->param_value;
	u8 __user *uarg = ptscope_place(test, c->place);
	struct ptscope_user *u = test->priv;
	u8 *before, *after;
	long ret;

	if (c->place == PLACE_START) {
		ptscope_fill_user(test, uarg, c->usize);
		/* A good struct but for the field under test. */
		KUNIT_ASSERT_EQ(test, clear_user(uarg + sizeof(u32), c->size - sizeof(u32)), 0);
		if (c->set_at)
			ptscope_put_u32(test, uarg + c->set_at, c->set);
	} else if (c->place == PLACE_SPLIT) {
		ptscope_put_u32(test, uarg, c->usize);
	}

	before = kunit_kmalloc(test, USER_SIZE, GFP_KERNEL);
	after = kunit_kmalloc(test, USER_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, after);
	KUNIT_ASSERT_EQ(test, copy_from_user(before, u->buf, USER_SIZE), 0);

	ret = ptscope_ioctl_call(test, c->cmd, uarg);
	KUNIT_ASSERT_EQ(test, ret, c->want);

	KUNIT_ASSERT_EQ(test, copy_from_user(after, u->buf, USER_SIZE), 0);
	if (ret) {
		/* A refused command changes nothing. */
		KUNIT_EXPECT_MEMEQ(test, before, after, USER_SIZE);
		return;
	}
	/* Nothing is written past what the caller said it has. */
	KUNIT_EXPECT_MEMEQ(test, before + c->usize, after + c->usize, USER_SIZE - c->usize);
	if (c->cmd == PTSCOPE_IOC_VERSION)
		ptscope_expect_version(test, (struct ptscope_version *)after);
}

static struct kunit_case ptscope_ioctl_test_cases[] = {
	KUNIT_CASE_PARAM(ptscope_ioctl_test, ptscope_ioctl_gen_params),
	{}
};

static struct kunit_suite ptscope_ioctl_suite = {
	.name = "ptscope_ioctl",
	.init = ptscope_user_init,
	.test_cases = ptscope_ioctl_test_cases,
};

kunit_test_suites(&ptscope_args_suite, &ptscope_ioctl_suite);

MODULE_DESCRIPTION("KUnit tests of ptscope");
MODULE_LICENSE("GPL");
