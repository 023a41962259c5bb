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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <uapi/ptscope.h>
#include "ptscope_util.h"

#define NOBODY 65534

/* The number of page-table levels, as mmap() shows them: only 5-level
 * paging hands out an address above the 47-bit boundary when asked to. */
static unsigned int levels_from_mmap(void)
{
	void *hint = (void *)(1UL << 50);
	void *p = mmap(hint, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int levels;

	if (p == MAP_FAILED)
		return 0;
	levels = (uintptr_t)p >= (1UL << 47) ? 5 : 4;
	munmap(p, 4096);
	return levels;
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
	self->v.size = sizeof(self->v) - 8;
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, &self->v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, self->v.abi_major) TH_LOG("a failed call wrote its result");
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
	void *unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ptscope_version *ro;

	ASSERT_NE(MAP_FAILED, unmapped);
	ASSERT_EQ(0, munmap(unmapped, 4096));
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PTSCOPE_IOC_VERSION, unmapped));
	EXPECT_EQ(EFAULT, errno);

	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ro->size = sizeof(*ro);
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
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
