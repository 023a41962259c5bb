/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptscope(1): what the files of the tool share.
 *
 * Every view renders a struct snap: the target's VMAs and page-table runs,
 * read live from /dev/ptscope (dev.c) or from a snapshot file (snapfile.c).
 */
#ifndef PTSCOPE_COMMON_H
#define PTSCOPE_COMMON_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libsmartcols.h>
#include <uapi/ptscope.h>

#define PTSCOPE_DEV	"/dev/ptscope"

/* The Makefile passes the module's PTSCOPE_VERSION (module/ptscope.h). */
#ifndef PTSCOPE_TOOL_VERSION
#define PTSCOPE_TOOL_VERSION	"unknown"
#endif

/* Exit codes, as documented in ptscope(1). */
enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* the request failed (I/O, bad snapshot file, ...) */
	EXIT_USAGE	= 2,	/* bad command line */
	EXIT_NODEV	= 3,	/* module not loaded, too old, or no permission to open it */
	EXIT_NOPROC	= 4,	/* no such process, or not allowed to inspect it */
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The command line, parsed once by main.c. */
struct opts {
	int json, raw, noheadings, bytes;
	const char *columns;	/* -o LIST for table views */
	const char *from[64];	/* --from FILE: twice for shared, more for metrics */
	int nfrom;
	const char *svg, *html;	/* map */
	const char *outfile;	/* snapshot -o FILE */
	const char *listen;	/* serve --listen [ADDR][:PORT] */
	const char *follow;	/* serve --follow FILE: stands for the PID */
	double interval;	/* faults, tlb, top: -i SECONDS */
	long count;		/* and -c SAMPLES; 0: until Ctrl-C */
	int interval_set;	/* -i given */
	const char *textfile;	/* metrics: --textfile DIR */
	const char *by;		/* metrics: --by comm|cgroup */
	long max_groups;	/* metrics: --max-groups N */
	char **args;		/* positional arguments after the command */
	int nargs;
	char **extra;		/* those after the PIDs */
	int nextra;
};

/* What a view needs from the target. */
#define SNAP_VMAS	(1U << 0)	/* VMAs with their counts[] */
#define SNAP_RUNS	(1U << 1)	/* page-table runs, TABLE entries included */
#define SNAP_NAMES	(1U << 2)	/* VMAs without counts: cheaper */

/* A target's address space at one moment. */
struct snap {
	int pid;
	char comm[64];
	char taken[32];		/* UTC, ISO 8601 */
	unsigned int page_size;
	unsigned int levels;
	unsigned int arch;	/* enum ptscope_arch: whose entries */
	uint64_t task_size;
	unsigned int have;	/* SNAP_* */
	uint64_t walk_start, walk_end;	/* range the runs cover */
	struct ptscope_vma *vmas;
	size_t nvmas;
	struct ptscope_run *runs;	/* sorted: address, then level top-down */
	size_t nruns;
};

/* dev.c: /dev/ptscope */
extern struct ptscope_version dev_version;	/* the loaded module's, from dev_open() */
int dev_open(void);
int dev_target(int fd, int pid, struct ptscope_target *t);
int dev_vmas(int fd, uint64_t start, uint64_t end, unsigned int flags,
	     struct ptscope_vma **vmas, size_t *n);
int dev_walk(int fd, uint64_t start, uint64_t end, unsigned int flags,
	     struct ptscope_run **runs, size_t *n);
int dev_vtop(int fd, uint64_t addr, struct ptscope_vtop *v);
int dev_huge_vmas(int fd, struct ptscope_huge_vma **vmas, size_t *n);
int dev_huge_system(int fd, struct ptscope_huge_system *h);

/* dev.c: set, per-process failures (gone, kernel thread, not allowed) are quiet */
extern int dev_quiet;

/* counters.c: watches, for faults, tlb, top and metrics */
extern volatile sig_atomic_t stop;	/* SIGINT or SIGTERM seen */
void on_signal(int sig);
int watch_start(int fd, int pid, unsigned int flags, unsigned int *id);
void watch_stop(int fd, unsigned int id);
int counters_read(int fd, unsigned int id, struct ptscope_counters *c);
void sleep_interval(void);	/* opt.interval, cut short by a signal */

/* snap.c: getting a struct snap */
int snap_live(struct snap *s, int pid, unsigned int what, uint64_t start, uint64_t end);
int snap_get(struct snap *s, int i, unsigned int what, uint64_t start, uint64_t end);
int snap_arg(struct snap *s, const char *arg, unsigned int what);
void snap_sort_runs(struct snap *s);
void snap_free(struct snap *s);
uint64_t run_end(const struct ptscope_run *r);
uint64_t run_pages(const struct snap *s, const struct ptscope_run *r);
const struct ptscope_vma *snap_find_vma(const struct snap *s, uint64_t addr);

/* snapfile.c: the snapshot file format */
int snapfile_read(struct snap *s, const char *path);
int snapfile_write(const struct snap *s, const char *path);

/* pages.c: a page-by-page view of the leaf runs, for diff, shared and map */
enum page_state {
	PG_NONE = 0,	/* not populated */
	PG_PRESENT,	/* mapped by a PTE */
	PG_HUGE,	/* mapped by a PMD or PUD leaf */
	PG_SWAP,	/* swapped out */
	PG_OTHER,	/* migration, marker, device entry, ... */
};

struct page {
	uint64_t addr;
	uint64_t pfn;	/* swap offset for PG_SWAP */
	unsigned int state;	/* enum page_state */
	unsigned int page;	/* PTSCOPE_PAGE_* */
};

struct pages {
	struct page *p;
	size_t n;
};

int pages_from_snap(struct pages *pg, const struct snap *s);
void pages_free(struct pages *pg);
const struct page *pages_find(const struct pages *pg, uint64_t addr);

/* counters.c: a watch (PTSCOPE_IOC_WATCH) and its counters; errors on stderr */
int watch_start(int fd, int pid, unsigned int flags, unsigned int *id);
void watch_stop(int fd, unsigned int id);
int counters_read(int fd, unsigned int id, struct ptscope_counters *c);

/* map.c: the picture of the address space, shared by map and serve */
#define MAP_CLASSES	8
struct map_class {
	const char *color, *label;
};
extern const struct map_class map_classes[MAP_CLASSES];

struct map_geom {
	uint64_t cell_bytes;		/* bytes one cell stands for */
	int cells, cell_px;		/* cells a row, px a cell */
	int x_bar, x_label, width, height;	/* px */
};

void map_svg(FILE *out, const struct snap *s, const struct pages *pg);
void map_geometry(const struct snap *s, struct map_geom *g, int *y);

/* output.c: columns, tables, formatting */
struct colinfo {
	const char *name;
	double whint;
	int flags;	/* SCOLS_FL_* */
	int json;	/* SCOLS_JSON_* */
	const char *help;
};

struct view {
	const char *name;		/* JSON: the top-level key */
	const char *title;		/* in --help, when not the name */
	const struct colinfo *cols;
	size_t ncols;
	const char *defaults;		/* default -o list */
	int sel[64];			/* selected columns */
	size_t nsel;
};

extern struct opts opt;

/* Names of the ABI's enums: in tables, JSON and snapshot files. */
#define LEVELS		(PTSCOPE_LEVEL_PGD + 1)
#define KINDS		(PTSCOPE_KIND_BAD + 1)
#define VMA_KINDS	(PTSCOPE_VMA_SPECIAL + 1)
#define COUNTS		(PTSCOPE_CNT_P4D_TABLES + 1)
extern const char *const level_names[LEVELS];
extern const char *const kind_names[KINDS];
extern const char *const vma_kind_names[VMA_KINDS];
extern const char *const count_names[COUNTS];
int name_lookup(const char *const *names, size_t n, const char *s);

int view_columns(struct view *v, const char *list);
struct libscols_table *view_table(struct view *v);
void view_help(FILE *out, const struct view *v);
void cell(struct libscols_line *ln, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cell_hex(struct libscols_line *ln, size_t i, uint64_t v);
void cell_u64(struct libscols_line *ln, size_t i, uint64_t v);
void cell_size(struct libscols_line *ln, size_t i, uint64_t bytes);
char *size_human(char *buf, size_t len, uint64_t bytes);
void table_print(struct libscols_table *tb);
const char *enum_name(const char *const *names, size_t n, unsigned int v);
void entry_arch_set(unsigned int arch);
unsigned int entry_arch(void);
const char *arch_name(unsigned int arch);
extern const char *const arm64_memtype_names[8];
char *bits_letters(char *buf, uint64_t bits);
char *bits_names(char *buf, size_t len, uint64_t bits);
char *page_names(char *buf, size_t len, unsigned int page);
char *vma_perms(char *buf, const struct ptscope_vma *v);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n, size_t size);
int parse_u64(const char *s, uint64_t *v);
int parse_pid(const char *s, int *pid);

/* The commands: one file per group. */
int cmd_version(void);
int cmd_maps(void);
int cmd_walk(void);
int cmd_vtop(void);
int cmd_shared(void);
int cmd_map(void);
int cmd_snapshot(void);
int cmd_diff(void);
int cmd_faults(void);
int cmd_tlb(void);
int cmd_top(void);
int cmd_huge(void);
int cmd_serve(void);
int cmd_metrics(void);

extern struct view maps_view, walk_view, vtop_view, shared_view, diff_view;
extern struct view faults_view, tlb_view, top_view, huge_view, huge_system_view;

#endif /* PTSCOPE_COMMON_H */
