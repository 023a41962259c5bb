// SPDX-License-Identifier: GPL-2.0
/*
 * Huge pages: two regions of two PMD-sized pages each (4 MiB with 4 KiB
 * pages, 64 MiB with 16 KiB), PMD aligned, both written in full. The first
 * asks for base pages only (MADV_NOHUGEPAGE), the second for huge pages
 * (MADV_HUGEPAGE). The PMD size is the kernel's (hpage_pmd_size).
 */
#include <stdint.h>
#include <sys/mman.h>
#include "step.h"

static unsigned long pmd_size(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
	unsigned long size = 0;

	if (f) {
		if (fscanf(f, "%lu", &size) != 1)
			size = 0;
		fclose(f);
	}
	return size ? size : 2UL << 20;
}

int main(void)
{
	unsigned long pmd = pmd_size(), len = 2 * pmd;
	char *raw, *small, *huge;

	raw = mmap(NULL, 2 * len + pmd, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		die("mmap");
	small = (char *)(((uintptr_t)raw + pmd - 1) & ~(pmd - 1));
	huge = small + len;
	/* Different advice splits the mapping into two VMAs. */
	if (madvise(small, len, MADV_NOHUGEPAGE) || madvise(huge, len, MADV_HUGEPAGE))
		die("madvise");
	memset(small, 1, len);
	memset(huge, 2, len);
	step("touched small=%p huge=%p len=%lu", (void *)small, (void *)huge, len);
	return 0;
}
