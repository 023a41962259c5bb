// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation: run twice, each copy maps one page at the same fixed virtual
 * address and writes its own message there.
 */
#include <sys/mman.h>
#include <unistd.h>
#include "step.h"

#define ADDR ((void *)0x100000000000UL)	/* 16 TiB: the same in both copies */

int main(int argc, char **argv)
{
	char *p;

	p = mmap(ADDR, PAGE_BYTES, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != ADDR)
		die("mmap at 0x100000000000");
	snprintf(p, PAGE_BYTES, "%s (pid %d)", argc > 1 ? argv[1] : "hello", getpid());
	step("ready addr=%p", (void *)p);
	printf("pid %d reads at %p: \"%s\"\n", getpid(), (void *)p, p);
	return 0;
}
