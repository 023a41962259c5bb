// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of ptscope. Built only where the kernel has KUnit (the debug
 * kernel of scripts/debug-kernel); they run when the module is loaded.
 *
 * Suites:
 *  - ptscope_args:  ptscope_args_in(), the size-first argument protocol
 *                   every command goes through;
 *  - ptscope_ioctl: each command's flags, reserved fields and sizes, through
 *                   a real open file of /dev/ptscope;
 *  - ptscope_decode: ptscope_decode_pte() on every bit and every non-present
 *                   form, each entry built with the kernel's own constructors;
 *                   on arm64 what each present entry must decode to is what
 *                   the kernel's own accessors (pte_write(), pte_cont()...)
 *                   and MAIR_EL1 say of it, and a contiguous block is read
 *                   as ptep_get() folds it;
 *  - ptscope_leaf:  the software leaves (swap, migration, device, hwpoison,
 *                   marker) decoded as the kernel's own leaf helpers
 *                   (softleaf_*() in 7.x) classify them, with every swap flag
 *                   and every type number;
 *  - ptscope_walk:  the walker on real user memory: untouched, faulted in,
 *                   read-faulted (zero page), partly unmapped, THP, stopped
 *                   and resumed, with table entries; pfns checked against
 *                   get_user_pages_fast();
 *  - ptscope_runs:  run merging (ptscope_walk_runs()) against runs computed
 *                   from the pfns get_user_pages_fast() returns.
 *
 * User memory comes from kunit_vm_mmap(), which gives the test thread an mm
 * of its own, so user pointers here are real ones.
 */
#include <kunit/test.h>
#include <linux/bitfield.h>
#include <linux/fs.h>
#include <linux/huge_mm.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/pgtable.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swapops.h>
#include <linux/uaccess.h>
#ifdef CONFIG_ARM64
#include <asm/sysreg.h>
#endif

#include "ptscope.h"

MODULE_IMPORT_NS(PTSCOPE_KUNIT_NS);

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
	VERSION_CASE("version: size short", PTSCOPE_VERSION_SIZE_VER0 - 8, 0, 0, PLACE_START,
		     -EINVAL),
	/* ABI 1.3 grew the struct: a caller of the first version is served. */
	VERSION_CASE("version: first version", PTSCOPE_VERSION_SIZE_VER0, 0, 0, PLACE_START, 0),
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

	file = ptscope_kthread_filp_open("/dev/ptscope", O_RDWR);
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
	/*
	 * The debug kernels are built for 5 levels and run 4 without LA57
	 * (x86, no5lvl) or 52-bit VA (arm64.nolva), as the kernel says.
	 */
	KUNIT_EXPECT_EQ(test, v->pgtable_levels, pgtable_l5_enabled() ? 5 : 4);
	KUNIT_EXPECT_EQ(test, !!(v->features & PTSCOPE_FEAT_5LEVEL), pgtable_l5_enabled());
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

/*
 * ptscope_decode: one entry per case, built with the kernel's constructors,
 * and what ptscope_decode_pte() must make of it. Frame numbers are made up:
 * decoding never looks at the page.
 */
#define TEST_PFN	0x12345UL
#define TEST_HPFN	0x12400UL	/* PMD aligned */
#define TEST_GPFN	0x40000UL	/* PUD aligned */
#define LARGEST_PFN	U64_MAX		/* SWP_PFN_MASK, which depends on the paging mode */

#define B_RO	(PTSCOPE_B_PRESENT | PTSCOPE_B_USER | PTSCOPE_B_ACCESSED | \
		 PTSCOPE_B_NX | PTSCOPE_B_LEAF)
#define B_RW	(B_RO | PTSCOPE_B_WRITE)

struct ptscope_decode_case {
	const char *name;
	pte_t (*make)(void);
	bool large;		/* a PMD or PUD leaf */
	bool have;		/* the kernel can build this entry */
	bool lpa2;		/* only with LPA2 on (a 52-bit frame, arm64) */
	u8 kind;
	u64 bits;
	u64 pfn;
	u32 swap_type;
	u64 swap_offset;
	u16 pkey;
};

/*
 * A user mapping's protections as the kernel makes them: on x86 the PAGE_*
 * values; on arm64 what vm_get_page_prot() gives, which with LPA2 clears
 * the shareability bits PAGE_* carry (bits 8-9 are frame bits then).
 */
#ifdef CONFIG_X86
#define USER_RO		PAGE_READONLY
#define USER_RW		PAGE_SHARED
#define USER_RX		PAGE_READONLY_EXEC
#define USER_NONE	PAGE_NONE
#else
#define USER_RO		vm_get_page_prot(VM_READ)
#define USER_RW		vm_get_page_prot(VM_READ | VM_WRITE | VM_SHARED)
#define USER_RX		vm_get_page_prot(VM_READ | VM_EXEC)
#define USER_NONE	vm_get_page_prot(VM_NONE)
#endif

static pte_t ro(void) { return pfn_pte(TEST_PFN, USER_RO); }
static pte_t rw(void) { return pfn_pte(TEST_PFN, USER_RW); }
static pte_t rx(void) { return pfn_pte(TEST_PFN, USER_RX); }
static pte_t dirty(void) { return pte_mkdirty(rw()); }
static pte_t old(void) { return pte_mkold(rw()); }
static pte_t wrprotected(void) { return pte_wrprotect(rw()); }
static pte_t made_writable(void) { return pte_mkwrite_novma(ro()); }
static pte_t uffd_wp(void) { return ptscope_pte_mkuffd_wp(rw()); }
static pte_t special(void) { return pte_mkspecial(ro()); }
static pte_t protnone(void) { return pfn_pte(TEST_PFN, USER_NONE); }
static pte_t uncached(void) { return pfn_pte(TEST_PFN, pgprot_noncached(USER_RW)); }
static pte_t write_combined(void) { return pfn_pte(TEST_PFN, pgprot_writecombine(USER_RW)); }
static pte_t none(void) { return __pte(0); }

static pte_t pmd_leaf_rw(void)
{
	return __pte(pmd_val(pmd_mkhuge(pfn_pmd(TEST_HPFN, USER_RW))));
}

static pte_t pud_leaf_rw(void)
{
	return __pte(pud_val(pud_mkhuge(pfn_pud(TEST_GPFN, USER_RW))));
}

#ifdef CONFIG_X86
static pte_t soft_dirty(void) { return pte_mksoft_dirty(ro()); }
static pte_t devmap(void) { return ptscope_pte_mkdevmap(ro()); }

static pte_t pat(void)
{
	return pfn_pte(TEST_PFN, __pgprot(_PAGE_PRESENT | _PAGE_USER | _PAGE_PAT));
}

static pte_t pkey5(void)
{
	return pfn_pte(TEST_PFN, vm_get_page_prot(VM_READ | VM_PKEY_BIT0 | VM_PKEY_BIT2));
}

static pte_t pmd_leaf_pat(void)
{
	pgprot_t prot = __pgprot(_PAGE_PRESENT | _PAGE_USER | _PAGE_PAT_LARGE);

	return __pte(pmd_val(pmd_mkhuge(pfn_pmd(TEST_HPFN, prot))));
}
#else /* arm64 */
static pte_t clean(void) { return pte_mkclean(dirty()); }
static pte_t wrprotected_dirty(void) { return pte_wrprotect(dirty()); }
static pte_t device(void) { return pfn_pte(TEST_PFN, pgprot_device(USER_RW)); }
static pte_t tagged(void) { return pfn_pte(TEST_PFN, pgprot_tagged(USER_RW)); }
static pte_t cont(void) { return pte_mkcont(rw()); }
/* Valid bit clear, still present: a PMD being split (pmd_mkinvalid()). */
static pte_t invalid(void) { return pte_mkinvalid(rw()); }

static pte_t pmd_leaf_ro(void)
{
	return __pte(pmd_val(pmd_mkhuge(pfn_pmd(TEST_HPFN, USER_RO))));
}

static pte_t pmd_leaf_cont(void)
{
	return __pte(pmd_val(pmd_mkcont(pmd_mkhuge(pfn_pmd(TEST_HPFN, USER_RW)))));
}

/* A frame above 48 bits: its top bits in bits 8-9 of the entry, LPA2's layout. */
#define TEST_LPA2_PFN	(PHYS_PFN(BIT_ULL(51) | BIT_ULL(50)) | TEST_PFN)
static pte_t lpa2_frame(void) { return pfn_pte(TEST_LPA2_PFN, USER_RW); }
#endif

static pte_t swapped(void) { return swp_entry_to_pte(swp_entry(3, 0x1234)); }
static pte_t swap_last_type(void) { return swp_entry_to_pte(swp_entry(MAX_SWAPFILES - 1, 7)); }
static pte_t swap_far(void) { return swp_entry_to_pte(swp_entry(0, 1UL << 40)); }
static pte_t swap_exclusive(void) { return pte_swp_mkexclusive(swapped()); }
static pte_t swap_soft_dirty(void) { return pte_swp_mksoft_dirty(swapped()); }
static pte_t swap_uffd_wp(void) { return ptscope_pte_swp_mkuffd_wp(swapped()); }
static pte_t mig_read(void) { return swp_entry_to_pte(make_readable_migration_entry(TEST_PFN)); }
static pte_t mig_write(void) { return swp_entry_to_pte(make_writable_migration_entry(TEST_PFN)); }

static pte_t mig_excl(void)
{
	return swp_entry_to_pte(make_readable_exclusive_migration_entry(TEST_PFN));
}

static pte_t pmd_migration(void)
{
	return __pte(pmd_val(swp_entry_to_pmd(make_readable_migration_entry(TEST_HPFN))));
}

/*
 * Migration entries that kept the page's young and dirty bits, above the
 * frame. By hand: make_migration_entry_young() and _dirty() ask
 * swap_migration_ad_supported, which is not exported.
 */
static pte_t mig_ad(unsigned long type, unsigned long pfn, unsigned long ad)
{
	return swp_entry_to_pte(swp_entry(type, pfn | ad));
}

static pte_t mig_read_young(void) { return mig_ad(SWP_MIGRATION_READ, TEST_PFN, SWP_MIG_YOUNG); }
static pte_t mig_write_dirty(void) { return mig_ad(SWP_MIGRATION_WRITE, TEST_PFN, SWP_MIG_DIRTY); }

static pte_t mig_excl_young_dirty(void)
{
	return mig_ad(SWP_MIGRATION_READ_EXCLUSIVE, TEST_PFN, SWP_MIG_YOUNG | SWP_MIG_DIRTY);
}

/* The largest frame a migration entry holds (it depends on the paging mode). */
static pte_t mig_largest(void)
{
	return mig_ad(SWP_MIGRATION_WRITE, SWP_PFN_MASK, SWP_MIG_YOUNG | SWP_MIG_DIRTY);
}

static pte_t pmd_migration_young_dirty(void)
{
	unsigned long ad = SWP_MIG_YOUNG | SWP_MIG_DIRTY;

	return __pte(pmd_val(swp_entry_to_pmd(swp_entry(SWP_MIGRATION_WRITE, TEST_HPFN | ad))));
}

static pte_t dev_private(void)
{
	return swp_entry_to_pte(make_readable_device_private_entry(TEST_PFN));
}

static pte_t dev_private_write(void)
{
	return swp_entry_to_pte(make_writable_device_private_entry(TEST_PFN));
}

static pte_t dev_exclusive(void)
{
	return swp_entry_to_pte(ptscope_make_device_exclusive_entry(TEST_PFN));
}

/* make_hwpoison_entry() wants a locked page: the same entry, by hand. */
static pte_t hwpoison(void) { return swp_entry_to_pte(swp_entry(SWP_HWPOISON, TEST_PFN)); }
static pte_t marker_uffd_wp(void) { return make_pte_marker(PTE_MARKER_UFFD_WP); }
static pte_t marker_poisoned(void) { return make_pte_marker(PTE_MARKER_POISONED); }
static pte_t marker_guard(void) { return make_pte_marker(PTSCOPE_PTE_MARKER_GUARD); }

#define LEAF(_n, _f, _bits, _large, _pfn) \
	{ .name = _n, .make = _f, .have = true, .kind = PTSCOPE_KIND_PAGE, \
	  .bits = _bits, .large = _large, .pfn = _pfn }
#define PRESENT(_n, _f, _bits)	LEAF(_n, _f, _bits, false, TEST_PFN)
#define SWAPPED(_n, _f, _type, _off, _bits) \
	{ .name = _n, .make = _f, .have = true, .kind = PTSCOPE_KIND_SWAP, \
	  .bits = _bits, .swap_type = _type, .swap_offset = _off }
#define OTHER(_n, _f, _have, _kind, _bits, _pfn) \
	{ .name = _n, .make = _f, .have = _have, .kind = _kind, .bits = _bits, .pfn = _pfn }

#ifdef CONFIG_X86
static const struct ptscope_decode_case ptscope_decode_cases[] = {
	PRESENT("read-only", ro, B_RO),
	PRESENT("writable", rw, B_RW),
	PRESENT("executable", rx, B_RO & ~PTSCOPE_B_NX),
	PRESENT("dirty (and soft-dirty)", dirty, B_RW | PTSCOPE_B_DIRTY | PTSCOPE_B_SOFT_DIRTY),
	PRESENT("old", old, B_RW & ~PTSCOPE_B_ACCESSED),
	PRESENT("soft-dirty", soft_dirty, B_RO | PTSCOPE_B_SOFT_DIRTY),
	PRESENT("write-protected", wrprotected, B_RO),
	PRESENT("made writable", made_writable, B_RW),
	PRESENT("uffd-wp", uffd_wp, B_RO | PTSCOPE_B_UFFD_WP),
	PRESENT("special", special, B_RO | PTSCOPE_B_SPECIAL),
	/* 7.x has no devmap bit. */
	{ .name = "devmap", .make = devmap, .have = PTSCOPE_PAGE_DEVMAP != 0,
	  .kind = PTSCOPE_KIND_PAGE, .bits = B_RO | PTSCOPE_B_SPECIAL | PTSCOPE_B_DEVMAP,
	  .pfn = TEST_PFN },
	/* The PROT_NONE bit is the global bit: not global, not present. */
	PRESENT("PROT_NONE", protnone, PTSCOPE_B_PRESENT | PTSCOPE_B_ACCESSED |
		PTSCOPE_B_LEAF | PTSCOPE_B_PROTNONE),
	PRESENT("uncached (UC-: PCD)", uncached, B_RW | PTSCOPE_B_PCD),
	PRESENT("write-combined (WC: PWT)", write_combined, B_RW | PTSCOPE_B_PWT),
	PRESENT("PAT bit of a PTE", pat, PTSCOPE_B_PRESENT | PTSCOPE_B_USER |
		PTSCOPE_B_LEAF | PTSCOPE_B_PAT),
	{ .name = "protection key 5", .make = pkey5, .kind = PTSCOPE_KIND_PAGE, .bits = B_RO,
	  .pfn = TEST_PFN, .pkey = 5, .have = IS_ENABLED(CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS) },
	LEAF("PMD leaf", pmd_leaf_rw, B_RW, true, TEST_HPFN),
	/* _PAGE_PAT_LARGE is bit 12: not part of the frame number. */
	LEAF("PAT bit of a PMD leaf", pmd_leaf_pat, PTSCOPE_B_PRESENT | PTSCOPE_B_USER |
	     PTSCOPE_B_LEAF | PTSCOPE_B_PAT, true, TEST_HPFN),
	LEAF("PUD leaf", pud_leaf_rw, B_RW, true, TEST_GPFN),
	OTHER("none", none, true, PTSCOPE_KIND_NONE, 0, 0),
};
#else /* arm64 */
/*
 * What each present entry must decode to is derived from the entry by the
 * kernel's own accessors and MAIR_EL1 (arm64_leaf_bits()), not listed here.
 */
#define ARM64(_n, _f, _large, _pfn) \
	{ .name = _n, .make = _f, .have = true, .kind = PTSCOPE_KIND_PAGE, \
	  .large = _large, .pfn = _pfn }
static const struct ptscope_decode_case ptscope_decode_cases[] = {
	ARM64("read-only", ro, false, TEST_PFN),
	ARM64("writable", rw, false, TEST_PFN),
	ARM64("executable", rx, false, TEST_PFN),
	ARM64("dirty", dirty, false, TEST_PFN),
	ARM64("cleaned", clean, false, TEST_PFN),
	ARM64("old", old, false, TEST_PFN),
	ARM64("write-protected", wrprotected, false, TEST_PFN),
	ARM64("write-protected, dirty", wrprotected_dirty, false, TEST_PFN),
	ARM64("made writable", made_writable, false, TEST_PFN),
	ARM64("uffd-wp", uffd_wp, false, TEST_PFN),
	ARM64("special", special, false, TEST_PFN),
	ARM64("PROT_NONE", protnone, false, TEST_PFN),
	ARM64("present, invalid (PMD split)", invalid, false, TEST_PFN),
	ARM64("uncached (Device-nGnRnE)", uncached, false, TEST_PFN),
	ARM64("device (Device-nGnRE)", device, false, TEST_PFN),
	ARM64("write-combined (Normal-NC)", write_combined, false, TEST_PFN),
	ARM64("tagged (MT_NORMAL_TAGGED)", tagged, false, TEST_PFN),
	ARM64("contiguous", cont, false, TEST_PFN),
	{ .name = "52-bit frame (LPA2)", .make = lpa2_frame, .have = true, .lpa2 = true,
	  .kind = PTSCOPE_KIND_PAGE, .pfn = TEST_LPA2_PFN },
	ARM64("PMD leaf", pmd_leaf_rw, true, TEST_HPFN),
	ARM64("PMD leaf, read-only", pmd_leaf_ro, true, TEST_HPFN),
	ARM64("PMD leaf, contiguous", pmd_leaf_cont, true, TEST_HPFN),
	ARM64("PUD leaf", pud_leaf_rw, true, TEST_GPFN),
	OTHER("none", none, true, PTSCOPE_KIND_NONE, 0, 0),
};
#endif

/* The software leaves: non-present, non-empty entries (the ptscope_leaf suite's too). */
static const struct ptscope_decode_case ptscope_leaf_cases[] = {
	SWAPPED("swap", swapped, 3, 0x1234, 0),
	SWAPPED("swap, last type", swap_last_type, MAX_SWAPFILES - 1, 7, 0),
	SWAPPED("swap, offset 1 << 40", swap_far, 0, 1ULL << 40, 0),
	SWAPPED("swap, exclusive", swap_exclusive, 3, 0x1234, PTSCOPE_B_SWP_EXCLUSIVE),
	{ .name = "swap, soft-dirty", .make = swap_soft_dirty,
	  .have = IS_ENABLED(CONFIG_MEM_SOFT_DIRTY), .kind = PTSCOPE_KIND_SWAP,
	  .bits = PTSCOPE_B_SOFT_DIRTY, .swap_type = 3, .swap_offset = 0x1234 },
	SWAPPED("swap, uffd-wp", swap_uffd_wp, 3, 0x1234, PTSCOPE_B_UFFD_WP),
	OTHER("migration, read", mig_read, IS_ENABLED(CONFIG_MIGRATION),
	      PTSCOPE_KIND_MIGRATION, PTSCOPE_B_MIGRATION_READ, TEST_PFN),
	OTHER("migration, write", mig_write, IS_ENABLED(CONFIG_MIGRATION),
	      PTSCOPE_KIND_MIGRATION, PTSCOPE_B_MIGRATION_WRITE, TEST_PFN),
	OTHER("migration, exclusive", mig_excl, IS_ENABLED(CONFIG_MIGRATION),
	      PTSCOPE_KIND_MIGRATION, PTSCOPE_B_MIGRATION_EXCL, TEST_PFN),
	{ .name = "PMD migration", .make = pmd_migration, .large = true,
	  .have = PTSCOPE_HAVE_PMD_LEAVES, .kind = PTSCOPE_KIND_MIGRATION,
	  .bits = PTSCOPE_B_MIGRATION_READ, .pfn = TEST_HPFN },
	/* The young and dirty bits are not part of the frame. */
	OTHER("migration, read, young", mig_read_young, IS_ENABLED(CONFIG_MIGRATION),
	      PTSCOPE_KIND_MIGRATION, PTSCOPE_B_MIGRATION_READ | PTSCOPE_B_ACCESSED, TEST_PFN),
	OTHER("migration, write, dirty", mig_write_dirty, IS_ENABLED(CONFIG_MIGRATION),
	      PTSCOPE_KIND_MIGRATION, PTSCOPE_B_MIGRATION_WRITE | PTSCOPE_B_DIRTY, TEST_PFN),
	OTHER("migration, exclusive, young and dirty", mig_excl_young_dirty,
	      IS_ENABLED(CONFIG_MIGRATION), PTSCOPE_KIND_MIGRATION,
	      PTSCOPE_B_MIGRATION_EXCL | PTSCOPE_B_ACCESSED | PTSCOPE_B_DIRTY, TEST_PFN),
	OTHER("migration, largest frame, young and dirty", mig_largest,
	      IS_ENABLED(CONFIG_MIGRATION), PTSCOPE_KIND_MIGRATION,
	      PTSCOPE_B_MIGRATION_WRITE | PTSCOPE_B_ACCESSED | PTSCOPE_B_DIRTY, LARGEST_PFN),
	{ .name = "PMD migration, young and dirty", .make = pmd_migration_young_dirty,
	  .large = true, .have = PTSCOPE_HAVE_PMD_LEAVES,
	  .kind = PTSCOPE_KIND_MIGRATION,
	  .bits = PTSCOPE_B_MIGRATION_WRITE | PTSCOPE_B_ACCESSED | PTSCOPE_B_DIRTY,
	  .pfn = TEST_HPFN },
	OTHER("device private", dev_private, IS_ENABLED(CONFIG_DEVICE_PRIVATE),
	      PTSCOPE_KIND_DEVICE_PRIVATE, 0, TEST_PFN),
	OTHER("device private, writable", dev_private_write, IS_ENABLED(CONFIG_DEVICE_PRIVATE),
	      PTSCOPE_KIND_DEVICE_PRIVATE, 0, TEST_PFN),
	OTHER("device exclusive", dev_exclusive, IS_ENABLED(CONFIG_DEVICE_PRIVATE),
	      PTSCOPE_KIND_DEVICE_EXCLUSIVE, 0, TEST_PFN),
	OTHER("hwpoison", hwpoison, IS_ENABLED(CONFIG_MEMORY_FAILURE),
	      PTSCOPE_KIND_HWPOISON, 0, TEST_PFN),
	OTHER("marker, uffd-wp", marker_uffd_wp, IS_ENABLED(CONFIG_PTE_MARKER_UFFD_WP),
	      PTSCOPE_KIND_MARKER, PTSCOPE_B_UFFD_WP, 0),
	OTHER("marker, poisoned", marker_poisoned, true, PTSCOPE_KIND_MARKER, 0, 0),
	OTHER("marker, guard", marker_guard, PTSCOPE_PTE_MARKER_GUARD != 0,
	      PTSCOPE_KIND_MARKER, 0, 0),
};

KUNIT_ARRAY_PARAM_DESC(ptscope_decode, ptscope_decode_cases, name);
KUNIT_ARRAY_PARAM_DESC(ptscope_leaf, ptscope_leaf_cases, name);

/* The frame @c was built with (LARGEST_PFN: SWP_PFN_MASK, set at boot). */
static u64 case_pfn(const struct ptscope_decode_case *c)
{
	return c->pfn == LARGEST_PFN ? (u64)SWP_PFN_MASK : c->pfn;
}

#ifdef CONFIG_X86
/* x86's cases say what they decode to. */
static u64 case_bits(struct kunit *test, const struct ptscope_decode_case *c, pte_t pte)
{
	if (c->pkey && !cpu_feature_enabled(X86_FEATURE_PKU))
		kunit_skip(test, "no protection keys on this CPU");
	return c->bits;
}
#else /* arm64 */
/*
 * The memory type of a MAIR_EL1 attribute byte the kernel programs
 * (MAIR_ATTR_* of asm/sysreg.h, MAIR_EL1_SET), as PTSCOPE_ARM64_MT_*.
 */
static u64 arm64_memtype(struct kunit *test, u8 attr)
{
	switch (attr) {
	case MAIR_ATTR_NORMAL:		return PTSCOPE_ARM64_MT_NORMAL;
	case MAIR_ATTR_NORMAL_TAGGED:	return PTSCOPE_ARM64_MT_NORMAL_TAGGED;
	case MAIR_ATTR_NORMAL_NC:	return PTSCOPE_ARM64_MT_NORMAL_NC;
	case MAIR_ATTR_DEVICE_nGnRnE:	return PTSCOPE_ARM64_MT_DEVICE_NGNRNE;
	case MAIR_ATTR_DEVICE_nGnRE:	return PTSCOPE_ARM64_MT_DEVICE_NGNRE;
	}
	KUNIT_FAIL(test, "MAIR attribute %#x is none the kernel programs", attr);
	return PTSCOPE_ARM64_MT_NONE;
}

/*
 * arm64_leaf_bits - what a present leaf must decode to: the generic bits as
 * the kernel's accessors read the entry, the descriptor's fields by the
 * kernel's PTE_* masks, its memory type from MAIR_EL1 as the CPU has it.
 */
static u64 arm64_leaf_bits(struct kunit *test, pte_t pte)
{
	u64 val = pte_val(pte), idx = FIELD_GET(PTE_ATTRINDX_MASK, val);
	u8 attr = read_sysreg(mair_el1) >> (idx * 8);
	const struct {
		bool says;
		u64 bits;
	} kernel[] = {
		{ pte_write(pte), PTSCOPE_B_WRITE | PTSCOPE_B_ARM64_DBM },
		{ pte_user(pte) || pte_user_exec(pte), PTSCOPE_B_USER },
		{ pte_young(pte), PTSCOPE_B_ACCESSED | PTSCOPE_B_ARM64_AF },
		{ pte_dirty(pte), PTSCOPE_B_DIRTY },
		{ pte_sw_dirty(pte), PTSCOPE_B_ARM64_SW_DIRTY },
		{ !pte_user_exec(pte), PTSCOPE_B_NX | PTSCOPE_B_ARM64_UXN },
		{ pte_soft_dirty(pte), PTSCOPE_B_SOFT_DIRTY },
		{ pte_special(pte), PTSCOPE_B_SPECIAL },
		{ ptscope_pte_devmap(pte), PTSCOPE_B_DEVMAP },
		{ ptscope_pte_uffd_wp(pte), PTSCOPE_B_UFFD_WP },
		{ pte_protnone(pte), PTSCOPE_B_PROTNONE },
		{ pte_valid(pte), PTSCOPE_B_ARM64_VALID },
		/* Without the valid bit, nG is the present-invalid mark. */
		{ pte_valid(pte) && (val & PTE_NG), PTSCOPE_B_ARM64_NG },
		{ pte_rdonly(pte), PTSCOPE_B_ARM64_AP_RO },
		{ pte_user(pte), PTSCOPE_B_ARM64_AP_EL0 },
		{ val & PTE_PXN, PTSCOPE_B_ARM64_PXN },
		{ val & PTE_GP, PTSCOPE_B_ARM64_GP },
		{ pte_cont(pte), PTSCOPE_B_ARM64_CONT },
		/* With LPA2 the shareability bits are frame bits (PTE_MAYBE_SHARED). */
		{ lpa2_is_enabled(), PTSCOPE_B_ARM64_SH_TCR },
		{ !lpa2_is_enabled(),
		  FIELD_PREP(PTSCOPE_B_ARM64_SH_MASK, FIELD_GET(PTE_SHARED, val)) },
	};
	u64 bits = PTSCOPE_B_PRESENT | PTSCOPE_B_LEAF;
	unsigned int i;

	KUNIT_EXPECT_TRUE(test, pte_present(pte));
	for (i = 0; i < ARRAY_SIZE(kernel); i++)
		if (kernel[i].says)
			bits |= kernel[i].bits;
	bits |= FIELD_PREP(PTSCOPE_B_ARM64_ATTR_MASK, idx);
	bits |= FIELD_PREP(PTSCOPE_B_ARM64_MT_MASK, arm64_memtype(test, attr));
	bits |= FIELD_PREP(PTSCOPE_B_ARM64_MAIR_MASK, attr);
	return bits;
}

/* arm64's present cases decode to what the kernel's accessors say (above). */
static u64 case_bits(struct kunit *test, const struct ptscope_decode_case *c, pte_t pte)
{
	if (c->lpa2 && !lpa2_is_enabled())
		kunit_skip(test, "LPA2 is off (arm64.nolva, or the CPU lacks it)");
	if (c->kind != PTSCOPE_KIND_PAGE)
		return c->bits;
	/* The frame as the kernel reads it back is the one it was built with. */
	KUNIT_EXPECT_EQ(test, (u64)pte_pfn(pte), case_pfn(c));
	return arm64_leaf_bits(test, pte);
}
#endif

static void decode_check(struct kunit *test, const struct ptscope_decode_case *c)
{
	struct ptscope_entry e = { };
	u64 bits;
	pte_t pte;

	if (!c->have)
		kunit_skip(test, "this kernel cannot build the entry (its config or version)");
	pte = c->make();
	bits = case_bits(test, c, pte);
	ptscope_decode_pte(pte, c->large, &e);
	KUNIT_EXPECT_EQ(test, e.raw, pte_val(pte));
	KUNIT_EXPECT_EQ(test, e.kind, c->kind);
	KUNIT_EXPECT_EQ_MSG(test, e.bits, bits, "raw %#llx", (u64)pte_val(pte));
	KUNIT_EXPECT_EQ(test, e.pfn, case_pfn(c));
	KUNIT_EXPECT_EQ(test, e.swap_type, c->swap_type);
	KUNIT_EXPECT_EQ(test, e.swap_offset, c->swap_offset);
	KUNIT_EXPECT_EQ(test, e.pkey, c->pkey);
}

static void ptscope_decode_test(struct kunit *test) { decode_check(test, test->param_value); }
static void ptscope_decode_leaf_test(struct kunit *test) { decode_check(test, test->param_value); }

#ifdef CONFIG_ARM64
/*
 * A contiguous block: CONT_PTES entries with the contiguous bit, of which
 * the MMU set the access flag in entry @young and dirtied entry @dirty
 * (-1: none). What ptscope_arch_ptep_get() reads of each entry, with the
 * block folded once for all of them: its own descriptor, and the kernel's
 * view with the young and dirty bits of the whole block, as pte_young() and
 * pte_dirty() of the entries say: what ptep_get() returns, bit for bit.
 */
static void contpte_check(struct kunit *test, pte_t *blk, int young, int dirty)
{
	bool any_young = false, any_dirty = false;
	const u64 folded = PTE_AF | PTE_DIRTY | PTE_RDONLY;
	struct ptscope_arch_ptes s;
	int i;

	for (i = 0; i < CONT_PTES; i++) {
		pte_t pte = pte_mkcont(pte_mkold(pte_mkclean(pfn_pte(TEST_HPFN + i, USER_RW))));

		if (i == young)
			pte = pte_mkyoung(pte);
		if (i == dirty)
			pte = pte_mkdirty(pte);
		any_young |= pte_young(pte);
		any_dirty |= pte_dirty(pte);
		WRITE_ONCE(blk[i], pte);
	}
	ptscope_arch_ptes_init(&s);
	for (i = 0; i < CONT_PTES; i++) {
		struct ptscope_entry e = { };
		u64 desc = 0;
		pte_t view = ptscope_arch_ptep_get(&blk[i], &desc, &s);

		KUNIT_EXPECT_EQ_MSG(test, desc, pte_val(blk[i]), "entry %d", i);
		KUNIT_EXPECT_EQ_MSG(test, pte_young(view), any_young, "entry %d", i);
		KUNIT_EXPECT_EQ_MSG(test, pte_dirty(view), any_dirty, "entry %d", i);
		KUNIT_EXPECT_EQ_MSG(test, (u64)pte_pfn(view), TEST_HPFN + i, "entry %d", i);
		KUNIT_EXPECT_EQ_MSG(test, (pte_val(view) ^ desc) & ~folded, 0, "entry %d", i);
		KUNIT_EXPECT_EQ_MSG(test, pte_val(view), pte_val(ptep_get(&blk[i])), "entry %d", i);
		/* Decoded, the view's bits; the descriptor alone has its own. */
		ptscope_decode_pte(view, false, &e);
		KUNIT_EXPECT_EQ(test, e.bits, arm64_leaf_bits(test, view));
	}
}

static void ptscope_contpte_test(struct kunit *test)
{
	static const int at[] = { -1, 0, 5, CONT_PTES - 1 };
	pte_t *blk = kunit_kcalloc(test, CONT_PTES, sizeof(*blk), GFP_KERNEL);
	struct ptscope_arch_ptes s;
	unsigned int y, d;
	u64 desc = 0;

	KUNIT_ASSERT_NOT_NULL(test, blk);
	/* ptep_get() reads the block from its first entry: an aligned block. */
	KUNIT_ASSERT_TRUE(test, IS_ALIGNED((unsigned long)blk, CONT_PTES * sizeof(*blk)));
	for (y = 0; y < ARRAY_SIZE(at); y++)
		for (d = 0; d < ARRAY_SIZE(at); d++)
			contpte_check(test, blk, at[y], at[d]);
	/* Without the contiguous bit, each entry is read as it is. */
	blk[1] = pte_mkyoung(pte_mkdirty(pfn_pte(TEST_HPFN + 1, USER_RW)));
	blk[2] = pte_mkold(pte_mkclean(pfn_pte(TEST_HPFN + 2, USER_RW)));
	ptscope_arch_ptes_init(&s);
	KUNIT_EXPECT_EQ(test, pte_val(ptscope_arch_ptep_get(&blk[2], &desc, &s)), pte_val(blk[2]));
	KUNIT_EXPECT_EQ(test, desc, pte_val(blk[2]));
}
#endif

static struct kunit_case ptscope_decode_test_cases[] = {
	KUNIT_CASE_PARAM(ptscope_decode_test, ptscope_decode_gen_params),
	KUNIT_CASE_PARAM(ptscope_decode_leaf_test, ptscope_leaf_gen_params),
#ifdef CONFIG_ARM64
	KUNIT_CASE(ptscope_contpte_test),
#endif
	{}
};

static struct kunit_suite ptscope_decode_suite = {
	.name = "ptscope_decode",
	.test_cases = ptscope_decode_test_cases,
};

/*
 * ptscope_leaf: software leaves (swap, migration, device, hwpoison and
 * marker entries) as the kernel's own leaf helpers see them, against what
 * ptscope_decode_pte() makes of them. The helpers are the kernel's:
 * softleaf_*() of <linux/leafops.h> in 7.x, the is_*_entry() tests and
 * swp_offset_pfn() of <linux/swapops.h> before, under compat.h's
 * ptscope_leaf_*() names. Each entry of ptscope_leaf_cases is built with
 * the kernel's constructors, and three views must agree: what it was built
 * as, what the kernel's helpers say of it, and what ptscope decodes; with
 * every combination of the flags a swap PTE carries beside the entry.
 */

/* The PTSCOPE_B_* of the swap flags of @pte, as the kernel reads them. */
static u64 swp_flags(pte_t pte)
{
	u64 flags = 0;

	if (pte_swp_soft_dirty(pte))
		flags |= PTSCOPE_B_SOFT_DIRTY;
	if (ptscope_pte_swp_uffd_wp(pte))
		flags |= PTSCOPE_B_UFFD_WP;
	if (pte_swp_exclusive(pte))
		flags |= PTSCOPE_B_SWP_EXCLUSIVE;
	return flags;
}

/*
 * leaf_kernel_kind - the kind the kernel's own helpers give @leaf: exactly
 * one of them must say yes.
 */
static u8 leaf_kernel_kind(struct kunit *test, swp_entry_t leaf)
{
	const struct {
		bool is;
		u8 kind;
	} says[] = {
		{ ptscope_leaf_is_swap(leaf), PTSCOPE_KIND_SWAP },
		{ ptscope_leaf_is_migration(leaf), PTSCOPE_KIND_MIGRATION },
		{ ptscope_leaf_is_device_private(leaf), PTSCOPE_KIND_DEVICE_PRIVATE },
		{ ptscope_leaf_is_device_exclusive(leaf), PTSCOPE_KIND_DEVICE_EXCLUSIVE },
		{ ptscope_leaf_is_hwpoison(leaf), PTSCOPE_KIND_HWPOISON },
		{ ptscope_leaf_is_marker(leaf), PTSCOPE_KIND_MARKER },
	};
	unsigned int i, n = 0;
	u8 kind = PTSCOPE_KIND_BAD;

	for (i = 0; i < ARRAY_SIZE(says); i++) {
		if (says[i].is) {
			kind = says[i].kind;
			n++;
		}
	}
	KUNIT_EXPECT_EQ_MSG(test, n, 1, "entry %#lx: %u of the kernel's tests say yes",
			    leaf.val, n);
	return kind;
}

/* The migration type the kernel's helpers give @leaf, as a PTSCOPE_B_MIGRATION_* bit. */
static u64 leaf_kernel_migration(swp_entry_t leaf)
{
	if (ptscope_leaf_is_migration_write(leaf))
		return PTSCOPE_B_MIGRATION_WRITE;
	if (ptscope_leaf_is_migration_read_excl(leaf))
		return PTSCOPE_B_MIGRATION_EXCL;
	return PTSCOPE_B_MIGRATION_READ;
}

/*
 * leaf_check - decode @pte, a swap PTE of @leaf, and compare with the
 * kernel's helpers. @built: the case it was built as, whose entry carried
 * the swap flags @own (NULL: unknown).
 */
static void leaf_check(struct kunit *test, pte_t pte, swp_entry_t leaf,
		       const struct ptscope_decode_case *built, u64 own)
{
	const u64 migration = PTSCOPE_B_MIGRATION_READ | PTSCOPE_B_MIGRATION_WRITE |
			      PTSCOPE_B_MIGRATION_EXCL;
	u64 flags = swp_flags(pte), want_bits = flags;
	struct ptscope_entry e = { };
	u8 kind;

	/* ptscope_leaf_from_pte() gives back the entry, without the flags. */
	KUNIT_EXPECT_EQ(test, ptscope_leaf_from_pte(pte).val, leaf.val);
	kind = leaf_kernel_kind(test, leaf);
	ptscope_decode_pte(pte, built && built->large, &e);
	KUNIT_EXPECT_EQ(test, e.raw, pte_val(pte));
	KUNIT_EXPECT_EQ_MSG(test, e.kind, kind, "entry %#lx", leaf.val);
	if (built)
		KUNIT_EXPECT_EQ(test, kind, built->kind);

	switch (kind) {
	case PTSCOPE_KIND_SWAP:
		KUNIT_EXPECT_EQ(test, e.swap_type, swp_type(leaf));
		KUNIT_EXPECT_EQ(test, e.swap_offset, swp_offset(leaf));
		KUNIT_EXPECT_EQ(test, e.pfn, 0);
		if (built) {
			KUNIT_EXPECT_EQ(test, e.swap_type, built->swap_type);
			KUNIT_EXPECT_EQ(test, e.swap_offset, built->swap_offset);
		}
		break;
	case PTSCOPE_KIND_MIGRATION:
	case PTSCOPE_KIND_DEVICE_PRIVATE:
	case PTSCOPE_KIND_DEVICE_EXCLUSIVE:
	case PTSCOPE_KIND_HWPOISON:
		KUNIT_EXPECT_EQ(test, e.pfn, ptscope_leaf_pfn(leaf));
		KUNIT_EXPECT_EQ(test, e.swap_type, 0);
		KUNIT_EXPECT_EQ(test, e.swap_offset, 0);
		if (built)
			KUNIT_EXPECT_EQ(test, e.pfn, case_pfn(built));
		if (kind == PTSCOPE_KIND_MIGRATION) {
			want_bits |= leaf_kernel_migration(leaf);
			if (swp_offset(leaf) & SWP_MIG_YOUNG)
				want_bits |= PTSCOPE_B_ACCESSED;
			if (swp_offset(leaf) & SWP_MIG_DIRTY)
				want_bits |= PTSCOPE_B_DIRTY;
		}
		break;
	case PTSCOPE_KIND_MARKER:
		KUNIT_EXPECT_EQ(test, e.pfn, 0);
		if (ptscope_leaf_is_uffd_wp_marker(leaf))
			want_bits |= PTSCOPE_B_UFFD_WP;
		break;
	}
	KUNIT_EXPECT_EQ_MSG(test, e.bits, want_bits, "entry %#lx, raw %#llx", leaf.val,
			    (u64)pte_val(pte));
	/* The entry's own bits: the case's, less the swap flags it was built with. */
	if (built)
		KUNIT_EXPECT_EQ(test, e.bits & ~flags, built->bits & ~own & ~flags);
	if (kind != PTSCOPE_KIND_MIGRATION)
		KUNIT_EXPECT_EQ(test, e.bits & migration, 0);
}

/* Each case's entry, with every combination of the swap flags. */
static void ptscope_leaf_test(struct kunit *test)
{
	const struct ptscope_decode_case *c = test->param_value;
	unsigned int combo;
	swp_entry_t leaf;
	pte_t built;

	if (!c->have)
		kunit_skip(test, "this kernel cannot build the entry (its config or version)");
	built = c->make();
	leaf = ptscope_leaf_from_pte(built);
	for (combo = 0; combo < 8; combo++) {
		pte_t pte = swp_entry_to_pte(leaf);

		if (combo & 1)
			pte = pte_swp_mksoft_dirty(pte);
		if (combo & 2)
			pte = ptscope_pte_swp_mkuffd_wp(pte);
		if (combo & 4)
			pte = pte_swp_mkexclusive(pte);
		kunit_info(test, "swap flags %#llx", swp_flags(pte));
		leaf_check(test, pte, leaf, c, swp_flags(built));
	}
}

/*
 * Every type number an entry can have (MAX_SWAPFILES swap files, then the
 * kernel's special types, up to the top of the type field), each decoded
 * as the kernel's helpers classify it.
 */
static void ptscope_leaf_every_type(struct kunit *test)
{
	unsigned int type;

	for (type = 0; type < (1U << MAX_SWAPFILES_SHIFT); type++) {
		swp_entry_t leaf = swp_entry(type, TEST_PFN);

		leaf_check(test, swp_entry_to_pte(leaf), leaf, NULL, 0);
	}
}

static struct kunit_case ptscope_leaf_test_cases[] = {
	KUNIT_CASE_PARAM(ptscope_leaf_test, ptscope_leaf_gen_params),
	KUNIT_CASE(ptscope_leaf_every_type),
	{}
};

static struct kunit_suite ptscope_leaf_suite = {
	.name = "ptscope_leaf",
	.test_cases = ptscope_leaf_test_cases,
};

/*
 * ptscope_walk: the walker over mappings of the test thread's own mm. What
 * it reports is checked against get_user_pages_fast(), which finds the
 * pages its own way.
 */
#define WALK_PAGES	16
#define WALK_MAX	64	/* entries one walk may collect */

struct walk_log {
	struct ptscope_entry e[WALK_MAX];
	unsigned int n;
	unsigned int stop_after;	/* 0: never stop */
};

/* Runs under the page-table lock: only copies. */
static int walk_log_entry(struct ptscope_walker *w, const struct ptscope_entry *e)
{
	struct walk_log *log = w->private;

	if (log->n == WALK_MAX)
		return -ENOSPC;
	log->e[log->n++] = *e;
	return log->stop_after && log->n == log->stop_after ? 1 : 0;
}

static const struct ptscope_walk_ops walk_log_ops = {
	.entry = walk_log_entry,
};

/* Walk [start, end) of our own mm into a fresh log; returns the walk's value. */
static int walk_own(struct kunit *test, struct walk_log *log, bool tables,
		    unsigned long start, unsigned long end, unsigned long *next)
{
	struct ptscope_walker w = {
		.mm = current->mm, .ops = &walk_log_ops, .tables = tables, .private = log,
	};
	int ret;

	log->n = 0;
	mmap_read_lock(current->mm);
	ret = ptscope_walk_range(&w, start, end);
	mmap_read_unlock(current->mm);
	if (next)
		*next = w.next;
	return ret;
}

static unsigned long walk_map(struct kunit *test, unsigned long len)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, len, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_TRUE(test, addr && !IS_ERR_VALUE(addr));
	return addr;
}

static void walk_touch(struct kunit *test, unsigned long addr)
{
	KUNIT_ASSERT_EQ(test, put_user(0x5a, (u8 __user *)addr), 0);
}

/* The page at @addr as gup finds it; the reference is dropped at once. */
static struct page *walk_gup(struct kunit *test, unsigned long addr)
{
	struct page *page;

	KUNIT_ASSERT_EQ(test, get_user_pages_fast(addr, 1, 0, &page), 1);
	put_page(page);
	return page;
}

static void walk_untouched(struct kunit *test)
{
	unsigned long addr = walk_map(test, WALK_PAGES * PAGE_SIZE);
	struct walk_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, log);
	KUNIT_EXPECT_EQ(test, walk_own(test, log, false, addr, addr + WALK_PAGES * PAGE_SIZE,
				       NULL), 0);
	KUNIT_EXPECT_EQ(test, log->n, 0);
}

/* Every other page written: each one reported, at its own pfn, nothing else. */
static void walk_faulted_in(struct kunit *test)
{
	unsigned long addr = walk_map(test, WALK_PAGES * PAGE_SIZE);
	struct walk_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, log);
	for (i = 0; i < WALK_PAGES; i += 2)
		walk_touch(test, addr + i * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, walk_own(test, log, false, addr, addr + WALK_PAGES * PAGE_SIZE,
				       NULL), 0);
	KUNIT_ASSERT_EQ(test, log->n, WALK_PAGES / 2);
	for (i = 0; i < log->n; i++) {
		const struct ptscope_entry *e = &log->e[i];
		unsigned long va = addr + 2 * i * PAGE_SIZE;

		KUNIT_EXPECT_EQ(test, e->addr, va);
		KUNIT_EXPECT_EQ(test, e->level, PTSCOPE_LEVEL_PTE);
		KUNIT_EXPECT_EQ(test, e->shift, PAGE_SHIFT);
		KUNIT_EXPECT_EQ(test, e->kind, PTSCOPE_KIND_PAGE);
		KUNIT_EXPECT_EQ(test, e->bits & (B_RW | PTSCOPE_B_DIRTY), B_RW | PTSCOPE_B_DIRTY);
		KUNIT_EXPECT_EQ(test, e->page, PTSCOPE_PAGE_ANON | PTSCOPE_PAGE_EXCLUSIVE);
		KUNIT_EXPECT_EQ(test, e->mapcount, 1);
		KUNIT_EXPECT_EQ(test, e->pfn, page_to_pfn(walk_gup(test, va)));
	}
}

/* A read of an untouched page maps the shared zero page, read-only. */
static void walk_zero_page(struct kunit *test)
{
	unsigned long addr = walk_map(test, PAGE_SIZE);
	struct walk_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	u8 byte;

	KUNIT_ASSERT_NOT_NULL(test, log);
	KUNIT_ASSERT_EQ(test, get_user(byte, (u8 __user *)addr), 0);
	KUNIT_EXPECT_EQ(test, byte, 0);
	KUNIT_ASSERT_EQ(test, walk_own(test, log, false, addr, addr + PAGE_SIZE, NULL), 0);
	KUNIT_ASSERT_EQ(test, log->n, 1);
	KUNIT_EXPECT_EQ(test, log->e[0].page, PTSCOPE_PAGE_ZERO);
	KUNIT_EXPECT_EQ(test, log->e[0].pfn, page_to_pfn(ZERO_PAGE(0)));
	KUNIT_EXPECT_FALSE(test, log->e[0].bits & PTSCOPE_B_WRITE);
}

/* Pages 4 and 5 of 8 unmapped after the fault: the walk skips the hole. */
static void walk_partly_unmapped(struct kunit *test)
{
	unsigned long addr = walk_map(test, 8 * PAGE_SIZE);
	struct walk_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, log);
	for (i = 0; i < 8; i++)
		walk_touch(test, addr + i * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr + 4 * PAGE_SIZE, 2 * PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, walk_own(test, log, false, addr, addr + 8 * PAGE_SIZE, NULL), 0);
	KUNIT_ASSERT_EQ(test, log->n, 6);
	for (i = 0; i < log->n; i++) {
		unsigned long va = addr + (i < 4 ? i : i + 2) * PAGE_SIZE;

		KUNIT_EXPECT_EQ(test, log->e[i].addr, va);
		KUNIT_EXPECT_EQ(test, log->e[i].pfn, page_to_pfn(walk_gup(test, va)));
	}
}

/* A callback's "stop" leaves w->next at its entry; resuming there finishes. */
static void walk_stop_resume(struct kunit *test)
{
	unsigned long addr = walk_map(test, 8 * PAGE_SIZE), next;
	struct walk_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, log);
	for (i = 0; i < 8; i++)
		walk_touch(test, addr + i * PAGE_SIZE);
	log->stop_after = 3;
	KUNIT_ASSERT_EQ(test, walk_own(test, log, false, addr, addr + 8 * PAGE_SIZE, &next), 1);
	KUNIT_EXPECT_EQ(test, log->n, 3);
	KUNIT_EXPECT_EQ(test, next, addr + 2 * PAGE_SIZE);
	log->stop_after = 0;
	KUNIT_ASSERT_EQ(test, walk_own(test, log, false, next, addr + 8 * PAGE_SIZE, &next), 0);
	KUNIT_EXPECT_EQ(test, log->n, 6);
	KUNIT_EXPECT_EQ(test, next, addr + 8 * PAGE_SIZE);
}

/* With tables: one TABLE entry per level above the PTE, top down. */
static void walk_tables(struct kunit *test)
{
	unsigned long addr = walk_map(test, PAGE_SIZE);
	struct walk_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	static const u8 levels5[] = { PTSCOPE_LEVEL_PGD, PTSCOPE_LEVEL_P4D,
				      PTSCOPE_LEVEL_PUD, PTSCOPE_LEVEL_PMD };
	static const u8 levels4[] = { PTSCOPE_LEVEL_PGD, PTSCOPE_LEVEL_PUD, PTSCOPE_LEVEL_PMD };
	bool five = !mm_p4d_folded(current->mm);
	const u8 *levels = five ? levels5 : levels4;
	unsigned int i, ntables = five ? 4 : 3;

	KUNIT_ASSERT_NOT_NULL(test, log);
	walk_touch(test, addr);
	KUNIT_ASSERT_EQ(test, walk_own(test, log, true, addr, addr + PAGE_SIZE, NULL), 0);
	KUNIT_ASSERT_EQ(test, log->n, ntables + 1);
	for (i = 0; i < ntables; i++) {
		KUNIT_EXPECT_EQ(test, log->e[i].kind, PTSCOPE_KIND_TABLE);
		KUNIT_EXPECT_EQ(test, log->e[i].level, levels[i]);
		KUNIT_EXPECT_TRUE(test, log->e[i].bits & PTSCOPE_B_PRESENT);
		KUNIT_EXPECT_FALSE(test, log->e[i].bits & PTSCOPE_B_LEAF);
		KUNIT_EXPECT_LE(test, log->e[i].addr, addr);
	}
	KUNIT_EXPECT_EQ(test, log->e[ntables].kind, PTSCOPE_KIND_PAGE);
	KUNIT_EXPECT_EQ(test, log->e[ntables].pfn, page_to_pfn(walk_gup(test, addr)));
}

/* A written, PMD-aligned 2 MiB of an anonymous mapping, THP "always". */
static void walk_thp(struct kunit *test)
{
	unsigned long addr = walk_map(test, 2 * HPAGE_PMD_SIZE);
	struct walk_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	unsigned long huge = ALIGN(addr, HPAGE_PMD_SIZE);
	struct folio *folio;
	struct page *page;

	KUNIT_ASSERT_NOT_NULL(test, log);
	walk_touch(test, huge);
	page = walk_gup(test, huge);
	folio = page_folio(page);
	if (folio_order(folio) != HPAGE_PMD_ORDER)
		kunit_skip(test, "no PMD-sized THP (is transparent_hugepage/enabled always?)");
	KUNIT_ASSERT_EQ(test, walk_own(test, log, false, huge, huge + HPAGE_PMD_SIZE, NULL), 0);
	KUNIT_ASSERT_EQ(test, log->n, 1);
	KUNIT_EXPECT_EQ(test, log->e[0].addr, huge);
	KUNIT_EXPECT_EQ(test, log->e[0].level, PTSCOPE_LEVEL_PMD);
	KUNIT_EXPECT_EQ(test, log->e[0].shift, PMD_SHIFT);
	KUNIT_EXPECT_EQ(test, log->e[0].kind, PTSCOPE_KIND_PAGE);
	KUNIT_EXPECT_EQ(test, log->e[0].pfn, folio_pfn(folio));
	KUNIT_EXPECT_EQ(test, log->e[0].folio_order, HPAGE_PMD_ORDER);
	KUNIT_EXPECT_EQ(test, log->e[0].page & (PTSCOPE_PAGE_ANON | PTSCOPE_PAGE_THP),
			PTSCOPE_PAGE_ANON | PTSCOPE_PAGE_THP);
}

static struct kunit_case ptscope_walk_test_cases[] = {
	KUNIT_CASE(walk_untouched),
	KUNIT_CASE(walk_faulted_in),
	KUNIT_CASE(walk_zero_page),
	KUNIT_CASE(walk_partly_unmapped),
	KUNIT_CASE(walk_stop_resume),
	KUNIT_CASE(walk_tables),
	KUNIT_CASE(walk_thp),
	{}
};

static struct kunit_suite ptscope_walk_suite = {
	.name = "ptscope_walk",
	.test_cases = ptscope_walk_test_cases,
};

/*
 * ptscope_runs: merged runs over pages written in a pattern; the expected
 * runs are computed from gup's pfns: a run breaks at a hole or where the
 * next page is not the next frame. Hidden (PTSCOPE_WALK_HIDE_PHYS): a run
 * breaks only at a hole, and carries no frame.
 */
struct runs_case {
	const char *name;
	const char *pattern;	/* one char per page: 'w' written, '.' untouched */
	u32 cap;		/* runs one batch may hold */
	bool hide;		/* hidden mode */
};

static const struct runs_case ptscope_runs_cases[] = {
	{ "one page", "w", 8 },
	{ "eight pages", "wwwwwwww", 8 },
	{ "holes", "ww.w..www.w", 8 },
	{ "batch of one", "ww.w..www.w", 1 },
	{ "batch of two", "wwww.ww.w", 2 },
	{ "hidden: holes", "ww.w..www.w", 8, true },
	{ "hidden: batch of two", "wwww.ww.w", 2, true },
};

KUNIT_ARRAY_PARAM_DESC(ptscope_runs, ptscope_runs_cases, name);

/* The runs @pattern at @addr must give, from gup; returns their number. */
static u32 runs_expected(struct kunit *test, const char *pattern, unsigned long addr,
			 bool hide, struct ptscope_run *want)
{
	unsigned long prev_pfn = 0;
	u32 n = 0, i;
	bool open = false;

	for (i = 0; pattern[i]; i++) {
		unsigned long va = addr + i * PAGE_SIZE, pfn;

		if (pattern[i] != 'w') {
			open = false;
			continue;
		}
		pfn = page_to_pfn(walk_gup(test, va));
		if (open && (hide || pfn == prev_pfn + 1)) {
			want[n - 1].count++;
		} else {
			want[n].start = va;
			want[n].pfn = hide ? 0 : pfn;
			want[n].count = 1;
			n++;
		}
		open = true;
		prev_pfn = pfn;
	}
	return n;
}

static void ptscope_runs_test(struct kunit *test)
{
	const struct runs_case *c = test->param_value;
	size_t npages = strlen(c->pattern);
	unsigned long addr = walk_map(test, npages * PAGE_SIZE);
	unsigned long end = addr + npages * PAGE_SIZE;
	struct ptscope_run *want, *got;
	u32 nwant, ngot = 0, count, i;
	u64 next = addr;

	want = kunit_kcalloc(test, npages, sizeof(*want), GFP_KERNEL);
	got = kunit_kcalloc(test, npages, sizeof(*got), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, got);
	for (i = 0; i < npages; i++)
		if (c->pattern[i] == 'w')
			walk_touch(test, addr + i * PAGE_SIZE);
	nwant = runs_expected(test, c->pattern, addr, c->hide, want);

	/* Batches of @cap, each resumed where the last one stopped. */
	while (next < end) {
		KUNIT_ASSERT_LT(test, ngot, nwant);
		KUNIT_ASSERT_EQ(test, ptscope_walk_runs(current->mm, next, end,
							c->hide ? PTSCOPE_WALK_HIDE_PHYS : 0,
							got + ngot,
							min_t(u32, c->cap, npages - ngot),
							&count, &next), 0);
		KUNIT_ASSERT_GT(test, count, 0);
		ngot += count;
	}
	KUNIT_ASSERT_EQ(test, ngot, nwant);
	for (i = 0; i < nwant; i++) {
		KUNIT_EXPECT_EQ(test, got[i].start, want[i].start);
		KUNIT_EXPECT_EQ(test, got[i].count, want[i].count);
		KUNIT_EXPECT_EQ(test, got[i].pfn, want[i].pfn);
		KUNIT_EXPECT_EQ(test, got[i].level, PTSCOPE_LEVEL_PTE);
		KUNIT_EXPECT_EQ(test, got[i].kind, PTSCOPE_KIND_PAGE);
		if (c->hide) {
			/* No frame left in it, as the kernel reads one out. */
			KUNIT_EXPECT_EQ(test, pte_pfn(__pte(got[i].entry)), 0);
			KUNIT_EXPECT_EQ(test, got[i].mapcount, 0);
		}
	}
}

static struct kunit_case ptscope_runs_test_cases[] = {
	KUNIT_CASE_PARAM(ptscope_runs_test, ptscope_runs_gen_params),
	{}
};

static struct kunit_suite ptscope_runs_suite = {
	.name = "ptscope_runs",
	.test_cases = ptscope_runs_test_cases,
};

kunit_test_suites(&ptscope_args_suite, &ptscope_ioctl_suite, &ptscope_decode_suite,
		  &ptscope_leaf_suite, &ptscope_walk_suite, &ptscope_runs_suite);

MODULE_DESCRIPTION("KUnit tests of ptscope");
MODULE_LICENSE("GPL");
