// SPDX-License-Identifier: GPL-2.0
/*
 * Kinds of fault: 64 fresh pages written (minor faults), pushed out to swap
 * with MADV_PAGEOUT, then read again (major faults: the data comes back from
 * the swap device).
 */
#include <sys/mman.h>
#include "step.h"

#define PAGES 64

int main(void)
{
	size_t len = PAGES * PAGE_BYTES;
	long min0, maj0, min1, maj1, sum = 0;
	unsigned char *p;
	int i;

	one_cpu();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, len, MADV_NOHUGEPAGE);	/* base pages: one fault each */
	step("mapped addr=%p pages=%d", (void *)p, PAGES);

	faults(&min0, &maj0);
	for (i = 0; i < PAGES; i++)
		p[i * PAGE_BYTES] = i + 1;	/* first write: a minor fault */
	faults(&min1, &maj1);
	printf("wrote %d pages: %ld minor, %ld major faults (getrusage)\n",
	       PAGES, min1 - min0, maj1 - maj0);
	step("written minor=%ld major=%ld", min1 - min0, maj1 - maj0);

	if (page_out(p, len))
		die("madvise(MADV_PAGEOUT)");
	step("paged-out");

	faults(&min0, &maj0);
	for (i = 0; i < PAGES; i++)
		sum += p[i * PAGE_BYTES];	/* swapped out: a major fault */
	faults(&min1, &maj1);
	printf("read %d pages back (sum %ld): %ld minor, %ld major faults (getrusage)\n",
	       PAGES, sum, min1 - min0, maj1 - maj0);
	step("read minor=%ld major=%ld sum=%ld", min1 - min0, maj1 - maj0, sum);
	return 0;
}
