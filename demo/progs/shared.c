// SPDX-License-Identifier: GPL-2.0
/*
 * Shared memory: `shared NAME create` makes a POSIX shared-memory object of
 * one page and writes to it; `shared NAME attach` maps the same object (at
 * whatever address its own kernel picks) and reads it.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "step.h"

int main(int argc, char **argv)
{
	int create = argc > 2 && !strcmp(argv[2], "create");
	char *p;
	int fd;

	if (argc < 3)
		return 2;
	fd = shm_open(argv[1], O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0600);
	if (fd < 0)
		die("shm_open");
	if (create && ftruncate(fd, PAGE_BYTES))
		die("ftruncate");
	p = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	if (create)
		snprintf(p, PAGE_BYTES, "written by pid %d", getpid());
	else
		(void)*(volatile char *)p;	/* map the page: a read is enough */
	step("ready addr=%p", (void *)p);
	printf("pid %d reads at %p: \"%s\"\n", getpid(), (void *)p, p);
	if (!create)
		shm_unlink(argv[1]);
	return 0;
}
