// SPDX-License-Identifier: GPL-2.0
/*
 * A segmentation fault, two ways: `segv hole` reads an address where
 * nothing is mapped (SEGV_MAPERR), `segv readonly` writes to a page mapped
 * read-only (SEGV_ACCERR). The handler reports what the kernel says in
 * siginfo, then the default action kills the process with SIGSEGV.
 */
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#include "step.h"

/* The handler may only use async-signal-safe calls: format by hand. */
static void put_hex(char *buf, unsigned long v)
{
	int i;

	for (i = 15; i >= 0; i--, v >>= 4)
		buf[i] = "0123456789abcdef"[v & 15];
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	char msg[] = "SIGSEGV at 0x0000000000000000, si_code SEGV_XXXERR\n";

	(void)ctx;
	put_hex(msg + 13, (unsigned long)si->si_addr);
	memcpy(msg + 44, si->si_code == SEGV_MAPERR ? "MAP" : "ACC", 3);
	write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	signal(sig, SIG_DFL);	/* returning retries the access: now it kills */
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	volatile char *p;
	int hole = argc > 1 && !strcmp(argv[1], "hole");

	p = mmap(NULL, PAGE_BYTES, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	if (hole)
		munmap((void *)p, PAGE_BYTES);	/* now nothing is mapped there */
	else
		(void)p[0];				/* a read maps the zero page */
	sigaction(SIGSEGV, &sa, NULL);
	step("ready addr=%p", (void *)p);
	if (hole)
		(void)p[0];
	else
		p[0] = 1;
	puts("not reached");
	return 0;
}
