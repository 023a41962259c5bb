// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot file: a versioned, line-oriented text document that holds
 * the ABI records of one moment (struct ptscope_vma with its counts,
 * struct ptscope_run with TABLE entries). ptscope(1), SNAPSHOT FILES,
 * describes it; in short:
 *
 *	ptscope-snapshot 1
 *	pid 1234
 *	comm cat
 *	taken 2026-11-25T10:00:00Z
 *	arch arm64		(absent: x86-64)
 *	page_size 4096
 *	levels 5
 *	task_size 0xff00000000000
 *	walk 0x0 0xff00000000000
 *	vma start=0x... end=0x... prot=0x5 kind=file ... rss_pte=3 name=/usr/bin/cat
 *	run start=0x... count=3 level=pte kind=page shift=12 pfn=0x... bits=0x...
 *	end
 *
 * Records are KEY=VALUE pairs in any order; numbers are decimal or 0x hex;
 * a key this version does not know is ignored, a missing one is 0 (the
 * writer leaves out most zeros); name= takes the rest of the line. Lines
 * starting with # are comments.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define SNAPFILE_VERSION	1

struct field {
	const char *key;
	size_t off;	/* in the record */
	int size;	/* 4 or 8 */
	const char *const *names;	/* symbolic values, or NULL */
	size_t nnames;
	int hex;	/* written in hex */
	int always;	/* written even when 0 */
};

#define F(type, m, names, n, hex, always) \
	{ #m, offsetof(type, m), sizeof(((type *)0)->m), names, n, hex, always }

static const struct field vma_fields[] = {
	F(struct ptscope_vma, start, NULL, 0, 1, 1),
	F(struct ptscope_vma, end, NULL, 0, 1, 1),
	F(struct ptscope_vma, pgoff, NULL, 0, 1, 0),
	F(struct ptscope_vma, vm_flags, NULL, 0, 1, 0),
	F(struct ptscope_vma, inode, NULL, 0, 0, 0),
	F(struct ptscope_vma, prot, NULL, 0, 0, 1),
	F(struct ptscope_vma, kind, vma_kind_names, VMA_KINDS, 0, 1),
	F(struct ptscope_vma, page_size, NULL, 0, 0, 1),
	F(struct ptscope_vma, dev, NULL, 0, 0, 0),
};

static const struct field run_fields[] = {
	F(struct ptscope_run, start, NULL, 0, 1, 1),
	F(struct ptscope_run, count, NULL, 0, 0, 1),
	F(struct ptscope_run, level, level_names, LEVELS, 0, 1),
	F(struct ptscope_run, kind, kind_names, KINDS, 0, 1),
	F(struct ptscope_run, shift, NULL, 0, 0, 1),
	F(struct ptscope_run, entry, NULL, 0, 1, 0),
	F(struct ptscope_run, pfn, NULL, 0, 1, 0),
	F(struct ptscope_run, table_pa, NULL, 0, 1, 0),
	F(struct ptscope_run, bits, NULL, 0, 1, 0),
	F(struct ptscope_run, swap_type, NULL, 0, 0, 0),
	F(struct ptscope_run, swap_offset, NULL, 0, 1, 0),
	F(struct ptscope_run, page, NULL, 0, 1, 0),
	F(struct ptscope_run, mapcount, NULL, 0, 0, 0),
	F(struct ptscope_run, folio_order, NULL, 0, 0, 0),
	F(struct ptscope_run, pkey, NULL, 0, 0, 0),
};

static uint64_t field_get(const void *rec, const struct field *f)
{
	const char *p = (const char *)rec + f->off;

	return f->size == 8 ? *(const uint64_t *)p : *(const uint32_t *)p;
}

static void field_put(FILE *out, const void *rec, const struct field *f)
{
	uint64_t v = field_get(rec, f);

	const char *name;

	if (!v && !f->always)
		return;
	if (f->names && v < f->nnames && f->names[v]) {
		fprintf(out, " %s=", f->key);
		for (name = f->names[v]; *name; name++)
			fputc(tolower((unsigned char)*name), out);
	} else {
		fprintf(out, f->hex ? " %s=0x%llx" : " %s=%llu", f->key, (unsigned long long)v);
	}
}

static void write_vma(FILE *out, const struct ptscope_vma *v)
{
	size_t i;

	fputs("vma", out);
	for (i = 0; i < ARRAY_SIZE(vma_fields); i++)
		field_put(out, v, &vma_fields[i]);
	for (i = 0; i < PTSCOPE_CNT_MAX; i++)
		if (v->counts[i] && i < COUNTS && count_names[i])
			fprintf(out, " %s=%llu", count_names[i], (unsigned long long)v->counts[i]);
	fprintf(out, " name=%s\n", v->name);
}

static void write_run(FILE *out, const struct ptscope_run *r)
{
	size_t i;

	fputs("run", out);
	for (i = 0; i < ARRAY_SIZE(run_fields); i++)
		field_put(out, r, &run_fields[i]);
	fputc('\n', out);
}

int snapfile_write(const struct snap *s, const char *path)
{
	FILE *out = strcmp(path, "-") ? fopen(path, "w") : stdout;
	size_t i;

	if (!out) {
		fprintf(stderr, "ptscope: %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	fprintf(out, "ptscope-snapshot %d\n", SNAPFILE_VERSION);
	fprintf(out, "pid %d\ncomm %s\ntaken %s\n", s->pid, s->comm, s->taken);
	/* x86-64, the default, is left out: the files of every ptscope read alike. */
	if (s->arch && s->arch != PTSCOPE_ARCH_X86_64)
		fprintf(out, "arch %s\n", arch_name(s->arch));
	fprintf(out, "page_size %u\nlevels %u\ntask_size 0x%llx\n", s->page_size, s->levels,
		(unsigned long long)s->task_size);
	if (s->have & SNAP_RUNS)
		fprintf(out, "walk 0x%llx 0x%llx\n", (unsigned long long)s->walk_start,
			(unsigned long long)s->walk_end);
	for (i = 0; i < s->nvmas; i++)
		write_vma(out, &s->vmas[i]);
	for (i = 0; i < s->nruns; i++)
		write_run(out, &s->runs[i]);
	fputs("end\n", out);
	if (out == stdout ? fflush(out) : fclose(out)) {
		fprintf(stderr, "ptscope: %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

/* One KEY=VALUE of a record; 0, or -1 with a bad value. */
static int field_set(void *rec, const struct field *fields, size_t nfields,
		     const char *key, const char *val)
{
	const struct field *f = NULL;
	uint64_t v;
	size_t i;
	int idx;

	for (i = 0; i < nfields; i++)
		if (!strcmp(fields[i].key, key))
			f = &fields[i];
	if (!f)
		return 1;
	if (f->names && (idx = name_lookup(f->names, f->nnames, val)) >= 0)
		v = idx;
	else if (parse_u64(val, &v))
		return -1;
	if (f->size == 8)
		*(uint64_t *)((char *)rec + f->off) = v;
	else if (v > UINT32_MAX)
		return -1;
	else
		*(uint32_t *)((char *)rec + f->off) = v;
	return 0;
}

/* parse_record - KEY=VALUE pairs of a vma or run line into @rec */
static int parse_record(char *p, void *rec, const struct field *fields, size_t nfields,
			struct ptscope_vma *vma)
{
	while (*p) {
		char *key, *val, *eq;
		int idx, err;

		p += strspn(p, " \t");
		if (!*p)
			break;
		key = p;
		eq = strchr(p, '=');
		if (!eq)
			return -1;
		*eq = '\0';
		val = eq + 1;
		if (vma && !strcmp(key, "name")) {
			snprintf(vma->name, sizeof(vma->name), "%s", val);
			break;
		}
		p = val + strcspn(val, " \t");
		if (*p)
			*p++ = '\0';
		err = field_set(rec, fields, nfields, key, val);
		if (err < 0)
			return -1;
		if (err > 0 && vma && (idx = name_lookup(count_names, COUNTS, key)) >= 0) {
			uint64_t v;

			if (parse_u64(val, &v))
				return -1;
			vma->counts[idx] = v;
		}
	}
	return 0;
}

/* parse_header - a "KEY VALUE" line before the records; 1 if not one */
static int parse_header(struct snap *s, const char *key, char *val)
{
	uint64_t v;

	if (!strcmp(key, "comm")) {
		snprintf(s->comm, sizeof(s->comm), "%s", val);
		return 0;
	}
	if (!strcmp(key, "taken")) {
		snprintf(s->taken, sizeof(s->taken), "%s", val);
		return 0;
	}
	if (!strcmp(key, "arch")) {
		if (!strcmp(val, arch_name(PTSCOPE_ARCH_ARM64)))
			s->arch = PTSCOPE_ARCH_ARM64;
		else if (!strcmp(val, arch_name(PTSCOPE_ARCH_X86_64)))
			s->arch = PTSCOPE_ARCH_X86_64;
		else
			return -1;
		return 0;
	}
	if (!strcmp(key, "walk")) {
		char *sp = strchr(val, ' ');

		if (!sp)
			return -1;
		*sp = '\0';
		s->have |= SNAP_RUNS;
		return parse_u64(val, &s->walk_start) || parse_u64(sp + 1, &s->walk_end) ? -1 : 0;
	}
	if (parse_u64(val, &v))
		return -1;
	if (!strcmp(key, "pid"))
		s->pid = v;
	else if (!strcmp(key, "page_size"))
		s->page_size = v;
	else if (!strcmp(key, "levels"))
		s->levels = v;
	else if (!strcmp(key, "task_size"))
		s->task_size = v;
	else
		return 1;
	return 0;
}

static int parse_line(struct snap *s, char *line, size_t *cap_v, size_t *cap_r)
{
	char *val = line + strcspn(line, " ");
	struct ptscope_vma *vma;
	struct ptscope_run *run;

	if (*val)
		*val++ = '\0';
	if (!strcmp(line, "vma")) {
		if (s->nvmas == *cap_v) {
			*cap_v = *cap_v ? 2 * *cap_v : 64;
			s->vmas = xrealloc(s->vmas, *cap_v, sizeof(*s->vmas));
		}
		vma = &s->vmas[s->nvmas++];
		memset(vma, 0, sizeof(*vma));
		return parse_record(val, vma, vma_fields, ARRAY_SIZE(vma_fields), vma);
	}
	if (!strcmp(line, "run")) {
		if (s->nruns == *cap_r) {
			*cap_r = *cap_r ? 2 * *cap_r : 256;
			s->runs = xrealloc(s->runs, *cap_r, sizeof(*s->runs));
		}
		run = &s->runs[s->nruns++];
		memset(run, 0, sizeof(*run));
		return parse_record(val, run, run_fields, ARRAY_SIZE(run_fields), NULL);
	}
	return parse_header(s, line, val);
}

/* Sanity checks that keep the views' arithmetic safe. */
static int snap_check(const struct snap *s, const char **why)
{
	size_t i;

	if (!s->page_size || (s->page_size & (s->page_size - 1)))
		return *why = "page_size is not a power of two", -1;
	for (i = 0; i < s->nvmas; i++)
		if (s->vmas[i].end <= s->vmas[i].start ||
		    (i && s->vmas[i].start < s->vmas[i - 1].end))
			return *why = "VMAs overlap, are empty or out of order", -1;
	for (i = 0; i < s->nruns; i++) {
		const struct ptscope_run *r = &s->runs[i];

		if (r->level < PTSCOPE_LEVEL_PTE || r->level > PTSCOPE_LEVEL_PGD ||
		    r->shift < 12 || r->shift > 57 || !r->count ||
		    r->count > (UINT64_MAX >> r->shift) || run_end(r) < r->start)
			return *why = "a run has a bad level, shift or count", -1;
	}
	return 0;
}

int snapfile_read(struct snap *s, const char *path)
{
	FILE *in = fopen(path, "r");
	size_t cap_v = 0, cap_r = 0, lineno = 0;
	const char *why = "not a ptscope snapshot";
	char line[1024];
	int version = 0, done = 0, err;

	memset(s, 0, sizeof(*s));
	if (!in) {
		fprintf(stderr, "ptscope: %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	while (fgets(line, sizeof(line), in)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (lineno == 1) {
			if (sscanf(line, "ptscope-snapshot %d", &version) != 1)
				goto bad;
			why = "unsupported snapshot version (this ptscope reads version 1)";
			if (version != SNAPFILE_VERSION)
				goto bad;
			continue;
		}
		if (!line[0] || line[0] == '#')
			continue;
		why = "a record after the end line";
		if (done)
			goto bad;
		if (!strcmp(line, "end")) {
			done = 1;
			continue;
		}
		why = "bad line";
		err = parse_line(s, line, &cap_v, &cap_r);
		if (err < 0)
			goto bad;
		why = "unknown record";
		if (err > 0)
			goto bad;
	}
	fclose(in);
	s->have |= SNAP_VMAS;
	why = lineno ? "truncated: no end line" : "empty file";
	if (!done)
		goto bad_noline;
	if (snap_check(s, &why))
		goto bad_noline;
	/* Files of ptscope before 0.2 have no arch: they were x86-64's. */
	if (!s->arch)
		s->arch = PTSCOPE_ARCH_X86_64;
	entry_arch_set(s->arch);
	snap_sort_runs(s);
	return 0;
bad:
	fclose(in);
	fprintf(stderr, "ptscope: %s:%zu: %s\n", path, lineno, why);
	snap_free(s);
	return EXIT_FAIL;
bad_noline:
	fprintf(stderr, "ptscope: %s: %s\n", path, why);
	snap_free(s);
	return EXIT_FAIL;
}

/* ptscope snapshot PID -o FILE */
int cmd_snapshot(void)
{
	struct snap s;
	int err;

	if (!opt.outfile) {
		fputs("ptscope snapshot: -o FILE is needed (- for stdout)\n", stderr);
		return EXIT_USAGE;
	}
	err = snap_get(&s, 0, SNAP_VMAS | SNAP_RUNS, 0, 0);
	if (err)
		return err;
	err = snapfile_write(&s, opt.outfile);
	snap_free(&s);
	return err;
}
