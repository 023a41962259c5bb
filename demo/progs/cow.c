// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-on-write: the parent writes 16 pages and forks. Parent and child now
 * share every page, read-only, until the child writes one of them.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "step.h"

#define PAGES 16

int main(void)
{
	size_t len = PAGES * PAGE_BYTES;
	pid_t child;
	char *p;
	int i;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, len, MADV_NOHUGEPAGE);
	for (i = 0; i < PAGES; i++)
		snprintf(p + i * PAGE_BYTES, 64, "page %d, from the parent", i);
	fflush(stdout);
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		step("forked parent=%d child=%d addr=%p pages=%d", getppid(), getpid(),
		     (void *)p, PAGES);
		snprintf(p, 64, "page 0, rewritten by the child");
		printf("child reads page 0: \"%s\"\n", p);
		step("child-wrote");
		_exit(0);
	}
	waitpid(child, NULL, 0);
	printf("parent reads page 0: \"%s\"\n", p);
	return 0;
}
