// SPDX-License-Identifier: GPL-2.0
/*
 * Huge pages: two 4 MiB regions, 2 MiB aligned, both written in full. The
 * first asks for base pages only (MADV_NOHUGEPAGE), the second for huge
 * pages (MADV_HUGEPAGE).
 */
#include <stdint.h>
#include <sys/mman.h>
#include "step.h"

#define HUGE	(2UL << 20)
#define LEN	(4UL << 20)

int main(void)
{
	char *raw, *small, *huge;

	raw = mmap(NULL, 2 * LEN + HUGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		die("mmap");
	small = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	huge = small + LEN;
	/* Different advice splits the mapping into two VMAs. */
	if (madvise(small, LEN, MADV_NOHUGEPAGE) || madvise(huge, LEN, MADV_HUGEPAGE))
		die("madvise");
	memset(small, 1, LEN);
	memset(huge, 2, LEN);
	step("touched small=%p huge=%p len=%lu", (void *)small, (void *)huge, LEN);
	return 0;
}
