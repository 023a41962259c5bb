// SPDX-License-Identifier: GPL-2.0
/*
 * ptscope_bench: what ptscope costs, measured inside the test VM. Not a
 * test: it prints numbers (scripts/bench, `make bench`).
 *
 *   ptscope_bench [-r ROUNDS] [CASE...]     (no CASE: all of them)
 *
 * Each case times a baseline and a variant in alternating rounds of the same
 * run and prints the median of each and of their ratios. To add a case,
 * write its functions (struct bench_case) and add a line to cases[].
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

/*
 * A case: two ways of doing the same work, each timed by its own function.
 * The driver runs them in pairs, alternating which goes first, and reports
 * the medians and the median of the per-pair ratios (robust to a host that
 * other VMs share: the two runs of a pair see the same load).
 */
struct bench_case {
	const char *name;
	const char *help;
	const char *base_name, *variant_name;
	int (*init)(void **ctx);			/* 0 or -errno */
	double (*base)(void *ctx);			/* ns, or -errno */
	double (*variant)(void *ctx);			/* ns, or -errno */
	void (*fini)(void *ctx, char *note, size_t len);	/* a line of context */
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
		return -errno;
	/* one fault per 4 KiB page, not one per THP */
	madvise(p, FAULTS_BYTES, MADV_NOHUGEPAGE);
	t0 = now_ns();
	for (off = 0; off < FAULTS_BYTES; off += page)
		p[off] = 1;
	t1 = now_ns();
	munmap(p, FAULTS_BYTES);
	return t1 - t0;
}

struct faults_ctx {
	int fd;
	struct ptscope_counters last;	/* of the last counted round */
};

static int faults_init(void **ctx)
{
	struct faults_ctx *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->fd = open(PTSCOPE_DEV, O_RDWR);
	if (f->fd < 0) {
		free(f);
		return -errno;
	}
	touch_fresh();	/* warm up: allocator, page cache */
	*ctx = f;
	return 0;
}

static double faults_off(void *ctx)
{
	(void)ctx;
	return touch_fresh();
}

/* The same, with the process watched: every fault goes through the hooks. */
static double faults_watched(struct faults_ctx *f, __u32 flags)
{
	struct ptscope_watch w = { .size = sizeof(w), .flags = flags, .pid = getpid() };
	double ns;

	if (ioctl(f->fd, PTSCOPE_IOC_WATCH, &w))
		return -errno;
	ns = touch_fresh();
	memset(&f->last, 0, sizeof(f->last));
	f->last.size = sizeof(f->last);
	f->last.id = w.id;
	w.pid = 0;
	w.flags = 0;
	if (ioctl(f->fd, PTSCOPE_IOC_COUNTERS, &f->last) ||
	    ioctl(f->fd, PTSCOPE_IOC_UNWATCH, &w))
		return -errno;
	return ns;
}

static double faults_on(void *ctx)
{
	return faults_watched(ctx, 0);
}

static double faults_on_detail(void *ctx)
{
	return faults_watched(ctx, PTSCOPE_WATCH_FAULT_DETAIL);
}

static void faults_fini(void *ctx, char *note, size_t len)
{
	struct faults_ctx *f = ctx;

	snprintf(note, len, "%lu pages touched per round; the last counted round saw "
		 "%llu user-mode faults, %llu minor faults (kernel: %llu)",
		 FAULTS_BYTES / sysconf(_SC_PAGESIZE),
		 (unsigned long long)f->last.faults[PTSCOPE_FLT_TOTAL],
		 (unsigned long long)f->last.faults[PTSCOPE_FLT_MINOR],
		 (unsigned long long)f->last.faults[PTSCOPE_FLT_KERNEL_MIN]);
	close(f->fd);
	free(f);
}

static const struct bench_case cases[] = {
	{ "faults", "touch 256 MiB of fresh memory, counters off and watching the process",
	  "counting off", "counting on", faults_init, faults_off, faults_on, faults_fini },
	{ "faults-detail", "the same, watching with PTSCOPE_WATCH_FAULT_DETAIL (a kretprobe)",
	  "counting off", "counting with detail", faults_init, faults_off, faults_on_detail,
	  faults_fini },
};

static int run_case(const struct bench_case *bc, int rounds)
{
	double base[MAX_ROUNDS], variant[MAX_ROUNDS], ratio[MAX_ROUNDS];
	char note[256] = "";
	void *ctx = NULL;
	int i, err;

	err = bc->init(&ctx);
	if (err) {
		printf("%s: cannot start: %s\n", bc->name, strerror(-err));
		return 1;
	}
	for (i = 0; i < rounds; i++) {
		if (i % 2) {
			variant[i] = bc->variant(ctx);
			base[i] = bc->base(ctx);
		} else {
			base[i] = bc->base(ctx);
			variant[i] = bc->variant(ctx);
		}
		if (base[i] <= 0 || variant[i] <= 0) {
			printf("%s: round %d failed: %s\n", bc->name, i,
			       strerror((int)-(base[i] <= 0 ? base[i] : variant[i])));
			bc->fini(ctx, note, sizeof(note));
			return 1;
		}
		ratio[i] = variant[i] / base[i];
	}
	bc->fini(ctx, note, sizeof(note));
	printf("%s: %s %.1f ms, %s %.1f ms (medians of %d rounds), ratio %.3f\n",
	       bc->name, bc->base_name, median(base, rounds) / 1e6, bc->variant_name,
	       median(variant, rounds) / 1e6, rounds, median(ratio, rounds));
	if (note[0])
		printf("%s: %s\n", bc->name, note);
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
	int rounds = 11, opt, rc = 0, i;
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
