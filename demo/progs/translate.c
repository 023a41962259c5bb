// SPDX-License-Identifier: GPL-2.0
/*
 * One translation: where does the variable `answer` really live? Then its
 * page is made read-only and writable again, so the kernel must change the
 * PTE and flush the stale translation from the TLB.
 */
#include <stdint.h>
#include <sys/mman.h>
#include "step.h"

int answer = 41;		/* in the program's data section */

int main(void)
{
	void *page = (void *)((uintptr_t)&answer & ~(PAGE_BYTES - 1));

	answer++;		/* written once: its page is present and dirty */
	printf("answer = %d, at virtual address %p\n", answer, (void *)&answer);
	step("ready addr=%p", (void *)&answer);
	if (mprotect(page, PAGE_BYTES, PROT_READ) ||
	    mprotect(page, PAGE_BYTES, PROT_READ | PROT_WRITE))
		die("mprotect");
	step("flushed");
	return 0;
}
