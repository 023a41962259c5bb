// SPDX-License-Identifier: GPL-2.0
/*
 * Output: the columns of a view (-o, column help), libsmartcols tables in
 * their modes (-J, -r, -n), cells (-b), and the names of the ABI's values.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

struct opts opt;

const char *const level_names[LEVELS] = {
	[PTSCOPE_LEVEL_PTE] = "PTE", [PTSCOPE_LEVEL_PMD] = "PMD", [PTSCOPE_LEVEL_PUD] = "PUD",
	[PTSCOPE_LEVEL_P4D] = "P4D", [PTSCOPE_LEVEL_PGD] = "PGD",
};

const char *const kind_names[KINDS] = {
	[PTSCOPE_KIND_NONE] = "none", [PTSCOPE_KIND_TABLE] = "table",
	[PTSCOPE_KIND_PAGE] = "page", [PTSCOPE_KIND_SWAP] = "swap",
	[PTSCOPE_KIND_MIGRATION] = "migration",
	[PTSCOPE_KIND_DEVICE_PRIVATE] = "device-private",
	[PTSCOPE_KIND_DEVICE_EXCLUSIVE] = "device-exclusive",
	[PTSCOPE_KIND_HWPOISON] = "hwpoison", [PTSCOPE_KIND_MARKER] = "marker",
	[PTSCOPE_KIND_BAD] = "bad",
};

const char *const vma_kind_names[VMA_KINDS] = {
	[PTSCOPE_VMA_ANON] = "anon", [PTSCOPE_VMA_FILE] = "file", [PTSCOPE_VMA_SHMEM] = "shmem",
	[PTSCOPE_VMA_HEAP] = "heap", [PTSCOPE_VMA_STACK] = "stack", [PTSCOPE_VMA_VDSO] = "vdso",
	[PTSCOPE_VMA_VVAR] = "vvar",
	[PTSCOPE_VMA_HUGETLB] = "hugetlb", [PTSCOPE_VMA_PFNMAP] = "pfnmap",
	[PTSCOPE_VMA_SPECIAL] = "special",
};

const char *const count_names[COUNTS] = {
	[PTSCOPE_CNT_RSS_PTE] = "rss_pte", [PTSCOPE_CNT_RSS_PMD] = "rss_pmd",
	[PTSCOPE_CNT_RSS_PUD] = "rss_pud", [PTSCOPE_CNT_SWAP] = "swap",
	[PTSCOPE_CNT_DIRTY] = "dirty", [PTSCOPE_CNT_YOUNG] = "young",
	[PTSCOPE_CNT_SOFT_DIRTY] = "soft_dirty", [PTSCOPE_CNT_ANON] = "anon",
	[PTSCOPE_CNT_FILE] = "file", [PTSCOPE_CNT_SHMEM] = "shmem",
	[PTSCOPE_CNT_THP_PMD] = "thp_pmd", [PTSCOPE_CNT_HUGETLB] = "hugetlb",
	[PTSCOPE_CNT_SPECIAL] = "special", [PTSCOPE_CNT_ZERO] = "zero",
	[PTSCOPE_CNT_EXCLUSIVE] = "exclusive", [PTSCOPE_CNT_MIGRATION] = "migration",
	[PTSCOPE_CNT_PTE_TABLES] = "pte_tables", [PTSCOPE_CNT_PMD_TABLES] = "pmd_tables",
	[PTSCOPE_CNT_PUD_TABLES] = "pud_tables", [PTSCOPE_CNT_P4D_TABLES] = "p4d_tables",
};

static const char *const bit_names[] = {
	"present", "write", "user", "accessed", "dirty", "global", "nx", "leaf",
	"pwt", "pcd", "pat", "soft-dirty", "uffd-wp", "special", "devmap", "protnone",
	"migration-read", "migration-write", "migration-exclusive", "swap-exclusive",
};

static const char *const page_bit_names[] = {
	"anon", "file", "shmem", "ksm", "zero", "exclusive", "hugetlb", "thp",
};

int name_lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] && !strcasecmp(names[i], s))
			return i;
	return -1;
}

const char *enum_name(const char *const *names, size_t n, unsigned int v)
{
	return v < n && names[v] ? names[v] : "?";
}

/*
 * Whose entries the views decode (PTSCOPE_B_ARCH_MASK): the module's, or
 * the snapshot file's, never the host's this tool was built on.
 */
static unsigned int cur_arch = PTSCOPE_ARCH_X86_64;

void entry_arch_set(unsigned int arch)
{
	cur_arch = arch;
}

unsigned int entry_arch(void)
{
	return cur_arch;
}

const char *arch_name(unsigned int arch)
{
	return arch == PTSCOPE_ARCH_ARM64 ? "arm64" : "x86-64";
}

/*
 * Seven letters, one per bit a learner meets first: pwuadgx. g: global,
 * on arm64 a valid entry without nG (not tagged with the ASID).
 */
char *bits_letters(char *buf, uint64_t bits)
{
	int global = bits & PTSCOPE_B_GLOBAL;

	if (cur_arch == PTSCOPE_ARCH_ARM64)
		global = (bits & PTSCOPE_B_ARM64_VALID) && (bits & PTSCOPE_B_LEAF) &&
			 !(bits & PTSCOPE_B_ARM64_NG);
	buf[0] = bits & PTSCOPE_B_PRESENT ? 'p' : '-';
	buf[1] = bits & PTSCOPE_B_WRITE ? 'w' : '-';
	buf[2] = bits & PTSCOPE_B_USER ? 'u' : '-';
	buf[3] = bits & PTSCOPE_B_ACCESSED ? 'a' : '-';
	buf[4] = bits & PTSCOPE_B_DIRTY ? 'd' : '-';
	buf[5] = global ? 'g' : '-';
	buf[6] = (bits & PTSCOPE_B_PRESENT) && !(bits & PTSCOPE_B_NX) ? 'x' : '-';
	buf[7] = '\0';
	return buf;
}

static char *flag_names(char *buf, size_t len, uint64_t v, const char *const *names, size_t n)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		if (v & (1ULL << i))
			off += snprintf(buf + off, len - off, "%s%s", off ? "," : "", names[i]);
	return buf;
}

/* arm64's own bits (PTSCOPE_B_ARM64_*), in the Arm ARM's words. */
static const char *const arm64_bit_names[64] = {
	[32] = "valid", [33] = "af", [34] = "ng", [35] = "ap-ro", [36] = "ap-el0",
	[37] = "pxn", [38] = "uxn", [39] = "dbm", [40] = "gp", [41] = "cont",
	[42] = "sw-dirty", [43] = "sh-tcr", [52] = "pxn-table", [53] = "uxn-table",
	[54] = "ap-table-no-el0", [55] = "ap-table-ro",
};

const char *const arm64_memtype_names[8] = {
	[PTSCOPE_ARM64_MT_NORMAL] = "normal", [PTSCOPE_ARM64_MT_NORMAL_TAGGED] = "normal-tagged",
	[PTSCOPE_ARM64_MT_NORMAL_NC] = "normal-nc", [PTSCOPE_ARM64_MT_NORMAL_OTHER] = "normal-other",
	[PTSCOPE_ARM64_MT_DEVICE_NGNRNE] = "device-nGnRnE",
	[PTSCOPE_ARM64_MT_DEVICE_NGNRE] = "device-nGnRE",
	[PTSCOPE_ARM64_MT_DEVICE_OTHER] = "device-other",
};

static const char *const sh_names[4] = { "non-shareable", "sh-reserved", "outer", "inner" };

/*
 * Every decoded bit by name; on arm64 the descriptor's own after them, and
 * a leaf's shareability and memory type: "sh=inner,attr0=normal(0xff)".
 */
char *bits_names(char *buf, size_t len, uint64_t bits)
{
	unsigned int mt = (bits & PTSCOPE_B_ARM64_MT_MASK) >> PTSCOPE_B_ARM64_MT_SHIFT;
	size_t i, off;

	flag_names(buf, len, bits, bit_names, ARRAY_SIZE(bit_names));
	if (cur_arch != PTSCOPE_ARCH_ARM64)
		return buf;
	off = strlen(buf);
	for (i = 32; i < 64 && off < len; i++)
		if ((bits & (1ULL << i)) && arm64_bit_names[i])
			off += snprintf(buf + off, len - off, "%s%s", off ? "," : "",
					arm64_bit_names[i]);
	if (!mt || off >= len)
		return buf;
	if (!(bits & PTSCOPE_B_ARM64_SH_TCR))
		off += snprintf(buf + off, len - off, ",sh=%s",
				sh_names[(bits & PTSCOPE_B_ARM64_SH_MASK) >> PTSCOPE_B_ARM64_SH_SHIFT]);
	if (off < len)
		snprintf(buf + off, len - off, ",attr%llu=%s(0x%02llx)",
			 (unsigned long long)((bits & PTSCOPE_B_ARM64_ATTR_MASK) >>
					      PTSCOPE_B_ARM64_ATTR_SHIFT),
			 enum_name(arm64_memtype_names, 8, mt),
			 (unsigned long long)((bits & PTSCOPE_B_ARM64_MAIR_MASK) >>
					      PTSCOPE_B_ARM64_MAIR_SHIFT));
	return buf;
}

char *page_names(char *buf, size_t len, unsigned int page)
{
	return flag_names(buf, len, page, page_bit_names, ARRAY_SIZE(page_bit_names));
}

/* rwxp, as in /proc/PID/maps */
char *vma_perms(char *buf, const struct ptscope_vma *v)
{
	buf[0] = v->prot & PTSCOPE_PROT_READ ? 'r' : '-';
	buf[1] = v->prot & PTSCOPE_PROT_WRITE ? 'w' : '-';
	buf[2] = v->prot & PTSCOPE_PROT_EXEC ? 'x' : '-';
	buf[3] = v->prot & PTSCOPE_PROT_SHARED ? 's' : 'p';
	buf[4] = '\0';
	return buf;
}

/* 4096 -> "4K", 1560576 -> "1.5M", as lsblk prints sizes. */
char *size_human(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = "BKMGTPE";
	unsigned int exp = 0;
	uint64_t whole = bytes;
	unsigned int tenth;

	while (whole >= 1024 && exp < sizeof(units) - 2) {
		whole >>= 10;
		exp++;
	}
	if (!exp) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		return buf;
	}
	tenth = ((bytes >> (10 * (exp - 1))) % 1024 * 10 + 512) / 1024;
	if (tenth == 10) {
		whole++;
		tenth = 0;
	}
	if (tenth)
		snprintf(buf, len, "%llu.%u%c", (unsigned long long)whole, tenth, units[exp]);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)whole, units[exp]);
	return buf;
}

void *xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		fputs("ptscope: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	p = realloc(p, n && size ? n * size : 1);
	if (!p) {
		fputs("ptscope: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fputs("ptscope: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	return p;
}

/* parse_u64 - a decimal or 0x hex number, nothing after it; 0 or -1 */
int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

int parse_pid(const char *s, int *pid)
{
	uint64_t v;

	if (parse_u64(s, &v) || !v || v > INT_MAX) {
		fprintf(stderr, "ptscope: '%s' is not a process id\n", s);
		return -1;
	}
	*pid = v;
	return 0;
}

static int column_add(struct view *v, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < v->ncols; i++)
		if (strlen(v->cols[i].name) == len && !strncasecmp(v->cols[i].name, name, len))
			break;
	if (i == v->ncols) {
		fprintf(stderr, "ptscope: unknown column '%.*s' (ptscope %s --help lists them)\n",
			(int)len, name, v->name);
		return EXIT_USAGE;
	}
	if (v->nsel == ARRAY_SIZE(v->sel)) {
		fputs("ptscope: too many columns\n", stderr);
		return EXIT_USAGE;
	}
	v->sel[v->nsel++] = i;
	return 0;
}

static int column_list(struct view *v, const char *list)
{
	while (*list) {
		size_t len = strcspn(list, ",");
		int err = len ? column_add(v, list, len) : 0;

		if (err)
			return err;
		list += len + !!list[len];
	}
	return 0;
}

/* view_columns - select -o LIST; "+LIST" adds to the defaults */
int view_columns(struct view *v, const char *list)
{
	int err;

	v->nsel = 0;
	if (!list || *list == '+') {
		err = column_list(v, v->defaults);
		if (err || !list)
			return err;
		list++;
	}
	err = column_list(v, list);
	if (!err && !v->nsel) {
		fputs("ptscope: -o selects no column\n", stderr);
		return EXIT_USAGE;
	}
	return err;
}

static int view_is_tree(const struct view *v)
{
	size_t i;

	for (i = 0; i < v->ncols; i++)
		if (v->cols[i].flags & SCOLS_FL_TREE)
			return 1;
	return 0;
}

/*
 * view_table - a table with the selected columns. A tree view stays a tree
 * without its tree column: the first column selected draws it.
 */
struct libscols_table *view_table(struct view *v)
{
	struct libscols_table *tb = scols_new_table();
	size_t i;
	int tree;

	if (!tb) {
		fputs("ptscope: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	scols_table_set_name(tb, v->name);
	/* The same lines on a terminal as in a pipe: long ones wrap there. */
	scols_table_set_termforce(tb, SCOLS_TERMFORCE_NEVER);
	scols_table_enable_json(tb, opt.json);
	scols_table_enable_raw(tb, opt.raw);
	scols_table_enable_noheadings(tb, opt.noheadings);
	for (i = 0; i < v->nsel; i++)
		if (v->cols[v->sel[i]].flags & SCOLS_FL_TREE)
			break;
	tree = i == v->nsel && view_is_tree(v) ? SCOLS_FL_TREE : 0;
	for (i = 0; i < v->nsel; i++) {
		const struct colinfo *ci = &v->cols[v->sel[i]];
		struct libscols_column *cl = scols_table_new_column(tb, ci->name, ci->whint,
								     ci->flags | (i ? 0 : tree));

		if (!cl) {
			fputs("ptscope: out of memory\n", stderr);
			exit(EXIT_FAIL);
		}
		scols_column_set_json_type(cl, ci->json);
	}
	return tb;
}

void view_help(FILE *out, const struct view *v)
{
	size_t i;

	fprintf(out, "\nColumns of '%s' (default: %s):\n", v->title ?: v->name, v->defaults);
	for (i = 0; i < v->ncols; i++)
		fprintf(out, " %12s  %s\n", v->cols[i].name, v->cols[i].help);
}

void cell(struct libscols_line *ln, size_t i, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("ptscope: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	va_end(ap);
	scols_line_refer_data(ln, i, s);
}

void cell_hex(struct libscols_line *ln, size_t i, uint64_t v)
{
	cell(ln, i, "0x%llx", (unsigned long long)v);
}

void cell_u64(struct libscols_line *ln, size_t i, uint64_t v)
{
	cell(ln, i, "%llu", (unsigned long long)v);
}

/* Sizes: bytes in JSON and with -b, else human-readable. */
void cell_size(struct libscols_line *ln, size_t i, uint64_t bytes)
{
	char buf[32];

	if (opt.json || opt.bytes)
		cell_u64(ln, i, bytes);
	else
		cell(ln, i, "%s", size_human(buf, sizeof(buf), bytes));
}

void table_print(struct libscols_table *tb)
{
	scols_print_table(tb);
	scols_unref_table(tb);
}
