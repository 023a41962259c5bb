// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope selftests: the device, its ABI rules and the debugfs version
 * file. Each case names what it catches; values are checked against what
 * the kernel says elsewhere (mmap above 47 bits, sysconf, the node's mode).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <uapi/ptscope.h>
#include "ptscope_util.h"

#define NOBODY 65534

/*
 * The number of page-table levels, as mmap() and the stack show them: only
 * a kernel with the largest virtual address space (x86-64 5-level paging:
 * 57 bits; arm64 52-bit VA) hands out an address above 48 bits when asked
 * to; below, the stack sits under the top of the user half (47 bits on
 * x86-64 and arm64 16 KiB pages, 48 on arm64 4 KiB). Each level resolves
 * PAGE_SHIFT - 3 bits above the page offset.
 */
static unsigned int levels_from_mmap(void)
{
	void *hint = (void *)(1UL << 50);
	void *p = mmap(hint, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int shift = __builtin_ctzl(PAGE), va;
	struct utsname u;
	int stack;

	if (p == MAP_FAILED || uname(&u))
		return 0;
	if ((uintptr_t)p >= (1UL << 48))
		va = strcmp(u.machine, "x86_64") ? 52 : 57;
	else
		va = 64 - __builtin_clzl((uintptr_t)&stack);
	munmap(p, PAGE);
	return (va - shift + (shift - 3) - 1) / (shift - 3);	/* rounded up */
}

/* The architecture the module says it reads, as uname names it. */
static uint32_t arch_from_uname(void)
{
	struct utsname u;

	if (uname(&u))
		return PTSCOPE_ARCH_UNKNOWN;
	if (!strcmp(u.machine, "x86_64"))
		return PTSCOPE_ARCH_X86_64;
	if (!strcmp(u.machine, "aarch64"))
		return PTSCOPE_ARCH_ARM64;
	return PTSCOPE_ARCH_UNKNOWN;
}

/* open_as - open PTSCOPE_DEV as @uid in a child; returns 0 or the errno */
static int open_as(uid_t uid)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd;

		if (setgid(NOBODY) || setuid(uid))
			_exit(255);
		fd = open(PTSCOPE_DEV, O_RDWR);
		_exit(fd < 0 ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

FIXTURE(dev) {
	int fd;
	struct ptscope_version v;
};

FIXTURE_SETUP(dev)
{
	if (access(PTSCOPE_DEV, F_OK))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	self->fd = open(PTSCOPE_DEV, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", PTSCOPE_DEV, strerror(errno));
	memset(&self->v, 0, sizeof(self->v));
	self->v.size = sizeof(self->v);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* The version ioctl reports this ABI and what the kernel really runs. */
TEST_F(dev, version)
{
	ASSERT_EQ(0, ioctl(self->fd, PTSCOPE_IOC_VERSION, &self->v));
	EXPECT_EQ(PTSCOPE_ABI_MAJOR, self->v.abi_major);
	EXPECT_EQ(PTSCOPE_ABI_MINOR, self->v.abi_minor);
	EXPECT_EQ((unsigned long)sysconf(_SC_PAGESIZE), self->v.page_size);
	EXPECT_EQ(levels_from_mmap(), self->v.pgtable_levels);
	EXPECT_EQ(self->v.pgtable_levels == 5,
		  !!(self->v.features & PTSCOPE_FEAT_5LEVEL));
	EXPECT_EQ(sizeof(self->v), self->v.size);
}

/*
 * ABI 1.3: the architecture, as uname says; each level's span, the page
 * size's and the THP's (hpage_pmd_size) at the bottom, each level PAGE_SHIFT
 * - 3 bits above the one below, a zero for each folded level; contiguous
 * blocks on arm64 only, larger than one entry.
 */
TEST_F(dev, version_arch_levels)
{
	unsigned int level, n = 0, shift = __builtin_ctzl(PAGE), below = 0;

	ASSERT_EQ(0, ioctl(self->fd, PTSCOPE_IOC_VERSION, &self->v));
	EXPECT_EQ(arch_from_uname(), self->v.arch);
	EXPECT_EQ(shift, self->v.level_shift[PTSCOPE_LEVEL_PTE]);
	EXPECT_EQ(pmd_size(), 1UL << self->v.level_shift[PTSCOPE_LEVEL_PMD]);
	for (level = PTSCOPE_LEVEL_PTE; level <= PTSCOPE_LEVEL_PGD; level++) {
		if (!self->v.level_shift[level])
			continue;
		if (below)
			EXPECT_EQ(below + shift - 3, self->v.level_shift[level]);
		below = self->v.level_shift[level];
		n++;
	}
	EXPECT_NE(0, self->v.level_shift[PTSCOPE_LEVEL_PGD]);
	EXPECT_EQ(self->v.pgtable_levels, n);
	for (level = PTSCOPE_LEVEL_PTE; level <= PTSCOPE_LEVEL_PMD; level++) {
		uint32_t cont = self->v.cont_shift[level];

		if (self->v.arch == PTSCOPE_ARCH_ARM64)
			EXPECT_LT(self->v.level_shift[level], cont);
		if (self->v.arch != PTSCOPE_ARCH_ARM64)
			EXPECT_EQ(0, cont);
	}
	EXPECT_EQ(0, self->v.reserved1 | self->v.reserved2[0] | self->v.reserved2[1]);
}

/* Unknown commands: another number on our magic, and another magic. */
TEST_F(dev, unknown_ioctl_enotty)
{
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(PTSCOPE_IOC_MAGIC, 0x7f, struct ptscope_version),
			    &self->v));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('x', 0x00, struct ptscope_version), &self->v));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(PTSCOPE_IOC_MAGIC, 0x00)));
	EXPECT_EQ(ENOTTY, errno);
}

/* A size smaller than the struct's first version is -EINVAL. */
TEST_F(dev, size_too_small_einval)
{
	self->v.size = 0;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, &self->v));
	EXPECT_EQ(EINVAL, errno);
	self->v.size = PTSCOPE_VERSION_SIZE_VER0 - 8;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, &self->v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, self->v.abi_major) TH_LOG("a failed call wrote its result");
}

/*
 * The command numbers of ABI 1.2 still work: a struct that grows keeps its
 * command (the size is the struct's own first field, not the number's), so
 * a caller built before ABI 1.3 reaches VERSION with 0xc040b900.
 */
TEST_F(dev, version_command_number_stable)
{
	EXPECT_EQ(0xc040b900U, (unsigned int)PTSCOPE_IOC_VERSION);
	memset(&self->v, 0, sizeof(self->v));
	self->v.size = PTSCOPE_VERSION_SIZE_VER0;
	ASSERT_EQ(0, ioctl(self->fd, 0xc040b900U, &self->v)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(PTSCOPE_ABI_MAJOR, self->v.abi_major);
}

/*
 * A caller of ABI 1.2 or older (struct ptscope_version of 64 bytes) gets
 * its fields, and nothing is written past its size.
 */
TEST_F(dev, size_first_version)
{
	memset(&self->v, 0xa5, sizeof(self->v));
	memset(&self->v, 0, PTSCOPE_VERSION_SIZE_VER0);
	self->v.size = PTSCOPE_VERSION_SIZE_VER0;
	ASSERT_EQ(0, ioctl(self->fd, PTSCOPE_IOC_VERSION, &self->v));
	EXPECT_EQ(PTSCOPE_ABI_MAJOR, self->v.abi_major);
	EXPECT_EQ(PAGE, self->v.page_size);
	EXPECT_EQ(PTSCOPE_VERSION_SIZE_VER0, self->v.size);
	EXPECT_EQ(0xa5a5a5a5, self->v.arch) TH_LOG("the module wrote past the caller's size");
}

/* A larger struct from a newer caller: zero tail accepted, else -E2BIG. */
TEST_F(dev, size_larger_e2big)
{
	struct {
		struct ptscope_version v;
		__u64 tail[2];
	} big;

	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	ASSERT_EQ(0, ioctl(self->fd, PTSCOPE_IOC_VERSION, &big));
	EXPECT_EQ(PTSCOPE_ABI_MAJOR, big.v.abi_major);
	EXPECT_EQ(0, big.tail[0]) TH_LOG("the module wrote past its struct");
	EXPECT_EQ(0, big.tail[1]);

	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	big.tail[1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, &big));
	EXPECT_EQ(E2BIG, errno);

	big.v.size = 1 << 20;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, &big));
	EXPECT_EQ(E2BIG, errno);
}

/* Flags and reserved fields the module does not know must be zero. */
TEST_F(dev, reserved_nonzero_einval)
{
	self->v.reserved[3] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, &self->v));
	EXPECT_EQ(EINVAL, errno);
	self->v.reserved[3] = 0;
	self->v.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, &self->v));
	EXPECT_EQ(EINVAL, errno);
	self->v.flags = 0;
	EXPECT_EQ(0, ioctl(self->fd, PTSCOPE_IOC_VERSION, &self->v))
		TH_LOG("a rejected call left the device unusable");
}

/* NULL, unmapped and read-only arguments are -EFAULT. */
TEST_F(dev, bad_pointer_efault)
{
	void *unmapped = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ptscope_version *ro;

	ASSERT_NE(MAP_FAILED, unmapped);
	ASSERT_EQ(0, munmap(unmapped, PAGE));
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, unmapped));
	EXPECT_EQ(EFAULT, errno);

	ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ro->size = sizeof(*ro);
	ASSERT_EQ(0, mprotect(ro, PAGE, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, ro));
	EXPECT_EQ(EFAULT, errno);
	munmap(ro, 4096);
}

/* The node is root-only; an unprivileged user is refused even if an
 * administrator loosens the node's mode. */
TEST(unprivileged_eperm)
{
	struct stat st;

	if (geteuid())
		SKIP(return, "needs root to switch to an unprivileged uid");
	if (stat(PTSCOPE_DEV, &st))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(EACCES, open_as(NOBODY));

	ASSERT_EQ(0, chmod(PTSCOPE_DEV, 0666));
	EXPECT_EQ(EPERM, open_as(NOBODY));
	ASSERT_EQ(0, chmod(PTSCOPE_DEV, st.st_mode & 07777));
	EXPECT_EQ(0, open_as(0));
}

/* debugfs 'version' says what the ioctl says. */
TEST_F(dev, debugfs_version)
{
	char buf[64], want[64];

	ASSERT_EQ(0, ioctl(self->fd, PTSCOPE_IOC_VERSION, &self->v));
	ASSERT_NE(NULL, debugfs_value("version", "abi", buf, sizeof(buf)))
		TH_LOG("cannot read %s/version", PTSCOPE_DEBUGFS);
	snprintf(want, sizeof(want), "%u.%u", self->v.abi_major, self->v.abi_minor);
	EXPECT_STREQ(want, buf);
	ASSERT_NE(NULL, debugfs_value("version", "paging", buf, sizeof(buf)));
	snprintf(want, sizeof(want), "%u-level", levels_from_mmap());
	EXPECT_STREQ(want, buf);
	ASSERT_NE(NULL, debugfs_value("version", "features", buf, sizeof(buf)));
	EXPECT_EQ(self->v.features, strtoull(buf, NULL, 16));
}

TEST_HARNESS_MAIN
