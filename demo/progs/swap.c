// SPDX-License-Identifier: GPL-2.0
/*
 * Swapping out and back: 64 pages, each filled with its own pattern, are
 * pushed to the swap device with MADV_PAGEOUT, then read back and checked.
 */
#include <sys/mman.h>
#include "step.h"

#define PAGES 64

static unsigned char pattern(int page, size_t byte)
{
	return (unsigned char)(page * 31 + byte % 251);
}

int main(void)
{
	size_t len = PAGES * PAGE_BYTES, b;
	long min0, maj0, min1, maj1;
	unsigned char *p;
	int i, bad = 0;

	one_cpu();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, len, MADV_NOHUGEPAGE);
	for (i = 0; i < PAGES; i++)
		for (b = 0; b < PAGE_BYTES; b++)
			p[i * PAGE_BYTES + b] = pattern(i, b);
	step("filled addr=%p pages=%d", (void *)p, PAGES);

	if (page_out(p, len))
		die("madvise(MADV_PAGEOUT)");
	step("swapped-out");

	faults(&min0, &maj0);
	for (i = 0; i < PAGES; i++)
		for (b = 0; b < PAGE_BYTES; b++)
			bad += p[i * PAGE_BYTES + b] != pattern(i, b);
	faults(&min1, &maj1);
	printf("read back %d pages: %d bytes differ; %ld major faults (getrusage)\n",
	       PAGES, bad, maj1 - maj0);
	step("back bad=%d major=%ld", bad, maj1 - maj0);
	return 0;
}
