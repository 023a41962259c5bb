/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark driver of bench/ptscope_bench.c: timed pairs in interleaved
 * rounds, medians and per-round ratios, the result rows, the table and the
 * JSON, and the longest mmap_lock hold read from tracefs.
 *
 * A pair is ptscope's way and the kernel's way of answering the same
 * question. Each round times both, alternating which goes first, so the two
 * see the same host load (TCG timings move with it); the ratio of a round is
 * ptscope / reference, and a row reports the median of each and of the
 * ratios. Absolute times are only comparable within one run.
 */
#ifndef _BENCH_H
#define _BENCH_H

#include <math.h>
#include <stdarg.h>
#include <time.h>

#include "../selftests/ptscope_util.h"

#define MB		(1UL << 20)
#define GB		(1UL << 30)
#define MAX_ROUNDS	64
#define MAX_ROWS	64

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

static double median(const double *v, int n)
{
	double s[MAX_ROUNDS];

	if (n <= 0)
		return NAN;
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* --- rows -------------------------------------------------------------- */

enum row_state {
	ROW_MET,	/* ratio <= target */
	ROW_NOT_MET,	/* ratio > target */
	ROW_INFO,	/* no target: a number for scale */
	ROW_NA,		/* the reference does not exist on this kernel */
	ROW_WRONG,	/* the answers differ: the numbers mean nothing */
	ROW_FAILED,	/* a call failed */
};

static const char *const row_state_name[] = {
	[ROW_MET] = "met", [ROW_NOT_MET] = "NOT MET", [ROW_INFO] = "-",
	[ROW_NA] = "n/a", [ROW_WRONG] = "WRONG", [ROW_FAILED] = "FAILED",
};

struct row {
	char name[64];		/* case: what is compared */
	char ref[48];		/* the kernel interface compared with */
	const char *unit;	/* of @pt and @ref_val: "ms", "us", "KiB" */
	double pt, ref_val;	/* medians; NAN when absent */
	double ratio;		/* median of per-round ratios; NAN when none */
	double target;		/* ratio to reach, 0 for none */
	int rounds;
	enum row_state state;
	char note[200];
};

static struct row rows[MAX_ROWS];
static int nrows;

static struct row *row_new(const char *name, const char *ref, const char *unit,
			   double target)
{
	struct row *r = &rows[nrows < MAX_ROWS - 1 ? nrows++ : nrows];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->ref, sizeof(r->ref), "%s", ref);
	r->unit = unit;
	r->pt = r->ref_val = r->ratio = NAN;
	r->target = target;
	r->state = ROW_INFO;
	return r;
}

static void row_judge(struct row *r)
{
	if (r->state == ROW_WRONG || r->state == ROW_FAILED || r->state == ROW_NA)
		return;
	/* a reference of 0 gives no ratio to judge */
	if (r->target > 0 && isfinite(r->ratio))
		r->state = r->ratio <= r->target ? ROW_MET : ROW_NOT_MET;
	else
		r->state = ROW_INFO;
}

__attribute__((format(printf, 2, 3)))
static void row_note(struct row *r, const char *fmt, ...)
{
	size_t len = strlen(r->note);
	va_list ap;

	if (len && len < sizeof(r->note) - 2) {
		strcat(r->note, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(r->note + len, sizeof(r->note) - len, fmt, ap);
	va_end(ap);
}

/* The state of a row whose reference this kernel lacks. */
static void row_na(struct row *r, const char *why)
{
	r->state = ROW_NA;
	row_note(r, "%s", why);
}

/*
 * A timed pair: each function does the work once and returns 0 or -errno;
 * @reps calls are timed together (for calls too short to time alone).
 */
typedef int (*bench_fn)(void *ctx);

static double time_calls(bench_fn fn, void *ctx, int reps, int *err)
{
	double t0 = now_ns();
	int i;

	for (i = 0; i < reps && !*err; i++)
		*err = fn(ctx);
	return (now_ns() - t0) / reps;
}

/* time_calls(), with @prep(@ctx) before each call, untimed (NULL: none) */
static double time_calls_prep(bench_fn fn, bench_fn prep, void *ctx, int reps, int *err)
{
	double t = 0, t0;
	int i;

	if (!prep)
		return time_calls(fn, ctx, reps, err);
	for (i = 0; i < reps && !*err; i++) {
		*err = prep(ctx);
		if (*err)
			break;
		t0 = now_ns();
		*err = fn(ctx);
		t += now_ns() - t0;
	}
	return t / reps;
}

static int compare_prep(struct row *r, bench_fn pt, bench_fn ref, bench_fn ref_prep,
			void *ctx, int rounds, int reps);

/*
 * compare - time @pt and @ref in @rounds interleaved rounds into @r, in
 * @r->unit (ms or us), @reps calls each per round (0: enough for 20 ms, so
 * that a short call is not measured against the host's scheduling noise).
 * Returns 0, or the first error.
 */
static int compare(struct row *r, bench_fn pt, bench_fn ref, void *ctx, int rounds,
		   int reps)
{
	return compare_prep(r, pt, ref, NULL, ctx, rounds, reps);
}

/*
 * compare_prep - compare(), with @ref_prep(@ctx) run untimed before each
 * call of @ref (to wait until @pt's side effects are gone)
 */
static int compare_prep(struct row *r, bench_fn pt, bench_fn ref, bench_fn ref_prep,
			void *ctx, int rounds, int reps)
{
	double a[MAX_ROUNDS], b[MAX_ROUNDS], q[MAX_ROUNDS];
	double scale = !strcmp(r->unit, "us") ? 1e3 : 1e6;
	int i, err = 0;

	/* 0: as many calls per round as make the slower side take 20 ms */
	if (!reps) {
		double t = time_calls(pt, ctx, 1, &err);
		double u = time_calls_prep(ref, ref_prep, ctx, 1, &err);

		t = t > u ? t : u;
		reps = t >= 20e6 ? 1 : t < 20e3 ? 1000 : (int)(20e6 / t);
		if (reps > 1)
			row_note(r, "%d calls per round", reps);
	}
	for (i = 0; i < rounds && !err; i++) {
		if (i % 2) {
			b[i] = time_calls_prep(ref, ref_prep, ctx, reps, &err);
			a[i] = time_calls(pt, ctx, reps, &err);
		} else {
			a[i] = time_calls(pt, ctx, reps, &err);
			b[i] = time_calls_prep(ref, ref_prep, ctx, reps, &err);
		}
		q[i] = a[i] / b[i];
	}
	if (err) {
		r->state = ROW_FAILED;
		row_note(r, "a call failed: %s", strerror(-err));
		return err;
	}
	r->rounds = rounds;
	r->pt = median(a, rounds) / scale;
	r->ref_val = median(b, rounds) / scale;
	r->ratio = median(q, rounds);
	return 0;
}

/* The result of a comparison of answers: 0 equal, else the row is WRONG. */
static int row_check(struct row *r, int differ, const char *what)
{
	if (differ) {
		r->state = ROW_WRONG;
		row_note(r, "answers differ: %s", what);
	}
	return differ;
}

/* --- output ---------------------------------------------------------------- */

static void fmt_val(char *buf, size_t len, double v, const char *unit)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v >= 100)
		snprintf(buf, len, "%.0f %s", v, unit);
	else if (v >= 1)
		snprintf(buf, len, "%.2f %s", v, unit);
	else
		snprintf(buf, len, "%.3f %s", v, unit);
}

static void print_table(FILE *f, const char *title)
{
	char a[32], b[32], q[16], t[16];
	int i;

	fprintf(f, "\n%s\n\n", title);
	fprintf(f, "| case | ptscope | reference | ratio | target | met |\n");
	fprintf(f, "| --- | ---: | ---: | ---: | ---: | --- |\n");
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		fmt_val(a, sizeof(a), r->pt, r->unit);
		fmt_val(b, sizeof(b), r->ref_val, r->unit);
		if (isnan(r->ratio))
			snprintf(q, sizeof(q), "-");
		else
			snprintf(q, sizeof(q), "%.3f", r->ratio);
		if (r->target > 0)
			snprintf(t, sizeof(t), "<= %g", r->target);
		else
			snprintf(t, sizeof(t), "-");
		fprintf(f, "| %s | %s | %s: %s | %s | %s | %s |\n", r->name, a, r->ref, b, q,
			t, row_state_name[r->state]);
	}
	fprintf(f, "\nNotes:\n");
	for (i = 0; i < nrows; i++)
		if (rows[i].note[0])
			fprintf(f, "- %s: %s\n", rows[i].name, rows[i].note);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	/* JSON has no NaN or infinity */
	if (!isfinite(v))
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

static void json_key_str(FILE *f, const char *sep, const char *key, const char *val)
{
	fprintf(f, "%s\"%s\": ", sep, key);
	json_str(f, val);
}

static void json_key_num(FILE *f, const char *key, double val)
{
	fprintf(f, ", \"%s\": ", key);
	json_num(f, val);
}

static int write_json(const char *path, const char *kernel, const char *machine)
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f)
		return -errno;
	fprintf(f, "{\n");
	json_key_str(f, "  ", "kernel", kernel);
	json_key_str(f, ",\n  ", "machine", machine);
	fprintf(f, ",\n  \"time\": %ld,\n  \"rows\": [\n", (long)time(NULL));
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		fprintf(f, "    {");
		json_key_str(f, "", "case", r->name);
		json_key_str(f, ", ", "reference", r->ref);
		json_key_str(f, ", ", "unit", r->unit);
		json_key_num(f, "ptscope", r->pt);
		json_key_num(f, "reference_value", r->ref_val);
		json_key_num(f, "ratio", r->ratio);
		json_key_num(f, "target", r->target > 0 ? r->target : NAN);
		json_key_num(f, "rounds", r->rounds);
		json_key_str(f, ", ", "state", row_state_name[r->state]);
		json_key_str(f, ", ", "note", r->note);
		fprintf(f, "}%s\n", i + 1 < nrows ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	return fclose(f) ? -errno : 0;
}

/* --- mmap_lock holds from tracefs ----------------------------------------- */

#define TRACEFS "/sys/kernel/tracing"

static int tracefs_write(const char *file, const char *text)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static const char *const lock_events[] = {
	"mmap_lock/mmap_lock_acquire_returned", "mmap_lock/mmap_lock_released",
};

/*
 * holds_start - trace the read acquisitions and releases of mmap_lock by
 * this process (the reader: its own memory must be faulted in already, so
 * that every read hold it takes is of the target's mm). 0 or -errno.
 */
static int holds_start(void)
{
	char filter[64], path[128];
	size_t i;
	int err;

	snprintf(filter, sizeof(filter), "common_pid == %d && write == 0", getpid());
	tracefs_write("tracing_on", "0");
	tracefs_write("buffer_size_kb", "4096");
	err = tracefs_write("trace", "");
	for (i = 0; i < 2 && !err; i++) {
		snprintf(path, sizeof(path), "events/%s/filter", lock_events[i]);
		err = tracefs_write(path, filter);
		snprintf(path, sizeof(path), "events/%s/enable", lock_events[i]);
		err = err ?: tracefs_write(path, "1");
	}
	return err ?: tracefs_write("tracing_on", "1");
}

/*
 * holds_stop - stop tracing; the longest read hold (ns) and how many holds
 * there were (none where the reader takes per-VMA locks instead), from the
 * trace's acquire/release pairs. 0 or -errno.
 */
static int holds_stop(double *longest_ns, long *holds)
{
	char line[512], path[128];
	double acquired = -1;
	size_t i;
	FILE *f;

	tracefs_write("tracing_on", "0");
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "events/%s/enable", lock_events[i]);
		tracefs_write(path, "0");
	}
	f = fopen(TRACEFS "/trace", "r");
	if (!f)
		return -errno;
	*longest_ns = 0;
	*holds = 0;
	while (fgets(line, sizeof(line), f)) {
		char *ev = strstr(line, ": mmap_lock_"), *p;
		double ts;

		if (line[0] == '#' || !ev)
			continue;
		/* "  comm-pid  [cpu] flags  SECONDS.MICROS: event: ..." */
		*ev = '\0';
		p = strrchr(line, ' ');
		if (!p || sscanf(p, "%lf", &ts) != 1)
			continue;
		ev += 2;
		if (!strncmp(ev, "mmap_lock_acquire_returned", 26)) {
			acquired = strstr(ev, "success=true") ? ts : -1;
		} else if (!strncmp(ev, "mmap_lock_released", 18) && acquired >= 0) {
			if ((ts - acquired) * 1e9 > *longest_ns)
				*longest_ns = (ts - acquired) * 1e9;
			(*holds)++;
			acquired = -1;
		}
	}
	fclose(f);
	tracefs_write("trace", "");
	return 0;
}

#endif /* _BENCH_H */
