// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope selftests: who may read what, and what a reader without
 * CAP_SYS_ADMIN gets. The kernel's answers are the reference: whether the
 * same credentials may open /proc/PID/pagemap, what pagemap shows them, and
 * what /proc/PID/maps prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <uapi/ptscope.h>
#include "ptscope_util.h"

/* --- credentials ---------------------------------------------------------- */

/*
 * landlock_self - restrict this process with a Landlock domain that handles
 * one filesystem access and allows none: it changes nothing for the files
 * used here, but puts the process in a domain of its own, which the kernel
 * checks on every ptrace access to a process outside it. 0, or the errno.
 */
static int landlock_self(void)
{
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_REG,
	};
	int fd, err = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return errno;
	fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return errno;
	if (syscall(SYS_landlock_restrict_self, fd, 0))
		err = errno;
	close(fd);
	return err;
}

/* pagemap_open_errno - may this process open /proc/@pid/pagemap? 0 or the errno */
static int pagemap_open_errno(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* target_errno - PTSCOPE_IOC_TARGET of @pid on @fd: 0 or the errno */
static int target_errno(int fd, pid_t pid)
{
	struct ptscope_target t = { .size = sizeof(t), .pid = pid };

	return ioctl(fd, PTSCOPE_IOC_TARGET, &t) ? errno : 0;
}

/* child_status - wait for @pid; its exit status, or -1 */
static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * A process that has restricted itself with Landlock cannot open its
 * parent's pagemap (the kernel's answer, checked first), and gets the same
 * refusal from ptscope, at TARGET and at the next query of a target it
 * selected before restricting itself; its own process stays readable.
 */
TEST(landlocked_caller)
{
	pid_t parent = getpid(), pid;
	int status;

	if (access(PTSCOPE_DEV, F_OK))
		SKIP(return, PTSCOPE_DEV " missing: is ptscope.ko loaded?");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int before = open(PTSCOPE_DEV, O_RDWR), fd, err;
		struct ptscope_vtop v;

		if (before < 0 || target_errno(before, parent))
			_exit(10);
		if (pagemap_open_errno(parent))
			_exit(11);
		err = landlock_self();
		if (err == ENOSYS || err == EOPNOTSUPP)
			_exit(4);	/* SKIP: no Landlock */
		if (err)
			_exit(12);
		if (pagemap_open_errno(parent) != EACCES)
			_exit(13);	/* the kernel's answer is the reference */
		fd = open(PTSCOPE_DEV, O_RDWR);
		if (fd < 0)
			_exit(14);
		if (target_errno(fd, parent) != EPERM)
			_exit(15);
		if (ptscope_vtop(before, (uintptr_t)&v, &v) != -EPERM)
			_exit(16);	/* selected before: refused at the query */
		if (target_errno(fd, getpid()) || ptscope_vtop(fd, (uintptr_t)&v, &v))
			_exit(17);
		if (v.result != PTSCOPE_VTOP_MAPPED)
			_exit(18);
		_exit(0);
	}
	status = child_status(pid);
	if (status == 4)
		SKIP(return, "Landlock is not enabled in this kernel");
	EXPECT_EQ(0, status) TH_LOG("step %d failed", status);
}

TEST_HARNESS_MAIN
