// SPDX-License-Identifier: GPL-2.0
/*
 * Overcommit: ask for 64 GiB of address space on a machine with far less
 * RAM. Plain, the kernel's heuristic refuses it; with MAP_NORESERVE it is
 * granted, and touching one page in every GiB costs 64 pages of RAM.
 */
#include <errno.h>
#include <sys/mman.h>
#include "step.h"

#define GIB	(1UL << 30)
#define LEN	(64 * GIB)

int main(void)
{
	char *p;
	int err;
	unsigned long off;

	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	err = p == MAP_FAILED ? errno : 0;
	printf("mmap 64 GiB: %s\n", err ? strerror(err) : "granted");
	if (!err)
		munmap(p, LEN);
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		die("mmap 64 GiB with MAP_NORESERVE");
	printf("mmap 64 GiB with MAP_NORESERVE: granted at %p\n", (void *)p);
	madvise(p, LEN, MADV_NOHUGEPAGE);
	step("mapped addr=%p len=%lu plain_errno=%d", (void *)p, LEN, err);
	for (off = 0; off < LEN; off += GIB)
		p[off] = 1;
	step("touched addr=%p len=%lu", (void *)p, LEN);
	return 0;
}
