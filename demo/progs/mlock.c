// SPDX-License-Identifier: GPL-2.0
/*
 * mlock: two regions of 64 pages. The first is locked (mlock faults it in
 * at once and keeps it in RAM), the second is not. Then both are asked to
 * go to swap.
 */
#include <errno.h>
#include <sys/mman.h>
#include "step.h"

#define PAGES 64

int main(void)
{
	size_t len = PAGES * PAGE_BYTES;
	char *locked, *plain;
	int err;

	one_cpu();
	locked = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	plain = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (locked == MAP_FAILED || plain == MAP_FAILED)
		die("mmap");
	madvise(locked, len, MADV_NOHUGEPAGE);
	madvise(plain, len, MADV_NOHUGEPAGE);
	step("mapped locked=%p plain=%p pages=%d", (void *)locked, (void *)plain, PAGES);
	if (mlock(locked, len))
		die("mlock");
	step("locked");

	memset(locked, 1, len);
	memset(plain, 2, len);
	err = madvise(locked, len, MADV_PAGEOUT) ? errno : 0;
	printf("MADV_PAGEOUT on the locked region: %s\n", err ? strerror(err) : "done");
	if (page_out(plain, len))
		die("madvise(MADV_PAGEOUT)");
	printf("MADV_PAGEOUT on the plain region: done\n");
	step("paged-out locked_errno=%d", err);
	return 0;
}
