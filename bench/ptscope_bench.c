// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope_bench: what ptscope costs, measured inside the test VM. Not a
 * test: it prints numbers (scripts/bench, `make bench`).
 *
 *   ptscope_bench [-r ROUNDS] [CASE...]     (no CASE: all of them)
 *
 * Each case times a baseline and a variant in alternating rounds of the same
 * run and prints the median of each and their ratio. To add a case, write a
 * function that fills a struct bench_result and add it to cases[].
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <uapi/ptscope.h>

#define PTSCOPE_DEV	"/dev/ptscope"
#define MAX_ROUNDS	64

struct bench_result {
	const char *base_name, *variant_name;
	double base_ns[MAX_ROUNDS], variant_ns[MAX_ROUNDS];
	char note[256];		/* a line of context, e.g. what was counted */
};

struct bench_case {
	const char *name;
	const char *help;
	int (*run)(struct bench_result *r, int rounds);	/* 0 or -errno */
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- case "faults": touch 256 MiB of fresh memory, counting off and on */

#define FAULTS_BYTES	(256UL << 20)

/* touch_fresh - ns to write one byte in every 4 KiB page of a new mapping */
static double touch_fresh(void)
{
	long page = sysconf(_SC_PAGESIZE);
	double t0, t1;
	size_t off;
	char *p;

	p = mmap(NULL, FAULTS_BYTES, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	/* one fault per 4 KiB page, not one per THP */
	madvise(p, FAULTS_BYTES, MADV_NOHUGEPAGE);
	t0 = now_ns();
	for (off = 0; off < FAULTS_BYTES; off += page)
		p[off] = 1;
	t1 = now_ns();
	munmap(p, FAULTS_BYTES);
	return t1 - t0;
}

static int watch_self(int fd)
{
	struct ptscope_watch w = { .size = sizeof(w), .pid = getpid() };

	return ioctl(fd, PTSCOPE_IOC_WATCH, &w) ? -errno : (int)w.id;
}

static int bench_faults(struct bench_result *r, int rounds)
{
	struct ptscope_counters c = { .size = sizeof(c) };
	struct ptscope_watch w = { .size = sizeof(w) };
	int fd, i, err = 0;

	r->base_name = "counting off";
	r->variant_name = "counting on";
	fd = open(PTSCOPE_DEV, O_RDWR);
	if (fd < 0)
		return -errno;
	touch_fresh();	/* warm up: page cache, allocator */
	for (i = 0; i < rounds; i++) {
		r->base_ns[i] = touch_fresh();
		w.id = watch_self(fd);
		if ((int)w.id < 0) {
			err = (int)w.id;
			break;
		}
		r->variant_ns[i] = touch_fresh();
		c.id = w.id;
		if (ioctl(fd, PTSCOPE_IOC_COUNTERS, &c) ||
		    ioctl(fd, PTSCOPE_IOC_UNWATCH, &w)) {
			err = -errno;
			break;
		}
		if (r->base_ns[i] < 0 || r->variant_ns[i] < 0) {
			err = -ENOMEM;
			break;
		}
	}
	snprintf(r->note, sizeof(r->note),
		 "%lu pages touched per round; last round counted %llu minor faults",
		 FAULTS_BYTES / sysconf(_SC_PAGESIZE),
		 (unsigned long long)c.faults[PTSCOPE_FLT_MINOR]);
	close(fd);
	return err;
}

static const struct bench_case cases[] = {
	{ "faults", "touch 256 MiB of fresh memory: counters off, then watching the process",
	  bench_faults },
};

static int run_case(const struct bench_case *bc, int rounds)
{
	struct bench_result r = { 0 };
	double base, variant;
	int err = bc->run(&r, rounds);

	if (err) {
		printf("%s: failed: %s\n", bc->name, strerror(-err));
		return 1;
	}
	base = median(r.base_ns, rounds);
	variant = median(r.variant_ns, rounds);
	printf("%s: %s %.1f ms, %s %.1f ms (medians of %d), ratio %.3f\n", bc->name,
	       r.base_name, base / 1e6, r.variant_name, variant / 1e6, rounds,
	       variant / base);
	if (r.note[0])
		printf("%s: %s\n", bc->name, r.note);
	return 0;
}

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: ptscope_bench [-r ROUNDS] [CASE...]\ncases:\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fprintf(stderr, "  %-10s %s\n", cases[i].name, cases[i].help);
	exit(2);
}

int main(int argc, char **argv)
{
	int rounds = 7, opt, rc = 0, i;
	size_t j;

	while ((opt = getopt(argc, argv, "r:h")) != -1) {
		if (opt != 'r')
			usage();
		rounds = atoi(optarg);
		if (rounds < 1 || rounds > MAX_ROUNDS)
			usage();
	}
	if (optind == argc) {
		for (j = 0; j < sizeof(cases) / sizeof(cases[0]); j++)
			rc |= run_case(&cases[j], rounds);
		return rc;
	}
	for (i = optind; i < argc; i++) {
		for (j = 0; j < sizeof(cases) / sizeof(cases[0]); j++)
			if (!strcmp(argv[i], cases[j].name))
				break;
		if (j == sizeof(cases) / sizeof(cases[0]))
			usage();
		rc |= run_case(&cases[j], rounds);
	}
	return rc;
}
