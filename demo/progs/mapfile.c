// SPDX-License-Identifier: GPL-2.0
/*
 * A memory-mapped file: map a whole (large) file and read one byte at four
 * places in it. The kernel reads in only what is touched.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "step.h"

int main(int argc, char **argv)
{
	struct stat st;
	char *p;
	int fd, i;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		die(argv[1]);
	p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	step("mapped addr=%p size=%lld", (void *)p, (long long)st.st_size);
	for (i = 0; i < 4; i++) {
		off_t off = st.st_size / 4 * i;

		printf("byte at offset %lld: '%c'\n", (long long)off, p[off]);
	}
	step("read addr=%p size=%lld", (void *)p, (long long)st.st_size);
	return 0;
}
